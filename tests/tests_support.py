"""Small helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from werkzeug.datastructures import MultiDict


def link_and_code(mail: dict[str, Any]) -> tuple[str, str]:
    """The confirmation link's token and the six-digit code in a request's verification mail (bokmål or
    English)."""
    token = re.search(r"/requests/verify/([\w-]+)", mail["text"])
    code = re.search(r"(?:statussiden|status page): (\d{6})\n", mail["text"])
    assert token and code, mail["text"]
    return token.group(1), code.group(1)


def hot_and_flask(app: Any, path: str, key: dict[str, str]) -> Any:
    """The hot path's answer to a GET, checked to be the Flask view's (status, body and ETag)."""
    from werkzeug.test import Client

    hot = app.extensions["hot_path"]
    before = hot.answered
    via_hot = app.test_client().get(path, headers=key)
    via_flask = Client(hot.app).get(path, headers=key)
    assert hot.answered == before + 1, "the hot path did not answer"
    assert (via_hot.status_code, via_hot.get_json()) == (via_flask.status_code, via_flask.get_json())
    assert via_hot.headers.get("ETag") == via_flask.headers.get("ETag")
    return via_hot


def bearer(key: str) -> dict[str, str]:
    """Return the Authorization header for an API key."""
    return {"Authorization": f"Bearer {key}"}


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """Fetch a page and return the CSRF token of its form (or the logout form)."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def minimal_activity(**overrides: object) -> dict:
    """Return a complete, valid activity record for the shipped organisations (helsedir as controller)."""
    record = {
        "slug": "test-activity",
        "service": "helsedata",
        "status": "active",
        "name": {"nb": "Prøveaktivitet for æøå", "en": "Test activity"},
        "description": {"nb": "Brukes i testene.", "en": "Used by the tests."},
        "controller": "helsedir",
        "purposes": [{"nb": "Å teste registeret", "en": "To test the registry"}],
        "legal_basis": "6(1)(e)",
        "national_basis": {"nb": "Helseregisterloven §§ 8–11", "en": "Health Register Act §§ 8–11"},
        "data_subjects": [{"nb": "Søkere", "en": "Applicants"}],
        "data_categories": [{"key": "name", "name": {"nb": "Navn", "en": "Name"}}],
        "retention": {
            "text": {"nb": "Slettes etter 30 dager.", "en": "Deleted after 30 days."},
            "period": "P30D",
        },
        "security_measures": [{"nb": "Kryptering", "en": "Encryption"}],
    }
    record.update(overrides)
    return record


def tamper_audit(engine: Engine, *statements: str) -> None:
    """Change the audit trail the way someone with database owner rights could: around its append-only
    triggers."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
            conn.execute(text("DROP TRIGGER audit_event_no_delete"))
        for statement in statements:
            conn.execute(text(statement))


def settle(client: FlaskClient, reference: str, headers: dict[str, str], **results: str) -> dict[str, Any]:
    """Make a planned request ready to approve, as an officer would: record a search by hand for every
    activity outside the data map (`none_found`, or the result named per activity in `results`) and uphold
    every activity still waiting for a decision. Returns the request as the API then shows it."""
    url = f"/api/v1/requests/{reference}"

    def post(path: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = client.post(f"{url}/{path}", headers=headers, json=payload)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return settle_with(client.get(url, headers=headers).get_json(), post, **results)


def settle_with(
    body: dict[str, Any], post: Callable[[str, dict[str, Any]], dict[str, Any]], **results: str
) -> dict[str, Any]:
    """settle() for any HTTP client: `post(path, payload)` posts to the request's `path` and returns the
    request."""
    unchecked = [o["activity"] for o in body["outcomes"] if o["outcome"] == "not_checked"]
    if unchecked:
        found = [{"activity": a, "result": results.get(a, "none_found")} for a in unchecked]
        body = post("manual-results", {"results": found})
    waiting = ("pending", "partial", "not_checked")
    undecided = [o["activity"] for o in body["outcomes"] if o["decision"] is None and o["outcome"] in waiting]
    if undecided:
        body = post("decisions", {"decisions": [{"activity": a, "decision": "uphold"} for a in undecided]})
    return body


def complete(client: Any, reference: str, headers: dict[str, str], **body: Any) -> Any:
    """Answer a request as an officer does: make the draft (POST …/draft), then send that draft (POST
    …/complete with the draft letter's SHA-256). Returns the first response that was not 200, or the
    answer to …/complete."""
    url = f"/api/v1/requests/{reference}"
    drafted = client.post(f"{url}/draft", headers=headers, json={})
    if drafted.status_code != 200:
        return drafted
    sha = drafted.get_json()["draft"]["sha256"]
    return client.post(f"{url}/complete", headers=headers, json={**body, "draft": sha})


class _FormParser(HTMLParser):
    """What a browser would post from a page's first POST form: checked boxes only, each select's choice."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "y" if a.get("type") == "checkbox" else "")))
        elif tag == "select":
            self._select, self._options = a.get("name"), []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a.get("name"), []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self.fields += [(self._select, v) for v in chosen]
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None


def form_fields(html: str) -> dict[str, Any]:
    """The fields a browser posts from the page's form unchanged (checkboxes only when checked; a name
    given several times holds the list of its values)."""
    body = re.search(r'<form method="post" class="card[^"]*"[^>]*>(.*?)</form>', html, re.S)
    parser = _FormParser()
    parser.feed(body.group(1) if body else html)
    return {k: v[0] if len(v) == 1 else v for k, v in MultiDict(parser.fields).to_dict(flat=False).items()}
