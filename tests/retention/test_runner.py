"""The retention runner on the demo data systems: counts, holds, actions, dry runs, reports, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests_support import bearer

from privacy_service.audit import Actor
from privacy_service.db import transaction
from privacy_service.retention import runner
from privacy_service.retention.holds import release_hold, set_hold
from privacy_service.ropa import service as ropa

from .conftest import ALL_RULES, query

NOW = datetime(2026, 11, 2, tzinfo=UTC)  # a day after the demo's anchor
SUPPORT = "support:helsedata-support.support_enquiries:delete"
SURVEYS = "surveys:helsedata-survey.survey_responses:delete"
APPLICATIONS = "applications:helsedata-portal.applications:deposit"
DPO = Actor("user", "dpo")


def _run(app, demo: Path, only: list[str] | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    run = runner.run_retention(
        app.extensions["engine"],
        instance_path=demo,
        actor=DPO,
        only=only,
        now=kwargs.pop("now", NOW),
        **kwargs,
    )
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        __, results = runner.get_run(session, run.id)
    return run, {r.rule: r for r in results}


def _hold(app, **data: Any) -> Any:  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return set_hold(session, data={"kind": "legal", "basis": "Case 26/77", **data}, actor=DPO)


def _support_ids(demo: Path) -> set[int]:
    return {r[0] for r in query(demo, "helsedata_support.db", "SELECT id FROM support_enquiries")}


def _due_support_ids(demo: Path) -> set[int]:
    cutoff = (NOW - timedelta(days=92)).replace(tzinfo=None)  # P3M back from 2 Nov is 2 Aug
    rows = query(
        demo,
        "helsedata_support.db",
        "SELECT id FROM support_enquiries WHERE answered_at <= :c",
        c=str(cutoff),
    )
    return {r[0] for r in rows}


def test_a_dry_run_counts_what_the_real_run_does(app, demo) -> None:  # type: ignore[no-untyped-def]
    before = _support_ids(demo)
    dry, planned = _run(app, demo, dry_run=True)
    assert dry.status == "completed" and _support_ids(demo) == before  # nothing touched
    real, done = _run(app, demo)
    for key in (SUPPORT, SURVEYS):
        assert (planned[key].candidates, planned[key].acted) == (done[key].candidates, done[key].acted), key
    assert done[SUPPORT].acted > 0 and done[SURVEYS].acted > 0
    assert _support_ids(demo) == before - _due_support_ids(demo) or done[SUPPORT].acted == len(before) - len(
        _support_ids(demo)
    )
    again, second = _run(app, demo)
    assert second[SUPPORT].candidates == 0 and second[SURVEYS].candidates == 0  # idempotent


@pytest.mark.parametrize(
    ("scope", "keeps"),
    [
        ({"scope": "activity", "activity": "support"}, "all"),
        ({"scope": "table", "system": "helsedata-support", "table_name": "support_enquiries"}, "all"),
        ({"scope": "records", "system": "helsedata-support", "table_name": "support_enquiries"}, "listed"),
        ({"scope": "subject", "subject_kind": "email"}, "subject"),
        ({"scope": "activity", "activity": "surveys"}, "none"),  # another activity's hold
    ],
)
def test_holds_win_over_retention(app, demo, scope, keeps) -> None:  # type: ignore[no-untyped-def]
    due = sorted(_due_support_ids(demo))
    assert len(due) > 3
    email = query(
        demo, "helsedata_support.db", "SELECT email FROM support_enquiries WHERE id = :i", i=due[0]
    )[0][0]
    extra = {"record_keys": [str(due[1]), str(due[2])]} if keeps == "listed" else {}
    if keeps == "subject":
        extra = {"subject_value": email.upper()}
    same_subject = {
        r[0]
        for r in query(demo, "helsedata_support.db", "SELECT id, lower(email) FROM support_enquiries")
        if r[1] == email.lower() and r[0] in due
    }
    expected = {"all": set(due), "listed": {due[1], due[2]}, "subject": same_subject, "none": set()}[keeps]
    hold = _hold(app, **scope, **extra)
    __, done = _run(app, demo, only=[SUPPORT])
    left = _support_ids(demo) & set(due)
    assert left == expected
    assert done[SUPPORT].held == len(expected)
    assert done[SUPPORT].held_by == ({str(hold.id): len(expected)} if expected else {})


@pytest.mark.parametrize("state", ["ended", "released", "not yet started"])
def test_holds_that_are_not_active_protect_nothing(app, demo, state) -> None:  # type: ignore[no-untyped-def]
    clock = datetime.now(UTC)  # holds count at the moment of acting, not at the date the periods count from
    times = {
        "ended": {"starts_at": clock - timedelta(days=30), "ends_at": clock - timedelta(days=1)},
        "not yet started": {"starts_at": clock + timedelta(days=1)},
        "released": {},
    }[state]
    hold = _hold(app, scope="activity", activity="support", **times)
    if state == "released":
        with app.app_context(), transaction(app.extensions["engine"]) as session:
            release_hold(session, hold_id=hold.id, actor=DPO, note="Case closed")
    __, done = _run(app, demo, only=[SUPPORT])
    assert done[SUPPORT].held == 0 and not (_support_ids(demo) & _due_support_ids(demo))


def test_deposit_extracts_and_keeps_the_rows_and_only_a_legal_hold_stops_it(app, demo) -> None:  # type: ignore[no-untyped-def]
    far = datetime(2060, 1, 1, tzinfo=UTC)  # 25 years on, every application is due for deposit
    ids = [r[0] for r in query(demo, "helsedata_portal.db", "SELECT id FROM applications ORDER BY id")]
    _hold(app, scope="records", system="helsedata-portal", table_name="applications", record_keys=["1"])
    run, done = _run(app, demo, only=[APPLICATIONS], now=far)
    result = done[APPLICATIONS]
    assert result.candidates == len(ids) and result.held == 1 and result.acted == len(ids) - 1
    left = [r[0] for r in query(demo, "helsedata_portal.db", "SELECT id FROM applications ORDER BY id")]
    assert left == ids  # the rows stay until the archive's receipt (tests/retention/test_deposits.py)
    extract = Path(result.deposit_path)
    lines = (extract / "applications.csv").read_bytes().decode("utf-8").split("\r\n")[:-1]
    assert sorted(int(line.split(";")[0]) for line in lines) == ids[1:]  # Kari's HDS-2024-0001 is held
    assert (extract / "addml.xml").is_file()


def test_the_archive_hold_stops_deletion_of_applications(app, demo) -> None:  # type: ignore[no-untyped-def]
    # an erasure-like delete rule on applications would be stopped by the shipped archive-law hold
    from privacy_service.retention.holds import TableRef, holds_for_table

    with app.app_context(), transaction(app.extensions["engine"]) as session:
        holds = holds_for_table(session, TableRef("helsedata-portal", "applications", "applications"))
    assert [h.kind for h in holds] == ["archive_law"] and "Arkivlova § 6" in holds[0].basis


def test_releasing_a_hold_says_how_many_rows_fall_due(app, client, demo, make_key) -> None:  # type: ignore[no-untyped-def]
    officer = bearer(make_key("holds:manage", "retention:read", "retention:run"))
    hold = client.post(
        "/api/v1/holds",
        json={"kind": "legal", "scope": "activity", "activity": "support", "basis": "Complaint 26/9"},
        headers=officer,
    ).get_json()
    run = client.post("/api/v1/retention/runs", json={"dry_run": False, "rules": [SUPPORT]}, headers=officer)
    assert run.status_code == 201, run.get_json()
    held = run.get_json()["rules"][0]["held"]
    assert held > 0 and run.get_json()["rules"][0]["acted"] == 0
    released = client.post(f"/api/v1/holds/{hold['id']}/release", json={"note": "Closed"}, headers=officer)
    assert released.status_code == 200
    assert released.get_json()["rows_due"][SUPPORT] >= held  # due now by the clock, not the test's NOW
    again = client.post(f"/api/v1/holds/{hold['id']}/release", json={"note": "Closed"}, headers=officer)
    assert again.status_code == 409  # the state forbids it, the body was fine
    listed = client.get("/api/v1/holds?active=true", headers=officer).get_json()
    assert all(h["id"] != hold["id"] for h in listed)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "legal", "scope": "activity", "basis": "x y z"}, "activity"),
        (
            {"kind": "legal", "scope": "records", "system": "s", "table_name": "t", "basis": "x y z"},
            "record_keys",
        ),
        ({"kind": "legal", "scope": "subject", "subject_kind": "email", "basis": "x y z"}, "subject_value"),
        ({"kind": "forever", "scope": "activity", "activity": "support", "basis": "x y z"}, "kind"),
        ({"kind": "legal", "scope": "activity", "activity": "support", "basis": ""}, "basis"),
    ],
)
def test_bad_holds_are_refused(client, make_key, body, field) -> None:  # type: ignore[no-untyped-def]
    officer = bearer(make_key("holds:manage", "retention:read"))
    response = client.post("/api/v1/holds", json=body, headers=officer)
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]
    assert client.get("/api/v1/holds", headers=officer).get_json()[0]["source"] == "policies"  # nothing new


def test_a_real_run_needs_the_run_scope_and_a_dry_run_does_not(client, make_key, demo) -> None:  # type: ignore[no-untyped-def]
    reader = bearer(make_key("retention:read"))
    assert client.post("/api/v1/retention/runs", json={}, headers=reader).status_code == 403
    dry = client.post("/api/v1/retention/runs", json={"dry_run": True}, headers=reader)
    assert dry.status_code == 201 and dry.get_json()["dry_run"] is True
    got = client.get(f"/api/v1/retention/runs/{dry.get_json()['id']}", headers=reader).get_json()
    assert {r["rule"] for r in got["rules"]} == ALL_RULES
    rules = client.get("/api/v1/retention/rules", headers=reader).get_json()
    assert {r["key"] for r in rules} == ALL_RULES and not any(r["problems"] for r in rules)


def test_a_missing_column_fails_that_rule_only(app, demo) -> None:  # type: ignore[no-untyped-def]
    # The API refuses to put a rule that fails its dry run into force (tests/isolation/test_retention_rules);
    # an operator's policy load writes rules at once, as here, so the runner must still cope with one.
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        record = ropa.activity_view(session, slug="support").record
        body = {
            **record,
            "retention": {**record["retention"], "rules": [dict(r) for r in record["retention"]["rules"]]},
        }
        body["retention"]["rules"][0]["anchor"] = "no_such_column"
        ropa.update_activity(session, slug="support", data=body, actor=DPO, rules="apply")
    run, done = _run(app, demo)
    assert run.status == "failed"
    assert "no column no_such_column" in done[SUPPORT].error
    assert done[SURVEYS].error is None and done[SURVEYS].acted > 0
