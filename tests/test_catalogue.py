"""Every text a person reads comes from a catalogue, in bokmål and English (issue 19, item 1).

Pages: every message the code and the templates mark for translation has its bokmål in messages.po, with the
same placeholders. Documents and mails: the `documents` catalogues have the same ids in both languages, no
id without a text, the same `{placeholders}`, no English in a bokmål text and the reverse, and every id the
code names exists. The mails are rendered in both languages and read like the documents are."""

from __future__ import annotations

import ast
import re
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from language import foreign_lines

from privacy_service import catalogue
from privacy_service.consent import messages as consent_mail
from privacy_service.dsar import messages as request_mail

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "privacy_service"
FORMAT_FIELDS = re.compile(r"\{(\w*)\}")
PERCENT_FIELDS = re.compile(r"%\((\w+)\)s")
# Texts that are the same words in both languages or quote the other language on purpose: names, the
# authority's address, a separator.
SAME_IN_BOTH = {"doc.none", "mail.in_english", "letter.datatilsynet"}


def _documents(lang: str) -> dict[str, str]:
    with catalogue.catalogue_path(lang).open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id}


def test_both_languages_have_the_same_ids_and_every_id_has_a_text() -> None:
    nb, en = _documents("nb"), _documents("en")
    assert len(nb) > 500
    assert set(nb) == set(en)
    assert [i for i, text in {**nb, **en}.items() if not text.strip()] == []
    assert [i for i in nb if FORMAT_FIELDS.findall(nb[i]) and
            sorted(FORMAT_FIELDS.findall(nb[i])) != sorted(FORMAT_FIELDS.findall(en[i]))] == []  # fmt: skip


def test_no_english_in_bokmal_texts_and_no_bokmal_in_english_ones() -> None:
    for lang in ("nb", "en"):
        texts = {i: t for i, t in _documents(lang).items() if i not in SAME_IN_BOTH}
        texts = {i: FORMAT_FIELDS.sub(" ", t) for i, t in texts.items()}  # placeholders are names, not words
        foreign = {i: found for i, text in texts.items() if (found := foreign_lines(text.splitlines(), lang))}
        assert foreign == {}, lang


def _named_ids() -> dict[str, set[str]]:
    """The ids and prefixes the code names literally: words("id"), both_languages("id"), ByLanguage("prefix"),
    ByCode("prefix", codes)."""
    named: dict[str, set[str]] = {"id": set(), "prefix": set()}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args):
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            if node.func.id in ("words", "both_languages"):
                named["id"].add(first.value)
            elif node.func.id == "ByLanguage":
                named["prefix"].add(first.value)
            elif node.func.id == "ByCode":
                codes = ast.literal_eval(node.args[1])
                named["id"].update(f"{first.value}.{code}" for code in codes)
    return named


def test_every_id_the_code_names_is_in_both_catalogues() -> None:
    named = _named_ids()
    assert len(named["id"]) > 60 and len(named["prefix"]) > 10
    nb = _documents("nb")
    assert sorted(named["id"] - set(nb)) == []
    assert sorted(p for p in named["prefix"] if not any(i.startswith(f"{p}.") for i in nb)) == []
    for prefix in named["prefix"]:  # a table has the same keys in both languages
        assert _shape(catalogue.table(prefix, "nb")) == _shape(catalogue.table(prefix, "en")), prefix


def _shape(value: object) -> object:
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return "text"


def test_a_missing_id_is_an_error_not_a_silent_english_text() -> None:
    with pytest.raises(catalogue.MissingText):
        catalogue.words("record.no_such_text", "nb")


def _page_messages() -> dict[str, set[str]]:
    """What `pybabel extract` (README) finds in the code and the templates: msgid -> its placeholders."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None,
                "worded": None, "lazy_ngettext": (1, 2), "pgettext": ((1, "c"), 2)}  # fmt: skip
    found: dict[str, set[str]] = {}
    for __, __, message, __, __ in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found[msgid] = set(PERCENT_FIELDS.findall(msgid))
    return found


def test_every_page_message_has_its_bokmal_with_the_same_placeholders() -> None:
    with (PACKAGE / "translations/nb/LC_MESSAGES/messages.po").open("rb") as handle:
        po = read_po(handle)
    translated: dict[str, str] = {}
    for message in po:
        if not message.id or message.fuzzy:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            translated[msgid] = strings[-1] if len(ids) > 1 and msgid == ids[-1] else strings[0]
    messages = _page_messages()
    assert len(messages) > 900
    assert sorted(m for m in messages if not translated.get(m)) == []
    assert (
        sorted(m for m, fields in messages.items() if set(PERCENT_FIELDS.findall(translated[m])) != fields)
        == []
    )


RECEIPT = {
    "consentReceiptID": "6f1c2d3e-0000-4000-8000-000000000001",
    "policyUrl": "https://helsedata.no/personvern",
    "iso27560": {"event": {"time": "2026-12-01T10:00:00+00:00"}, "notice": {"version": 3}},
}


def _mails(lang: str) -> dict[str, tuple[str, str]]:
    ref, link = "DSR-2026-000001", "https://personvern.example/r/abc"
    return {
        "verification": request_mail.verification_mail(
            lang, reference=ref, link=link, code="123456", hours=48, find_url=link
        ),
        "find": request_mail.find_mail(lang, reference=ref, link=link, days=7),
        "extension": request_mail.extension_mail(
            lang, reference=ref, due_on=date(2027, 2, 1), reason="Mange henvendelser"
        ),
        "rejection": request_mail.rejection_mail(
            lang, reference=ref, ground="excessive", reason="Samme henvendelse tre ganger"
        ),
        "reminder": request_mail.reminder_mail(
            [
                (ref, "access", date(2026, 12, 1), "overdue"),
                ("DSR-2026-000002", "erasure", date(2027, 1, 2), ""),
            ],
            today=date(2026, 12, 4),
            lang=lang,
        ),
        "answered": request_mail.answered_mail(lang, reference=ref, link=link, days=30),
        "restriction_lift": request_mail.restriction_lift_mail(lang, reference=ref, activities=["Søknader"]),
        "footer": ("", request_mail.footer(lang, reference=ref, link=link)),
        "unverified": ("", request_mail.unverified_reason(lang, days=7)),
        "consent_given": consent_mail.receipt_mail(
            lang, activity="Brukerundersøkelse", receipt=RECEIPT, withdraw_url=link
        ),
        "consent_withdrawn": consent_mail.withdrawn_mail(
            lang,
            activity="Brukerundersøkelse",
            erased=1,
            kept=[(2, "Arkivlova krever at vi tar vare på dem.")],
        ),
    }


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_every_mail_to_a_subject_is_in_her_language(lang: str) -> None:
    data = ("Mange henvendelser", "Samme henvendelse tre ganger", "Søknader", "Brukerundersøkelse",
            "Arkivlova krever at vi tar vare på dem.")  # fmt: skip
    foreign = {}
    for name, (subject, body) in _mails(lang).items():
        assert body.strip(), name
        text = subject + "\n" + body
        for value in data:  # the test's own data is in bokmål whatever the mail's language
            text = text.replace(value, "")
        if found := foreign_lines(text.splitlines(), lang):
            foreign[name] = found
    assert foreign == {}
    mails = _mails(lang)
    assert "DSR-2026-000001" in mails["verification"][0] and "123456" in mails["verification"][1]
    assert ("01.02.2027" if lang == "nb" else "2027-02-01") in mails["extension"][1]
    assert "Datatilsynet" in mails["answered"][1]
    overdue = "OVER FRISTEN" if lang == "nb" else "OVERDUE"
    access = "DSR-2026-000001  Innsyn" if lang == "nb" else "DSR-2026-000001  Access"
    assert overdue in mails["reminder"][1] and access in mails["reminder"][1]
    one = "én registrering" if lang == "nb" else "one record"
    assert one in mails["consent_withdrawn"][1]
