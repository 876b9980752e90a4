"""The scheduler: jobs in the database, slots computed from the schedule, each due rule run exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from deployment import wait_until
from sqlalchemy import text

from privacy_service.db import transaction
from privacy_service.retention import scheduler as sched
from privacy_service.retention import slots

from .conftest import ALL_RULES

RULES = ALL_RULES


@pytest.mark.parametrize(
    ("schedule", "now", "slot"),
    [
        ("30 2 * * *", "2026-11-24T12:00:00+01:00", "2026-11-24T02:30:00+01:00"),
        ("30 2 * * *", "2026-11-24T02:29:59+01:00", "2026-11-23T02:30:00+01:00"),
        ("0 3 1 * *", "2026-11-24T12:00:00+01:00", "2026-11-01T03:00:00+01:00"),
        ("0 3 1 * *", "2026-04-01T03:00:00+02:00", "2026-04-01T03:00:00+02:00"),  # summer time
    ],
)
def test_the_slot_is_the_latest_scheduled_time(schedule: str, now: str, slot: str) -> None:
    assert slots.latest_fire_time(schedule, datetime.fromisoformat(now)) == datetime.fromisoformat(slot)


def _scheduler_runs(app) -> list[tuple[str, str]]:  # (rule key, status)  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        rows = session.execute(
            text("SELECT rule_filter, status FROM retention_run WHERE trigger = 'scheduler' ORDER BY id")
        )
        return [(",".join(r[0] if isinstance(r[0], list) else json.loads(r[0])), r[1]) for r in rows]


def test_one_slot_runs_once_however_many_ask(app, demo) -> None:  # type: ignore[no-untyped-def]
    slot = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    key = "support:helsedata-support.support_enquiries:delete"
    results: list[int | None] = []

    def ask() -> None:
        results.append(
            slots.run_rule_slot(app.extensions["engine"], rule_key=key, slot=slot, instance_path=demo)
        )

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len([r for r in results if r is not None]) == 1, results
    assert slots.run_rule_slot(app.extensions["engine"], rule_key=key, slot=slot, instance_path=demo) is None
    later = slot + timedelta(days=1)
    assert (
        slots.run_rule_slot(app.extensions["engine"], rule_key=key, slot=later, instance_path=demo)
        is not None
    )


def _env(app, demo) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PRIVACY_INSTANCE_PATH": str(demo),
        "PRIVACY_SECRET_KEY": "test-secret",
    }


def _start(app, demo, log: Path) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    """Start `privacy-service scheduler`, its output in `log` and its errors beside it (.err)."""
    with log.open("w") as out, log.with_suffix(".err").open("w") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "privacy_service.cli", "scheduler"],
            env=_env(app, demo),
            stdout=out,
            stderr=err,
        )


def _synced(log: Path) -> None:
    """Wait until the scheduler has synchronised its jobs: it handles SIGTERM from then on."""
    wait_until(lambda: "retention jobs:" in log.read_text(), timeout=60, what=f"{log.stem} synchronised")


def _stop(proc: subprocess.Popen, log: Path) -> str:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    assert proc.returncode == 0, log.with_suffix(".err").read_text()
    return log.read_text()


def _miss_every_rule(app) -> None:  # type: ignore[no-untyped-def]
    """Put every rule's job in the store as if its run fell due an hour ago while no scheduler was up."""
    scheduler = sched.make_scheduler(app)
    scheduler.start(paused=True)
    sched.sync_jobs(scheduler, app)
    scheduler.shutdown(wait=True)
    # edit the stored jobs with no scheduler running, as if the machine had been down at their time
    store = SQLAlchemyJobStore(engine=app.extensions["engine"], tablename="apscheduler_jobs")
    store.start(sched.make_scheduler(app), "default")
    for job in store.get_all_jobs():
        if job.id.startswith("retention:"):
            job.next_run_time = datetime.now(UTC) - timedelta(hours=1)
            store.update_job(job)


@pytest.mark.ops  # starts two `scheduler` processes
@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)  # several schedulers share PostgreSQL
def test_two_schedulers_run_each_missed_rule_exactly_once(app, demo) -> None:  # type: ignore[no-untyped-def]
    _miss_every_rule(app)
    logs = [demo / "scheduler-1.log", demo / "scheduler-2.log"]
    procs = [_start(app, demo, log) for log in logs]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_scheduler_runs(app)) < len(RULES):
        time.sleep(0.5)
    time.sleep(3)  # give a duplicate every chance to show up
    for proc, log in zip(procs, logs, strict=True):
        _stop(proc, log)
    runs = _scheduler_runs(app)
    assert len(runs) == len(RULES), runs
    assert {r[0] for r in runs} == RULES and all(r[1] == "completed" for r in runs), runs


@pytest.mark.ops  # starts and stops `scheduler` processes
def test_a_restart_keeps_the_jobs_and_loses_no_missed_run(app, demo) -> None:  # type: ignore[no-untyped-def]
    _miss_every_rule(app)
    first = _start(app, demo, demo / "first.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_scheduler_runs(app)) < len(RULES):
        time.sleep(0.5)
    out = _stop(first, demo / "first.log")
    assert f"kept {len(RULES)}" in out, out
    second = _start(app, demo, demo / "second.log")
    # a fixed sleep from the start could end before a slow start-up had set its SIGTERM handler
    _synced(demo / "second.log")
    time.sleep(4)  # then give it every chance to run something twice
    out = _stop(second, demo / "second.log")
    assert f"kept {len(RULES)}" in out and "added 0" in out
    assert len(_scheduler_runs(app)) == len(RULES)  # the restart ran nothing twice


def test_jobs_stored_under_their_old_module_move_to_jobs_and_keep_a_missed_run(app, demo) -> None:  # type: ignore[no-untyped-def]
    _miss_every_rule(app)
    store = SQLAlchemyJobStore(engine=app.extensions["engine"], tablename="apscheduler_jobs")
    store.start(sched.make_scheduler(app), "default")
    missed = {}
    for job in store.get_all_jobs():  # as a scheduler from before jobs.py stored them
        missed[job.id] = job.next_run_time
        if job.id == sched.WEBHOOK_JOB:  # born after the move
            continue
        job.func_ref = job.func_ref.replace(
            "privacy_service.retention.jobs:", "privacy_service.retention.scheduler:"
        )
        store.update_job(job)
    scheduler = sched.make_scheduler(app)
    scheduler.start(paused=True)
    try:
        counts = sched.sync_jobs(scheduler, app)
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert counts == {"added": 0, "changed": 0, "kept": len(RULES), "removed": 0}
    assert set(jobs) == set(missed)
    assert all(job.func_ref.startswith("privacy_service.retention.jobs:") for job in jobs.values())
    assert all(job.next_run_time == missed[job_id] for job_id, job in jobs.items())
