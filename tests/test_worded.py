"""Messages that name a value (a reference, a status, a limit) in the reader's language (issue 19, item 1).

Such a message is `worded(template, name=value)`: English for the code, the logs and English clients; the
error envelope and the pages say the template from the catalogue with the same values, and a status or a
right in words of that language, never its code."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest
from language import foreign_lines
from tests_support import bearer

import privacy_service
from privacy_service.errors import Code, DomainError, Worded, worded

PACKAGE = Path(__file__).resolve().parents[1] / "privacy_service"
BOKMAL = {"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.5"}
KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann"}


def test_a_worded_message_is_its_english_text_and_keeps_what_it_names() -> None:
    text = worded(
        "Request %(ref)s is %(status)s.", ref="DSR-1", status=Code("letter.status", "awaiting_decision")
    )
    assert isinstance(text, Worded) and text == "Request DSR-1 is waiting for a decision."
    assert text.template == "Request %(ref)s is %(status)s." and text.params["ref"] == "DSR-1"
    assert worded("Is %(status)s.", status=Code("letter.status", "newer_code")) == "Is newer_code."


def test_a_value_is_never_read_as_a_template() -> None:
    assert worded("No request %(reference)s.", reference="%(ref)s %s") == "No request %(ref)s %s."


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:read", "requests:write", "requests:manage"))


def test_an_unknown_reference_is_said_in_bokmal_with_the_reference(client, officer) -> None:  # type: ignore[no-untyped-def]
    english = client.get("/api/v1/requests/DSR-2026-999999", headers=officer)
    bokmal = client.get("/api/v1/requests/DSR-2026-999999", headers={**officer, **BOKMAL})
    assert english.status_code == bokmal.status_code == 404
    assert english.get_json()["error"]["message"] == "No request DSR-2026-999999."
    assert bokmal.get_json()["error"]["message"] == "Ingen forespørsel DSR-2026-999999."
    assert bokmal.get_json()["error"]["code"] == english.get_json()["error"]["code"] == "not_found"


def test_a_refusal_names_the_status_in_words_of_the_clients_language(client, officer) -> None:  # type: ignore[no-untyped-def]
    made = client.post("/api/v1/requests", json={"type": "access", "subject": KARI}, headers=officer)
    assert made.status_code == 201, made.get_json()
    ref = made.get_json()["reference"]
    english = client.post(f"/api/v1/requests/{ref}/approve", json={}, headers=officer)
    bokmal = client.post(f"/api/v1/requests/{ref}/approve", json={}, headers={**officer, **BOKMAL})
    assert english.status_code == bokmal.status_code == 409
    en, nb = english.get_json()["error"]["message"], bokmal.get_json()["error"]["message"]
    assert en == (
        f"Request {ref} is waiting for confirmation: only a planned request waiting for a decision "
        "can be approved."
    )
    assert nb == (
        f"Forespørsel {ref} har status «venter på bekreftelse»: bare en planlagt forespørsel som venter på "
        "avgjørelse, kan godkjennes."
    )
    assert "awaiting" not in nb and foreign_lines([nb], "nb", []) == []


def test_a_field_message_with_a_limit_is_said_in_bokmal(client, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("consent:read"))
    pairs = [{"subject": f"p{i}@example.no", "purpose": "surveys"} for i in range(1001)]
    english = client.post("/api/v1/consents:query", json={"pairs": pairs}, headers=key)
    bokmal = client.post("/api/v1/consents:query", json={"pairs": pairs}, headers={**key, **BOKMAL})
    assert english.status_code == bokmal.status_code == 422
    assert english.get_json()["error"]["fields"]["pairs"] == ["Send 1 to 1000 pairs (1001 given)."]
    assert bokmal.get_json()["error"]["fields"]["pairs"] == ["Send 1 til 1000 par (1001 sendt)."]


@pytest.mark.parametrize(
    ("lang", "said"), [("nb", "Ingen forespørsel DSR-2026-999999."), ("en", "No request DSR-2026-999999.")]
)
def test_an_officer_page_says_a_refusal_with_a_value_in_its_language(client, login, lang, said) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    page = client.get(f"/officer/requests/DSR-2026-999999?lang={lang}")
    assert page.status_code == 404
    assert said in page.get_data(as_text=True)


ALLOWED = {
    "AccessDenied",  # checked below with the domain's errors; named here so that the set reads whole
}
OPERATORS = {
    "PolicyError",  # the policy files' author reads these at `init`, in English as the files are
    "DataSystemError",  # names a data system's table for the operator; kept in run reports as it is
    "PerProcessStore",  # a deployment mistake refused at start
}
CODE = re.compile(r"^[a-z_ |.]+$")  # a reason code or a list of API values: read by programs, not people


def _messages_people_read() -> set[str]:
    """The names of the errors whose messages reach a person: every DomainError but the operators'."""
    for module in pkgutil.walk_packages(privacy_service.__path__, "privacy_service."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)

    def below(cls: type) -> set[type]:
        return {cls, *(c for sub in cls.__subclasses__() for c in below(sub))}

    return {c.__name__ for c in below(DomainError)} - OPERATORS | ALLOWED


def _unworded() -> list[str]:
    """Messages given as an f-string or a bare string: neither is in the catalogue, so a bokmål reader
    would read them in English. A message is N_("…"), worded("…", name=value) or said(message) (or _("…")
    in a view, worded as it is raised)."""
    names, found = _messages_people_read(), []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            func = getattr(node, "func", None)
            if (
                not isinstance(node, ast.Call)
                or (getattr(func, "id", None) or getattr(func, "attr", "")) not in names
            ):
                continue
            parts = [*node.args, *(k.value for k in node.keywords if k.arg in (None, "fields", "message"))]
            for part in parts:
                if any(_bare(text) for text in _texts(part)):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return found


def _texts(node: ast.AST) -> list[ast.AST]:
    """The strings and f-strings in a message argument, leaving out marked messages and field names."""
    left_out: set[int] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and getattr(sub.func, "id", None) in (
            "N_",
            "worded",
            "said",
            "_",
            "gettext",
        ):
            left_out.update(id(x) for x in ast.walk(sub))
        elif isinstance(sub, ast.Dict):
            left_out.update(id(x) for key in sub.keys if key is not None for x in ast.walk(key))
        elif isinstance(sub, ast.DictComp):
            left_out.update(id(x) for x in ast.walk(sub.key))
    inner = {id(v) for sub in ast.walk(node) if isinstance(sub, ast.JoinedStr) for v in sub.values}
    return [
        sub
        for sub in ast.walk(node)
        if id(sub) not in left_out | inner
        and (isinstance(sub, ast.JoinedStr) or (isinstance(sub, ast.Constant) and isinstance(sub.value, str)))
    ]


def _bare(text: ast.AST) -> bool:
    return isinstance(text, ast.JoinedStr) or not CODE.match(text.value)  # type: ignore[attr-defined]


def test_every_message_a_person_reads_is_in_the_catalogue() -> None:
    assert len(_messages_people_read()) > 30
    assert _unworded() == []
