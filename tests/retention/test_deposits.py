"""Deposits in two steps: an ADDML extract now, the rows deleted only on the archive's receipt."""

from __future__ import annotations

import csv
import hashlib
import io
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests_support import bearer, csrf_token

from privacy_service.audit import Actor, AuditEvent
from privacy_service.db import transaction
from privacy_service.retention import runner
from privacy_service.retention.models import RetentionDeposit

from .conftest import query

APPLICATIONS = "applications:helsedata-portal.applications:deposit"
FAR = datetime(2060, 1, 1, tzinfo=UTC)  # 25 years on, every application is due for deposit
DPO = Actor("user", "dpo")
NS = {"a": "http://www.arkivverket.no/standarder/addml"}
RECEIPT = {"archive_reference": "AV 2060/17", "received_at": "2060-01-15"}


def _run(app, demo: Path) -> Any:  # type: ignore[no-untyped-def]
    run = runner.run_retention(
        app.extensions["engine"], instance_path=demo, actor=DPO, only=[APPLICATIONS], now=FAR
    )
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        __, results = runner.get_run(session, run.id)
    return results[0]


def _ids(demo: Path) -> list[int]:
    return [r[0] for r in query(demo, "helsedata_portal.db", "SELECT id FROM applications ORDER BY id")]


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("retention:run", "retention:read"))


def _deposits(client, officer) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/retention/deposits", headers=officer)
    assert answer.status_code == 200
    return answer.get_json()


def _check_extract(folder: Path, columns: list[str]) -> int:
    """Every file addml.xml names exists with its checksum and record count; every field is defined."""
    root = ET.parse(folder / "addml.xml").getroot()  # noqa: S314 (our own file)
    assert root.tag == "{http://www.arkivverket.no/standarder/addml}addml"
    creator = root.find(".//a:additionalElement[@name='recordCreator']", NS)
    assert creator is not None
    values = {
        p.get("name"): p.findtext("a:value", namespaces=NS) for p in creator.iter(f"{{{NS['a']}}}property")
    }
    assert values == {"name": "Helsedirektoratet", "orgNumber": "983544622"}
    files = root.findall(".//a:flatFile", NS)
    assert files
    total = 0
    for flat in files:
        props = {p.get("name"): p for p in flat.find("a:properties", NS)}  # type: ignore[union-attr]
        path = folder / props["fileName"].findtext("a:value", namespaces=NS)  # type: ignore[operator]
        assert path.is_file()
        checksum = {
            p.get("name"): p.findtext("a:value", namespaces=NS)
            for p in props["checksum"].find("a:properties", NS)  # type: ignore[union-attr]
        }
        assert checksum == {"algorithm": "SHA-256", "value": hashlib.sha256(path.read_bytes()).hexdigest()}
        data = path.read_bytes()
        assert data.endswith(b"\r\n")
        records = list(csv.reader(data.decode("utf-8").splitlines(), delimiter=";", quotechar='"'))
        assert int(props["numberOfRecords"].findtext("a:value", namespaces=NS) or -1) == len(records)
        assert all(len(r) == len(columns) for r in records)
        definition = root.find(f".//a:flatFileDefinition[@name='{flat.get('definitionReference')}']", NS)
        assert definition is not None
        defined = [f.get("name") for f in definition.iter(f"{{{NS['a']}}}fieldDefinition")]
        assert defined == columns
        types = {t.get("name") for t in root.iter(f"{{{NS['a']}}}fieldType")}
        assert {f.get("typeReference") for f in definition.iter(f"{{{NS['a']}}}fieldDefinition")} <= types
        file_type = root.find(f".//a:flatFileType[@name='{definition.get('typeReference')}']", NS)
        assert file_type is not None and file_type.findtext("a:charset", namespaces=NS) == "UTF-8"
        assert file_type.findtext("a:delimFileFormat/a:fieldSeparatingChar", namespaces=NS) == ";"
        assert file_type.findtext("a:delimFileFormat/a:recordSeparator", namespaces=NS) == "CRLF"
        total += len(records)
    return total


def _columns(demo: Path) -> list[str]:
    return [r[1] for r in query(demo, "helsedata_portal.db", "PRAGMA table_info(applications)")]


def test_a_deposit_waits_for_the_receipt_then_deletes_exactly_its_rows(app, client, demo, officer) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(demo)
    result = _run(app, demo)
    assert result.error is None and result.acted == len(ids)
    assert _ids(demo) == ids  # the rows stay until the archive has them
    [deposit] = _deposits(client, officer)
    assert deposit["status"] == "pending_receipt" and deposit["rows"] == len(ids)
    assert deposit["table"] == "applications" and deposit["files"][0]["sha256"]
    assert "keys" not in deposit
    assert _check_extract(Path(result.deposit_path), _columns(demo)) == len(ids)

    again = _run(app, demo)  # pending rows are not deposited twice
    assert again.acted == 0 and again.held == len(ids)
    assert len(_deposits(client, officer)) == 1
    report = client.get(f"/api/v1/retention/runs/{again.run_id}", headers=officer).get_json()
    assert [(d["id"], d["rows"]) for d in report["pending_deposits"]] == [(deposit["id"], len(ids))]

    answer = client.post(f"/api/v1/retention/deposits/{deposit['id']}/receipt", json=RECEIPT, headers=officer)
    assert answer.status_code == 200, answer.get_json()
    done = answer.get_json()
    assert done["status"] == "received" and done["archive_reference"] == "AV 2060/17"
    assert done["deleted_rows"] == len(ids) and done["deleted_at"]
    assert _ids(demo) == []
    assert Path(result.deposit_path, "addml.xml").is_file()  # the extract and the receipt are kept
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        deposit_events = select(AuditEvent).where(AuditEvent.action.like("retention.deposit.%"))
        events = session.scalars(deposit_events.order_by(AuditEvent.seq)).all()
        assert [e.action for e in events] == [
            "retention.deposit.extract",
            "retention.deposit.receipt",
            "retention.deposit.deleted",
        ]
        assert events[2].details["deleted"] == len(ids)
        assert not any("HDS-" in str(e.details) or "keys" in e.details for e in events)  # no personal data


def test_the_dashboard_counts_rows_awaiting_the_receipt_as_held_not_due(app, demo) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.retention.outlook import outlook

    ids = _ids(demo)
    before = outlook(app.extensions["engine"], instance_path=demo, now=FAR)[APPLICATIONS]
    assert (before["due_now"], before["held"]) == (len(ids), 0)
    _run(app, demo)
    after = outlook(app.extensions["engine"], instance_path=demo, now=FAR)[APPLICATIONS]
    assert (after["due_now"], after["held"]) == (0, len(ids))  # the run would not touch them: they wait


def test_the_extract_validates_against_arkivverkets_addml_8_2_schema(app, demo) -> None:  # type: ignore[no-untyped-def]
    """The addml.xml is valid ADDML 8.2 (Arkivverket's schema, as Arkade 5 ships it), and its checksum and
    record count properties match the data files."""
    from lxml import etree  # a test extra: missing, this test fails rather than skips

    schema = etree.XMLSchema(etree.parse(str(Path(__file__).with_name("addml82.xsd"))))
    ids = _ids(demo)
    folder = Path(_run(app, demo).deposit_path)
    document = etree.parse(str(folder / "addml.xml"))
    valid = schema.validate(document)
    assert valid, "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log)
    flat_files = document.findall(".//a:flatFile", NS)
    assert [f.get("name") for f in flat_files] == ["applications"]
    for flat in flat_files:
        props = {p.get("name"): p for p in flat.find("a:properties", NS)}
        data = (folder / props["fileName"].findtext("a:value", namespaces=NS)).read_bytes()
        checksum = {
            p.get("name"): p.findtext("a:value", namespaces=NS)
            for p in props["checksum"].find("a:properties", NS)
        }
        assert checksum == {"algorithm": "SHA-256", "value": hashlib.sha256(data).hexdigest()}
        text = io.StringIO(data.decode("utf-8"), newline="")  # a quoted field may hold a line break
        records = list(csv.reader(text, delimiter=";", quotechar='"'))
        assert len(records) == len(ids)
        assert props["numberOfRecords"].findtext("a:value", namespaces=NS) == str(len(records))


def test_a_rejected_extract_is_remade_for_the_same_rows(app, client, demo, officer) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(demo)
    _run(app, demo)
    [first] = _deposits(client, officer)
    rejected = client.post(
        f"/api/v1/retention/deposits/{first['id']}/reject",
        json={"reason": "Checksum test failed"},
        headers=officer,
    )
    assert rejected.status_code == 200 and rejected.get_json()["status"] == "rejected"
    remade = client.post(f"/api/v1/retention/deposits/{first['id']}/remake", json={}, headers=officer)
    assert remade.status_code == 201, remade.get_json()
    second = remade.get_json()
    assert (
        second["status"] == "pending_receipt"
        and second["rows"] == len(ids)
        and second["remade_from"] == first["id"]
    )
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        path = Path(session.get(RetentionDeposit, second["id"]).path)
    assert _check_extract(path, _columns(demo)) == len(ids)
    assert (
        client.post(f"/api/v1/retention/deposits/{first['id']}/remake", json={}, headers=officer).status_code
        == 409
    )
    assert _run(app, demo).acted == 0  # the remade deposit waits: nothing is extracted twice
    assert _ids(demo) == ids


def test_a_rejected_extract_is_made_again_by_the_next_run(app, client, demo, officer) -> None:  # type: ignore[no-untyped-def]
    _run(app, demo)
    [first] = _deposits(client, officer)
    client.post(
        f"/api/v1/retention/deposits/{first['id']}/reject", json={"reason": "Bad dates"}, headers=officer
    )
    assert _run(app, demo).acted == len(_ids(demo))
    assert [d["status"] for d in _deposits(client, officer)] == ["pending_receipt", "rejected"]


def test_a_receipt_cut_short_before_the_delete_is_finished_by_the_next_run(
    app, client, demo, officer
) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(demo)
    _run(app, demo)
    with app.app_context(), transaction(app.extensions["engine"]) as session:  # the process dies here
        deposit = session.scalars(select(RetentionDeposit)).one()
        deposit.status, deposit.archive_reference = "received", "AV 2060/18"
        deposit.received_at, deposit.received_by = FAR, "user:dpo"
    assert _ids(demo) == ids
    assert _run(app, demo).acted == 0  # received rows are not deposited again
    assert _ids(demo) == []
    [done] = _deposits(client, officer)
    assert done["deleted_rows"] == len(ids) and done["deleted_at"]


@pytest.mark.parametrize(
    ("case", "body", "status"),
    [
        ("unknown deposit", RECEIPT, 404),
        ("no archive reference", {"received_at": "2060-01-15"}, 422),
        ("no date", {"archive_reference": "AV 1"}, 422),
    ],
)
def test_a_bad_receipt_is_refused_and_changes_nothing(app, client, demo, officer, case, body, status) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(demo)
    _run(app, demo)
    [deposit] = _deposits(client, officer)
    target = 9999 if case == "unknown deposit" else deposit["id"]
    answer = client.post(f"/api/v1/retention/deposits/{target}/receipt", json=body, headers=officer)
    assert answer.status_code == status, answer.get_json()
    assert _deposits(client, officer) == [deposit] and _ids(demo) == ids


def test_a_second_receipt_or_a_late_rejection_is_a_conflict(app, client, demo, officer) -> None:  # type: ignore[no-untyped-def]
    _run(app, demo)
    [deposit] = _deposits(client, officer)
    url = f"/api/v1/retention/deposits/{deposit['id']}"
    assert client.post(f"{url}/receipt", json=RECEIPT, headers=officer).status_code == 200
    after = _deposits(client, officer)
    assert client.post(f"{url}/receipt", json=RECEIPT, headers=officer).status_code == 409
    assert client.post(f"{url}/reject", json={"reason": "Too late"}, headers=officer).status_code == 409
    assert client.post(f"{url}/remake", json={}, headers=officer).status_code == 409
    assert _deposits(client, officer) == after


def test_a_key_without_retention_run_may_not_record_a_receipt(app, client, demo, make_key) -> None:  # type: ignore[no-untyped-def]
    _run(app, demo)
    reader = bearer(make_key("retention:read"))
    assert client.get("/api/v1/retention/deposits", headers=reader).status_code == 403
    answer = client.post("/api/v1/retention/deposits/1/receipt", json=RECEIPT, headers=reader)
    assert answer.status_code == 403
    assert len(_ids(demo)) > 0


def test_an_officer_records_the_receipt_on_the_deposits_page_in_bokmal(app, client, demo, login) -> None:  # type: ignore[no-untyped-def]
    _run(app, demo)
    login("officer")
    page = client.get("/officer/retention/deposits", headers={"Accept-Language": "nb"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Avleveringer" in html and "venter på kvittering" in html and "addml.xml" not in html
    token = csrf_token(client, "/officer/retention/deposits")
    refused = client.post("/officer/retention/deposits/1/receipt", data={"csrf_token": token})
    assert refused.status_code == 302 and len(_ids(demo)) > 0
    done = client.post(
        "/officer/retention/deposits/1/receipt",
        data={"csrf_token": token, "archive_reference": "AV 2060/19", "received_at": "2060-01-15"},
    )
    assert done.status_code == 302 and _ids(demo) == []
    assert "AV 2060/19" in client.get("/officer/retention/deposits").get_data(as_text=True)


def test_a_legal_hold_set_after_the_extract_still_wins_at_the_receipt(app, client, demo, officer) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.retention.holds import set_hold

    ids = _ids(demo)
    _run(app, demo)
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        set_hold(
            session,
            data={"kind": "legal", "basis": "Case 26/80", "scope": "records", "system": "helsedata-portal",
                  "table_name": "applications", "record_keys": [str(ids[0])]},
            actor=DPO,
        )  # fmt: skip
    [deposit] = _deposits(client, officer)
    done = client.post(f"/api/v1/retention/deposits/{deposit['id']}/receipt", json=RECEIPT, headers=officer)
    assert done.get_json()["deleted_rows"] == len(ids) - 1 and _ids(demo) == [ids[0]]


def test_the_run_report_pdf_lists_the_deposits_waiting_for_a_receipt(app, client, demo, login) -> None:  # type: ignore[no-untyped-def]
    import io

    from pypdf import PdfReader

    result = _run(app, demo)
    login("auditor")
    pdf = client.get(f"/officer/retention/runs/{result.run_id}.pdf?lang=en")
    assert pdf.status_code == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Deposits waiting for the archive" in text and "helsedata-portal.applications" in text
    assert "Pending deposits" in client.get(f"/officer/retention/runs/{result.run_id}?lang=en").get_data(
        as_text=True
    )
