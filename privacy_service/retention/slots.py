"""A rule's schedule: when its crontab fires (Europe/Oslo), and running one slot of it exactly once.

A slot is the scheduled time a run belongs to, however late it starts: a run missed while no scheduler was
up, or several coalesced into one, belongs to the latest time the schedule fired. Several scheduler processes
may share one PostgreSQL: the slot's advisory lock, and a look for a run of that rule and slot, make each due
rule run once. SQLite deployments run one scheduler, whose job threads take turns.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, select
from sqlmodel import Session

from privacy_service.audit import Actor
from privacy_service.retention import locks, runner
from privacy_service.retention.models import RetentionRun

log = logging.getLogger(__name__)
OSLO = ZoneInfo("Europe/Oslo")
SCHEDULER = Actor("system", "scheduler")


def trigger_for(schedule: str) -> CronTrigger:
    """The APScheduler trigger of a crontab schedule, in Oslo time."""
    return CronTrigger.from_crontab(schedule, timezone=OSLO)


def next_fire_time(schedule: str, now: datetime) -> datetime | None:
    """The next time after `now` the schedule fires."""
    return trigger_for(schedule).get_next_fire_time(None, now)


def latest_fire_time(
    schedule: str, now: datetime, lookback: timedelta = timedelta(days=400)
) -> datetime | None:
    """The latest time at or before `now` the schedule fired (the slot a late or coalesced run belongs to)."""
    trigger = trigger_for(schedule)
    step, last = now - lookback, None
    for _ in range(100_000):  # bounded: a daylight-saving hour must never loop for ever
        fire = trigger.get_next_fire_time(None, step)
        if fire is None or fire > now:
            break
        if last is None or fire > last:
            last = fire
            step = fire + timedelta(minutes=1)
        else:  # the repeated hour of an autumn night can hand back an earlier instant
            step += timedelta(hours=1)
    return last


_local_lock = threading.Lock()  # SQLite: one scheduler process, whose job threads take turns


def run_rule_slot(engine: Engine, *, rule_key: str, slot: datetime, instance_path: Path) -> int | None:
    """Run one rule for one schedule slot unless that slot has already run; return the run id or None."""
    if engine.dialect.name != "postgresql":
        with _local_lock:
            return _run_rule_slot(engine, rule_key=rule_key, slot=slot, instance_path=instance_path)
    return _run_rule_slot(engine, rule_key=rule_key, slot=slot, instance_path=instance_path)


def _run_rule_slot(engine: Engine, *, rule_key: str, slot: datetime, instance_path: Path) -> int | None:
    with locks.try_lock(engine, locks.SLOT, rule_key) as locked:
        if not locked:
            log.info("retention rule %s: another scheduler is running it", rule_key)
            return None
        if _slot_has_run(engine, rule_key=rule_key, slot=slot):
            log.info("retention rule %s: slot %s has run already", rule_key, slot.isoformat())
            return None
        run = runner.run_retention(
            engine,
            instance_path=instance_path,
            actor=SCHEDULER,
            only=[rule_key],
            trigger="scheduler",
            scheduled_for=slot,
        )
        return run.id


def _slot_has_run(engine: Engine, *, rule_key: str, slot: datetime) -> bool:
    with Session(engine) as session:
        done = session.scalars(
            select(RetentionRun).where(
                RetentionRun.trigger == "scheduler",
                RetentionRun.scheduled_for == slot,
                RetentionRun.dry_run.is_(False),
                RetentionRun.status.in_(("running", "completed", "failed")),
            )
        )
        return any(rule_key in (r.rule_filter or []) for r in done)
