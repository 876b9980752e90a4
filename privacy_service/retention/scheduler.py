"""`privacy-service scheduler`: APScheduler runs each retention rule on its schedule, and the outbox.

Jobs live in the database (APScheduler's SQLAlchemy job store), so a restart neither loses a run that fell due
while the scheduler was down (misfires are coalesced into one run) nor schedules one twice. Several scheduler
processes may share one PostgreSQL: a rule's job runs its slot once (slots.py). SQLite deployments run one
scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from flask import Flask
from sqlmodel import Session

from privacy_service import notify
from privacy_service.models import as_utc, utcnow
from privacy_service.retention.rules import list_rules
from privacy_service.retention.slots import OSLO, latest_fire_time, run_rule_slot, trigger_for

log = logging.getLogger(__name__)
OUTBOX_JOB = "outbox"
_app: Flask | None = None  # the app the jobs of this process run against


def rule_job(rule_key: str, schedule: str) -> None:
    """The APScheduler job of one rule (module-level, so the job store can name it)."""
    assert _app is not None, "start the scheduler with start_scheduler()"
    slot = latest_fire_time(schedule, datetime.now(OSLO))
    if slot is None:
        return
    run_rule_slot(
        _app.extensions["engine"],
        rule_key=rule_key,
        slot=as_utc(slot) or utcnow(),
        instance_path=Path(_app.config["PRIVACY_INSTANCE_PATH"]),
    )


# Other packages' daily jobs, registered by name: name → (crontab, job(app)). The job store keeps the name.
PERIODIC: dict[str, tuple[str, Callable[[Flask], None]]] = {}


def register_periodic(name: str, schedule: str, job: Callable[[Flask], None]) -> None:
    """Run `job(app)` on the crontab `schedule` (Europe/Oslo) in the scheduler process."""
    PERIODIC[name] = (schedule, job)


def periodic_job(name: str) -> None:
    """The APScheduler job of a registered periodic job (module-level, so the job store can name it)."""
    assert _app is not None
    schedule_and_job = PERIODIC.get(name)
    if schedule_and_job is None:
        log.warning("periodic job %s is no longer registered", name)
        return
    schedule_and_job[1](_app)


def outbox_job() -> None:
    """Deliver due mail, webhooks and follow-up tasks."""
    assert _app is not None
    notify.deliver_due(_app.extensions["engine"], notify.transport_for(_app.config))


def sync_jobs(scheduler: BaseScheduler, app: Flask) -> dict[str, int]:
    """Make the job store match the rules: add new rules, reschedule changed ones, remove retired ones.

    A job whose rule and schedule are unchanged is left alone, so a run it missed while the scheduler was
    down still fires (once) when the scheduler starts.
    """
    with Session(app.extensions["engine"]) as session:
        rules = {f"retention:{r.key}": r for r in list_rules(session) if not r.problems}
    counts = {"added": 0, "changed": 0, "kept": 0, "removed": 0}
    existing = {job.id: job for job in scheduler.get_jobs()}
    for job_id, rule in rules.items():
        job = existing.get(job_id)
        if job is not None and job.args == (rule.key, rule.schedule):
            counts["kept"] += 1
            continue
        if job is not None:
            job.remove()
            counts["changed"] += 1
        else:
            counts["added"] += 1
        scheduler.add_job(
            rule_job,
            trigger_for(rule.schedule),
            id=job_id,
            name=f"retention {rule.key}",
            args=(rule.key, rule.schedule),
        )
    for job_id, job in existing.items():
        if job_id.startswith("retention:") and job_id not in rules:
            job.remove()
            counts["removed"] += 1
    for name, (schedule, __) in PERIODIC.items():
        job_id = f"periodic:{name}"
        job = existing.get(job_id)
        if job is not None and job.args == (name,) and str(job.trigger) == str(trigger_for(schedule)):
            continue
        if job is not None:
            job.remove()
        scheduler.add_job(periodic_job, trigger_for(schedule), id=job_id, name=name, args=(name,))
    for job_id, job in existing.items():
        if job_id.startswith("periodic:") and job_id.removeprefix("periodic:") not in PERIODIC:
            job.remove()
    if OUTBOX_JOB not in existing:
        scheduler.add_job(outbox_job, "interval", seconds=5, id=OUTBOX_JOB, name="outbox delivery")
    return counts


def make_scheduler(app: Flask, **kwargs: Any) -> BackgroundScheduler:
    """A scheduler on the app's database job store: coalesced misfires, one instance per job.

    Start it paused, sync_jobs(), then resume: the job store is only read once the scheduler has started.
    """
    global _app
    _app = app
    return BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=app.extensions["engine"], tablename="apscheduler_jobs")
        },
        # Two jobs at a time: a rule's run holds up to four pooled connections (locks, session, audit), and
        # the app's pool has fifteen; more threads would wait on the pool, not run faster.
        executors={"default": ThreadPoolExecutor(max_workers=2)},
        job_defaults={"coalesce": True, "misfire_grace_time": 7 * 24 * 3600, "max_instances": 1},
        timezone=OSLO,
        **kwargs,
    )
