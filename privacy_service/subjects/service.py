"""The subjects' front door: begin and complete a login through the identity provider, find the subject a
session cookie belongs to, log out. The pages call only this module; no Flask here (the cookie values and the
settings are passed in)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.consent import service as consent
from privacy_service.dsar import service as dsar
from privacy_service.errors import N_, DomainError, NotFound, ValidationFailed, worded
from privacy_service.kernel import as_utc, utcnow
from privacy_service.subjects import identifiers as person
from privacy_service.subjects.models import SubjectSession
from privacy_service.subjects.oidc import (
    Identity,
    LoginRefused,
    OidcClient,
    OidcSettings,
    PendingLogin,
    ProviderUnavailable,
)

__all__ = [
    "LoginRefused",
    "OidcClient",
    "OidcSettings",
    "PendingLogin",
    "ProviderUnavailable",
    "SessionPolicy",
    "Subject",
    "MinSide",
    "begin_login",
    "change_my_consent",
    "min_side",
    "my_document",
    "my_request",
    "new_request",
    "complete_login",
    "current_subject",
    "end_session",
    "open_pending",
    "remove_my_portal",
    "seal_pending",
]

PENDING_MAX_AGE = 600  # seconds a person has at the provider before the attempt is void
_TOUCH_EVERY = timedelta(seconds=60)  # idle time is tracked to the minute, not with a write per request


@dataclass(frozen=True)
class SessionPolicy:
    """How long a subject's session lasts, and the instance secret its keyed hashes and seals use."""

    secret: str
    idle: timedelta = timedelta(minutes=30)
    max_age: timedelta = timedelta(hours=2)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SessionPolicy:
        """Return the policy from the app's settings."""
        return cls(
            secret=str(config["SECRET_KEY"]),
            idle=timedelta(minutes=int(config.get("PRIVACY_SUBJECT_IDLE_MINUTES") or 30)),
            max_age=timedelta(minutes=int(config.get("PRIVACY_SUBJECT_MAX_MINUTES") or 120)),
        )


@dataclass(frozen=True)
class Subject:
    """The data subject of a live session."""

    pid: str
    acr: str
    method: str  # idporten | helseid: how the identity was verified
    logged_in_at: datetime
    pid_key: str  # keyed hash of the pid, for lookups and as the audit pseudonym

    @property
    def masked_pid(self) -> str:
        """The number with the personal part hidden: the birth date shows, the five digits that make it a
        key to the person do not (e.g. "150385 *****")."""
        if len(self.pid) == 11 and self.pid.isdigit():
            return f"{self.pid[:6]} *****"
        return self.pid[:2] + "*" * max(len(self.pid) - 2, 3)

    @property
    def actor(self) -> Actor:
        """The subject as an actor of audit events, by pseudonym."""
        return _actor(self.pid_key)


def pid_key(pid: str, secret: str) -> str:
    """Return the keyed hash (HMAC-SHA256) of a national identity number under the instance secret."""
    key = hashlib.sha256(b"privacy-service subject pid\x00" + secret.encode()).digest()
    return hmac.new(key, pid.encode(), hashlib.sha256).hexdigest()


def _actor(key: str) -> Actor:
    return Actor("subject", key[:16])


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="privacy-service subject login")


def seal_pending(pending: PendingLogin, *, secret: str) -> str:
    """Sign a login attempt's state, nonce and PKCE verifier for the browser to carry to the callback."""
    return _serializer(secret).dumps([pending.state, pending.nonce, pending.code_verifier])


def open_pending(value: str | None, *, secret: str) -> PendingLogin | None:
    """Return the login attempt a sealed value holds, or None when it is missing, forged or too old."""
    if not value:
        return None
    try:
        state, nonce, verifier = _serializer(secret).loads(value, max_age=PENDING_MAX_AGE)
    except (BadSignature, ValueError, TypeError):
        return None
    return PendingLogin(state=str(state), nonce=str(nonce), code_verifier=str(verifier))


def begin_login(client: OidcClient, *, locale: str | None = None) -> tuple[PendingLogin, str]:
    """Start a login attempt: its fresh values and the provider's address to send the browser to."""
    pending = PendingLogin.new()
    return pending, client.authorization_url(pending, locale=locale)


def complete_login(
    session: Session,
    *,
    client: OidcClient,
    pending: PendingLogin | None,
    args: Mapping[str, str],
    policy: SessionPolicy,
    actor: Actor,
) -> tuple[Subject, str]:
    """Check the provider's answer and start a session; return the subject and the new cookie's token.

    A refused login raises LoginRefused after recording the refusal (without the pid) in the audit trail;
    nothing else is written.
    """
    try:
        identity = _checked_identity(client, pending, args)
    except LoginRefused as refused:
        record_event(
            session,
            actor=actor,
            action="subject.login_refused",
            object_type="subject_session",
            object_id="-",
            details={"reason": refused.reason, "method": client.settings.provider},
        )
        raise
    return _start_session(session, identity, policy)


def _checked_identity(client: OidcClient, pending: PendingLogin | None, args: Mapping[str, str]) -> Identity:
    # RFC 6749 §10.12 and RFC 9700 §4.7: the answer must belong to an attempt this browser started
    if pending is None or not hmac.compare_digest(pending.state, args.get("state") or ""):
        raise LoginRefused("state")
    # RFC 9207: an answer that names another issuer is a mix-up, whatever the token says
    if args.get("iss") and args["iss"].rstrip("/") != client.settings.issuer:
        raise LoginRefused("issuer")
    if args.get("error"):
        raise LoginRefused("cancelled" if args["error"] == "access_denied" else "provider_error")
    if not args.get("code"):
        raise LoginRefused("provider_error")
    return client.finish(pending, code=args["code"])


def _start_session(session: Session, identity: Identity, policy: SessionPolicy) -> tuple[Subject, str]:
    now = utcnow()
    session.execute(delete(SubjectSession).where(SubjectSession.expires_at < now))  # keep no stale pids
    token = secrets.token_urlsafe(32)
    key = pid_key(identity.pid, policy.secret)
    row = SubjectSession(
        token_hash=_token_hash(token),
        pid=identity.pid,
        pid_key=key,
        acr=identity.acr,
        method=identity.method,
        logged_in_at=now,
        last_seen_at=now,
        expires_at=now + policy.max_age,
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=_actor(key),
        action="subject.login",
        object_type="subject_session",
        object_id=str(row.id),
        details={"method": identity.method, "acr": identity.acr},
    )
    # issue 21: her person, found by the number the login proved, holds what her requests proved too
    person.link_at_login(
        session, pid=identity.pid, method=identity.method, secret=policy.secret, actor=_actor(key)
    )
    return _subject(row), token


def _subject(row: SubjectSession) -> Subject:
    return Subject(
        pid=row.pid, acr=row.acr, method=row.method, logged_in_at=row.logged_in_at, pid_key=row.pid_key
    )


def _live_row(session: Session, token: str | None, policy: SessionPolicy) -> SubjectSession | None:
    if not token or len(token) > 200:
        return None
    row = session.scalars(
        select(SubjectSession).where(SubjectSession.token_hash == _token_hash(token))
    ).one_or_none()
    if row is None:
        return None
    now = utcnow()
    last_seen = as_utc(row.last_seen_at)
    expires = as_utc(row.expires_at)
    assert last_seen is not None and expires is not None
    if now >= expires or now - last_seen >= policy.idle:
        session.delete(row)
        session.flush()
        return None
    return row


def current_subject(session: Session, cookie_value: str | None, *, policy: SessionPolicy) -> Subject | None:
    """Return the subject whose live session the cookie opens, or None (unknown, idle too long, expired)."""
    row = _live_row(session, cookie_value, policy)
    if row is None:
        return None
    now = utcnow()
    if now - (as_utc(row.last_seen_at) or now) >= _TOUCH_EVERY:
        row.last_seen_at = now
        session.flush()
    return _subject(row)


def end_session(session: Session, cookie_value: str | None, *, policy: SessionPolicy) -> bool:
    """Log the subject out: delete the session row, so every copy of the cookie stops working."""
    row = _live_row(session, cookie_value, policy)
    if row is None:
        return False
    record_event(
        session,
        actor=_actor(row.pid_key),
        action="subject.logout",
        object_type="subject_session",
        object_id=str(row.id),
        details={"method": row.method},
    )
    session.delete(row)
    session.flush()
    return True


# --- Min side: the person's requests and consents -----------------------------------------------------------


@dataclass
class MyConsent:
    """One of the person's consents, under one of her proved addresses or portal ids, with its history."""

    state: Any  # consent.service's state row
    activity: Any  # the registry's view of the purpose, or None if it has gone
    history: list[Any]
    portals: frozenset[str] = frozenset()  # recorded under a portal id: the portals whose user id it is


@dataclass
class MinSide:
    """What Min side shows a logged-in person."""

    requests: list[Any]
    emails: list[str]
    consents: list[MyConsent]
    activities: list[Any]  # what a new request can be about
    downloadable: set[str]  # the references whose answer can still be downloaded
    identifiers: person.MyIdentifiers = field(default_factory=person.MyIdentifiers)


def min_side(session: Session, subject: Subject, *, secret: str) -> MinSide:
    """Everything about the logged-in person: her requests (found by her proved national identity number and
    the addresses proved on them), her identifiers, and the consents recorded under her verified addresses
    and portal ids."""
    requests = dsar.requests_of_person(session, national_id=subject.pid)
    mine = person.subjects(session, pid=subject.pid, secret=secret, requests=requests)
    consents = []
    for under in mine.all():
        for state in consent.subject_states(session, subject=under):
            if not mine.owns(state):
                continue
            try:
                activity = consent.consent_activity(session, purpose=state.purpose)
            except DomainError:
                activity = None
            history = consent.history(session, subject=under, purpose=state.purpose)
            where = frozenset({mine.portals[under]}) if under in mine.portals else frozenset()
            consents.append(MyConsent(state, activity, history, where))
    ready = {r.reference for r in requests if dsar.downloadable(r)}
    return MinSide(
        requests,
        dsar.verified_emails(requests),
        consents,
        dsar.form_choices(session)[0],
        ready,
        person.identifiers(session, pid=subject.pid, secret=secret),
    )


def my_request(session: Session, subject: Subject, *, reference: str) -> Any:
    """One of the person's requests, or NotFound (another person's request is not hers to see)."""
    for req in dsar.requests_of_person(session, national_id=subject.pid):
        if req.reference == reference:
            return req
    raise NotFound(worded("No request %(reference)s of yours.", reference=reference))


def my_document(session: Session, subject: Subject, *, reference: str, kind: str) -> Any:
    """The stored answer of one of the person's requests, or NotFound."""
    req = my_request(session, subject, reference=reference)
    doc = dsar.document(session, req, kind) if dsar.downloadable(req) else None
    if doc is None:
        raise NotFound(worded("Request %(reference)s has no answer to download.", reference=reference))
    return doc


def change_my_consent(
    session: Session, subject: Subject, *, state_id: int, status: str, links: Any, lang: str, secret: str
) -> Any:
    """Give or withdraw one of the person's consents from Min side (a withdrawal sets off what it always
    does: the survey data are erased unless held, the portals are told). Only a consent recorded under an
    address or a portal id proved to be hers can be changed; anything else is NotFound."""
    if status not in ("given", "withdrawn"):
        raise ValidationFailed(N_("Give or withdraw."), fields={"status": ["given | withdrawn"]})
    state = consent.state_by_id(session, state_id=state_id)
    requests = dsar.requests_of_person(session, national_id=subject.pid)
    mine = person.subjects(session, pid=subject.pid, secret=secret, requests=requests)
    if state is None or not mine.owns(state):
        raise NotFound(N_("No such consent of yours."))
    return consent.change_stored_consent(
        session,
        key=state.subject,
        purpose=state.purpose,
        status=status,
        channel="web",
        actor=subject.actor,
        links=links,
        evidence={"min_side": subject.method, "acr": subject.acr},
        lang=lang,
    )


def remove_my_portal(session: Session, subject: Subject, *, identifier_id: int, secret: str) -> str:
    """Remove a portal's link of its user account to the logged-in person (her own links only, else
    NotFound); return the portal's name. Her account there is not touched; the portal no longer answers for
    the rest of her, nor Min side for what it recorded."""
    return person.remove_portal(
        session, pid=subject.pid, secret=secret, identifier_id=identifier_id, actor=subject.actor
    )


def new_request(
    session: Session,
    subject: Subject,
    *,
    type: str,
    activities: list[str],
    email: str | None,
    text: str | None,
    lang: str,
    links: Any,
) -> Any:
    """A request made on Min side: verified from the start by the login (the national identity number is the
    pid claim), its deadline counted from receipt. An address given here is kept for notices but proves
    nothing until it is confirmed; the answer waits on Min side."""
    data = dsar.load_request(
        {
            "type": type,
            "subject": {"national_id": subject.pid, **({"email": email} if email else {})},
            "activities": activities,
            "details": {"text": text} if text else {},
            "channel": "web",
            "language": lang,
        }
    )
    created = dsar.create_request(
        session,
        data=data,
        actor=subject.actor,
        links=links,
        verified_by=subject.method,
        verified_note="Logged in on Min side.",
    )
    return created.request
