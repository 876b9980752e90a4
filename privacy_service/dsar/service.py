"""Data-subject requests: intake, identity, the lifecycle with its timeline, deadlines and officer actions.

Every write here is one transaction with its audit event (the caller commits). Audit events and timeline notes
name the request by its reference, never the subject. A request's identity check is its own: a second request
from the same address gets its own challenge and never inherits the first one's verification.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from privacy_service import notify
from privacy_service.audit import Actor, record_event
from privacy_service.consent import service as consent
from privacy_service.datamap import service as datamap
from privacy_service.dsar import answer, identity, messages
from privacy_service.dsar.deadlines import MAX_EXTENSION_MONTHS, deadline, local_date
from privacy_service.dsar.letter_pdf import render_letter
from privacy_service.dsar.models import (
    OPEN_STATUSES,
    REJECTION_GROUNDS,
    DsarEvent,
    DsarRequest,
    DsarSequence,
)
from privacy_service.dsar.plan import release_request_evidence
from privacy_service.errors import Conflict, NotFound, ValidationFailed
from privacy_service.models import as_utc, utcnow
from privacy_service.ropa import service as ropa

SCHEDULER = Actor("system", "scheduler")
UNVERIFIED_CLOSE_DAYS = 14  # an unverified request closes after two weeks, with a message

# status → the statuses an action may move it to
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("awaiting_identity", "in_progress", "rejected", "withdrawn"),
    "awaiting_identity": ("in_progress", "rejected", "withdrawn"),
    "in_progress": ("awaiting_decision", "completed", "rejected", "withdrawn"),
    "awaiting_decision": ("in_progress", "completed", "rejected", "withdrawn"),
}


@dataclass(frozen=True)
class Links(consent.Links):
    """The consent links (base URL, signing key), plus a request's confirmation and status links; one object
    serves a request and the consent withdrawals it makes."""

    def verify_url(self, token: str) -> str:
        return f"{self.base_url}/requests/verify/{token}"

    def status_url(self, token: str) -> str:
        return f"{self.base_url}/requests/status/{token}"


@dataclass
class Created:
    """A new request, and the status-page token shown once to whoever submitted it."""

    request: DsarRequest
    status_token: str


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def subject_key(secret_key: str, *, email: str | None, national_id: str | None) -> str:
    """A keyed, non-reversible key for the subject (repeat requests, the erasure ledger)."""
    value = f"nid:{national_id}" if national_id else f"email:{(email or '').strip().lower()}"
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def next_reference(session: Session, year: int) -> str:
    """The next DSR-YYYY-NNNNNN; the counter row's lock serialises concurrent writers."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(DsarSequence)
        .values(year=year, last=1)
        .on_conflict_do_update(index_elements=["year"], set_={"last": DsarSequence.last + 1})
        .returning(DsarSequence.last)
    )
    number = session.execute(stmt).scalar_one()
    return f"DSR-{year}-{number:06d}"


def record(
    session: Session,
    req: DsarRequest,
    kind: str,
    actor: Actor,
    *,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    visible: bool = True,
    at: datetime | None = None,
) -> DsarEvent:
    event = DsarEvent(
        request_id=req.id or 0,
        at=at or utcnow(),
        kind=kind,
        actor=str(actor),
        note=note,
        details=details or {},
        visible_to_subject=visible,
    )
    session.add(event)
    req.updated_at = utcnow()
    record_event(
        session,
        actor=actor,
        action=f"dsar.{kind}",
        object_type="dsar_request",
        object_id=req.reference,
        details={"status": req.status, **(details or {})},
    )
    return event


def move(req: DsarRequest, status: str) -> None:
    """Change the status, or raise Conflict when the lifecycle does not allow it."""
    if status not in TRANSITIONS.get(req.status, ()):
        raise Conflict(
            f"Request {req.reference} is {req.status.replace('_', ' ')}; it cannot become "
            f"{status.replace('_', ' ')} now.",
            fields={"status": [req.status]},
        )
    req.status = status
    if status not in OPEN_STATUSES:
        req.closed_at = utcnow()


def create_request(
    session: Session,
    *,
    data: dict[str, Any],
    actor: Actor,
    links: Links,
    verified_by: str | None = None,
) -> Created:
    """Register a request (validated by RequestIn). Web and API requests with an e-mail get a challenge;
    a portal whose user logged in through ID-porten/HelseID passes `verified_by`; letters and calls wait for
    an officer to verify them by hand."""
    _check_scope(session, data)
    subject = data["subject"]
    received = as_utc(data.get("received_at")) or utcnow()
    token = secrets.token_urlsafe(32)
    req = DsarRequest(
        reference=next_reference(session, local_date(received).year),
        type=data["type"],
        channel=data["channel"],
        language=data.get("language") or "nb",
        subject_email=subject.get("email"),
        subject_name=subject.get("name"),
        subject_national_id=subject.get("national_id"),
        subject_key=subject_key(
            links.secret_key, email=subject.get("email"), national_id=subject.get("national_id")
        ),
        activities=list(data.get("activities") or []),
        details=dict(data.get("details") or {}),
        received_at=received,
        due_on=deadline(local_date(received)),
        status_token_hash=digest(token),
        created_by=str(actor),
    )
    session.add(req)
    session.flush()
    record(
        session,
        req,
        "received",
        actor,
        details={"type": req.type, "channel": req.channel, "due_on": req.due_on.isoformat()},
        at=received,
    )
    if verified_by:
        identity.verified(
            session, req, actor, method="portal", note=f"Logged in through {verified_by}.", at=received
        )
    elif req.subject_email and req.channel in ("web", "api", "portal", "email"):
        identity.challenge(session, req, actor, links=links, at=received)
    return Created(req, token)


def _check_scope(session: Session, data: dict[str, Any]) -> None:
    """The activities must be in the registry; a rectification must name a data item the data map knows."""
    activities = list(dict.fromkeys(data.get("activities") or []))
    unknown = []
    for slug in activities:
        try:
            ropa.get_activity(session, slug=slug)
        except NotFound:
            unknown.append(slug)
    if unknown:
        raise ValidationFailed(
            "Unknown activity.", fields={"activities": [f"No processing activity {s!r}." for s in unknown]}
        )
    field = (data.get("details") or {}).get("field")
    if data["type"] == "rectification" and field:
        tables = (
            [t for slug in activities for __, t in datamap.tables_for_activity(session, activity=slug)]
            if activities
            else [t for __, t in datamap.mapped_tables(session)]
        )
        known = sorted({c for t in tables for c in t.columns})
        if field not in known:
            raise ValidationFailed(
                "Unknown field to correct.",
                fields={"details": {"field": [f"Not a data item we hold; one of: {', '.join(known)}."]}},
            )


def extend(session: Session, *, reference: str, months: int, reason: str, actor: Actor) -> DsarRequest:
    """Extend once, by up to two months, within the first period; the subject is told why (Art. 12(3))."""
    fields: dict[str, list[str]] = {}
    if months not in range(1, MAX_EXTENSION_MONTHS + 1):
        fields["months"] = ["One or two months."]
    if not (reason or "").strip():
        fields["reason"] = ["Give the reason; the subject is told."]
    if fields:
        raise ValidationFailed("The extension is not valid.", fields=fields)
    req = get_request(session, reference=reference, for_update=True)
    if req.status not in OPEN_STATUSES:
        raise Conflict(f"Request {req.reference} is closed.")
    if req.extension_months:
        raise Conflict(f"Request {req.reference} has been extended already; the law allows one extension.")
    today = local_date(utcnow())
    if today > req.due_on:
        raise Conflict(
            f"The first period of {req.reference} ended on {req.due_on}: it can no longer be extended."
        )
    start = local_date(as_utc(req.identity_arrived_at) or req.received_at) if req.identity_asked_at else None
    req.extension_months, req.extension_reason = months, reason.strip()
    req.due_on = deadline(local_date(req.received_at), identity_arrived=start, extension_months=months)
    record(session, req, "extended", actor, note=req.extension_reason,
           details={"months": months, "due_on": req.due_on.isoformat()})  # fmt: skip
    _tell(session, req, messages.extension_mail(req.language, reference=req.reference, due_on=req.due_on,
                                                reason=req.extension_reason))  # fmt: skip
    return req


def reject(session: Session, *, reference: str, ground: str, reason: str, actor: Actor) -> DsarRequest:
    """Refuse to act, with the ground (Art. 12(5) or identity not established) and the reasons."""
    fields: dict[str, list[str]] = {}
    if ground not in REJECTION_GROUNDS:
        fields["ground"] = [f"One of: {', '.join(REJECTION_GROUNDS)}."]
    if not (reason or "").strip():
        fields["reason"] = ["Give the reasons; the subject is told, with the right to complain."]
    if fields:
        raise ValidationFailed("The rejection is not valid.", fields=fields)
    req = get_request(session, reference=reference, for_update=True)
    move(req, "rejected")
    req.rejection_ground, req.rejection_reason = ground, reason.strip()
    release_request_evidence(session, req, actor)
    record(session, req, "rejected", actor, note=req.rejection_reason, details={"ground": ground})
    _tell(session, req, messages.rejection_mail(req.language, reference=req.reference, ground=ground,
                                                reason=req.rejection_reason))  # fmt: skip
    return req


def complete(
    session: Session, *, reference: str, actor: Actor, instance_path: Path, note: str | None = None
) -> DsarRequest:
    """Close an approved request as answered: the letter and the export are made and stored, and the subject
    is told the answer is ready (the mail holds no personal data). Completing before approval is refused."""
    req = get_request(session, reference=reference, for_update=True)
    if req.decided_at is None:
        raise Conflict(f"Request {req.reference} has no approved plan: approve it before completing.")
    move(req, "completed")
    collected = answer.collect(session, req, instance_path=instance_path)
    letter = render_letter(collected)
    answer.store(session, req, letter=letter, export=answer.build_export(collected, letter))
    record(session, req, "completed", actor, note=(note or "").strip() or None)
    _tell(session, req, messages.answered_mail(req.language, reference=req.reference))
    return req


def withdraw(session: Session, *, reference: str, actor: Actor, note: str | None = None) -> DsarRequest:
    """The subject withdraws the request (from the status page, or through an officer)."""
    req = get_request(session, reference=reference, for_update=True)
    move(req, "withdrawn")
    for challenge in identity.open_challenges(session, req):
        challenge.used_at = utcnow()
    release_request_evidence(session, req, actor)
    record(session, req, "withdrawn", actor, note=(note or "").strip() or None)
    return req


def close_unverified(
    session: Session, *, now: datetime | None = None, days: int = UNVERIFIED_CLOSE_DAYS
) -> int:
    """Close requests whose identity check went unanswered for `days`, telling the subject why."""
    now = now or utcnow()
    stale = list(
        session.scalars(
            select(DsarRequest)
            .where(
                DsarRequest.status == "awaiting_identity",
                DsarRequest.identity_asked_at < now - timedelta(days=days),
            )
            .with_for_update()
        )
    )
    for req in stale:
        move(req, "rejected")
        req.rejection_ground = "identity_not_established"
        req.rejection_reason = messages.unverified_reason(req.language, days=days)
        for challenge in identity.open_challenges(session, req):
            challenge.used_at = now
        record(session, req, "closed_unverified", SCHEDULER, details={"days": days})
        _tell(session, req, messages.rejection_mail(req.language, reference=req.reference,
                                                    ground="identity_not_established",
                                                    reason=req.rejection_reason))  # fmt: skip
    return len(stale)


REMIND_DAYS = 7  # officers hear of a request a week before it falls due, and again when it is overdue


def remind_officers(
    session: Session, *, to: str, today: date | None = None, days: int = REMIND_DAYS
) -> list[str]:
    """Mail the privacy team one digest of the open requests falling due within `days` or overdue, once per
    request and deadline (a new deadline after an extension is reminded again). Returns the references."""
    today = today or local_date(utcnow())
    if session.get_bind().dialect.name == "postgresql":  # two schedulers: one digest
        session.execute(text("SELECT pg_advisory_xact_lock(7262005)"))
    due = list_requests(session, due_within_days=days, today=today)
    fresh = []
    for req in due:
        stage = "overdue" if req.due_on < today else "due_soon"
        already = session.scalar(
            select(func.count()).where(
                DsarEvent.request_id == req.id,
                DsarEvent.kind == "reminder",
                DsarEvent.note == f"{stage} {req.due_on.isoformat()}",
            )
        )
        if not already:
            fresh.append((req, stage))
    for req, stage in fresh:
        note = f"{stage} {req.due_on.isoformat()}"
        record(session, req, "reminder", SCHEDULER, note=note, details={"stage": stage}, visible=False)
    if fresh:
        subject, body = messages.reminder_mail(
            [(r.reference, r.type, r.due_on, stage) for r, stage in fresh], today=today
        )
        notify.enqueue_email(session, event="dsar.reminder", to=to, subject=subject, text=body)
    return [r.reference for r, __ in fresh]


def _tell(session: Session, req: DsarRequest, mail: tuple[str, str]) -> None:
    if req.subject_email:
        notify.enqueue_email(
            session, event="dsar.notice", to=req.subject_email, subject=mail[0], text=mail[1]
        )


# --- reading ------------------------------------------------------------------------------------------------


def get_request(session: Session, *, reference: str, for_update: bool = False) -> DsarRequest:
    stmt = select(DsarRequest).where(DsarRequest.reference == reference)
    req = session.scalar(stmt.with_for_update() if for_update else stmt)
    if req is None:
        raise NotFound(f"No request {reference}.")
    return req


def request_by_status_token(session: Session, *, token: str) -> DsarRequest:
    req = session.scalar(select(DsarRequest).where(DsarRequest.status_token_hash == digest(token)))
    if req is None:
        raise NotFound("No request has this status link.")
    return req


def timeline(session: Session, req: DsarRequest, *, subject_view: bool = False) -> list[DsarEvent]:
    stmt = select(DsarEvent).where(DsarEvent.request_id == req.id)
    if subject_view:
        stmt = stmt.where(DsarEvent.visible_to_subject.is_(True))
    return list(session.scalars(stmt.order_by(DsarEvent.at, DsarEvent.id)))


def list_requests(
    session: Session,
    *,
    status: str | None = None,
    type: str | None = None,
    overdue: bool | None = None,
    due_within_days: int | None = None,
    today: date | None = None,
    limit: int = 500,
) -> list[DsarRequest]:
    """The queue: filter by status, type, overdue (open and past its deadline) or falling due soon."""
    today = today or local_date(utcnow())
    stmt = select(DsarRequest)
    if status:
        stmt = stmt.where(DsarRequest.status == status)
    if type:
        stmt = stmt.where(DsarRequest.type == type)
    if overdue is not None:
        late = DsarRequest.status.in_(OPEN_STATUSES) & (DsarRequest.due_on < today)
        stmt = stmt.where(late if overdue else ~late)
    if due_within_days is not None:
        stmt = stmt.where(
            DsarRequest.status.in_(OPEN_STATUSES),
            DsarRequest.due_on <= today + timedelta(days=due_within_days),
        )
    return list(session.scalars(stmt.order_by(DsarRequest.due_on, DsarRequest.id).limit(limit)))


def counts(session: Session, *, today: date | None = None) -> dict[str, int]:
    """For the dashboard: open requests per status, and how many are overdue."""
    today = today or local_date(utcnow())
    out = dict(session.execute(select(DsarRequest.status, func.count()).group_by(DsarRequest.status)).all())
    out["overdue"] = (
        session.scalar(
            select(func.count()).where(DsarRequest.status.in_(OPEN_STATUSES), DsarRequest.due_on < today)
        )
        or 0
    )
    return out
