"""The answer: the PDF letter and the ZIP export, read back; the subject's expiring download links."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from tests_support import bearer, complete, settle

from privacy_service import notify
from privacy_service.db import transaction
from privacy_service.dsar import answer, public_views

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}


@pytest.fixture
def engine_name() -> str:
    return "sqlite"


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage",
                           "consent:write"))  # fmt: skip


def _answered(app, client, officer, **body: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    created = client.post("/api/v1/requests", headers=officer,
                          json={"subject": KARI, "verified_by": "ID-porten", **body}).get_json()  # fmt: skip
    ref = created["reference"]
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    settle(client, ref, officer)
    assert client.post(f"/api/v1/requests/{ref}/approve", headers=officer, json={}).status_code == 200
    done = complete(client, ref, officer)
    assert done.status_code == 200, done.get_json()
    return {**done.get_json(), "status_url": created["status_url"]}


def _pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_an_access_answer_holds_the_data_the_registry_facts_and_the_consents(
    app, client, officer, demo
) -> None:  # type: ignore[no-untyped-def]
    client.put(f"/api/v1/consents/{KARI['email']}/surveys", headers=officer, json={"status": "given"})
    earlier = client.post("/api/v1/requests", headers=officer, json={"type": "restriction", "subject": KARI})
    assert earlier.status_code == 201
    body = _answered(app, client, officer, type="access", activities=["accounts", "applications", "surveys"])
    ref = body["reference"]

    package = client.get(f"/api/v1/requests/{ref}/package", headers=officer)
    assert package.status_code == 200 and package.mimetype == "application/zip"
    assert f'filename="{ref}.zip"' in package.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(package.data))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["reference"] == ref and manifest["type"] == "access"
    for entry in manifest["files"]:  # every file is there, with the checksum the manifest gives
        assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == entry["sha256"]
    accounts = json.loads(archive.read("accounts/helsedata-portal.accounts.json"))
    assert [a["email"] for a in accounts] == [KARI["email"]]
    described = next(f for f in manifest["files"] if f["name"] == "accounts/helsedata-portal.accounts.json")
    assert described["rows"] == 1
    assert any(c["name"] == "email" and c["category"] for c in described["columns"])
    rows = list(
        csv.reader(
            io.StringIO(archive.read("applications/helsedata-portal.applications.csv").decode("utf-8-sig"))
        )
    )
    assert rows[0][0] == "id" and "Kari Nordmann" in rows[1] and len(rows) == 2
    consents = json.loads(archive.read("consents.json"))
    assert consents[0]["purpose"] == "surveys" and consents[0]["history"][0]["status"] == "given"
    assert json.loads(archive.read("earlier-requests.json"))[0]["type"] == "restriction"

    letter = _pdf_text(archive.read("letter.pdf"))
    assert "Svar på henvendelsen din" in letter and ref in letter  # her language: bokmål
    assert "Formål" in letter and "Hvor lenge vi lagrer" in letter and "Mottakere" in letter  # Art. 15(1)
    assert "Kari Nordmann" in letter and "Samtykkene dine" in letter and "Tidligere henvendelser" in letter
    assert "Datatilsynet" in letter and "postkasse@datatilsynet.no" in letter
    alone = client.get(f"/api/v1/requests/{ref}/package?part=letter", headers=officer)
    assert alone.mimetype == "application/pdf" and alone.data == archive.read("letter.pdf")


def test_an_erasure_letter_says_what_was_kept_and_why(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    body = _answered(
        app, client, officer, type="erasure", activities=["accounts", "applications"], language="en"
    )
    letter = client.get(f"/api/v1/requests/{body['reference']}/package?part=letter", headers=officer)
    text = _pdf_text(letter.data)
    assert (
        "Answer to your request" in text and "Art. 17(3)(d)" in text and "preserved for the archive" in text
    )
    assert "Erased." in text and "Art. 19" in text  # accounts erased, its processors told
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/api/v1/requests/{body['reference']}/package",
                                                    headers=officer).data))  # fmt: skip
    assert sorted(archive.namelist()) == ["letter.pdf", "manifest.json"]  # erasure returns no data


def test_the_subject_downloads_through_expiring_links(app, client, officer, demo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    body = _answered(app, client, officer, type="portability", activities=["surveys"])
    status_path = "/" + body["status_url"].split("/", 3)[3]
    page = client.get(status_path + "?lang=nb").get_data(as_text=True)
    links = re.findall(r'href="(/requests/download/[^"]+)"', page)
    assert len(links) == 2 and "Last ned svaret" in page
    pdf, zipped = client.get(links[0]), client.get(links[1])
    assert pdf.mimetype == "application/pdf" and zipped.mimetype == "application/zip"
    assert (
        "surveys/helsedata-survey.survey_responses.json"
        in zipfile.ZipFile(io.BytesIO(zipped.data)).namelist()
    )
    assert client.get(links[0][:-3] + "xyz").status_code == 404  # tampered
    monkeypatch.setattr(public_views, "DOWNLOAD_SECONDS", -1)
    assert client.get(links[0]).status_code == 410  # expired
    monkeypatch.undo()
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        assert answer.purge_old_answers(session, now=datetime.now(UTC) + timedelta(days=31)) == 1
    # after 30 days the data export is gone; the letter stays with the request as a case document
    assert client.get(links[1]).status_code == 410
    assert client.get(links[0]).status_code == 200


def test_no_package_before_completion_and_formulas_are_neutralised(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    made = client.post("/api/v1/requests", headers=officer, json={
        "type": "rectification", "subject": KARI, "verified_by": "ID-porten", "activities": ["accounts"],
        "details": {"field": "name", "value": "=HYPERLINK(\"http://evil\")"}}).get_json()  # fmt: skip
    ref = made["reference"]
    assert client.get(f"/api/v1/requests/{ref}/package", headers=officer).status_code == 409
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    settle(client, ref, officer)
    client.post(f"/api/v1/requests/{ref}/approve", headers=officer, json={})
    body = _answered(app, client, officer, type="access", activities=["accounts"])
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/api/v1/requests/{body['reference']}/package",
                                                    headers=officer).data))  # fmt: skip
    rows = list(
        csv.reader(io.StringIO(archive.read("accounts/helsedata-portal.accounts.csv").decode("utf-8-sig")))
    )
    name = rows[1][rows[0].index("name")]
    assert name.startswith("'=HYPERLINK")  # a spreadsheet shows it as text, never runs it
