"""Consent's front door: record changes and queue their effects, read states, answer "may I process?", publish
notices, set flags.

Routes, pages, the CLI and other packages call this module; the modules below it (purposes, record, states,
effects, receipt, tokens, rules) never import it back. A consent change is change_consent: it records the
change and queues its effects. record_consent alone queues nothing; only an import of consents another system
collected and receipted (the demo's survey tool) calls it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from privacy_service import notify, webhooks
from privacy_service.audit import Actor, record_event
from privacy_service.catalogue import MissingText, words
from privacy_service.consent import effects, rules
from privacy_service.consent.effects import ERASE_TASK, erase_after_withdrawal
from privacy_service.consent.models import ConsentEvent, ConsentState, ProcessingFlag, StateRow
from privacy_service.consent.purposes import (
    UnknownPurpose,
    consent_activity,
    consent_purposes,
    list_notices,
    publish_notice,
    text_sha256,
)
from privacy_service.consent.record import Change, checked_key, record_consent
from privacy_service.consent.rules import check_subject
from privacy_service.consent.states import (
    MAX_QUERY_PAIRS,
    get_receipt,
    get_state,
    history,
    keys_named,
    latest_state,
    recorded_by,
    state_by_id,
    status_counts,
    subject_consents,
    subject_states,
)
from privacy_service.consent.states import query_states as states_query
from privacy_service.consent.tokens import Links, TokenProblem, read_token
from privacy_service.errors import N_, NotFound, ValidationFailed, worded
from privacy_service.kernel import utcnow
from privacy_service.people import service as people
from privacy_service.ropa.service import Activity

# Consents and flags are stored under subject keys: an e-mail address, or `<client>/<id>`
# (people.subject_key).
subject_key, shown_subject, key_client = people.subject_key, people.shown_subject, people.key_client


def code_words(code: str | None, lang: str) -> str:
    """A channel or DPV status code in a reader's words (the receipt's catalogue); the code itself where the
    catalogue has none."""
    try:
        return words(f"receipt_words.{code}", lang)
    except MissingText:
        return code or "—"


__all__ = [
    "ERASE_TASK",
    "MAX_QUERY_PAIRS",
    "Activity",
    "Change",
    "Links",
    "StateRow",
    "TokenProblem",
    "UnknownPurpose",
    "change_consent",
    "change_stored_consent",
    "check_subject",
    "code_words",
    "consent_activity",
    "consent_purposes",
    "delivery_log",
    "erase_after_withdrawal",
    "get_receipt",
    "recorded_by",
    "get_state",
    "history",
    "key_client",
    "keys_named",
    "lift_flag",
    "lift_flags",
    "list_notices",
    "person_state",
    "processing_status",
    "publish_notice",
    "query_states",
    "receipt_pdf",
    "record_consent",
    "set_flag",
    "shown_subject",
    "state_by_id",
    "status_counts",
    "subject_consents",
    "subject_key",
    "subject_states",
    "text_sha256",
    "withdraw_by_link",
    "withdrawal_target",
]


# --- changing -----------------------------------------------------------------------------------------------


def change_consent(
    session: Session,
    *,
    subject: str,
    actor: Actor,
    **change: Any,
) -> Change:
    """Record that a subject, as a client asks it, gave or withdrew consent (change_stored_consent): an
    e-mail address, or the recording client's own user id (the actor's client). A subject holding '/' is
    refused, so no caller names another client's key."""
    key = people.subject_key(check_subject(subject), webhooks.client_of(str(actor)))
    return change_stored_consent(session, key=key, actor=actor, **change)


def change_stored_consent(
    session: Session,
    *,
    key: str,
    purpose: str,
    status: str,
    channel: str,
    actor: Actor,
    links: Links,
    notice_version: str | None = None,
    evidence: dict[str, Any] | None = None,
    lang: str = "nb",
    notify_subject: bool = True,
    if_match: str | None = None,
) -> Change:
    """Record that the subject a stored key names (people.subject_key: a withdrawal link's state, a
    request's or Min side's subject) gave or withdrew consent, and queue what that sets off; return the
    change.

    The webhook, the subject's mail and a withdrawal's erasure are queued in the same transaction as the
    change (effects.py), so a change is never recorded without them. notify_subject: mail the subject.
    """
    client = people.key_client(key)  # record_consent checks the key
    change = record_consent(
        session,
        subject=key,
        purpose=purpose,
        status=status,
        channel=channel,
        actor=actor,
        links=links,
        notice_version=notice_version,
        evidence=evidence,
        lang=lang,
        if_match=if_match,
        person=person_state(session, subject=people.shown_subject(key), purpose=purpose, client=client),
    )
    effects.after_change(session, change, links=links, notify_subject=notify_subject)
    return change


def withdrawal_target(session: Session, *, secret_key: str, token: str) -> tuple[ConsentState, Activity]:
    """Return the consent state and activity a withdrawal link names, or raise TokenProblem."""
    state_id, purpose = read_token(secret_key, token)
    state = state_by_id(session, state_id=state_id)
    if state is None or state.purpose != purpose:
        raise TokenProblem("invalid")
    return state, consent_activity(session, purpose)


def withdraw_by_link(
    session: Session, *, state: ConsentState, links: Links, one_click: bool, lang: str
) -> Change:
    """Withdraw the consent a withdrawal link names, as its subject (Art. 7(3): as easy as giving it)."""
    return change_stored_consent(
        session,
        key=state.subject,
        purpose=state.purpose,
        status="withdrawn",
        channel="email",
        actor=Actor("subject", f"consent-state:{state.id}"),
        links=links,
        evidence={"via": "one-click" if one_click else "withdrawal page"},
        lang=lang,
    )


def recording_clients(session: Session, *, subjects: list[str]) -> set[str]:
    """The API clients that recorded a consent of any of these subjects (webhook audiences)."""
    return effects.recording_clients(session, subjects=subjects)


def receipt_pdf(event: ConsentEvent, *, lang: str | None = None) -> bytes:
    """Render the receipt of one change as PDF in the reader's language (default: the one it was issued in).

    The receipt is printed as issued in that language; an event recorded before receipts were kept in both
    languages has only the one it was issued in, and is printed in it.
    """
    from privacy_service.consent.pdf import render_receipt_pdf  # reportlab loads on the first PDF

    issued = event.receipt.get("language", "nb")
    receipt = (event.translations or {}).get(lang or issued) or event.receipt
    return render_receipt_pdf(receipt, lang=receipt.get("language", issued))


def delivery_log(session: Session) -> dict[str, Any]:
    """The webhook and e-mail delivery log: the newest messages, their attempts, the subscriptions."""
    messages = notify.list_messages(session)
    return {
        "messages": messages,
        "attempts": notify.attempts_for(session, [m.id for m in messages if m.id is not None]),
        "subscriptions": webhooks.list_subscriptions(session),
    }


# --- may I process? -----------------------------------------------------------------------------------------


def person_state(session: Session, *, subject: str, purpose: str, client: str | None) -> StateRow | None:
    """The current consent of the person an identifier resolves to (for the asking client: people.lookup),
    read as the asked subject's: the newest state recorded under any of her verified identifiers."""
    subject = check_subject(subject)
    return latest_state(
        session, subjects=people.subjects_for(session, subject, client=client), purpose=purpose
    )


def query_states(
    session: Session, pairs: list[tuple[str, str]], *, client: str | None = None
) -> dict[tuple[str, str], StateRow]:
    """person_state of many (subject, purpose) pairs, in three statements whatever their number."""
    subjects = sorted({rules.normalise_subject(s) for s, __ in pairs})
    same = people.subjects_for_many(session, subjects, client=client) if pairs else {}
    return states_query(session, pairs, subjects_of=same)


def processing_status(
    session: Session, *, subject: str, activity: str, client: str | None = None
) -> dict[str, Any]:
    """Answer whether the subject's data may be processed in the activity, and why not.

    An upheld objection wins over a restriction, which wins over consent; an activity not based on consent is
    allowed unless flagged. The person the subject resolves to (for the asking client) answers: a flag or a
    consent recorded under any of her verified identifiers counts.
    """
    subject = check_subject(subject)
    legal_basis = consent_activity(session, activity).legal_basis
    subjects = people.subjects_for(session, subject, client=client)
    flags = set(
        session.scalars(
            select(ProcessingFlag.kind).where(
                ProcessingFlag.subject.in_(subjects),
                ProcessingFlag.activity == activity,
                ProcessingFlag.lifted_at.is_(None),
            )
        )
    )
    state = latest_state(session, subjects=subjects, purpose=activity) if legal_basis == "6(1)(a)" else None
    status, renewal = rules.processing_answer(
        legal_basis=legal_basis,
        flags=flags,
        state_status=state.status if state is not None else None,
        renewal_required=bool(state and state.renewal_required),
    )
    return {"subject": subject, "activity": activity, "status": status, "renewal_required": renewal}


def set_flag(
    session: Session, *, subject: str, activity: str, kind: str, actor: Actor, reference: str | None = None
) -> ProcessingFlag:
    """Restrict, or stop after an upheld objection, one subject's processing in an activity (subject: an
    e-mail address or a stored subject key)."""
    if kind not in rules.FLAG_KINDS:
        raise ValidationFailed(
            N_("Unknown flag."),
            fields={"kind": [worded("Must be one of: %(choices)s.", choices=", ".join(rules.FLAG_KINDS))]},
        )
    subject = checked_key(subject)
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
        raise NotFound(N_("No active processing flag has this id."))
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


def lift_flags(session: Session, *, reference: str, activity: str, kind: str, actor: Actor) -> int:
    """Lift the active flags of one kind a request set in an activity (for a restriction, the request must
    have told the subject first, Art. 18(3)); return how many."""
    ids = session.scalars(
        select(ProcessingFlag.id).where(
            ProcessingFlag.reference == reference,
            ProcessingFlag.activity == activity,
            ProcessingFlag.kind == kind,
            ProcessingFlag.lifted_at.is_(None),
        )
    ).all()
    for flag_id in ids:
        lift_flag(session, flag_id=flag_id, actor=actor)
    return len(ids)


def consent_counts(session: Session, *, since: datetime) -> dict[str, dict[str, int]]:
    """Per purpose, the consents given and withdrawn since a moment (for the officers' start page)."""
    rows = session.execute(
        select(ConsentEvent.purpose, ConsentEvent.status, func.count())
        .where(ConsentEvent.at >= since)
        .group_by(ConsentEvent.purpose, ConsentEvent.status)
    )
    out: dict[str, dict[str, int]] = {}
    for purpose, status, count in rows:
        out.setdefault(purpose, {"given": 0, "withdrawn": 0})[status] = count
    return out
