"""The consent receipt PDF, read back with pypdf."""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime

import pytest
from language import foreign_lines
from pypdf import PdfReader

from privacy_service.consent.pdf import render_receipt_pdf
from privacy_service.consent.receipt import build_receipt
from privacy_service.ropa import service as ropa
from privacy_service.ropa.models import ProcessingActivity

ACTIVITY = {
    "slug": "surveys",
    "controller": "helsedir",
    "legal_basis": "6(1)(a)",
    "name": {"nb": "Brukerundersøkelse om søknadsprosessen", "en": "User survey"},
    "purposes": [{"nb": "Forbedre tjenesten for søkere", "en": "Improve the service"}],
    "data_categories": [
        {"key": "answers", "name": {"nb": "Svar på undersøkelsen", "en": "Survey answers"}},
        {"key": "health", "name": {"nb": "Helseopplysninger", "en": "Health data"}, "special": True},
    ],
    "recipients": [],
    "retention": {"text": {"nb": "Slettes etter 60 dager.", "en": "Deleted after 60 days."}},
}
ORGS = {
    "helsedir": {
        "name": {"nb": "Helsedirektoratet", "en": "Norwegian Directorate of Health"},
        "org_number": "983544622",
        "email": "postmottak@helsedir.no",
        "dpo": {"email": "personvernombud@helsedir.no"},
    }
}


def _view(record: dict) -> ropa.Activity:
    row = ProcessingActivity(slug=record["slug"], service="helsedata", status="active", data=record)
    return ropa.Activity.of(row)


def _receipt(status: str = "given", lang: str = "nb", **activity: object) -> dict:
    return build_receipt(
        receipt_id="6f1c2d3e-0000-4000-8000-000000000001",
        subject="kari.nordmann@example.no",
        status=status,
        dpv_status="dpv:ConsentGiven" if status == "given" else "dpv:ConsentWithdrawn",
        at=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        channel="web",
        activity=_view({**copy.deepcopy(ACTIVITY), **activity}),
        organisations=ORGS,
        notice={"version": "2", "sha256": "ab" * 32},
        policy_url="http://localhost:5000/privacy/helsedata",
        withdrawal_method="http://localhost:5000/consent/withdraw/TOKEN",
        lang=lang,
    )


def _text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(
    ("status", "lang", "title"),
    [
        ("given", "nb", "Samtykkekvittering – samtykke gitt"),
        ("withdrawn", "nb", "Samtykkekvittering – samtykke trukket tilbake"),
        ("given", "en", "Consent receipt – consent given"),
        ("withdrawn", "en", "Consent receipt – consent withdrawn"),
    ],
)
def test_the_title_says_what_happened(status: str, lang: str, title: str) -> None:
    text = _text(render_receipt_pdf(_receipt(status, lang), lang=lang))
    assert title in text
    assert foreign_lines(text.splitlines(), lang) == []


def test_the_receipt_shows_its_fields_with_norwegian_letters() -> None:
    text = _text(render_receipt_pdf(_receipt(), lang="nb"))
    for expected in (
        "6f1c2d3e-0000-4000-8000-000000000001",
        "kari.nordmann@example.no",
        "983544622",
        "Helsedirektoratet",
        "Brukerundersøkelse om søknadsprosessen",
        "Svar på undersøkelsen",
        "Slettes etter 60 dager.",
        "ab" * 16,
        "Helseopplysninger",  # special categories named
        "Datatilsynet",
        "Side 1 av",
    ):
        assert expected in text.replace("\n", " "), expected


def test_hostile_text_is_shown_literally() -> None:
    hostile = '<b>x</b> <font size=99>big</font> %PDF-1.4 & "quotes"'
    pdf = render_receipt_pdf(_receipt(purposes=[{"nb": hostile, "en": hostile}]), lang="nb")
    assert hostile in _text(pdf).replace("\n", " ")


def test_missing_optional_fields_render() -> None:
    bare = {"iso27560": {"event": {"type": "given"}}}
    text = _text(render_receipt_pdf(bare, lang="en"))
    assert "Consent receipt – consent given" in text and "—" in text


@pytest.mark.parametrize(("lang", "method", "state"), [("nb", "nettskjema", "samtykke gitt"),
                                                       ("en", "web form", "consent given")])  # fmt: skip
def test_the_receipt_says_the_channel_and_the_status_in_words(lang: str, method: str, state: str) -> None:
    text = _text(render_receipt_pdf(_receipt("given", lang), lang=lang))
    assert method in text and state in text
    assert "dpv:" not in text and "\nweb\n" not in text  # the codes stay in the receipt's JSON
