"""Requests counted for the officers' start page and the annual report: per month and right, the days taken
against the days allowed, a search, and the request log. Only counts and references leave this module; the
log carries no name, address or identity number."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from privacy_service.dsar.deadlines import local_date
from privacy_service.dsar.models import TYPES, DsarRequest

CLOSED = ("completed", "rejected")


@dataclass(frozen=True)
class AnswerMonth:
    """Requests answered in one month: the median days taken and allowed, and how many were late."""

    month: date
    answered: int
    median_days: float
    median_allowed: float
    late: int


def month_starts(today: date, months: int) -> list[date]:
    """The first day of each of the last `months` months, oldest first, this month last."""
    out, year, month = [], today.year, today.month
    for __ in range(months):
        out.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def requests_per_month(session: Session, *, today: date, months: int = 12) -> dict[date, Counter[str]]:
    """Requests received per Oslo month and right, the last `months` months (empty months included)."""
    starts = month_starts(today, months)
    out: dict[date, Counter[str]] = {m: Counter() for m in starts}
    since = starts[0]
    # every request received since then falls due since then: the deadline's index finds them
    received = select(DsarRequest.received_at, DsarRequest.type)
    rows = session.execute(received.where(DsarRequest.due_on >= since))
    for received_at, kind in rows:
        day = local_date(received_at)
        if day >= since:
            out[day.replace(day=1)][kind] += 1
    return out


def answer_times(session: Session, *, today: date, months: int = 12) -> list[AnswerMonth]:
    """Per Oslo month of the answer, the last `months` months: days from receipt to answer against the days
    the deadline allowed (extensions included)."""
    starts = month_starts(today, months)
    taken: dict[date, list[tuple[int, int, bool]]] = {m: [] for m in starts}
    rows = session.execute(
        select(DsarRequest.received_at, DsarRequest.closed_at, DsarRequest.due_on).where(
            DsarRequest.status.in_(CLOSED),
            DsarRequest.closed_at.is_not(None),
            # a late answer may have had its deadline long before: select by the answer's moment
            DsarRequest.closed_at >= datetime.combine(starts[0] - timedelta(days=1), time(), UTC),
        )
    )
    for received_at, closed_at, due_on in rows:
        received, answered = local_date(received_at), local_date(closed_at)
        month = answered.replace(day=1)
        if month in taken:
            taken[month].append(((answered - received).days, (due_on - received).days, answered > due_on))
    return [
        AnswerMonth(
            month=m,
            answered=len(items),
            median_days=statistics.median(t for t, __, __ in items) if items else 0.0,
            median_allowed=statistics.median(a for __, a, __ in items) if items else 0.0,
            late=sum(1 for __, __, late in items if late),
        )
        for m, items in taken.items()
    ]


def search_requests(session: Session, *, query: str, limit: int = 50) -> list[DsarRequest]:
    """Requests whose reference, subject's e-mail address (whole, any case) or name (a part, any case)
    matches; newest first."""
    text = query.strip()
    if not text:
        return []
    lowered = text.lower()
    escaped = lowered.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = select(DsarRequest).where(
        or_(
            func.upper(DsarRequest.reference) == text.upper(),
            func.lower(DsarRequest.subject_email) == lowered,
            func.lower(DsarRequest.subject_name).like(f"%{escaped}%", escape="\\"),
        )
    )
    return list(session.scalars(stmt.order_by(DsarRequest.received_at.desc()).limit(limit)))


def request_log(session: Session, *, year: int) -> list[dict[str, Any]]:
    """Every request received in the Oslo calendar year, oldest first, without personal data: reference,
    right, channel, dates, status, the days taken and whether the answer was on time."""
    rows = session.scalars(
        select(DsarRequest)
        .where(DsarRequest.due_on >= date(year, 1, 1), DsarRequest.due_on <= date(year + 1, 12, 31))
        .order_by(DsarRequest.received_at, DsarRequest.id)
    )
    out = []
    for r in rows:
        received = local_date(r.received_at)
        if received.year != year:
            continue
        answered = local_date(r.closed_at) if r.closed_at and r.status in CLOSED else None
        out.append(
            {
                "reference": r.reference,
                "right": r.type if r.type in TYPES else "",
                "channel": r.channel,
                "received": received,
                "due": r.due_on,
                "extended_months": r.extension_months,
                "status": r.status,
                "answered": answered,
                "days": (answered - received).days if answered else None,
                "on_time": (answered <= r.due_on) if answered else None,
            }
        )
    return out
