"""Identity checks of data-subject requests (Art. 12(6)): a one-time e-mail link and code per request, and
the step that marks a request's identity as established. The deadline waits while a check is open and counts
from its answer.

A check belongs to one request: a second request from the same address gets its own, and confirming one
never confirms another. These helpers act on a request the front door (service.py) has loaded.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from privacy_service import notify
from privacy_service.audit import Actor
from privacy_service.dsar import lifecycle, messages, persons
from privacy_service.dsar.deadlines import deadline, local_date
from privacy_service.dsar.models import DsarChallenge, DsarCodeFailures, DsarRequest
from privacy_service.errors import N_, Conflict
from privacy_service.kernel import utcnow

CHALLENGE_HOURS = 48  # a verification link or code works for two days
MAX_CODE_ATTEMPTS = 5  # per check
MAX_DAILY_FAILURES = 10  # wrong codes per address and day, across all its checks and requests


class ChallengeProblem(Conflict):
    """A confirmation link or code that cannot be used: invalid | used | expired | locked | closed |
    locked_day (too many wrong codes for the address today: only an officer can verify it now)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, fields={"token": [reason]})
        self.reason = reason
        self.status = 404 if reason == "invalid" else 410 if reason in ("used", "expired") else 409


def _code_hash(secret_key: str, token_hash: str, code: str) -> str:
    return hmac.new(secret_key.encode(), f"{token_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def challenge(
    session: Session, req: DsarRequest, actor: Actor, *, links: lifecycle.Links, at: datetime
) -> None:
    """Ask the subject to confirm by e-mail: the deadline waits until they do (Art. 12(6))."""
    if not req.subject_email:
        raise Conflict(N_("The request has no e-mail address to send a check to; verify it by hand."))
    token, code = secrets.token_urlsafe(32), f"{secrets.randbelow(10**6):06d}"
    token_hash = lifecycle.digest(token)
    session.add(
        DsarChallenge(
            request_id=req.id or 0,
            token_hash=token_hash,
            code_hash=_code_hash(links.secret_key, token_hash, code),
            created_at=at,
            expires_at=at + timedelta(hours=CHALLENGE_HOURS),
            address_key=lifecycle.address_key(links.secret_key, req.subject_email),
        )
    )
    if req.status == "received":
        lifecycle.move(req, "awaiting_identity")
    req.identity_status = "pending"
    req.identity_asked_at = req.identity_asked_at or at
    lifecycle.record(session, req, "identity_requested", actor, details={"method": "email_code"}, at=at)
    subject, text = messages.verification_mail(
        req.language,
        reference=req.reference,
        link=links.verify_url(token),
        code=code,
        hours=CHALLENGE_HOURS,
        find_url=links.find_url(),
    )
    notify.enqueue_email(session, event="dsar.verify", to=req.subject_email, subject=subject, text=text)


def verified(
    session: Session,
    req: DsarRequest,
    actor: Actor,
    *,
    method: str,
    proved: tuple[str, ...],
    note: str | None,
    secret: str | None,
    submitter: bool = False,
    at: datetime | None = None,
) -> None:
    """The identity is established by `method`, which proved the identifiers `proved` (email, national_id):
    only those will search the data, and two or more of them are linked as one person (`secret`: the instance
    secret; None only where one identifier alone is proved, as by an e-mail check). `submitter`: whoever holds
    the status link is that person. The deadline counts from now if a check was open; the plan is queued."""
    at = at or utcnow()
    paused = req.identity_asked_at is not None
    req.identity_status, req.identity_method, req.identity_arrived_at = "verified", method, at
    if "email" in proved and req.subject_email:
        req.email_verified_by, req.email_verified_at = method, at
    if "national_id" in proved and req.subject_national_id:
        req.national_id_verified_by, req.national_id_verified_at = method, at
    req.submitter_verified = req.submitter_verified or submitter
    if paused:  # the clock starts when the identity arrives
        req.due_on = deadline(
            local_date(req.received_at),
            identity_arrived=local_date(at),
            extension_months=req.extension_months,
        )
    lifecycle.move(req, "in_progress")
    notify.enqueue_task(session, task=lifecycle.PLAN_TASK, payload={"reference": req.reference})
    details: dict[str, Any] = {"method": method, "proved": sorted(proved), "due_on": req.due_on.isoformat()}
    if paused:
        details["paused_days"] = (local_date(at) - local_date(req.identity_asked_at or at)).days
    lifecycle.record(session, req, "identity_verified", actor, note=note, details=details, at=at)
    if secret is not None:
        persons.link_proved(session, req, actor, secret=secret)


def proved_later(
    session: Session,
    req: DsarRequest,
    actor: Actor,
    *,
    method: str,
    proved: tuple[str, ...],
    note: str,
    secret: str,
) -> None:
    """A further identifier of a verified request is proved (an officer saw a document): it searches from
    the next plan on, which is queued now, and is linked with the others as one person; the deadline does not
    change."""
    at = utcnow()
    if "email" in proved and req.subject_email and not req.email_verified_by:
        req.email_verified_by, req.email_verified_at = method, at
    if "national_id" in proved and req.subject_national_id and not req.national_id_verified_by:
        req.national_id_verified_by, req.national_id_verified_at = method, at
    if req.status in ("in_progress", "awaiting_decision") and req.decided_at is None:
        notify.enqueue_task(session, task=lifecycle.PLAN_TASK, payload={"reference": req.reference})
    details = {"method": method, "proved": sorted(proved)}
    lifecycle.record(session, req, "identity_verified", actor, note=note.strip(), details=details, at=at)
    persons.link_proved(session, req, actor, secret=secret)


def close_challenges(session: Session, req: DsarRequest, *, at: datetime | None = None) -> None:
    """Stop the request's open links and codes from working."""
    for open_one in lifecycle.open_challenges(session, req):
        open_one.used_at = at or utcnow()


def challenge_request(session: Session, *, token: str) -> tuple[DsarChallenge, DsarRequest]:
    """The challenge and request a verification link names, or ChallengeProblem."""
    found = session.scalar(select(DsarChallenge).where(DsarChallenge.token_hash == lifecycle.digest(token)))
    if found is None:
        raise ChallengeProblem("invalid", N_("This confirmation link is not valid."))
    req = session.get(DsarRequest, found.request_id)
    assert req is not None
    return found, req


def latest_challenge(session: Session, req: DsarRequest) -> DsarChallenge:
    """The request's newest open check (the one its code belongs to), or ChallengeProblem."""
    found = session.scalar(
        select(DsarChallenge)
        .where(DsarChallenge.request_id == req.id, DsarChallenge.used_at.is_(None))
        .order_by(DsarChallenge.id.desc())
        .limit(1)
    )
    if found is None:
        raise ChallengeProblem("used", N_("There is no open check for this request."))
    return found


def code_matches(found: DsarChallenge, *, code: str, secret_key: str) -> bool:
    """Whether the code is the check's (compared in constant time)."""
    return hmac.compare_digest(found.code_hash, _code_hash(secret_key, found.token_hash, code.strip()))


def count_attempt(session: Session, found: DsarChallenge) -> bool:
    """Count one code attempt against the check in a single UPDATE, so concurrent guesses can never
    overwrite each other's count; False when the check has had its MAX_CODE_ATTEMPTS already."""
    counted = session.execute(
        update(DsarChallenge)
        .where(DsarChallenge.id == found.id, DsarChallenge.attempts < MAX_CODE_ATTEMPTS)
        .values(attempts=DsarChallenge.attempts + 1)
        .returning(DsarChallenge.attempts)
        .execution_options(synchronize_session=False)
    ).scalar()
    session.refresh(found, ["attempts"])
    return counted is not None


def reserve_daily_failure(session: Session, found: DsarChallenge, *, day: date) -> int | None:
    """Take one of the address's wrong-code slots for the day before the code is compared (given back if
    it was right), in one statement; the slots taken so far, or None when the day's bound is reached. Checks
    made before this bound existed (no address key) are bound by their own count only."""
    if found.address_key is None:
        return 0
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(DsarCodeFailures)
        .values(address_key=found.address_key, day=day, failures=1)
        .on_conflict_do_update(
            index_elements=["address_key", "day"],
            set_={"failures": DsarCodeFailures.failures + 1},
            where=DsarCodeFailures.failures < MAX_DAILY_FAILURES,
        )
        .returning(DsarCodeFailures.failures)
    )
    return session.execute(stmt).scalar()


def give_back_daily_failure(session: Session, found: DsarChallenge, *, day: date) -> None:
    """The code was right: the slot reserved for a failure is not one."""
    if found.address_key is not None:
        session.execute(
            update(DsarCodeFailures)
            .where(DsarCodeFailures.address_key == found.address_key, DsarCodeFailures.day == day)
            .values(failures=DsarCodeFailures.failures - 1)
        )


def address_locked() -> ChallengeProblem:
    """The refusal once an address has had its wrong codes for the day."""
    return ChallengeProblem(
        "locked_day", N_("Too many wrong codes for this address today: only an officer can verify it now.")
    )


def check_address_open(session: Session, address_key: str | None, *, day: date) -> None:
    """Raise ChallengeProblem("locked_day") when the address has had MAX_DAILY_FAILURES wrong codes today:
    then no link, code or new check of it works until tomorrow, and only an officer can verify."""
    if daily_failures(session, address_key, day=day) >= MAX_DAILY_FAILURES:
        raise address_locked()


def daily_failures(session: Session, address_key: str | None, *, day: date) -> int:
    """How many wrong codes the address has had today."""
    if address_key is None:
        return 0
    return (
        session.scalar(
            select(DsarCodeFailures.failures).where(
                DsarCodeFailures.address_key == address_key, DsarCodeFailures.day == day
            )
        )
        or 0
    )


def check_usable(found: DsarChallenge, req: DsarRequest, now: datetime | None = None) -> None:
    """Raise ChallengeProblem unless the challenge can confirm the request now."""
    now = now or utcnow()
    if req.status != "awaiting_identity":
        raise ChallengeProblem("closed", N_("This request does not wait for a confirmation."))
    if found.used_at is not None:
        raise ChallengeProblem("used", N_("This confirmation has been used already."))
    if found.expires_at < now:
        raise ChallengeProblem("expired", N_("This confirmation has expired."))
    if found.attempts >= MAX_CODE_ATTEMPTS:
        raise ChallengeProblem("locked", N_("Too many wrong codes: ask for a new one."))
