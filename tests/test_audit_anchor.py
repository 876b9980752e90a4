"""The audit chain's head, anchored outside the database: cutting the newest events off is found.

The attacker here administers the database (drops the append-only triggers, deletes rows) but holds neither
the anchor key nor the right to rewrite the anchor file.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session
from tests_support import bearer, tamper_audit

from privacy_service import notify
from privacy_service.audit import SYSTEM, count_events, record_event, verify_chain
from privacy_service.audit_anchor import Anchor, anchor_key, append_anchor, read_anchors
from privacy_service.retention.jobs import periodic_job, periodic_jobs
from privacy_service.retention.scheduler import make_scheduler, sync_jobs

ANCHOR_KEY = "anchor-key-the-dba-does-not-hold"


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """An app with a dedicated anchor key, as production runs (make_key and client use it)."""
    return make_app(PRIVACY_AUDIT_ANCHOR_KEY=ANCHOR_KEY)


def _anchor_file(app: Flask) -> Path:
    return Path(app.config["PRIVACY_INSTANCE_PATH"]) / "audit-anchor.log"


def _append(app: Flask, n: int) -> int:
    """Record n events and return the chain's length."""
    with Session(app.extensions["engine"]) as session, session.begin():
        for i in range(n):
            record_event(session, actor=SYSTEM, action="test.event", object_type="thing", object_id=str(i))
        return count_events(session)


def _mail(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _verify(app: Flask) -> Any:
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def _lines(app: Flask) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _anchor_file(app).read_text().splitlines()]


def test_a_fresh_install_verifies_and_writes_the_first_anchor(app: Flask) -> None:
    assert not _anchor_file(app).exists()
    head = _append(app, 3)
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "anchor: none yet" in result.output and f"anchored event {head}" in result.output
    assert "warning" not in result.output
    [line] = _lines(app)
    assert (line["seq"], line["count"]) == (head, head)
    # the line can be checked with the key alone, outside the service (as docs/deployment.md shows)
    fields = {k: line[k] for k in ("seq", "hash", "at", "count", "kid")}
    body = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    assert line["mac"] == hmac.new(ANCHOR_KEY.encode(), body, hashlib.sha256).hexdigest()


def test_cutting_the_newest_events_after_an_anchor_fails_verify(app: Flask) -> None:
    head = _append(app, 5)
    assert _verify(app).exit_code == 0
    tamper_audit(app.extensions["engine"], f"DELETE FROM audit_event WHERE seq > {head - 2}")
    with Session(app.extensions["engine"]) as session:
        assert verify_chain(session).ok  # the chain alone (all verify checked before) cannot see the cut

    result = _verify(app)
    assert result.exit_code == 1
    assert (
        f"BROKEN at event {head - 1}: the chain ends at event {head - 2} but was anchored at event {head} on "
    ) in result.output
    assert "events were removed" in result.output
    assert len(_lines(app)) == 1  # a failed verify anchors nothing: the cut never becomes the norm
    assert _verify(app).exit_code == 1


def test_the_verify_api_reports_the_cut_and_its_anchor(app: Flask, make_key: Callable[..., str]) -> None:
    headers = bearer(make_key("audit:read"))
    client = app.test_client()
    first = client.get("/api/v1/audit/verify", headers=headers).get_json()
    head = first["head_seq"]
    assert first["ok"] is True and first["anchor"]["written_seq"] == head and first["anchor"]["keyed"]
    tamper_audit(app.extensions["engine"], f"DELETE FROM audit_event WHERE seq = {head}")
    body = client.get("/api/v1/audit/verify", headers=headers).get_json()
    assert body["ok"] is False and body["first_bad_seq"] == head
    assert f"anchored at event {head}" in body["reason"] and "events were removed" in body["reason"]
    assert body["anchor"]["anchored_seq"] == head and body["anchor"]["written_seq"] is None


def test_events_rewritten_past_the_anchor_after_a_cut_fail_verify(app: Flask) -> None:
    """Cut the newest events, then let new ones be written: as long again, but not the chain anchored."""
    head = _append(app, 4)
    assert _verify(app).exit_code == 0
    tamper_audit(app.extensions["engine"], f"DELETE FROM audit_event WHERE seq > {head - 2}")
    assert _append(app, 3) > head
    result = _verify(app)
    assert result.exit_code == 1
    assert f"BROKEN at event {head}: event {head} does not match its anchor" in result.output


def test_an_edited_anchor_line_is_reported(app: Flask) -> None:
    head = _append(app, 4)
    assert _verify(app).exit_code == 0
    path = _anchor_file(app)
    # someone who can write the file (but has no key) moves the anchor back, then cuts the chain to match
    [line] = _lines(app)
    path.write_text(json.dumps({**line, "seq": head - 2, "count": head - 2}) + "\n")
    tamper_audit(app.extensions["engine"], f"DELETE FROM audit_event WHERE seq > {head - 2}")
    result = _verify(app)
    assert result.exit_code == 1
    assert (
        "BROKEN at the anchor file: anchor file line(s) 1 from its end do not match their HMAC"
        in result.output
    )


def test_a_line_forged_with_another_key_does_not_hide_the_cut(app: Flask) -> None:
    head = _append(app, 4)
    assert _verify(app).exit_code == 0
    tamper_audit(app.extensions["engine"], f"DELETE FROM audit_event WHERE seq > {head - 1}")
    with Session(app.extensions["engine"]) as session:
        cut = verify_chain(session)
    assert cut.head_seq == head - 1
    forged = Anchor(seq=head - 1, hash=cut.head_hash, at="2099-01-01T00:00:00+00:00", count=head - 1)
    append_anchor(_anchor_file(app), anchor_key("a guess", "x"), forged)
    result = _verify(app)
    assert result.exit_code == 1 and "events were removed" in result.output
    assert "1 anchor line(s) signed with another key were not checked" in result.output


def test_without_an_anchor_key_verify_says_the_anchor_is_not_keyed(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    _append(app, 2)
    result = _verify(app)
    assert result.exit_code == 0
    assert "warning: the anchor key is not set (PRIVACY_AUDIT_ANCHOR_KEY)" in result.output
    assert "(not keyed)" in result.output


def test_the_daily_job_verifies_and_anchors_the_head(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    schedule, _ = periodic_jobs(app)["audit.anchor"]
    assert schedule == "30 2 * * *"
    scheduler = make_scheduler(app)
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, app)
        assert "periodic:audit.anchor" in {job.id for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    head = _append(app, 2)
    with app.app_context():
        periodic_job("audit.anchor")
    assert [(line["seq"], line["count"]) for line in _lines(app)] == [(head, head)]

    tamper_audit(app.extensions["engine"], f"DELETE FROM audit_event WHERE seq = {head}")
    with app.app_context(), caplog.at_level(logging.ERROR):
        periodic_job("audit.anchor")
    assert len(_lines(app)) == 1
    assert f"audit verify failed at event {head}" in caplog.text and "events were removed" in caplog.text


def test_a_long_anchor_file_is_read_from_its_end(app: Flask) -> None:
    head = _append(app, 1)
    path, key = _anchor_file(app), anchor_key(ANCHOR_KEY, "unused")
    with Session(app.extensions["engine"]) as session:
        chain = verify_chain(session)
    path.write_text("not an anchor\n")  # a bad line at the start, far behind the newest anchor: not read
    for _ in range(3000):
        append_anchor(
            path, key, Anchor(seq=head, hash=chain.head_hash, at="2026-01-01T00:00:00+00:00", count=1)
        )
    newest, report = read_anchors(path, key)
    assert newest is not None and newest.seq == head
    assert 0 < report.lines_checked < 1000 and report.bad_lines == []
    assert _verify(app).exit_code == 0


@pytest.mark.parametrize(
    "line",
    [
        "not an anchor",
        "[1, 2]",
        '{"seq": 1e999, "hash": "x", "at": "x", "count": 1, "kid": "{kid}", "mac": "x"}',
    ],
    ids=["text", "list", "huge-number"],
)
def test_a_garbage_anchor_line_is_reported_not_a_crash(
    app: Flask, make_key: Callable[..., str], line: str
) -> None:
    headers = bearer(make_key("audit:read"))
    client = app.test_client()
    assert client.get("/api/v1/audit/verify", headers=headers).get_json()["ok"] is True
    with _anchor_file(app).open("a") as fh:
        fh.write(line.replace("{kid}", anchor_key(ANCHOR_KEY, "unused").kid) + "\n")
    resp = client.get("/api/v1/audit/verify", headers=headers)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["ok"] is False and body["anchor"]["bad_lines"] == [1] and "HMAC" in body["reason"]


def test_the_daily_job_mails_the_anchor_line_and_a_fault(make_app: Callable[..., Flask]) -> None:
    app = make_app(PRIVACY_AUDIT_ANCHOR_KEY=ANCHOR_KEY, PRIVACY_AUDIT_ANCHOR_MAIL="audit-anchors@example.no")
    head = _append(app, 2)
    outbox = Path(app.config["PRIVACY_INSTANCE_PATH"]) / "outbox"
    with app.app_context():
        periodic_job("audit.anchor")
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    [mail] = [_mail(m) for m in outbox.glob("*.eml")]
    [line] = _anchor_file(app).read_text().splitlines()
    assert (
        mail["To"] == "audit-anchors@example.no"
        and mail["Subject"] == f"Audit trail anchored at event {head}"
    )
    assert line in mail.get_content()  # the signed line itself, kept where the database cannot reach
    with Session(app.extensions["engine"]) as session:  # the mail is a write: recorded in the chain
        chain = verify_chain(session)
        assert chain.ok and chain.head_seq == head + 1

    tamper_audit(app.extensions["engine"], f"DELETE FROM audit_event WHERE seq >= {head}")
    with app.app_context():
        periodic_job("audit.anchor")
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    failed = [mail for m in outbox.glob("*.eml") if "FAILED" in (mail := _mail(m))["Subject"]]
    assert len(failed) == 1 and "events were removed" in failed[0].get_content()
    assert len(_anchor_file(app).read_text().splitlines()) == 1


def test_an_anchor_file_that_cannot_be_read_fails_verify_and_one_not_written_warns(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    """Unreadable: the chain cannot be held to its anchor (failed, no crash). Unwritable: it holds."""
    unreadable = make_app(PRIVACY_AUDIT_ANCHOR_KEY=ANCHOR_KEY, PRIVACY_AUDIT_ANCHOR_FILE=str(tmp_path))
    result = _verify(unreadable)
    assert result.exit_code == 1 and "the anchor file cannot be read" in result.output
    (tmp_path / "a-file").write_text("")
    unwritable = make_app(
        PRIVACY_AUDIT_ANCHOR_KEY=ANCHOR_KEY, PRIVACY_AUDIT_ANCHOR_FILE=str(tmp_path / "a-file" / "x")
    )
    result = _verify(unwritable)
    assert result.exit_code == 0 and "warning: the anchor was not written" in result.output
    assert "not anchored" in result.output
