"""Faults against a running deployment: nothing acknowledged is lost, nothing is half-done or done twice.

- kill -9 of the gunicorn worker while it is inside a consent change (held on a row lock the test takes);
- PostgreSQL stopped and started under load: answers are 503 at once, and the same processes serve again;
- the SMTP server down: the mail waits in the outbox and goes out once when the server is back;
- the webhook receiver down: the event is retried and arrives once;
- the scheduler killed inside a retention run: the next schedule slot finishes the work, once.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
from deployment import Deployment, call, free_port, wait_until
from pgcluster import throwaway_cluster

pytestmark = pytest.mark.ops

SCOPES = ("consent:read", "consent:write", "audit:read")


def _events(deployment: Deployment, subject: str) -> list[str]:
    with deployment.connect() as conn:
        rows = conn.execute(
            "SELECT status FROM consent_event WHERE subject = %s ORDER BY id", (subject,)
        ).fetchall()
    return [r[0] for r in rows]


def _audit_ok(deployment: Deployment) -> None:
    out = deployment.cli("audit", "verify")
    assert "ok" in out.lower() and "broken" not in out.lower(), out


def test_a_worker_killed_inside_a_consent_change_leaves_nothing_half_done(
    make_deployment: Callable[..., Deployment],
) -> None:
    deployment = make_deployment()
    deployment.demo(people=10)
    key = {"Authorization": f"Bearer {deployment.api_key(*SCOPES)}"}
    web = deployment.serve(workers=1)
    subject = "killed@example.org"
    url = f"{web.url}/api/v1/consents/{subject}/surveys"
    assert call(url, "PUT", body={"status": "given", "notice_version": "1"}, headers=key).status == 200
    [worker] = web.children()

    outcome: dict[str, Any] = {}

    def withdraw() -> None:
        try:
            outcome["status"] = call(url, "PUT", body={"status": "withdrawn"}, headers=key, timeout=60).status
        except OSError as err:  # the worker died under it: the connection is cut
            outcome["error"] = type(err).__name__

    lock = psycopg.connect(**_params(deployment))
    with lock.transaction():
        lock.execute("SELECT 1 FROM consent_state WHERE subject = %s FOR UPDATE", (subject,))
        thread = threading.Thread(target=withdraw)
        thread.start()
        wait_until(
            lambda: _waiting_on_lock(deployment), timeout=20, what="the worker waiting inside its change"
        )
        os.kill(worker, signal.SIGKILL)
    lock.close()
    thread.join(60)
    assert "error" in outcome or outcome.get("status", 0) >= 500, outcome
    # gunicorn starts a new worker; the change the dead one was making is gone entirely
    wait_until(lambda: len(web.children()) == 1 and web.children() != [worker], timeout=30, what="new worker")
    assert call(url, headers=key).json()["status"] == "given"
    assert _events(deployment, subject) == ["given"]
    # the client retries: the withdrawal is made once
    assert call(url, "PUT", body={"status": "withdrawn"}, headers=key).status == 200
    assert _events(deployment, subject) == ["given", "withdrawn"]
    assert call(url, headers=key).json()["status"] == "withdrawn"
    _audit_ok(deployment)


def _params(deployment: Deployment) -> dict[str, Any]:
    s = deployment.server
    return {"host": s["host"], "port": s["port"], "user": s["user"], "dbname": deployment.dbname}


def _waiting_on_lock(deployment: Deployment) -> bool:
    with deployment.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (deployment.dbname,),
        ).fetchone()
    return bool(row and row[0])


def test_postgresql_restarted_under_load_gives_fast_503s_and_the_service_recovers_by_itself(
    tmp_path: Path,
) -> None:
    with throwaway_cluster() as cluster:
        server = {"host": cluster.host, "port": cluster.port, "user": cluster.user}
        deployment = Deployment(server, tmp_path / "deployment")
        try:
            _restart_under_load(deployment, cluster)
        finally:
            for process in deployment.processes:
                process.stop()


def _restart_under_load(deployment: Deployment, cluster: Any) -> None:
    deployment.demo(people=10)
    key = {"Authorization": f"Bearer {deployment.api_key(*SCOPES)}"}
    web = deployment.serve(workers=2)
    master = web.proc.pid
    results: list[tuple[float, str, int, float, str]] = []  # (time, kind, status, seconds, subject)
    stop = threading.Event()

    def load(worker: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            subject = f"load{worker}-{n}@example.org"
            for kind, method, body in (
                ("write", "PUT", {"status": "given", "notice_version": "1"}),
                ("read", "GET", None),
            ):
                started = time.monotonic()
                try:
                    status = call(
                        f"{web.url}/api/v1/consents/{subject}/surveys",
                        method,
                        body=body,
                        headers=key,
                        timeout=30,
                    ).status
                except OSError:
                    status = -1
                results.append((started, kind, status, time.monotonic() - started, subject))

    threads = [threading.Thread(target=load, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    stopped_at = time.monotonic()
    cluster.stop(mode="fast")
    time.sleep(3)
    ready_during_outage = call(web.url + "/readyz").status
    started_at = time.monotonic()
    cluster.start()
    wait_until(
        lambda: any(t > started_at and s in (200, 201) for t, _, s, _, _ in results[-50:]),
        timeout=60,
        what="a successful answer after the restart",
    )
    time.sleep(2)
    stop.set()
    for thread in threads:
        thread.join(60)

    assert web.alive() and web.proc.pid == master  # the same gunicorn: nobody restarted the app
    assert ready_during_outage == 503
    assert {s for _, kind, s, _, _ in results if kind == "write"} <= {200, 201, 503}
    assert {s for _, kind, s, _, _ in results if kind == "read"} <= {200, 404, 503}
    written = {subject for _, kind, s, _, subject in results if kind == "write" and s in (200, 201)}
    # a read answers 404 only when the write before it was refused
    assert not {subject for _, kind, s, _, subject in results if kind == "read" and s == 404} & written
    outage = [r for r in results if stopped_at <= r[0] < started_at]
    failed = [r for r in outage if r[2] == 503]
    assert failed, "no request met the outage"
    slowest_503 = max(r[3] for r in failed)
    assert slowest_503 < 5, slowest_503  # fast: a refused connection, not a hang
    recovered = min(t + d for t, _, s, d, _ in results if t >= started_at and s in (200, 201)) - started_at
    print(
        f"PostgreSQL restart: {len(results)} requests, {len(failed)} answered 503 during the outage "
        f"(slowest {slowest_503 * 1000:.0f} ms), first success {recovered:.2f} s after the server started"
    )
    # every acknowledged write is there; a write that got a 503 is absent or complete, never half-made
    acknowledged = {subject for _, kind, s, _, subject in results if kind == "write" and s in (200, 201)}
    with deployment.connect() as conn:
        states = dict(
            conn.execute("SELECT subject, status FROM consent_state WHERE purpose = 'surveys'").fetchall()
        )
        events = dict(
            conn.execute(
                "SELECT subject, count(*) FROM consent_event WHERE purpose = 'surveys' GROUP BY subject"
            ).fetchall()
        )
    assert all(states.get(subject) == "given" for subject in acknowledged)
    assert all(events.get(subject) == 1 for subject in states if subject.startswith("load"))
    assert set(states) <= set(events)
    _audit_ok(deployment)


# -- mail and webhooks ----------------------------------------------------------------------------------


def test_mail_waits_while_the_smtp_server_is_down_and_goes_out_once_when_it_is_back(
    make_deployment: Callable[..., Deployment],
) -> None:
    from smtp_support import SmtpSink

    port = free_port()
    deployment = make_deployment(PRIVACY_SMTP_URL=f"smtp://127.0.0.1:{port}")
    deployment.demo(people=10)
    key = {"Authorization": f"Bearer {deployment.api_key('requests:write')}"}
    deployment.scheduler()
    web = deployment.serve(workers=1)
    created = call(
        web.url + "/api/v1/requests",
        "POST",
        body={"type": "access", "subject": {"email": "waiting@example.org"}},
        headers=key,
    )
    assert created.status == 201
    wait_until(
        lambda: _outbox(deployment, "attempts > 0 AND status = 'pending'"), timeout=30, what="a failed try"
    )
    sink = SmtpSink(port=port)
    sink.start()
    try:
        # The demo's survey receipts wait in the same outbox; this test follows the request's confirmation.
        def confirmations() -> list:
            return [m for m in sink.messages if "waiting@example.org" in m["To"]]

        wait_until(confirmations, timeout=60, what="the mail delivered after the server came back")
        time.sleep(6)  # another delivery round: no second copy
        assert len(confirmations()) == 1
    finally:
        sink.stop()
    assert _outbox(deployment, "event = 'dsar.verify' AND status = 'delivered'") == 1


def _outbox(deployment: Deployment, where: str) -> int:
    with deployment.connect() as conn:
        row = conn.execute(f"SELECT count(*) FROM outbox_message WHERE kind = 'email' AND {where}").fetchone()
    return int(row[0]) if row else 0


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"delivery": self.headers["X-Privacy-Delivery"], "body": json.loads(body)})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_webhook_is_retried_while_the_receiver_is_down_and_arrives_once(
    make_deployment: Callable[..., Deployment],
) -> None:
    port = free_port()
    # the receiver listens on loopback
    deployment = make_deployment(PRIVACY_WEBHOOK_ALLOW_HTTP="1", PRIVACY_WEBHOOK_ALLOW_PRIVATE="1")
    deployment.demo(people=10)
    key = {"Authorization": f"Bearer {deployment.api_key(*SCOPES)}"}
    web = deployment.serve(workers=1)
    hook = call(
        web.url + "/api/v1/webhooks",
        "POST",
        body={"url": f"http://127.0.0.1:{port}/hook", "events": ["consent.changed"]},
        headers=key,
    )
    assert hook.status == 201, hook.body
    deployment.scheduler()
    changed = call(
        f"{web.url}/api/v1/consents/hooked@example.org/surveys",
        "PUT",
        body={"status": "given", "notice_version": "1"},
        headers=key,
    )
    assert changed.status == 200
    wait_until(lambda: _webhook_failures(deployment) > 0, timeout=30, what="a failed delivery")
    _Receiver.received = []
    receiver = ThreadingHTTPServer(("127.0.0.1", port), _Receiver)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        wait_until(lambda: _Receiver.received, timeout=60, what="the retried delivery")
        time.sleep(6)  # another delivery round: no second copy
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert len(_Receiver.received) == 1
    assert _Receiver.received[0]["body"]["event"] == "consent.changed"


def _webhook_failures(deployment: Deployment) -> int:
    with deployment.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox_message"
            " WHERE kind = 'webhook' AND attempts > 0 AND status = 'pending'"
        ).fetchone()
    return int(row[0]) if row else 0


# -- the scheduler killed in the middle of a retention run --------------------------------------------------


def test_the_scheduler_killed_mid_run_leaves_no_half_run_and_the_next_slot_finishes_it(
    make_deployment: Callable[..., Deployment],
) -> None:
    import sqlite3
    from datetime import datetime, timedelta

    deployment = make_deployment()
    deployment.demo(people=10)
    support = deployment.instance / "demo" / "helsedata_support.db"
    old = datetime(2020, 1, 1)
    with sqlite3.connect(support) as conn:
        conn.executemany(
            "INSERT INTO support_enquiries (name, email, subject, body, received_at, answered_at, restricted)"
            " VALUES (?, ?, 's', 'b', ?, ?, 0)",
            [(f"P {i}", f"p{i}@example.no", old + timedelta(minutes=i), old + timedelta(minutes=i))
             for i in range(20_000)],
        )  # fmt: skip
        held = [r[0] for r in conn.execute("SELECT id FROM support_enquiries WHERE id % 997 = 0")]
    scopes = ("registry:read", "registry:write", "holds:manage", "retention:run")
    key = {"Authorization": f"Bearer {deployment.api_key(*scopes)}"}
    web = deployment.serve(workers=1)
    hold = {
        "kind": "legal",
        "scope": "records",
        "system": "helsedata-support",
        "table_name": "support_enquiries",
        "record_keys": [str(i) for i in held],
        "basis": "Complaint 26/31",
    }
    assert call(web.url + "/api/v1/holds", "POST", body=hold, headers=key).status == 201
    # the support rule on a schedule of every minute, so a slot comes while the test waits
    activity = call(web.url + "/api/v1/activities/support", headers=key)
    record = {k: v for k, v in activity.json().items()
              if k not in ("version", "created_at", "updated_at", "updated_by", "rights")}  # fmt: skip
    record["retention"]["rules"][0]["schedule"] = "* * * * *"
    changed = call(
        web.url + "/api/v1/activities/support",
        "PUT",
        body=record,
        headers={**key, "If-Match": activity.headers["ETag"]},
    )
    assert changed.status == 202, changed.body  # a rule change waits for its dry run and an apply
    change = f"{web.url}/api/v1/retention/rule-changes/{changed.json()['pending_rule_change']['id']}"
    assert call(change + "/dry-run", "POST", body={}, headers=key).status == 200
    assert call(change + "/apply", "POST", body={}, headers=key).status == 200

    # a write lock on the data system holds the run at its first batch; then the scheduler is killed
    blocker = sqlite3.connect(support, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    first = deployment.scheduler(name="scheduler-1")
    wait_until(lambda: _runs(deployment, "running"), timeout=90, what="a scheduled run started")
    time.sleep(1)
    first.stop(signal.SIGKILL)
    blocker.execute("ROLLBACK")
    blocker.close()
    [dead] = _runs(deployment, "running")

    second = deployment.scheduler(name="scheduler-2")
    wait_until(lambda: _runs(deployment, "completed"), timeout=130, what="the next slot's run completed")
    second.stop()
    assert dead in _runs(deployment, "interrupted")
    with sqlite3.connect(support) as conn:
        due_left = conn.execute(
            "SELECT count(*) FROM support_enquiries WHERE answered_at < '2021-01-01' AND id % 997 != 0"
        ).fetchone()[0]
        kept = {r[0] for r in conn.execute("SELECT id FROM support_enquiries WHERE id % 997 = 0")}
    assert due_left == 0
    assert set(held) <= kept  # the hold won over the schedule, in both runs
    with deployment.connect() as conn:
        slots = conn.execute(
            "SELECT scheduled_for, count(*) FROM retention_run"
            " WHERE trigger = 'scheduler' AND status = 'completed' GROUP BY scheduled_for"
        ).fetchall()
    assert slots and all(n == 1 for _, n in slots)  # no slot ran twice
    _audit_ok(deployment)


def _runs(deployment: Deployment, status: str) -> list[int]:
    with deployment.connect() as conn:
        rows = conn.execute(
            "SELECT id FROM retention_run WHERE trigger = 'scheduler' AND status = %s ORDER BY id", (status,)
        ).fetchall()
    return [r[0] for r in rows]
