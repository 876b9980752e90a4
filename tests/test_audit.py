"""The audit trail: hash-chained, append-only, and any edit, deletion or reordering is found."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from tests_support import tamper_audit

from privacy_service.audit import SYSTEM, count_events, record_event, verify_chain


def _append(app: Flask, n: int) -> None:
    with Session(app.extensions["engine"]) as session, session.begin():
        for i in range(n):
            record_event(
                session,
                actor=SYSTEM,
                action="test.event",
                object_type="thing",
                object_id=str(i),
                details={"i": i},
            )


def _tamper(app: Flask, *statements: str) -> None:
    tamper_audit(app.extensions["engine"], *statements)


def _base(app: Flask) -> int:
    with Session(app.extensions["engine"]) as session:
        return count_events(session)


def _verify(app: Flask):  # type: ignore[no-untyped-def]
    with Session(app.extensions["engine"]) as session:
        return verify_chain(session)


def test_a_fresh_chain_verifies(app: Flask) -> None:
    _append(app, 5)
    result = _verify(app)
    assert result.ok and result.first_bad_seq is None
    assert result.events == _base(app)


@pytest.mark.parametrize(
    ("case", "statement", "reason"),
    [
        ("edited details", "UPDATE audit_event SET details = '{\"i\": 99}' WHERE seq = {seq}", "edited"),
        ("edited actor", "UPDATE audit_event SET actor = 'user:mallory' WHERE seq = {seq}", "edited"),
        ("deleted", "DELETE FROM audit_event WHERE seq = {seq}", "missing"),
    ],
)
def test_verify_names_the_first_tampered_event(app: Flask, case: str, statement: str, reason: str) -> None:
    _append(app, 6)
    target = _base(app) - 3
    _tamper(app, statement.replace("{seq}", str(target)))
    result = _verify(app)
    assert not result.ok
    assert result.first_bad_seq == target, case
    assert reason in result.reason


def test_verify_finds_reordered_events(app: Flask) -> None:
    _append(app, 6)
    a = _base(app) - 3
    b = a + 1
    # Swap two events' sequence numbers, as a reordering would.
    _tamper(
        app,
        f"UPDATE audit_event SET seq = -1 WHERE seq = {a}",
        f"UPDATE audit_event SET seq = {a} WHERE seq = {b}",
        f"UPDATE audit_event SET seq = {b} WHERE seq = -1",
    )
    result = _verify(app)
    assert not result.ok and result.first_bad_seq == a


def test_the_database_refuses_to_change_or_delete_an_event(app: Flask) -> None:
    _append(app, 1)
    engine = app.extensions["engine"]
    for statement in ("UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert _verify(app).ok


def test_audit_verify_command_reports_the_bad_sequence_number(app: Flask) -> None:
    _append(app, 3)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "chain intact" in ok.output
    target = _base(app) - 1
    _tamper(app, f"UPDATE audit_event SET object_id = 'changed' WHERE seq = {target}")
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1
    assert f"BROKEN at event {target}" in bad.output


def test_audit_verify_api_names_the_bad_sequence_number(app: Flask, client, make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key("audit:read")
    headers = {"Authorization": f"Bearer {key}"}
    body = client.get("/api/v1/audit/verify", headers=headers).get_json()
    assert body["ok"] is True and body["events"] > 0
    _tamper(app, "UPDATE audit_event SET action = 'rewritten' WHERE seq = 2")
    body = client.get("/api/v1/audit/verify", headers=headers).get_json()
    assert {k: body[k] for k in ("ok", "events", "first_bad_seq", "head_seq")} == {
        "ok": False,
        "events": 2,
        "first_bad_seq": 2,
        "head_seq": None,
    }
    assert (
        "edited" in body["reason"] and body["anchor"]["written_seq"] is None
    )  # a broken chain is not anchored


def test_audit_list_pages_through_events_without_personal_data(client, make_key) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {make_key('audit:read')}"}
    page = client.get("/api/v1/audit?limit=2", headers=headers).get_json()
    assert [e["seq"] for e in page["items"]] == [1, 2]
    assert page["next_after_seq"] == 2
    following = client.get("/api/v1/audit?limit=2&after_seq=2", headers=headers).get_json()
    assert following["items"][0]["seq"] == 3
    assert all("@" not in str(e["details"]) for e in page["items"] + following["items"])
