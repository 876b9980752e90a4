"""`privacy-service scheduler`: APScheduler runs each retention rule on its schedule, the periodic jobs the
app registers, and the outbox. The jobs themselves are in jobs.py; this module makes the scheduler and keeps
its job store in step with the rules.

Jobs live in the database (APScheduler's SQLAlchemy job store), so a restart neither loses a run that fell due
while the scheduler was down (misfires are coalesced into one run) nor schedules one twice. Several scheduler
processes may share one PostgreSQL: a rule's job runs its slot once (slots.py). SQLite deployments run one
scheduler.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from flask import Flask
from sqlmodel import Session

from privacy_service.retention import jobs, service
from privacy_service.retention.slots import OSLO, trigger_for

OUTBOX_JOB = "outbox"
WEBHOOK_JOB = "webhooks"

# Job stores written before the jobs moved to jobs.py name them in this module. The names stay resolvable so
# those jobs load (with the next run time they had: a run missed meanwhile still fires), and sync_jobs moves
# each such job to its jobs.py name, so these three can go once every scheduler has started once.
rule_job, periodic_job, outbox_job = jobs.rule_job, jobs.periodic_job, jobs.outbox_job
_MOVED = {f"{__name__}:{f.__name__}": f for f in (rule_job, periodic_job, outbox_job)}


class _AppThreadPool(concurrent.futures.ThreadPoolExecutor):
    """A thread pool that runs every task inside the app's context (the jobs read `current_app`)."""

    def __init__(self, app: Flask, max_workers: int) -> None:
        super().__init__(max_workers)
        self.app = app

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        return super().submit(self._in_app, fn, *args, **kwargs)

    def _in_app(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self.app.app_context():
            return fn(*args, **kwargs)


class AppExecutor(BasePoolExecutor):
    """APScheduler's thread-pool executor, each job run inside the app's context."""

    def __init__(self, app: Flask, max_workers: int) -> None:
        super().__init__(_AppThreadPool(app, max_workers))


def make_scheduler(app: Flask, **kwargs: Any) -> BackgroundScheduler:
    """A scheduler on the app's database job store: coalesced misfires, one instance per job, each job run
    in the app's context.

    Start it paused, sync_jobs(), then resume: the job store is only read once the scheduler has started.
    """
    return BackgroundScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=app.extensions["engine"], tablename="apscheduler_jobs")
        },
        # Two jobs at a time: a rule's run holds up to four pooled connections (locks, session, audit), and
        # the app's pool has fifteen; more threads would wait on the pool, not run faster.
        # Webhooks have an executor of their own: a hanging receiver never takes a rule's or mail's thread.
        executors={
            "default": AppExecutor(app, max_workers=2),
            "webhooks": AppExecutor(app, max_workers=1),
        },
        job_defaults={"coalesce": True, "misfire_grace_time": 7 * 24 * 3600, "max_instances": 1},
        timezone=OSLO,
        **kwargs,
    )


def sync_jobs(scheduler: BaseScheduler, app: Flask) -> dict[str, int]:
    """Make the job store match the rules: add new rules, reschedule changed ones, remove retired ones; the
    same for the app's periodic jobs; and make sure the outbox is delivered.

    A job whose rule and schedule are unchanged is left alone, so a run it missed while the scheduler was
    down still fires (once) when the scheduler starts.
    """
    existing = {job.id: job for job in scheduler.get_jobs()}
    _move_stored_jobs(existing)
    counts = _sync_rule_jobs(scheduler, app, existing)
    _sync_periodic_jobs(scheduler, app, existing)
    if OUTBOX_JOB not in existing:
        scheduler.add_job(jobs.outbox_job, "interval", seconds=5, id=OUTBOX_JOB, name="outbox delivery")
    if WEBHOOK_JOB not in existing:
        scheduler.add_job(
            jobs.webhook_job,
            "interval",
            seconds=5,
            id=WEBHOOK_JOB,
            name="webhook delivery",
            executor="webhooks",
        )
    return counts


def _move_stored_jobs(existing: dict[str, Job]) -> None:
    """Point stored jobs that name a function by its old module at jobs.py, keeping their next run time."""
    for job in existing.values():
        func = _MOVED.get(job.func_ref)
        if func is not None:
            job.modify(func=func)


def _sync_rule_jobs(scheduler: BaseScheduler, app: Flask, existing: dict[str, Job]) -> dict[str, int]:
    with Session(app.extensions["engine"]) as session:
        rules = {f"retention:{r.key}": r for r in service.list_rules(session) if not r.problems}
    counts = {"added": 0, "changed": 0, "kept": 0, "removed": 0}
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
            jobs.rule_job,
            trigger_for(rule.schedule),
            id=job_id,
            name=f"retention {rule.key}",
            args=(rule.key, rule.schedule),
        )
    for job_id, job in existing.items():
        if job_id.startswith("retention:") and job_id not in rules:
            job.remove()
            counts["removed"] += 1
    return counts


def _sync_periodic_jobs(scheduler: BaseScheduler, app: Flask, existing: dict[str, Job]) -> None:
    periodic = jobs.periodic_jobs(app)
    for name, (schedule, __) in periodic.items():
        job_id = f"periodic:{name}"
        job = existing.get(job_id)
        if job is not None and job.args == (name,) and str(job.trigger) == str(trigger_for(schedule)):
            continue
        if job is not None:
            job.remove()
        scheduler.add_job(jobs.periodic_job, trigger_for(schedule), id=job_id, name=name, args=(name,))
    for job_id, job in existing.items():
        if job_id.startswith("periodic:") and job_id.removeprefix("periodic:") not in periodic:
            job.remove()
