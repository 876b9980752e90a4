"""Consent: record changes, read the current state, answer "may I process?", publish notices, set flags.

Every change takes the state row first (a write, so SQLite takes its write lock and PostgreSQL locks the row),
then appends the event and moves the state to it, in the caller's transaction with the audit event. Concurrent
writers for one subject and purpose are thereby serialised: no event is lost and the state always equals the
latest event.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, any_, bindparam, exists, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.consent import rules
from privacy_service.consent.models import ConsentEvent, ConsentNotice, ConsentState, ProcessingFlag, StateRow
from privacy_service.consent.receipt import build_receipt
from privacy_service.consent.tokens import Links
from privacy_service.errors import Conflict, NotFound, ValidationFailed
from privacy_service.models import utcnow
from privacy_service.ropa import service as ropa

MAX_QUERY_PAIRS = 1000


@dataclass
class Change:
    """The outcome of a consent write: the event now current, the state, and whether anything changed."""

    event: ConsentEvent
    state: ConsentState
    changed: bool
    activity: dict[str, Any]


class UnknownPurpose(NotFound):
    code = "unknown_purpose"


# --- subjects and purposes ----------------------------------------------------------------------------------


def check_subject(subject: str) -> str:
    """Return the canonical subject identifier, or raise ValidationFailed."""
    canonical = rules.normalise_subject(subject or "")
    problem = rules.subject_problem(canonical)
    if problem:
        raise ValidationFailed("The subject identifier is not accepted.", fields={"subject": [problem]})
    return canonical


def consent_activity(session: Session, purpose: str) -> dict[str, Any]:
    """Return the activity record a purpose names, or raise UnknownPurpose."""
    try:
        activity = ropa.get_activity(session, slug=purpose)
    except NotFound as err:
        raise UnknownPurpose(
            f"No processing activity {purpose!r} exists; "
            "a consent purpose is the slug of a consent-based activity.",
            fields={"purpose": ["Unknown purpose."]},
        ) from err
    return {**activity.data, "status": activity.status}


# --- notices ------------------------------------------------------------------------------------------------


def text_sha256(text: dict[str, str]) -> str:
    """The hash of a notice's text as shown (both languages, canonical JSON)."""
    body = json.dumps(text, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def publish_notice(
    session: Session,
    *,
    purpose: str,
    version: str,
    text: dict[str, str],
    renewal_required: bool,
    actor: Actor,
) -> tuple[ConsentNotice, str]:
    """Publish a notice version for a consent purpose; return it and created | unchanged.

    A published text never changes: the same version with another text is refused. A version marked as needing
    renewal flags every current consent to the purpose until the subject consents again.
    """
    activity = consent_activity(session, purpose)
    if activity["legal_basis"] != "6(1)(a)":
        raise ValidationFailed(
            "Only a consent-based activity has consent notices.",
            fields={"purpose": [f"The legal basis is Art. {activity['legal_basis']}, not consent."]},
        )
    digest = text_sha256(text)
    existing = session.scalar(
        select(ConsentNotice).where(ConsentNotice.purpose == purpose, ConsentNotice.version == version)
    )
    if existing is not None:
        if existing.text_sha256 == digest and existing.renewal_required == renewal_required:
            return existing, "unchanged"
        raise Conflict(
            f"Notice version {version!r} of {purpose!r} is already published with another text; "
            "a published notice never changes: publish a new version.",
            fields={"version": ["Already published."]},
        )
    notice = ConsentNotice(
        purpose=purpose,
        version=version,
        text=text,
        text_sha256=digest,
        renewal_required=renewal_required,
        published_by=str(actor),
    )
    session.add(notice)
    session.flush()
    flagged = 0
    if renewal_required:
        result = session.execute(
            update(ConsentState)
            .where(ConsentState.purpose == purpose, ConsentState.status == "given")
            .values(renewal_required=True)
        )
        flagged = result.rowcount or 0
    record_event(
        session,
        actor=actor,
        action="consent_notice.publish",
        object_type="consent_notice",
        object_id=f"{purpose}@{version}",
        details={"sha256": digest, "renewal_required": renewal_required, "consents_flagged": flagged},
    )
    return notice, "created"


def list_notices(session: Session, *, purpose: str | None = None) -> list[ConsentNotice]:
    """Return published notices, oldest first (per purpose)."""
    stmt = select(ConsentNotice).order_by(ConsentNotice.purpose, ConsentNotice.id)
    if purpose is not None:
        stmt = stmt.where(ConsentNotice.purpose == purpose)
    return list(session.scalars(stmt))


def _notice_for(session: Session, purpose: str, version: str | None) -> ConsentNotice:
    notices = list_notices(session, purpose=purpose)
    if not notices:
        raise ValidationFailed(
            f"No consent notice is published for {purpose!r}: publish the text subjects are shown first.",
            fields={"notice_version": ["No notice published for this purpose."]},
        )
    if version is None:
        return notices[-1]
    for notice in notices:
        if notice.version == version:
            return notice
    known = ", ".join(n.version for n in notices)
    raise ValidationFailed(
        f"Unknown notice version {version!r} for {purpose!r}.",
        fields={"notice_version": [f"Not a published version (published: {known})."]},
    )


# --- writing ------------------------------------------------------------------------------------------------


def _lock_state(session: Session, subject: str, purpose: str) -> ConsentState:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(ConsentState)
        .values(subject=subject, purpose=purpose, renewal_required=False)
        .on_conflict_do_nothing(index_elements=["subject", "purpose"])
    )
    state = session.scalar(
        select(ConsentState)
        .where(ConsentState.subject == subject, ConsentState.purpose == purpose)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert state is not None  # inserted above, or already there
    return state


def record_consent(
    session: Session,
    *,
    subject: str,
    purpose: str,
    status: str,
    channel: str,
    actor: Actor,
    links: Links,
    notice_version: str | None = None,
    evidence: dict[str, Any] | None = None,
    lang: str = "nb",
) -> Change:
    """Record that a subject gave or withdrew consent to a purpose; return the change with its receipt.

    Repeating the current status for the same notice version records nothing new (a replayed withdrawal link
    or a retried PUT is harmless) and returns the current event.
    """
    subject = check_subject(subject)
    errors: dict[str, list[str]] = {}
    if status not in rules.STATUSES:
        errors["status"] = [f"Must be one of: {', '.join(rules.STATUSES)}."]
    if channel not in rules.CHANNELS:
        errors["channel"] = [f"Must be one of: {', '.join(rules.CHANNELS)}."]
    if errors:
        raise ValidationFailed("The consent change is not valid.", fields=errors)
    state = _lock_state(session, subject, purpose)
    activity = consent_activity(session, purpose)
    refusal = rules.consent_refusal(
        legal_basis=activity["legal_basis"], activity_status=activity["status"], status=status
    )
    if refusal:
        raise ValidationFailed("Consent is not accepted for this purpose.", fields={"purpose": [refusal]})
    notice = _notice_for(session, purpose, notice_version)
    if state.status == status and (status == "withdrawn" or state.notice_version == notice.version):
        current = session.get(ConsentEvent, state.last_event_id)
        assert current is not None
        return Change(event=current, state=state, changed=False, activity=activity)
    given_before = bool(
        session.scalar(
            select(
                exists().where(
                    ConsentEvent.subject == subject,
                    ConsentEvent.purpose == purpose,
                    ConsentEvent.status == "given",
                )
            )
        )
    )
    dpv = rules.dpv_status(status, given_before=given_before)
    at = utcnow()
    receipt_id = str(uuid.uuid4())
    session.flush()
    receipt = build_receipt(
        receipt_id=receipt_id,
        subject=subject,
        status=status,
        dpv_status=dpv,
        at=at,
        channel=channel,
        activity=activity,
        organisations=ropa.list_organisations(session),
        notice={"version": notice.version, "sha256": notice.text_sha256},
        policy_url=links.policy_url(activity["service"]),
        withdrawal_method=(
            f"{links.withdraw_url(state.id or 0, purpose)} (or PUT /api/v1/consents with status withdrawn)"
        ),
        lang=lang,
    )
    event = ConsentEvent(
        receipt_id=receipt_id,
        subject=subject,
        purpose=purpose,
        status=status,
        dpv_status=dpv,
        notice_version=notice.version,
        notice_sha256=notice.text_sha256,
        channel=channel,
        evidence=evidence or {},
        actor=str(actor),
        at=at,
        receipt=receipt,
    )
    session.add(event)
    session.flush()
    newer_renewal = session.scalar(
        select(
            exists().where(
                ConsentNotice.purpose == purpose,
                ConsentNotice.renewal_required.is_(True),
                ConsentNotice.id > notice.id,
            )
        )
    )
    state.status, state.dpv_status, state.since = status, dpv, at
    state.notice_version, state.last_event_id = notice.version, event.id
    state.renewal_required = status == "given" and bool(newer_renewal)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=f"consent.{status}",
        object_type="consent",
        object_id=f"state:{state.id}",
        details={
            "purpose": purpose,
            "notice_version": notice.version,
            "channel": channel,
            "receipt_id": receipt_id,
            "event_id": event.id,
        },
    )
    return Change(event=event, state=state, changed=True, activity=activity)


# --- reading ------------------------------------------------------------------------------------------------

STATE_COLUMNS = tuple(getattr(ConsentState, name) for name in StateRow._fields)


def get_state(session: Session, *, subject: str, purpose: str) -> StateRow | None:
    """Return the current state of a subject and purpose, or None if never recorded."""
    row = session.execute(
        select(*STATE_COLUMNS).where(
            ConsentState.subject == rules.normalise_subject(subject),
            ConsentState.purpose == purpose,
            ConsentState.status.is_not(None),
        )
    ).first()
    return StateRow._make(row) if row is not None else None


def query_states(session: Session, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StateRow]:
    """Return the states of many (subject, purpose) pairs in one statement, keyed by the canonical pair."""
    if len(pairs) > MAX_QUERY_PAIRS:
        raise ValidationFailed(
            f"At most {MAX_QUERY_PAIRS} pairs per query.",
            fields={"pairs": [f"{len(pairs)} given; send at most {MAX_QUERY_PAIRS}."]},
        )
    keys = {(rules.normalise_subject(s), p) for s, p in pairs}
    if not keys:
        return {}
    subjects, purposes = sorted({s for s, __ in keys}), sorted({p for __, p in keys})
    if session.get_bind().dialect.name == "postgresql":
        # Two array parameters: one plan and an index scan, however many pairs (IN lists cost per item).
        wanted = and_(
            ConsentState.subject == any_(bindparam("subjects", subjects, type_=ARRAY(String))),
            ConsentState.purpose == any_(bindparam("purposes", purposes, type_=ARRAY(String))),
        )
    else:
        wanted = and_(ConsentState.subject.in_(subjects), ConsentState.purpose.in_(purposes))
    rows = session.execute(select(*STATE_COLUMNS).where(wanted, ConsentState.status.is_not(None)))
    states = map(StateRow._make, rows)
    return {(s.subject, s.purpose): s for s in states if (s.subject, s.purpose) in keys}


def history(session: Session, *, subject: str, purpose: str) -> list[ConsentEvent]:
    """Return every consent event of a subject and purpose, oldest first."""
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.subject == rules.normalise_subject(subject), ConsentEvent.purpose == purpose)
            .order_by(ConsentEvent.id)
        )
    )


def state_by_id(session: Session, *, state_id: int) -> ConsentState | None:
    """Return a recorded consent state by its id (withdrawal links name it), or None."""
    state = session.get(ConsentState, state_id)
    return state if state is not None and state.status is not None else None


def get_receipt(session: Session, *, receipt_id: str) -> ConsentEvent:
    """Return the event a receipt id names, or raise NotFound."""
    event = session.scalar(select(ConsentEvent).where(ConsentEvent.receipt_id == receipt_id))
    if event is None:
        raise NotFound("No consent receipt has this id.")
    return event


def subject_states(session: Session, *, subject: str) -> list[ConsentState]:
    """Return every recorded consent of a subject (for officers and access requests)."""
    return list(
        session.scalars(
            select(ConsentState)
            .where(ConsentState.subject == rules.normalise_subject(subject), ConsentState.status.is_not(None))
            .order_by(ConsentState.purpose)
        )
    )


# --- may I process? -----------------------------------------------------------------------------------------


def processing_status(session: Session, *, subject: str, activity: str) -> dict[str, Any]:
    """Answer whether the subject's data may be processed in the activity, and why not.

    An upheld objection wins over a restriction, which wins over consent; an activity not based on consent is
    allowed unless flagged.
    """
    subject = check_subject(subject)
    record = consent_activity(session, activity)
    flags = set(
        session.scalars(
            select(ProcessingFlag.kind).where(
                ProcessingFlag.subject == subject,
                ProcessingFlag.activity == activity,
                ProcessingFlag.lifted_at.is_(None),
            )
        )
    )
    answer: dict[str, Any] = {"subject": subject, "activity": activity, "renewal_required": False}
    if "objected" in flags:
        return {**answer, "status": "objected"}
    if "restricted" in flags:
        return {**answer, "status": "restricted"}
    if record["legal_basis"] != "6(1)(a)":
        return {**answer, "status": "allowed"}
    state = get_state(session, subject=subject, purpose=activity)
    if state is None:
        return {**answer, "status": "no_consent"}
    if state.status == "withdrawn":
        return {**answer, "status": "consent_withdrawn"}
    return {**answer, "status": "allowed", "renewal_required": bool(state.renewal_required)}


def set_flag(
    session: Session, *, subject: str, activity: str, kind: str, actor: Actor, reference: str | None = None
) -> ProcessingFlag:
    """Restrict, or stop after an upheld objection, one subject's processing in an activity."""
    if kind not in rules.FLAG_KINDS:
        raise ValidationFailed(
            "Unknown flag.", fields={"kind": [f"Must be one of: {', '.join(rules.FLAG_KINDS)}."]}
        )
    subject = check_subject(subject)
    consent_activity(session, activity)
    flag = ProcessingFlag(
        subject=subject, activity=activity, kind=kind, reference=reference, set_by=str(actor)
    )
    session.add(flag)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=f"processing.{kind}",
        object_type="processing_flag",
        object_id=str(flag.id),
        details={"activity": activity, "reference": reference},
    )
    return flag


def lift_flag(session: Session, *, flag_id: int, actor: Actor) -> ProcessingFlag:
    """Lift a restriction or objection flag (the subject must have been told first, Art. 18(3))."""
    flag = session.get(ProcessingFlag, flag_id)
    if flag is None or flag.lifted_at is not None:
        raise NotFound("No active processing flag has this id.")
    flag.lifted_at, flag.lifted_by = utcnow(), str(actor)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=f"processing.{flag.kind}.lift",
        object_type="processing_flag",
        object_id=str(flag.id),
        details={"activity": flag.activity, "reference": flag.reference},
    )
    return flag


def status_counts(session: Session) -> dict[str, dict[str, int]]:
    """How many subjects currently have each status, per purpose."""
    rows = session.execute(
        select(ConsentState.purpose, ConsentState.status, func.count())
        .where(ConsentState.status.is_not(None))
        .group_by(ConsentState.purpose, ConsentState.status)
    )
    out: dict[str, dict[str, int]] = {}
    for purpose, status, count in rows:
        out.setdefault(purpose, {})[status] = count
    return out


def consent_purposes(session: Session) -> list[dict[str, Any]]:
    """Return the consent-based activities with their published notice versions."""
    notices: dict[str, list[ConsentNotice]] = {}
    for notice in list_notices(session):
        notices.setdefault(notice.purpose, []).append(notice)
    items, __ = ropa.list_activities(
        session, filters=ropa.ActivityFilter(legal_basis="6(1)(a)"), per_page=10_000
    )
    return [{"activity": a, "notices": notices.get(a.slug, [])} for a in items]
