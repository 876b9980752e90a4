"""The registers' front door: what the routes and pages call (the breach steps live in breaches.py)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlmodel import Session

from privacy_service.errors import N_, ValidationFailed
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
from privacy_service.registers.processing import (
    ProcessorRecordNotFound,
    UnknownOrganisation,
    apply_processor_record,
    create_processor_record,
    get_processor_record,
    list_processor_records,
    update_processor_record,
)
from privacy_service.registers.processing_models import PROCESSOR_STATUSES, ProcessorRecord
from privacy_service.registers.processing_pdf import render_protocol_pdf
from privacy_service.registers.processing_schemas import processor_record_in_schema
from privacy_service.ropa import service as ropa

__all__ = [
    "AUTHORITY_DEADLINE",
    "NOT_REQUIRED_GROUNDS",
    "PROCESSOR_STATUSES",
    "RISK_LEVELS",
    "STATUSES",
    "Breach",
    "Countdown",
    "ProcessorRecord",
    "ProcessorRecordNotFound",
    "UnknownOrganisation",
    "apply_processor_record",
    "assess_breach",
    "close_breach",
    "count_breaches",
    "countdown",
    "create_breach",
    "create_processor_record",
    "deadline_for",
    "get_breach",
    "get_processor_record",
    "label",
    "list_breaches",
    "list_processor_records",
    "notify_authority",
    "notify_subjects",
    "update_processor_record",
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


def organisation_choices(session: Session) -> list[tuple[str, dict[str, str]]]:
    """The registry's organisations as (slug, name) for the officer's form."""
    return [(slug, dict(org["name"])) for slug, org in ropa.list_organisations(session).items()]


def processor_protocol_pdf(session: Session, *, processor: str | None, lang: str) -> bytes:
    """The record of processing carried out as a processor (Art. 30(2)) as a PDF: the active and ended
    records, of one processor when it is named."""
    orgs = ropa.list_organisations(session)
    records = [r for r in list_processor_records(session) if processor in (None, r.processor)]
    return render_protocol_pdf(records, processor=orgs.get(processor or ""), organisations=orgs, lang=lang)


def load_processor_record(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a processor record from a form as the API does; raise ValidationFailed with the fields."""
    try:
        return processor_record_in_schema.load(data)
    except ValidationError as err:
        fields = err.messages if isinstance(err.messages, dict) else {"_schema": err.messages}
        raise ValidationFailed(N_("The processor record does not fit."), fields=fields) from err
