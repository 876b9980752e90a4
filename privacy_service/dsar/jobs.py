"""The requests' entry points for the scheduler and the outbox: close unconfirmed requests, remind the privacy
team of deadlines, remove old answers, make the plan once a request's identity is confirmed, and retry the
erasures a hold blocked once it is released.

The app factory registers them (privacy_service/__init__.py); importing this module registers nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlmodel import Session

from privacy_service import notify
from privacy_service.db import transaction
from privacy_service.dsar import service

PLAN_TASK = service.PLAN_TASK


def close_unverified_job(app: Flask) -> None:
    """Close requests whose e-mail check went unanswered for two weeks (daily)."""
    with transaction(app.extensions["engine"]) as session:
        service.close_unverified(session)


def reminder_job(app: Flask) -> None:
    """Mail the privacy team the requests falling due within a week, and the overdue ones (daily)."""
    with transaction(app.extensions["engine"]) as session:
        service.remind_officers(session, to=app.config["PRIVACY_OFFICER_EMAIL"])


def purge_answers_job(app: Flask) -> None:
    """Remove stored answers older than their download period (daily)."""
    with transaction(app.extensions["engine"]) as session:
        service.purge_old_answers(session)


def retry_erasures_job(app: Flask) -> None:
    """Retry the erasures whose holds ended without a release, or were released before approval (daily)."""
    with transaction(app.extensions["engine"]) as session:
        service.retry_unblocked_erasures(
            session, instance_path=Path(app.config["PRIVACY_INSTANCE_PATH"]), secret=app.config["SECRET_KEY"]
        )


def plan_task(session: Session, payload: dict[str, Any], transport: notify.Transport) -> None:
    """The outbox task queued when a request's identity is confirmed: make its plan (retried while a data
    system cannot be read)."""
    if transport.instance_path is None:
        raise RuntimeError("the plan task needs the instance path (data systems)")
    service.plan_queued(
        session,
        reference=payload["reference"],
        instance_path=transport.instance_path,
        secret=transport.secret_key,
    )


# name → (crontab in Europe/Oslo, job); the app factory registers them, the scheduler process runs them
JOBS = {
    "dsar.close_unverified": ("15 3 * * *", close_unverified_job),
    "dsar.reminders": ("0 7 * * 1-5", reminder_job),
    "dsar.purge_answers": ("45 3 * * *", purge_answers_job),
    "dsar.retry_erasures": ("15 4 * * *", retry_erasures_job),
}


def retry_erasures_task(session: Session, payload: dict[str, Any], transport: notify.Transport) -> None:
    """The outbox task a released hold queues: erase what it kept in the erasures it blocked (retried while a
    data system cannot be reached)."""
    if transport.instance_path is None:
        raise RuntimeError("the erasure retry needs the instance path (data systems)")
    service.retry_blocked_erasures(
        session,
        hold_id=int(payload["hold_id"]),
        instance_path=transport.instance_path,
        secret=transport.secret_key,
    )


def opendsr_task(session: Session, payload: dict[str, Any], transport: notify.Transport) -> None:
    """The outbox task queued when a request is carried out: POST its OpenDSR request to one processor
    (retried until the processor acknowledges it with a signed receipt)."""
    service.send_opendsr(session, payload, transport)


TASKS = {
    PLAN_TASK: plan_task,
    service.HOLD_RELEASED_TASK: retry_erasures_task,
    service.OPENDSR_TASK: opendsr_task,
}
