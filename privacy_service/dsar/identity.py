"""Identity checks of data-subject requests (Art. 12(6)): a one-time e-mail link and code per request, and
verification by an officer. The deadline waits while a check is open and counts from its answer.

A check belongs to one request: a second request from the same address gets its own, and confirming one
never confirms another.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from privacy_service import notify
from privacy_service.audit import Actor
from privacy_service.dsar import messages, service
from privacy_service.dsar.deadlines import deadline, local_date
from privacy_service.dsar.models import DsarChallenge, DsarRequest
from privacy_service.dsar.plan import PLAN_TASK
from privacy_service.errors import Conflict, ValidationFailed
from privacy_service.models import as_utc, utcnow

CHALLENGE_HOURS = 48  # a verification link or code works for two days
MAX_CODE_ATTEMPTS = 5


def _code_hash(secret_key: str, token_hash: str, code: str) -> str:
    return hmac.new(secret_key.encode(), f"{token_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def challenge(
    session: Session, req: DsarRequest, actor: Actor, *, links: service.Links, at: datetime
) -> None:
    """Ask the subject to confirm by e-mail: the deadline waits until they do (Art. 12(6))."""
    if not req.subject_email:
        raise Conflict("The request has no e-mail address to send a check to; verify it by hand.")
    token, code = secrets.token_urlsafe(32), f"{secrets.randbelow(10**6):06d}"
    token_hash = service.digest(token)
    session.add(
        DsarChallenge(
            request_id=req.id or 0,
            token_hash=token_hash,
            code_hash=_code_hash(links.secret_key, token_hash, code),
            created_at=at,
            expires_at=at + timedelta(hours=CHALLENGE_HOURS),
        )
    )
    if req.status == "received":
        service.move(req, "awaiting_identity")
    req.identity_status = "pending"
    req.identity_asked_at = req.identity_asked_at or at
    service.record(session, req, "identity_requested", actor, details={"method": "email"}, at=at)
    subject, text = messages.verification_mail(
        req.language, reference=req.reference, link=links.verify_url(token), code=code, hours=CHALLENGE_HOURS
    )
    notify.enqueue_email(session, event="dsar.verify", to=req.subject_email, subject=subject, text=text)


def verified(
    session: Session,
    req: DsarRequest,
    actor: Actor,
    *,
    method: str,
    note: str | None,
    at: datetime | None = None,
) -> None:
    """The identity is established: the deadline counts from now if a check was open; the plan is queued."""
    at = at or utcnow()
    paused = req.identity_asked_at is not None
    req.identity_status, req.identity_method, req.identity_arrived_at = "verified", method, at
    if paused:  # the clock starts when the identity arrives
        req.due_on = deadline(
            local_date(req.received_at),
            identity_arrived=local_date(at),
            extension_months=req.extension_months,
        )
    service.move(req, "in_progress")
    notify.enqueue_task(session, task=PLAN_TASK, payload={"reference": req.reference})
    details: dict[str, Any] = {"method": method, "due_on": req.due_on.isoformat()}
    if paused:
        details["paused_days"] = (local_date(at) - local_date(as_utc(req.identity_asked_at) or at)).days
    service.record(session, req, "identity_verified", actor, note=note, details=details, at=at)


def resend_challenge(session: Session, *, reference: str, actor: Actor, links: service.Links) -> DsarRequest:
    """Send a new check (the old link and code stop working)."""
    req = service.get_request(session, reference=reference, for_update=True)
    if req.status not in ("received", "awaiting_identity"):
        raise Conflict(f"Request {req.reference} is {req.status.replace('_', ' ')}; no check is needed now.")
    now = utcnow()
    for old in open_challenges(session, req):
        old.used_at = now
    challenge(session, req, actor, links=links, at=now)
    return req


def open_challenges(session: Session, req: DsarRequest) -> list[DsarChallenge]:
    """The request's checks that can still be used."""
    return list(
        session.scalars(
            select(DsarChallenge).where(DsarChallenge.request_id == req.id, DsarChallenge.used_at.is_(None))
        )
    )


class ChallengeProblem(Conflict):
    """A confirmation link or code that cannot be used: invalid | used | expired | locked | closed."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, fields={"token": [reason]})
        self.reason = reason
        self.status = 404 if reason == "invalid" else 410 if reason in ("used", "expired") else 409


def challenge_request(session: Session, *, token: str) -> tuple[DsarChallenge, DsarRequest]:
    """The challenge and request a verification link names, or ChallengeProblem."""
    challenge = session.scalar(select(DsarChallenge).where(DsarChallenge.token_hash == service.digest(token)))
    if challenge is None:
        raise ChallengeProblem("invalid", "This confirmation link is not valid.")
    req = session.get(DsarRequest, challenge.request_id)
    assert req is not None
    return challenge, req


def verify_link(session: Session, *, token: str, now: datetime | None = None) -> DsarRequest:
    """Confirm the subject's e-mail address by the link: single use, expiring."""
    challenge, req = challenge_request(session, token=token)
    check_usable(challenge, req, now)
    challenge.used_at = now or utcnow()
    verified(session, req, Actor("subject", req.reference), method="email", note=None, at=now)
    return req


def verify_code(
    session: Session, *, status_token: str, code: str, secret_key: str, now: datetime | None = None
) -> tuple[DsarRequest, bool]:
    """Confirm by the six-digit code on the status page; return (request, accepted). A wrong code counts as
    an attempt (that count is written even though the check fails); after five the code stops working."""
    now = now or utcnow()
    req = service.request_by_status_token(session, token=status_token)
    challenge = session.scalar(
        select(DsarChallenge)
        .where(DsarChallenge.request_id == req.id, DsarChallenge.used_at.is_(None))
        .order_by(DsarChallenge.id.desc())
        .limit(1)
    )
    if challenge is None:
        raise ChallengeProblem("used", "There is no open check for this request.")
    check_usable(challenge, req, now)
    challenge.attempts += 1
    if not hmac.compare_digest(
        challenge.code_hash, _code_hash(secret_key, challenge.token_hash, code.strip())
    ):
        service.record(session, req, "identity_attempt_failed", Actor("subject", req.reference),
               details={"attempts": challenge.attempts}, visible=False)  # fmt: skip
        return req, False
    challenge.used_at = now
    verified(session, req, Actor("subject", req.reference), method="email", note=None, at=now)
    return req, True


def check_usable(challenge: DsarChallenge, req: DsarRequest, now: datetime | None = None) -> None:
    """Raise ChallengeProblem unless the challenge can confirm the request now."""
    now = now or utcnow()
    if req.status != "awaiting_identity":
        raise ChallengeProblem("closed", "This request does not wait for a confirmation.")
    if challenge.used_at is not None:
        raise ChallengeProblem("used", "This confirmation has been used already.")
    if (as_utc(challenge.expires_at) or now) < now:
        raise ChallengeProblem("expired", "This confirmation has expired.")
    if challenge.attempts >= MAX_CODE_ATTEMPTS:
        raise ChallengeProblem("locked", "Too many wrong codes: ask for a new one.")


def verify_by_officer(session: Session, *, reference: str, note: str, actor: Actor) -> DsarRequest:
    """An officer has established the subject's identity by other means (a letter, a call, ID shown)."""
    if not (note or "").strip():
        raise ValidationFailed("Say how the identity was established.", fields={"note": ["Required."]})
    req = service.get_request(session, reference=reference, for_update=True)
    if req.identity_status == "verified":
        raise Conflict(f"Request {req.reference} is verified already.")
    for challenge in open_challenges(session, req):
        challenge.used_at = utcnow()
    verified(session, req, actor, method="officer", note=note.strip())
    return req


def ask_identity(session: Session, *, reference: str, actor: Actor, links: service.Links) -> DsarRequest:
    """Ask the subject of a letter or call to confirm by e-mail (the deadline waits for the answer)."""
    req = service.get_request(session, reference=reference, for_update=True)
    if req.status != "received":
        raise Conflict(f"Request {req.reference} is {req.status.replace('_', ' ')}; no check is needed now.")
    challenge(session, req, actor, links=links, at=utcnow())
    return req
