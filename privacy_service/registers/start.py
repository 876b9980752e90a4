"""The officers' start page: what is due, gathered from the packages that own it, and the figures behind the
charts. Reads through each package's front door; writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlmodel import Session

from privacy_service.consent import service as consent
from privacy_service.dsar import service as dsar
from privacy_service.dsar.deadlines import OSLO
from privacy_service.registers import dpias
from privacy_service.registers import service as registers
from privacy_service.retention import deposits
from privacy_service.ropa import service as ropa

WEEK = 7


@dataclass
class DueNow:
    """What an officer should look at today."""

    overdue: list[Any]  # requests past their deadline, still open
    due_this_week: list[Any]  # open requests falling due within a week (not overdue)
    blocked: list[dict[str, Any]]  # erasures a hold blocked
    deposits: list[Any]  # deposits waiting for the archive's receipt


def due_now(session: Session, *, today: date) -> DueNow:
    """Requests overdue and due this week, erasures blocked by a hold, deposits waiting for a receipt."""
    overdue = dsar.list_requests(session, overdue=True, today=today, limit=200)
    soon = dsar.list_requests(session, due_within_days=WEEK, today=today, limit=200)
    late = {r.id for r in overdue}
    return DueNow(
        overdue=overdue,
        due_this_week=[r for r in soon if r.id not in late],
        blocked=[b for b in dsar.blocked_erasures(session) if b.get("state") != "done"],
        deposits=deposits.list_deposits(session, status="pending_receipt"),
    )


def activity_names(session: Session) -> dict[str, dict[str, str]]:
    """Every activity's name in bokmål and English, by slug (charts and lists name activities, not slugs)."""
    rows, __ = ropa.list_activities(session, filters=ropa.ActivityFilter(), per_page=100_000)
    return {a.slug: {"nb": a.name_nb, "en": a.name_en} for a in rows}


def requests_per_month(session: Session, *, today: date, months: int = 12) -> dict[date, Any]:
    """Requests received per month and right."""
    return dsar.requests_per_month(session, today=today, months=months)


def answer_times(session: Session, *, today: date, months: int = 12) -> list[Any]:
    """Per month of the answer: median days taken and allowed, and the late answers."""
    return dsar.answer_times(session, today=today, months=months)


def consents_per_purpose(session: Session, *, today: date, months: int = 12) -> dict[str, dict[str, int]]:
    """Consents given and withdrawn per purpose since the first day of the month `months` months back."""
    first = dsar.month_starts(today, months)[0]
    since = datetime.combine(first, time(), OSLO)
    return consent.consent_counts(session, since=since)


def search_requests(session: Session, *, query: str) -> list[Any]:
    """Requests by reference, the subject's whole e-mail address or a part of the name."""
    return dsar.search_requests(session, query=query)


def request_log(session: Session, *, year: int) -> list[dict[str, Any]]:
    """The year's requests for the annual report, without personal data."""
    return dsar.request_log(session, year=year)


def open_breaches(session: Session) -> list[tuple[Any, Any]]:
    """Breaches not yet closed, with where each stands against its 72 hours, the most urgent first."""
    found = [(b, registers.countdown(b)) for b in registers.list_breaches(session) if b.status != "closed"]
    return sorted(found, key=lambda pair: (not pair[1].running, pair[0].notify_authority_by))


@dataclass
class Reviews:
    """Active activities whose record is due for review: past the review date, or with none set."""

    overdue: list[tuple[Any, date]]  # (activity, its review date), the oldest first
    unset: list[Any]


def reviews_due(session: Session, *, today: date) -> Reviews:
    """Active activities past their review date, and those with no review date."""
    overdue, unset = [], []
    for activity in ropa.active_activities(session):
        when = activity.record.get("review_date")
        if not when:
            unset.append(activity)
        elif (day := date.fromisoformat(str(when))) < today:
            overdue.append((activity, day))
    return Reviews(overdue=sorted(overdue, key=lambda pair: pair[1]), unset=unset)


def dpias_needing_attention(session: Session) -> list[Any]:
    """Activities whose DPIA needs the officer: required by the record or the screening and not done, or
    waiting for Datatilsynet."""
    return [view for view in dpias.list_for_attention(session) if view.attention]
