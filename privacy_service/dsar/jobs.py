"""The requests' scheduled jobs: close unconfirmed requests and remind the privacy team of deadlines."""

from __future__ import annotations

from flask import Flask

from privacy_service.db import transaction
from privacy_service.dsar import answer, service


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
        answer.purge_old_answers(session)


# name → (crontab in Europe/Oslo, job); the scheduler process runs them (retention/scheduler.py)
JOBS = {
    "dsar.close_unverified": ("15 3 * * *", close_unverified_job),
    "dsar.reminders": ("0 7 * * 1-5", reminder_job),
    "dsar.purge_answers": ("45 3 * * *", purge_answers_job),
}
