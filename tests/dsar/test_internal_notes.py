"""Internal notes never reach the subject (issue 15, item 4): a hold's basis is the officers' note, and the
subject's letter says only the hold's public text, or the standard text for its kind, in her language."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from pypdf import PdfReader
from tests_support import bearer, complete, settle

from privacy_service import notify

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
NOTE = "Tvist om brukerstøtte, sak 26/1234 — bevis sikres"  # the officers' own words, with a case number
OFFICER_NOTE = "Internt: Kari ringte om sak 26/1234"
STANDARD = {
    "nb": "De trengs for et rettskrav eller en rettssak (personvernforordningen art. 17 nr. 3 bokstav e).",
    "en": "They are needed for a legal claim or case (Art. 17(3)(e)).",
}
OWN = {
    "nb": "Henvendelsen din til brukerstøtten tas vare på fordi den trengs i en rettssak.",
    "en": "Your enquiry to our support desk is kept because it is needed in a court case.",
}


@pytest.fixture
def engine_name() -> str:
    return "sqlite"  # the service database; the demo data systems are SQLite files either way


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage",
                           "holds:manage", "retention:read"))  # fmt: skip


def _hold_on_karis_enquiry(client, officer, public_text: dict[str, str] | None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {
        "kind": "legal",
        "scope": "records",
        "system": "helsedata-support",
        "table_name": "support_enquiries",
        "record_keys": ["1"],  # Kari's enquiry in the demo data
        "basis": NOTE,
        "reference": "26/1234",
    }
    if public_text is not None:
        body["public_text"] = public_text
    response = client.post("/api/v1/holds", json=body, headers=officer)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _flat(text: str) -> str:
    return " ".join(text.split())


def _pdf_text(data: bytes) -> str:
    return _flat(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages))


@pytest.mark.parametrize("own_text", [False, True], ids=["standard-text", "own-text"])
@pytest.mark.parametrize(
    ("right", "lang"),
    [("access", "nb"), ("access", "en"), ("erasure", "nb"), ("erasure", "en")],
    ids=["Art15-nb", "Art15-en", "Art17-nb", "Art17-en"],
)
def test_the_letter_gives_the_holds_public_text_and_never_its_internal_note(  # type: ignore[no-untyped-def]
    app, client, officer, demo, right: str, lang: str, own_text: bool
) -> None:
    _hold_on_karis_enquiry(client, officer, OWN if own_text else None)
    created = client.post(
        "/api/v1/requests",
        headers=officer,
        json={
            "type": right,
            "subject": KARI,
            "verified_by": "ID-porten",
            "language": lang,
            "activities": ["support", "accounts"],
        },
    )
    assert created.status_code == 201, created.get_json()
    ref = created.get_json()["reference"]
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))  # the plan
    planned = client.get(f"/api/v1/requests/{ref}", headers=officer).get_json()
    support = next(o for o in planned["outcomes"] if o["activity"] == "support")
    assert support["held"] == 1 and support["holds"][0]["basis"] == NOTE  # the officer sees the note
    note = {"note": OFFICER_NOTE}
    settle(client, ref, officer)  # an erasure from public-task processing is weighed by the officer
    assert client.post(f"/api/v1/requests/{ref}/approve", headers=officer, json=note).status_code == 200
    assert complete(client, ref, officer, **note).status_code == 200

    package = zipfile.ZipFile(io.BytesIO(client.get(f"/api/v1/requests/{ref}/package", headers=officer).data))
    letter = _pdf_text(package.read("letter.pdf"))
    assert ref in letter
    for internal in (NOTE, "26/1234", "bevis sikres", OFFICER_NOTE):
        assert internal not in letter
    assert (OWN if own_text else STANDARD)[lang] in letter
    other = "en" if lang == "nb" else "nb"
    assert STANDARD[other] not in letter and OWN[other] not in letter  # her language only
    for name in package.namelist():
        if name != "letter.pdf":
            assert "26/1234" not in package.read(name).decode("utf-8-sig")


def test_a_hold_keeps_its_note_and_its_public_text_apart_in_the_api(client, officer, make_key) -> None:  # type: ignore[no-untyped-def]
    standard = _hold_on_karis_enquiry(client, officer, None)
    assert standard["basis"] == NOTE
    assert standard["public_text"] == STANDARD and standard["public_text_standard"] == ["nb", "en"]
    partly = _hold_on_karis_enquiry(client, officer, {"nb": OWN["nb"], "en": "  "})
    assert partly["public_text"] == {"nb": OWN["nb"], "en": STANDARD["en"]}  # no bokmål in an English letter
    assert partly["public_text_standard"] == ["en"]
    too_long = client.post(
        "/api/v1/holds",
        headers=officer,
        json={
            "kind": "legal",
            "scope": "activity",
            "activity": "support",
            "basis": NOTE,
            "public_text": {"nb": "x" * 1001},
        },
    )
    assert too_long.status_code == 422 and "public_text" in too_long.get_json()["error"]["fields"]
    unknown = client.post(
        "/api/v1/holds",
        headers=officer,
        json={
            "kind": "legal",
            "scope": "activity",
            "activity": "support",
            "basis": NOTE,
            "public_text": {"nn": "Nynorsk"},
        },
    )
    assert unknown.status_code == 422
    auditor = bearer(make_key("audit:read"))
    events = client.get("/api/v1/audit?action=hold.set", headers=auditor).get_json()["items"]
    languages = [e["details"]["public_text"] for e in events]  # the languages it has a text in, not the words
    assert languages.count(["nb"]) == 1 and languages.count([]) == len(events) - 1
    assert all(NOTE not in str(e["details"]) and OWN["nb"] not in str(e["details"]) for e in events)
