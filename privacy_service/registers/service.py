"""The registers' front door: what the routes and pages call (the breach steps live in breaches.py)."""

from __future__ import annotations

from sqlmodel import Session

from privacy_service.registers.breaches import (
    AUTHORITY_DEADLINE,
    Countdown,
    assess_breach,
    close_breach,
    count_breaches,
    countdown,
    create_breach,
    deadline_for,
    dpo_contact,
    get_breach,
    list_breaches,
    notify_authority,
    notify_subjects,
)
from privacy_service.registers.labels import label
from privacy_service.registers.models import NOT_REQUIRED_GROUNDS, RISK_LEVELS, STATUSES, Breach
from privacy_service.registers.pdf import render_notification_pdf
from privacy_service.ropa import service as ropa

__all__ = [
    "AUTHORITY_DEADLINE",
    "NOT_REQUIRED_GROUNDS",
    "RISK_LEVELS",
    "STATUSES",
    "Breach",
    "Countdown",
    "assess_breach",
    "close_breach",
    "count_breaches",
    "countdown",
    "create_breach",
    "deadline_for",
    "get_breach",
    "label",
    "list_breaches",
    "notify_authority",
    "notify_subjects",
]


def activity_choices(session: Session) -> list[tuple[str, dict[str, str]]]:
    """The registry's current activities as (slug, name) for the officer's form."""
    return [(a.slug, dict(a.name)) for a in ropa.activities_for(session, include_retired=False)]


def notification_pdf(session: Session, *, reference: str, lang: str) -> bytes:
    """The notification to Datatilsynet of one breach as a PDF (Art. 33(3))."""
    breach = get_breach(session, reference=reference)
    activities = ropa.activities_for(session, slugs=breach.activities)
    names = {a.slug: dict(a.name) for a in activities}
    categories = {c["key"]: c["name"] for a in activities for c in a.record.get("data_categories") or []}
    return render_notification_pdf(
        breach, controller=dpo_contact(session, breach), activity_names=names, lang=lang,
        category_names=categories,
    )  # fmt: skip
