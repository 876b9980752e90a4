"""Kari Nordmann from the demo data: every right once, acting on her rows where they live.

Her application HDS-2024-0001 is archive-worthy and under the shipped archive-law hold: no request touches it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from tests_support import bearer, complete, settle

from privacy_service import notify
from privacy_service.db import transaction
from privacy_service.retention.models import Hold

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
HELSEDATA = ["accounts", "applications", "support", "surveys", "website-visits", "contact-enquiries"]


@pytest.fixture
def engine_name() -> str:
    return "sqlite"  # the service database; the demo data systems are SQLite files either way


@pytest.fixture
def officer(client, make_key) -> Any:  # type: ignore[no-untyped-def]
    return bearer(
        make_key(
            "requests:read",
            "requests:write",
            "requests:write:verified",
            "requests:manage",
            "consent:read",
            "consent:write",
        )  # fmt: skip
    )


def _rows(demo: Path, file: str, sql: str) -> list[Any]:
    engine = create_engine(f"sqlite:///{demo / 'demo' / file}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


def _deliver(app) -> None:  # type: ignore[no-untyped-def]
    counts = notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    assert counts["failed"] == 0 and counts["retrying"] == 0, counts


def _request(app, client, officer, **body: Any) -> tuple[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    created = client.post(
        "/api/v1/requests", headers=officer, json={"subject": KARI, "verified_by": "ID-porten", **body}
    )
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    _deliver(app)  # the plan
    planned = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()
    assert planned["status"] == "awaiting_decision", planned
    return reference, {o["activity"]: o for o in planned["outcomes"]}


def _approve(app, client, officer, reference: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    settle(client, reference, officer)
    response = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert response.status_code == 200, response.get_json()
    _deliver(app)
    return response.get_json()


def test_erasure_deletes_what_may_go_and_keeps_the_archived_application(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    reference, plan = _request(app, client, officer, type="erasure", activities=HELSEDATA)
    assert plan["applications"]["outcome"] == "refused" and plan["accounts"]["outcome"] == "pending"
    with (
        app.app_context(),
        transaction(app.extensions["engine"]) as session,
    ):  # her evidence is held meanwhile
        own = session.scalars(select(Hold).where(Hold.reference == reference)).one()
        assert own.kind == "request_pending" and own.released_at is None
    early = complete(client, reference, officer)
    assert early.status_code == 409 and "approve" in early.get_json()["error"]["message"]

    body = _approve(app, client, officer, reference)
    done = {o["activity"]: o for o in body["outcomes"]}
    assert done["accounts"]["outcome"] == "done" and done["support"]["outcome"] == "done"
    assert done["surveys"]["outcome"] == "done"
    assert done["applications"]["outcome"] == "refused"  # untouched: Art. 17(3)(d)
    assert (
        done["website-visits"]["outcome"] == "no_data"
    )  # outside the data map: searched by hand, none found
    assert _rows(demo, "helsedata_portal.db", "SELECT id FROM accounts WHERE id = 1") == []
    assert _rows(demo, "helsedata_support.db", "SELECT id FROM support_enquiries WHERE lower(email) = "
                 "'kari.nordmann@example.no'") == []  # fmt: skip
    [application] = _rows(
        demo, "helsedata_portal.db", "SELECT reference, name FROM applications WHERE id = 1"
    )
    assert application == ("HDS-2024-0001", "Kari Nordmann")  # the archive keeps it whole
    assert done["accounts"]["tables"][0]["system"] == "helsedata-portal"
    assert "ehelse" in done["accounts"]["told"] and "Complete" not in str(
        done["applications"].get("told", [])
    )
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        art19 = [m.payload for m in session.scalars(select(notify.OutboxMessage)) if m.event == "dsar.art19"]
    assert art19 and all(reference in m["text"] and "Kari" not in m["text"] for m in art19)
    assert any("«Brukerkonto på helsedata.no»" in m["text"] for m in art19)  # names, not keys
    assert not [m for m in art19 if "'accounts'" in m["text"] or "for erasure" in m["text"]]
    assert "service@helsedata.no" in {m["to"] for m in art19}  # the Directorate for e-Health, processor
    told = [e for e in body["timeline"] if e["kind"] == "recipients_told"]
    assert told and "ehelse" in told[0]["details"]["organisations"]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        own = session.scalars(select(Hold).where(Hold.reference == reference)).one()
        assert own.released_at is not None  # decided: the evidence hold is released
    finished = complete(client, reference, officer)
    assert finished.status_code == 200 and finished.get_json()["status"] == "completed"


def test_rectification_writes_the_approved_value(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    reference, plan = _request(app, client, officer, type="rectification", activities=["accounts"],
                               details={"field": "phone", "value": "+47 400 00 001"})  # fmt: skip
    assert plan["accounts"]["outcome"] == "pending"
    done = {o["activity"]: o for o in _approve(app, client, officer, reference)["outcomes"]}
    assert done["accounts"]["outcome"] == "done" and done["accounts"]["records"] == 1
    assert _rows(demo, "helsedata_portal.db", "SELECT phone FROM accounts WHERE id = 1") == [
        ("+47 400 00 001",)
    ]


def test_restriction_flags_her_rows_and_the_status_api_answers_restricted(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    reference, __ = _request(app, client, officer, type="restriction", activities=["accounts"])
    _approve(app, client, officer, reference)
    assert _rows(demo, "helsedata_portal.db", "SELECT restricted FROM accounts WHERE id = 1") == [(1,)]
    status = client.get(f"/api/v1/subjects/{KARI['email']}/processing?activity=accounts", headers=officer)
    assert status.get_json()["status"] == "restricted"


def test_an_upheld_objection_stops_the_processing(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    reference, plan = _request(app, client, officer, type="objection", activities=["accounts", "surveys"])
    assert plan["surveys"]["outcome"] == "not_applicable"  # consent: withdraw instead
    _approve(app, client, officer, reference)
    accounts = client.get(f"/api/v1/subjects/{KARI['email']}/processing?activity=accounts", headers=officer)
    assert accounts.get_json()["status"] == "objected"


def test_consent_withdrawal_goes_through_the_consent_service(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    given = client.put(f"/api/v1/consents/{KARI['email']}/surveys", headers=officer, json={"status": "given"})
    assert given.status_code == 200, given.get_json()
    reference, plan = _request(
        app, client, officer, type="consent_withdrawal", activities=["surveys", "accounts"]
    )
    assert plan["accounts"]["outcome"] == "not_applicable" and plan["surveys"]["outcome"] == "pending"
    _approve(app, client, officer, reference)
    state = client.get(f"/api/v1/consents/{KARI['email']}/surveys", headers=officer).get_json()
    assert state["status"] == "withdrawn"
    sql = "SELECT id FROM survey_responses WHERE lower(email) = 'kari.nordmann@example.no'"
    survey = _rows(demo, "helsedata_survey.db", sql)
    assert survey == []  # the survey erases on withdrawal


@pytest.mark.parametrize("right", ["access", "portability"])
def test_access_and_portability_are_approved_and_completed(app, client, officer, demo, right) -> None:  # type: ignore[no-untyped-def]
    reference, plan = _request(
        app, client, officer, type=right, activities=["accounts", "surveys", "applications"]
    )
    if right == "portability":
        assert plan["accounts"]["outcome"] == "not_applicable" and plan["surveys"]["outcome"] == "pending"
    else:
        assert {o["outcome"] for o in plan.values()} == {"pending"}
    _approve(app, client, officer, reference)
    assert _rows(demo, "helsedata_portal.db", "SELECT count(*) FROM applications WHERE id = 1") == [(1,)]
    again = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert again.status_code == 409  # approved once
    assert complete(client, reference, officer).status_code == 200
