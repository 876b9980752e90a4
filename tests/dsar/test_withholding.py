"""Withholding (issue 15, item 3): a table, a column or rows kept out of an access or portability answer.

The officer names the data and a ground (Art. 15(4), Personal Data Act § 16(1)(a)–(f)) with reasons; the ZIP
leaves the data out (no file, column or row of it) and its manifest lists the withholding without the values;
the letter tells the subject what kind of data, how many records, the ground and the reasons, in her
language, and that this is a partial refusal she may complain about to Datatilsynet.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from pypdf import PdfReader
from tests_support import bearer, complete, csrf_token, settle

from privacy_service import notify
from privacy_service.audit import AuditEvent

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
APPLICATIONS = {"activity": "applications", "system": "helsedata-portal", "table": "applications"}
SUPPORT = {"activity": "support", "system": "helsedata-support", "table": "support_enquiries"}
SURVEYS = {"activity": "surveys", "system": "helsedata-survey", "table": "survey_responses"}
REASONS = "Prosjektmedarbeiderne er andre personer; vi har ikke samtykke til å utlevere opplysningene."


@pytest.fixture
def engine_name() -> str:
    return "sqlite"


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage",
                           "consent:write"))  # fmt: skip


def _approved(app, client, officer, **body: Any) -> str:  # type: ignore[no-untyped-def]
    """An access request for Kari, planned, decided and approved: ready for withholding and completion."""
    body = {"type": "access", "activities": ["accounts", "applications", "support", "surveys"], **body}
    created = client.post("/api/v1/requests", headers=officer,
                          json={"subject": KARI, "verified_by": "ID-porten", **body})  # fmt: skip
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))  # the plan
    settle(client, reference, officer)
    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()
    return reference


def _withhold(client, officer, reference: str, **body: Any) -> Any:  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/requests/{reference}/withholdings", headers=officer, json=body)


def _complete(client, officer, reference: str) -> zipfile.ZipFile:  # type: ignore[no-untyped-def]
    done = complete(client, reference, officer)
    assert done.status_code == 200, done.get_json()
    package = client.get(f"/api/v1/requests/{reference}/package", headers=officer)
    return zipfile.ZipFile(io.BytesIO(package.data))


def _letter(archive: zipfile.ZipFile) -> str:
    text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(archive.read("letter.pdf"))).pages)
    return " ".join(text.split())


@pytest.mark.parametrize("language", ["nb", "en"])
def test_a_withheld_column_is_left_out_of_the_zip_and_the_letter_says_why(
    app, client, officer, demo, language: str
) -> None:  # type: ignore[no-untyped-def]
    reference = _approved(app, client, officer, language=language)
    made = _withhold(client, officer, reference, **APPLICATIONS, column="project_staff", ground="art_15_4",
                     reasons=REASONS)  # fmt: skip
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["kind"] == "column" and made.get_json()["ground"] == "art_15_4"
    shown = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()
    assert [w["column"] for w in shown["withholdings"]] == ["project_staff"]  # the officer sees it

    archive = _complete(client, officer, reference)
    rows = json.loads(archive.read("applications/helsedata-portal.applications.json"))
    assert rows and all("project_staff" not in r for r in rows) and "free_text" in rows[0]
    csv_head = (
        archive.read("applications/helsedata-portal.applications.csv").decode("utf-8-sig").splitlines()[0]
    )
    assert "project_staff" not in csv_head.split(",") and "free_text" in csv_head.split(",")
    manifest = json.loads(archive.read("manifest.json"))
    described = next(f for f in manifest["files"] if f["name"].endswith("applications.json"))
    assert "project_staff" not in [c["name"] for c in described["columns"]]
    assert manifest["withheld"] == [
        {"activity": "applications", "system": "helsedata-portal", "table": "applications", "kind": "column",
         "column": "project_staff", "categories": ["project_staff"], "records": 1, "ground": "Art. 15(4)",
         "reasons": REASONS}
    ]  # fmt: skip
    staff = "Per Hansen"  # never in the export, whatever the file
    assert all(staff not in archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
               if not n.endswith(".pdf"))  # fmt: skip

    letter = _letter(archive)
    assert REASONS in letter and "project_staff" not in letter and staff not in letter
    if language == "nb":
        assert "Opplysninger vi holder tilbake" in letter
        assert "en kopi ville krenke andres rettigheter og friheter (art. 15 nr. 4)" in letter
        assert "delvis avslag" in letter and "Datatilsynet" in letter and "art. 12 nr. 4" in letter
        assert "Opplysninger om andre prosjektmedarbeidere" in letter  # the registry's label, not the column
    else:
        assert "Data we withhold" in letter and "partial refusal" in letter and "Art. 12(4)" in letter
        assert "a copy would adversely affect the rights and freedoms of others (Art. 15(4))" in letter
        assert "Data about other project staff" in letter


def test_withheld_rows_and_a_withheld_table_are_left_out(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    reference = _approved(app, client, officer)
    rows = _withhold(client, officer, reference, **SUPPORT, rows=[1, "999"], ground="pdl_16_e",
                     reasons="Interne saksforberedende notater.")  # fmt: skip
    table = _withhold(client, officer, reference, **SURVEYS, ground="pdl_16_c",
                      reasons="Svarene kan skade helsen din.")  # fmt: skip
    assert rows.status_code == table.status_code == 201, (rows.get_json(), table.get_json())
    assert rows.get_json()["kind"] == "rows" and rows.get_json()["rows"] == ["1", "999"]
    assert table.get_json()["kind"] == "table"
    audit = client.get("/api/v1/audit", headers=bearer(_auditor(client, app)))
    assert "999" not in json.dumps([e for e in audit.get_json() if "withh" in json.dumps(e)])

    archive = _complete(client, officer, reference)
    names = archive.namelist()
    assert not [n for n in names if n.startswith("surveys/")]  # the table: no file
    assert not [n for n in names if n.startswith("support/")]  # her one enquiry withheld: nothing left
    assert "accounts/helsedata-portal.accounts.json" in names  # the rest is there
    manifest = json.loads(archive.read("manifest.json"))
    assert {(w["kind"], w["records"]) for w in manifest["withheld"]} == {("rows", 1), ("table", 1)}
    assert "999" not in json.dumps(manifest["withheld"])
    letter = _letter(archive)
    assert "Hele registreringer med" in letter and "Alle opplysningene i én samling" in letter
    assert "personopplysningsloven § 16 første ledd bokstav e" in letter and "Svarene kan skade" in letter
    assert "survey_responses" not in letter and "support_enquiries" not in letter


def _auditor(client, app) -> str:  # type: ignore[no-untyped-def]
    from privacy_service.audit import Actor
    from privacy_service.db import transaction
    from privacy_service.security.service import create_api_client

    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return create_api_client(session, name="auditor", scopes=["audit:read"], actor=Actor("cli", "t"))[1]


def test_a_withholding_can_be_removed_until_completion_and_is_audited(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    reference = _approved(app, client, officer)
    made = _withhold(client, officer, reference, **SURVEYS, ground="art_15_4", reasons="Andres svar.")
    listed = client.get(f"/api/v1/requests/{reference}/withholdings", headers=officer).get_json()
    assert [w["id"] for w in listed] == [made.get_json()["id"]]
    gone = client.delete(
        f"/api/v1/requests/{reference}/withholdings/{made.get_json()['id']}", headers=officer
    )
    assert gone.status_code == 204
    assert client.get(f"/api/v1/requests/{reference}/withholdings", headers=officer).get_json() == []
    again = client.delete(
        f"/api/v1/requests/{reference}/withholdings/{made.get_json()['id']}", headers=officer
    )
    assert again.status_code == 404
    with app.app_context():
        from sqlmodel import Session, select

        with Session(app.extensions["engine"]) as session:
            actions = [e.action for e in session.exec(select(AuditEvent))]
    assert any("withheld" in a for a in actions) and any("withholding_removed" in a for a in actions)
    timeline = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()["timeline"]
    assert {"withheld", "withholding_removed"} <= {e["kind"] for e in timeline}
    archive = _complete(client, officer, reference)
    assert "surveys/helsedata-survey.survey_responses.json" in archive.namelist()  # put back
    late = _withhold(client, officer, reference, **SURVEYS, ground="art_15_4", reasons="Too late.")
    assert late.status_code == 409


@pytest.mark.parametrize(
    "body, field",
    [
        ({**SURVEYS, "ground": "art_21_1", "reasons": "x"}, "ground"),  # not a ground for withholding
        ({**SURVEYS, "ground": "art_15_4", "reasons": "   "}, "reasons"),
        ({**SURVEYS, "table": "accounts", "ground": "art_15_4", "reasons": "x"}, "table"),  # not surveys
        ({**SURVEYS, "system": "nowhere", "ground": "art_15_4", "reasons": "x"}, "table"),
        ({**SURVEYS, "column": "shoe_size", "ground": "art_15_4", "reasons": "x"}, "column"),
        ({**SURVEYS, "column": "id", "ground": "art_15_4", "reasons": "x"}, "column"),  # the key
        ({**SURVEYS, "activity": "newsletter", "ground": "art_15_4", "reasons": "x"}, "activity"),
        ({**SURVEYS, "column": "answers", "rows": [1], "ground": "art_15_4", "reasons": "x"}, "rows"),
        ({**SURVEYS, "rows": [], "ground": "art_15_4", "reasons": "x"}, "rows"),
    ],
    ids=["art_21_1", "empty-reasons", "other-table", "unknown-system", "unknown-column", "key-column",
         "activity-not-in-request", "column-and-rows", "no-rows"],
)  # fmt: skip
def test_a_bad_withholding_is_422_with_the_field(app, client, officer, demo, body, field) -> None:  # type: ignore[no-untyped-def]
    reference = _approved(app, client, officer)
    answer = _withhold(client, officer, reference, **body)
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["error"]["fields"]
    assert client.get(f"/api/v1/requests/{reference}/withholdings", headers=officer).get_json() == []


def test_only_an_approved_open_access_or_portability_request_can_withhold(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    created = client.post("/api/v1/requests", headers=officer, json={
        "type": "access", "subject": KARI, "verified_by": "ID-porten", "activities": ["surveys"],
    }).get_json()  # fmt: skip
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    body = {**SURVEYS, "ground": "art_15_4", "reasons": "Andres svar."}
    assert _withhold(client, officer, created["reference"], **body).status_code == 409  # not approved yet
    erasure = _approved(app, client, officer, type="erasure", activities=["surveys"])
    assert _withhold(client, officer, erasure, **body).status_code == 409  # no data in an erasure answer
    portability = _approved(app, client, officer, type="portability", activities=["surveys"])
    assert _withhold(client, officer, portability, **body).status_code == 201


def test_a_key_without_requests_manage_cannot_withhold(app, client, officer, demo, make_key) -> None:  # type: ignore[no-untyped-def]
    reference = _approved(app, client, officer)
    portal = bearer(make_key("requests:read", "requests:write"))
    body = {**SURVEYS, "ground": "art_15_4", "reasons": "Andres svar."}
    assert _withhold(client, portal, reference, **body).status_code == 403
    made = _withhold(client, officer, reference, **body).get_json()
    assert (
        client.delete(f"/api/v1/requests/{reference}/withholdings/{made['id']}", headers=portal).status_code
        == 403
    )
    assert (
        client.get(f"/api/v1/requests/{reference}/withholdings", headers=portal).status_code == 404
    )  # not hers


def test_the_officer_page_withholds_and_removes(app, client, officer, demo, login) -> None:  # type: ignore[no-untyped-def]
    reference = _approved(app, client, officer)
    login("officer")
    page = f"/officer/requests/{reference}"
    html = client.get(page + "?lang=nb").get_data(as_text=True)
    assert "Hold tilbake opplysninger" in html
    assert "en kopi ville krenke andres rettigheter og friheter (art. 15 nr. 4)" in html
    token = csrf_token(client, page)
    form = {"csrf_token": token, "target": "applications/helsedata-portal/applications",
            "column": "project_staff", "rows": "", "ground": "art_15_4", "reasons": ""}  # fmt: skip
    refused = client.post(f"{page}/withhold?lang=nb", data=form, follow_redirects=True)
    assert "Oppgi begrunnelsen" in refused.get_data(as_text=True)  # a message in her language, nothing kept
    assert client.get(f"/api/v1/requests/{reference}/withholdings", headers=officer).get_json() == []
    client.post(f"{page}/withhold", data={**form, "reasons": REASONS})
    listed = client.get(f"/api/v1/requests/{reference}/withholdings", headers=officer).get_json()
    assert [(w["table"], w["column"], w["reasons"]) for w in listed] == [
        ("applications", "project_staff", REASONS)
    ]
    html = client.get(page + "?lang=nb").get_data(as_text=True)
    assert REASONS in html and "Fjern" in html
    client.post(f"{page}/unwithhold", data={"csrf_token": token, "withholding": str(listed[0]["id"])})
    assert client.get(f"/api/v1/requests/{reference}/withholdings", headers=officer).get_json() == []
