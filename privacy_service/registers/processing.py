"""The record of processing carried out as a processor (GDPR Art. 30(2)): record, read and change it. Every
write checks the organisations against the registry before the first change, and writes its audit event in the
caller's transaction; it only flushes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.errors import NotFound, ValidationFailed, worded
from privacy_service.kernel import utcnow
from privacy_service.registers.processing_models import ProcessorRecord
from privacy_service.ropa import service as ropa

FIELDS = (
    "key", "processor", "controllers", "agreement_ref", "agreement_date", "categories", "sub_processors",
    "transfers", "security_measures", "dpo", "status", "started_on", "ended_on",
)  # fmt: skip


class ProcessorRecordNotFound(NotFound):
    """No processor record has this id."""

    code = "processor_record_not_found"


class UnknownOrganisation(ValidationFailed):
    """The record names an organisation that is not in the registry."""

    code = "unknown_organisation"


def list_processor_records(session: Session, *, status: str | None = None) -> list[ProcessorRecord]:
    """Processor records, the active first, then by processor and id."""
    query = select(ProcessorRecord).order_by(
        ProcessorRecord.status, ProcessorRecord.processor, ProcessorRecord.id
    )
    if status:
        query = query.where(ProcessorRecord.status == status)
    return list(session.scalars(query))


def get_processor_record(session: Session, *, record_id: int) -> ProcessorRecord:
    """One processor record by id; raise ProcessorRecordNotFound."""
    record = session.get(ProcessorRecord, record_id)
    if record is None:
        raise ProcessorRecordNotFound(worded("No processor record %(record_id)s.", record_id=record_id))
    return record


def _check_organisations(session: Session, data: dict[str, Any]) -> None:
    known = ropa.list_organisations(session)
    errors: dict[str, list[str]] = {}

    def check(field: str, slug: str) -> None:
        if slug not in known:
            errors.setdefault(field, []).append(f"No organisation {slug!r} in the registry.")

    check("processor", data["processor"])
    for slug in data["controllers"]:
        check("controllers", slug)
    for sub in data.get("sub_processors") or []:
        check("sub_processors", sub["organisation"])
    if errors:
        names = sorted({m.split("'")[1] for ms in errors.values() for m in ms})
        raise UnknownOrganisation(
            worded("Unknown organisation: %(names)s.", names=", ".join(repr(n) for n in names)), fields=errors
        )


def _audit(session: Session, record: ProcessorRecord, actor: Actor, action: str) -> None:
    # slugs and the status only: the record holds no personal data, and the audit trail keeps it that way
    record_event(
        session,
        actor=actor,
        action=action,
        object_type="processor_record",
        object_id=str(record.id),
        details={
            "processor": record.processor,
            "controllers": list(record.controllers),
            "status": record.status,
        },
    )


def create_processor_record(
    session: Session, *, data: dict[str, Any], actor: Actor, now: datetime | None = None
) -> ProcessorRecord:
    """Record a processing carried out on behalf of one or more controllers (Art. 30(2))."""
    _check_organisations(session, data)
    now = now or utcnow()
    record = ProcessorRecord(
        **{k: data.get(k) for k in FIELDS if k in data},
        created_at=now, created_by=str(actor), updated_at=now, updated_by=str(actor),
    )  # fmt: skip
    session.add(record)
    session.flush()
    _audit(session, record, actor, "processor_record.create")
    return record


def update_processor_record(
    session: Session, *, record_id: int, data: dict[str, Any], actor: Actor, now: datetime | None = None
) -> ProcessorRecord:
    """Replace a processor record with the whole of `data` (ending it is setting status ended)."""
    record = get_processor_record(session, record_id=record_id)
    _check_organisations(session, data)
    for key in FIELDS:
        setattr(record, key, data.get(key))
    record.sub_processors = list(data.get("sub_processors") or [])
    record.transfers = list(data.get("transfers") or [])
    record.updated_at, record.updated_by = now or utcnow(), str(actor)
    session.flush()
    _audit(session, record, actor, "processor_record.update")
    return record


def apply_processor_record(session: Session, *, data: dict[str, Any], actor: Actor) -> str:
    """Create or update the record with data's key (policies/); return created, updated or unchanged."""
    record = session.scalar(select(ProcessorRecord).where(ProcessorRecord.key == data["key"]))
    if record is None:
        create_processor_record(session, data=data, actor=actor)
        return "created"
    if all(_same(getattr(record, k), data.get(k)) for k in FIELDS):
        return "unchanged"
    update_processor_record(session, record_id=record.id or 0, data=data, actor=actor)
    return "updated"


def _same(stored: Any, given: Any) -> bool:
    if isinstance(stored, list):
        return list(stored) == list(given or [])
    return stored == given
