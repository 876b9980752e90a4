"""Recording a consent change: the event, its receipt, the state and the audit event, in one transaction.

Every change takes the state row first (a write, so SQLite takes its write lock and PostgreSQL locks the row),
then appends the event and moves the state to it, in the caller's transaction with the audit event. Concurrent
writers for one subject and purpose are thereby serialised: no event is lost and the state always equals the
latest event.

What a change sets off (webhooks, mails, erasure) is effects.py's; service.change_consent does both.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.catalogue import words
from privacy_service.consent import rules
from privacy_service.consent.models import ConsentEvent, ConsentNotice, ConsentState
from privacy_service.consent.purposes import consent_activity, notice_for
from privacy_service.consent.receipt import build_receipt
from privacy_service.consent.schemas import etag
from privacy_service.consent.tokens import Links
from privacy_service.datamap import service as datamap
from privacy_service.errors import N_, DomainError, ValidationFailed, worded
from privacy_service.kernel import utcnow
from privacy_service.people import service as people
from privacy_service.ropa import service as ropa

RECEIPT_LANGUAGES = ("nb", "en")


@dataclass
class Change:
    """The outcome of a consent write: the event now current, the state, and whether anything changed."""

    event: ConsentEvent
    state: ConsentState
    changed: bool
    activity: ropa.Activity


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


def checked_key(subject: str) -> str:
    """A stored subject key (people.subject_key, holding '/'), or a subject no client asks (an officer's, a
    request's e-mail address), checked and canonical; ValidationFailed otherwise."""
    if "/" in subject:
        rules.check_subject(people.shown_subject(subject))
        return subject
    return rules.check_subject(subject)


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
    if_match: str | None = None,
    person: Any = None,
) -> Change:
    """Record that a subject gave or withdrew consent to a purpose; return the change with its receipt.

    if_match: the ETag the caller read (If-Match); a consent that changed since is PreconditionFailed, as is
    any tag, `*` too, where nothing is recorded yet (RFC 9110 §13.1.1).

    person: the person's current state (consent.service.person_state: the newest under any of her verified
    identifiers), which is what the caller read; If-Match is checked against it, and a status that repeats
    the subject's own state records a new event when another identifier of hers has changed since.

    Repeating the current status for the same notice version records nothing new (a replayed withdrawal link
    or a retried PUT is harmless) and returns the current event. Nothing is queued: service.change_consent
    records and queues the change's effects.
    """
    subject = checked_key(subject)
    _check_status_and_channel(status, channel)
    state = _lock_state(session, subject, purpose)
    current = person if person is not None and person.last_event_id != state.last_event_id else None
    if if_match is not None and not _matches(if_match, current or state):
        raise PreconditionFailed(
            N_("The consent changed since you read it (If-Match): read it again and decide again."),
            fields={"If-Match": [N_("Not the current ETag.")]},
        )
    activity = consent_activity(session, purpose)
    refusal = rules.consent_refusal(
        legal_basis=activity.legal_basis, activity_status=activity.status, status=status
    )
    if refusal:
        raise ValidationFailed(N_("Consent is not accepted for this purpose."), fields={"purpose": [refusal]})
    notice = notice_for(session, purpose, notice_version)
    repeated = state.status == status and (status == "withdrawn" or state.notice_version == notice.version)
    if repeated and current is None:
        current = session.get(ConsentEvent, state.last_event_id)
        assert current is not None
        return Change(event=current, state=state, changed=False, activity=activity)
    event = _append_event(
        session,
        state=state,
        status=status,
        channel=channel,
        activity=activity,
        notice=notice,
        links=links,
        evidence=evidence or {},
        actor=actor,
        lang=lang,
    )
    _move_state(session, state=state, event=event, notice=notice, actor=actor)
    return Change(event=event, state=state, changed=True, activity=activity)


class PreconditionFailed(DomainError):
    """If-Match named a consent state that is no longer the current one."""

    code = "precondition_failed"
    status = 412


def _matches(if_match: str, state: Any) -> bool:
    if state.status is None:  # nothing recorded: no representation for any tag, `*` included
        return False
    if if_match.strip() == "*":
        return True
    tags = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    return etag(state) in tags


def _check_status_and_channel(status: str, channel: str) -> None:
    errors: dict[str, list[str]] = {}
    if status not in rules.STATUSES:
        errors["status"] = [worded("Must be one of: %(choices)s.", choices=", ".join(rules.STATUSES))]
    if channel not in rules.CHANNELS:
        errors["channel"] = [worded("Must be one of: %(choices)s.", choices=", ".join(rules.CHANNELS))]
    if errors:
        raise ValidationFailed(N_("The consent change is not valid."), fields=errors)


def _given_before(session: Session, subject: str, purpose: str) -> bool:
    return bool(
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


def _append_event(
    session: Session,
    *,
    state: ConsentState,
    status: str,
    channel: str,
    activity: ropa.Activity,
    notice: ConsentNotice,
    links: Links,
    evidence: dict[str, Any],
    actor: Actor,
    lang: str,
) -> ConsentEvent:
    """Append the event of a change, with the receipt issued for it."""
    subject, purpose = state.subject, state.purpose
    dpv = rules.dpv_status(status, given_before=_given_before(session, subject, purpose))
    at = utcnow()
    receipt_id = str(uuid.uuid4())
    session.flush()
    organisations = ropa.list_organisations(session)
    # the data map's words for a system the record names by its key ("helsedata-survey")
    systems = {system.name: system.description for system in datamap.list_systems(session)}
    previous = session.get(ConsentEvent, state.last_event_id) if state.last_event_id else None
    issued = {  # the receipt as issued, in both languages: the reader's PDF is never rebuilt later
        language: build_receipt(
            receipt_id=receipt_id,
            subject=people.shown_subject(subject),  # as its client knows her, never another's name
            status=status,
            dpv_status=dpv,
            at=at,
            channel=channel,
            activity=activity,
            organisations=organisations,
            systems=systems,
            notice={"version": notice.version, "sha256": notice.text_sha256, "text": notice.text},
            policy_url=links.policy_url(activity.service),
            # a receipt is read with consent:read: it names the ways, never a signed link
            withdrawal_method=words("receipt.withdrawal_method", language, base_url=links.base_url),
            lang=language,
            actor=str(actor),
            previous=previous.receipt if previous is not None else None,
        )
        for language in RECEIPT_LANGUAGES
    }
    receipt = issued.pop(lang if lang in issued else "nb")
    event = ConsentEvent(
        receipt_id=receipt_id,
        subject=subject,
        purpose=purpose,
        status=status,
        dpv_status=dpv,
        notice_version=notice.version,
        notice_sha256=notice.text_sha256,
        channel=channel,
        evidence=evidence,
        actor=str(actor),
        at=at,
        receipt=receipt,
        translations=issued,
    )
    session.add(event)
    session.flush()
    return event


def _move_state(
    session: Session, *, state: ConsentState, event: ConsentEvent, notice: ConsentNotice, actor: Actor
) -> None:
    """Move the state to the new event, and write the audit event of the change."""
    newer_renewal = session.scalar(
        select(
            exists().where(
                ConsentNotice.purpose == event.purpose,
                ConsentNotice.renewal_required.is_(True),
                ConsentNotice.id > notice.id,
            )
        )
    )
    state.status, state.dpv_status, state.since = event.status, event.dpv_status, event.at
    state.notice_version, state.last_event_id = notice.version, event.id
    state.renewal_required = event.status == "given" and bool(newer_renewal)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=f"consent.{event.status}",
        object_type="consent",
        object_id=f"state:{state.id}",
        details={
            "purpose": event.purpose,
            "notice_version": notice.version,
            "channel": event.channel,
            "receipt_id": event.receipt_id,
            "event_id": event.id,
        },
    )
