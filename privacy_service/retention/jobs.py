"""The scheduler's entry points: a retention rule's job, the periodic jobs other packages name, the outbox.

APScheduler keeps each job in the database as a reference to one of these module-level functions plus its
arguments, so the functions take only what can be stored (a rule key and its schedule, a job name). The app
they run against is the one whose scheduler runs them: scheduler.py runs every job inside that app's context,
so no module keeps an app. Renaming or moving a function here strands the jobs stored under its old name
(scheduler.sync_jobs moves the ones it knows).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app

from privacy_service import notify, webhooks
from privacy_service.retention import service

log = logging.getLogger(__name__)

PeriodicJob = Callable[[Flask], None]


def register_periodic(app: Flask, name: str, schedule: str, job: PeriodicJob) -> None:
    """Run `job(app)` on the crontab `schedule` (Europe/Oslo) in the app's scheduler process."""
    app.extensions.setdefault("periodic_jobs", {})[name] = (schedule, job)


def periodic_jobs(app: Flask) -> dict[str, tuple[str, PeriodicJob]]:
    """The periodic jobs registered on the app: name → (crontab, job)."""
    return app.extensions.get("periodic_jobs", {})


def rule_job(rule_key: str, schedule: str) -> None:
    """Run one retention rule for the latest slot of its schedule, once however many schedulers ask."""
    service.run_scheduled_rule(
        current_app.extensions["engine"],
        rule_key=rule_key,
        schedule=schedule,
        instance_path=current_app.extensions["instance_path"],
    )


def periodic_job(name: str) -> None:
    """Run a periodic job registered on the app by its name."""
    app = current_app._get_current_object()
    schedule_and_job = periodic_jobs(app).get(name)
    if schedule_and_job is None:
        log.warning("periodic job %s is no longer registered", name)
        return
    schedule_and_job[1](app)


def outbox_job() -> None:
    """Deliver due mail and follow-up tasks (webhooks have their own job: they never hold these up)."""
    notify.deliver_due(current_app.extensions["engine"], notify.transport_for(current_app.config))


def webhook_job() -> None:
    """One round of the webhook lane."""
    webhooks.deliver_webhooks(current_app.extensions["engine"], notify.transport_for(current_app.config))
