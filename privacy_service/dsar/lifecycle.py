"""The lifecycle primitives of a request: its transitions, references and links, loading it, moving it and
recording each step on its timeline with the audit event.

The helpers below the front door (identity, plan, act, answer) build on these; service.py, the front door,
calls them. This module imports no other module of dsar but its models, deadlines and mail texts, so no
circle can form through it; of the people package, only its service (the person a request resolves to).
Audit events and timeline notes name the request by its reference, never the subject.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from privacy_service import notify
from privacy_service.audit import Actor, record_event
from privacy_service.consent.tokens import Links as ConsentLinks
from privacy_service.dsar import messages
from privacy_service.dsar.deadlines import local_date
from privacy_service.dsar.models import (
    OPEN_STATUSES,
    DsarChallenge,
    DsarEvent,
    DsarOutcome,
    DsarRequest,
    DsarSequence,
)
from privacy_service.errors import N_, Code, Conflict, NotFound, worded
from privacy_service.kernel import utcnow
from privacy_service.people import service as people

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

    def mailbox_url(self, req: DsarRequest) -> str:
        """A link for the verified mailbox alone: it opens the request's status and its answer (mails to the
        verified address carry it; the status-page token stays the submitter's)."""
        return f"{self.base_url}/requests/mine/{mailbox_token(self.secret_key, req)}"

    def find_url(self) -> str:
        return f"{self.base_url}/requests/find"


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
            worded(
                "Request %(ref)s is %(status)s; it cannot become %(wanted)s now.",
                ref=req.reference,
                status=Code("letter.status", req.status),
                wanted=Code("letter.status", status),
            ),
            fields={"status": [req.status]},
        )
    req.status = status
    if status not in OPEN_STATUSES:
        req.closed_at = utcnow()


def tell(
    session: Session,
    req: DsarRequest,
    mail: tuple[str, str],
    *,
    links: Links | None = None,
    verified_only: bool = False,
) -> None:
    """Queue a mail (subject, text) to the request's subject: to the verified address, or (unless
    `verified_only`: the answer, anything that leads to data) to the address given, if there is one. With
    `links`, the mail ends with the reference and a link to follow the request: for a verified address its
    own mailbox link, otherwise the page that sends one."""
    to = verified_email(req) or (None if verified_only else req.subject_email)
    if not to:
        return
    subject, text = mail
    if links is not None:
        link = links.mailbox_url(req) if verified_email(req) else links.find_url()
        text += messages.footer(req.language, reference=req.reference, link=link)
    notify.enqueue_email(session, event="dsar.notice", to=to, subject=subject, text=text)


def identity_of(req: DsarRequest) -> dict[str, str]:
    """How the data map finds the request's subject: the identifiers that were proved, and only those. An
    identifier typed beside another is kept on the request but never searches, rectifies, erases or
    answers (a national identity number is not a secret)."""
    found = {"email": verified_email(req), "national_id": verified_national_id(req)}
    return {k: v for k, v in found.items() if v}


def person_identity(session: Session, req: DsarRequest, *, secret: str) -> dict[str, list[str]]:
    """How the data map finds the request's subject as a person: the request's proved identifiers (each
    kind's first value), then every verified identifier of the person they resolve to (`email`,
    `portal:<client>`). Unverified links, and identifiers of a request that proved none, never search."""
    own = identity_of(req)
    return people.verified_identity(session, own, secret=secret) if own else {}


def answering_subjects(identity: dict[str, list[str]]) -> list[str]:
    """The consent subject keys of a person's identity (people.subject_key), e-mail addresses first: the keys
    her consents and processing flags are stored under (a national identity number never is). A portal's user
    id is that portal's key: another portal's user whose id reads the same is someone else."""
    emails = identity.get("email", [])
    portals = [
        people.subject_key(value, kind.removeprefix("portal:"))
        for kind, values in identity.items()
        if kind.startswith("portal:")
        for value in values
    ]
    return list(dict.fromkeys([*emails, *portals]))


def verified_email(req: DsarRequest) -> str | None:
    """The subject's e-mail address, if it was proved."""
    return req.subject_email if req.subject_email and req.email_verified_by else None


def verified_national_id(req: DsarRequest) -> str | None:
    """The subject's national identity number, if it was proved."""
    return req.subject_national_id if req.subject_national_id and req.national_id_verified_by else None


def identifiers(req: DsarRequest) -> list[dict[str, Any]]:
    """The identifiers the request names, each with how and when it was proved (None: not proved)."""
    given = (
        ("email", req.subject_email, req.email_verified_by, req.email_verified_at),
        ("national_id", req.subject_national_id, req.national_id_verified_by, req.national_id_verified_at),
    )
    return [{"kind": kind, "verified_by": by, "verified_at": at} for kind, value, by, at in given if value]


MAILBOX_SALT = "privacy-service.dsar-mailbox.v1"
MAILBOX_DAYS = 60  # a link in a mail to the verified address works for two months


def _mailbox_signer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=MAILBOX_SALT)


def mailbox_token(secret_key: str, req: DsarRequest) -> str:
    """A signed token naming the request and the verified address it was sent to (a keyed hash of it)."""
    payload = {"r": req.reference, "a": address_key(secret_key, verified_email(req) or "")}
    return str(_mailbox_signer(secret_key).dumps(payload))


def address_key(secret_key: str, email: str) -> str:
    """A keyed, non-reversible key for an e-mail address (the daily bound on wrong codes, mailbox links)."""
    value = f"address:{email.strip().lower()}"
    return hmac.new(secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()


def request_by_mailbox_token(
    session: Session, *, secret_key: str, token: str, now: datetime | None = None
) -> DsarRequest:
    """The request a mailbox link names, while its address is still the request's verified one; else
    NotFound (expired, forged, or the address is no longer the proved one)."""
    try:
        payload = _mailbox_signer(secret_key).loads(token, max_age=MAILBOX_DAYS * 86400)
    except BadSignature as exc:  # SignatureExpired is a BadSignature
        raise NotFound(N_("This link is not valid or has expired.")) from exc
    if not isinstance(payload, dict):
        raise NotFound(N_("This link is not valid or has expired."))
    req = session.scalar(select(DsarRequest).where(DsarRequest.reference == str(payload.get("r"))))
    email = verified_email(req) if req is not None else None
    if (
        req is None
        or email is None
        or not hmac.compare_digest(address_key(secret_key, email), str(payload.get("a", "")))
    ):
        raise NotFound(N_("This link is not valid or has expired."))
    return req


# --- reading ------------------------------------------------------------------------------------------------


def get_request(session: Session, *, reference: str, for_update: bool = False) -> DsarRequest:
    """The request with this reference (locked for the transaction with for_update), or NotFound."""
    stmt = select(DsarRequest).where(DsarRequest.reference == reference)
    req = session.scalar(stmt.with_for_update() if for_update else stmt)
    if req is None:
        raise NotFound(worded("No request %(reference)s.", reference=reference))
    return req


def request_by_status_token(session: Session, *, token: str) -> DsarRequest:
    """The request a status-page token belongs to, or NotFound."""
    req = session.scalar(select(DsarRequest).where(DsarRequest.status_token_hash == digest(token)))
    if req is None:
        raise NotFound(N_("No request has this status link."))
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


def requests_query(
    *,
    status: str | None = None,
    type: str | None = None,
    overdue: bool | None = None,
    due_within_days: int | None = None,
    today: date | None = None,
    created_by: str | None = None,
) -> Select[Any]:
    """The queue, soonest deadline first: filter by status, type, overdue (open and past its deadline) or
    falling due soon; with `created_by`, only the requests that caller submitted."""
    today = today or local_date(utcnow())
    stmt = select(DsarRequest)
    if created_by is not None:
        stmt = stmt.where(DsarRequest.created_by == created_by)
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
    return stmt.order_by(DsarRequest.due_on, DsarRequest.id)


def list_requests(session: Session, *, limit: int | None = 500, **filters: Any) -> list[DsarRequest]:
    """The queue (`requests_query`), at most `limit` requests (None: all)."""
    return list(session.scalars(requests_query(**filters).limit(limit)))


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
