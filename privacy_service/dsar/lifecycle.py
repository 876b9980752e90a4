"""The lifecycle primitives of a request: its transitions, references and links, loading it, moving it and
recording each step on its timeline with the audit event.

The helpers below the front door (identity, plan, act, answer) build on these; service.py, the front door,
calls them. This module imports no other module of dsar but its models, so no circle can form through it.
Audit events and timeline notes name the request by its reference, never the subject.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from privacy_service import notify
from privacy_service.audit import Actor, record_event
from privacy_service.consent.tokens import Links as ConsentLinks
from privacy_service.dsar.deadlines import local_date
from privacy_service.dsar.models import (
    OPEN_STATUSES,
    DsarChallenge,
    DsarEvent,
    DsarOutcome,
    DsarRequest,
    DsarSequence,
)
from privacy_service.errors import Conflict, NotFound
from privacy_service.kernel import utcnow

SCHEDULER = Actor("system", "scheduler")
PLAN_TASK = "dsar.plan"  # the outbox task that makes a request's plan once its identity is confirmed

# status → the statuses an action may move it to
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("awaiting_identity", "in_progress", "rejected", "withdrawn"),
    "awaiting_identity": ("in_progress", "rejected", "withdrawn"),
    "in_progress": ("awaiting_decision", "completed", "rejected", "withdrawn"),
    "awaiting_decision": ("in_progress", "completed", "rejected", "withdrawn"),
}


@dataclass(frozen=True)
class Links(ConsentLinks):
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
    """The stored form of a token (status link, confirmation link)."""
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
    """Add a step to the request's timeline, with its audit event in the same transaction."""
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


def tell(session: Session, req: DsarRequest, mail: tuple[str, str]) -> None:
    """Queue a mail (subject, text) to the request's subject, if there is an address to send it to."""
    if req.subject_email:
        notify.enqueue_email(
            session, event="dsar.notice", to=req.subject_email, subject=mail[0], text=mail[1]
        )


def identity_of(req: DsarRequest) -> dict[str, str]:
    """How the data map finds the request's subject."""
    found = {"email": req.subject_email, "national_id": req.subject_national_id}
    return {k: v for k, v in found.items() if v}


# --- reading ------------------------------------------------------------------------------------------------


def get_request(session: Session, *, reference: str, for_update: bool = False) -> DsarRequest:
    """The request with this reference (locked for the transaction with for_update), or NotFound."""
    stmt = select(DsarRequest).where(DsarRequest.reference == reference)
    req = session.scalar(stmt.with_for_update() if for_update else stmt)
    if req is None:
        raise NotFound(f"No request {reference}.")
    return req


def request_by_status_token(session: Session, *, token: str) -> DsarRequest:
    """The request a status-page token belongs to, or NotFound."""
    req = session.scalar(select(DsarRequest).where(DsarRequest.status_token_hash == digest(token)))
    if req is None:
        raise NotFound("No request has this status link.")
    return req


def timeline(session: Session, req: DsarRequest, *, subject_view: bool = False) -> list[DsarEvent]:
    """The request's steps, oldest first; the subject sees only those meant for them."""
    stmt = select(DsarEvent).where(DsarEvent.request_id == req.id)
    if subject_view:
        stmt = stmt.where(DsarEvent.visible_to_subject.is_(True))
    return list(session.scalars(stmt.order_by(DsarEvent.at, DsarEvent.id)))


def outcomes_of(session: Session, req: DsarRequest) -> list[DsarOutcome]:
    """The request's planned (or decided) outcomes, one per activity."""
    return list(
        session.scalars(select(DsarOutcome).where(DsarOutcome.request_id == req.id).order_by(DsarOutcome.id))
    )


def open_challenges(session: Session, req: DsarRequest) -> list[DsarChallenge]:
    """The request's identity checks that can still be used."""
    return list(
        session.scalars(
            select(DsarChallenge).where(DsarChallenge.request_id == req.id, DsarChallenge.used_at.is_(None))
        )
    )


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


def is_overdue(req: DsarRequest, *, today: date | None = None) -> bool:
    """Open and past its deadline."""
    return req.status in OPEN_STATUSES and req.due_on < (today or local_date(utcnow()))
