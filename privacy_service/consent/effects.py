"""What a consent change sets off, queued in the change's own transaction (notify's outbox).

- every change: the consent.changed webhook to the portal services that recorded a consent of this subject
  for this purpose, and to those that linked the person, each under its own user id of her (no other client
  hears of it);
- consent given, the subject an e-mail address: the receipt by e-mail, with a one-click withdrawal link
  (RFC 8058 List-Unsubscribe-Post);
- consent withdrawn: the activity's `on_withdrawal` action. `erase` runs as a task: the subject's rows of the
  activity, under every verified identifier of the person she is, are erased through the data map, except
  rows an active hold protects, and the subject is told what was erased and what was kept and why. `stop`
  (the default) erases nothing: processing stops because the status API now answers consent_withdrawn.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from privacy_service import notify, webhooks
from privacy_service.audit import SYSTEM, record_event
from privacy_service.consent import messages
from privacy_service.consent.models import ConsentEvent
from privacy_service.consent.record import Change
from privacy_service.consent.tokens import Links
from privacy_service.datamap.actions import erase_subject_rows
from privacy_service.datamap.schemas import is_identity_kind
from privacy_service.people import service as people
from privacy_service.retention.service import holds_by_id, protector, public_text

ERASE_TASK = "consent.erase"


def subject_identity(key: str) -> dict[str, str]:
    """How the data map finds a consent subject key (people.subject_key): an e-mail address by address; a
    portal's user id only in the columns the data map says hold that portal's own user ids
    (`portal:<client>`), never in a column another portal's ids could match; a subject no client recorded,
    by account id. Empty: no column can hold her."""
    client, shown = people.key_client(key), people.shown_subject(key)
    if client is None:
        return {"email": key} if "@" in key else {"account_id": key}
    kind = f"portal:{client}"
    return {kind: shown} if is_identity_kind(kind) else {}


def recording_clients(session: Session, *, subjects: list[str], purpose: str | None = None) -> set[str]:
    """The API clients that recorded a consent of these subjects (for one purpose, or any)."""
    if not subjects:
        return set()
    stmt = select(ConsentEvent.actor).distinct().where(ConsentEvent.subject.in_(subjects))
    if purpose is not None:
        stmt = stmt.where(ConsentEvent.purpose == purpose)
    return {client for actor in session.scalars(stmt) if (client := webhooks.client_of(actor))}


def after_change(session: Session, change: Change, *, links: Links, notify_subject: bool = True) -> None:
    """Queue the webhook, the subject's mail and the withdrawal action of a recorded change."""
    if not change.changed:
        return
    event, state, activity = change.event, change.state, change.activity
    client = people.key_client(event.subject)  # the portal whose own user id the subject is, if any
    data = {
        "subject": people.shown_subject(event.subject),
        "purpose": event.purpose,
        "status": event.status,
        "dpv_status": event.dpv_status,
        "since": event.at.isoformat(),
        "notice_version": event.notice_version,
        "receipt_id": event.receipt_id,
        "event_id": event.id,
    }
    recorders = recording_clients(session, subjects=[event.subject], purpose=event.purpose)
    webhooks.enqueue_event(session, event="consent.changed", clients=recorders, data=data)
    # The portals that linked the person hear of it too, each under its own user id of her: the change is
    # the person's now (people.md). The receipt is another client's to read, so its id is not sent.
    linked = people.portals_of(session, people.shown_subject(event.subject), client=client)
    others = {name: ids for name, ids in linked.items() if name not in recorders}
    webhooks.enqueue_event(
        session,
        event="consent.changed",
        clients=others,
        data={**data, "receipt_id": None},
        client_only={name: {"subject": ids[0], "portal_ids": ids} for name, ids in others.items()},
    )
    lang = event.receipt.get("language", "nb")
    name = activity.name.get(lang) or event.purpose
    to = event.subject if client is None and "@" in event.subject and notify_subject else None
    if event.status == "given":
        if to:
            withdraw = links.withdraw_url(state.id or 0, event.purpose)
            subject, text = messages.receipt_mail(
                lang, activity=name, receipt=event.receipt, withdraw_url=withdraw
            )
            notify.enqueue_email(
                session,
                event="consent.receipt",
                to=to,
                subject=subject,
                text=text,
                list_unsubscribe_url=withdraw,
            )
        return
    if activity.on_withdrawal == "erase":
        notify.enqueue_task(
            session,
            task=ERASE_TASK,
            payload={
                "subject": event.subject,
                # the withdrawal is the person's: her rows under every verified identifier go (people.md)
                "subjects": people.subjects_for(session, people.shown_subject(event.subject), client=client),
                "purpose": event.purpose,
                "event_id": event.id,
                "state_id": state.id,
                "lang": lang,
                "activity_name": name,
                "notify": bool(to),
            },
        )
    elif to:
        subject, text = messages.withdrawn_mail(lang, activity=name, erased=None, kept=[])
        notify.enqueue_email(session, event="consent.withdrawn", to=to, subject=subject, text=text)


def erase_after_withdrawal(session: Session, payload: dict[str, Any], transport: notify.Transport) -> None:
    """The erase task: erase the subject's rows of the activity, except held rows; audit; tell the subject."""
    if transport.instance_path is None:
        raise RuntimeError("the erase task needs the instance path (data systems)")
    results = []
    for subject in payload.get("subjects") or [payload["subject"]]:  # tasks queued before issue 21: one
        identity = subject_identity(subject)
        if not identity:
            continue
        results += erase_subject_rows(
            session,
            identity=identity,
            instance_path=transport.instance_path,
            activity=payload["purpose"],
            protect=protector(session, identity=identity),
        )
    held_ids = sorted({hold_id for r in results for hold_id in r.held})
    record_event(
        session,
        actor=SYSTEM,
        action="consent.withdrawal.erase",
        object_type="consent",
        object_id=f"state:{payload['state_id']}",
        details={
            "purpose": payload["purpose"],
            "event_id": payload["event_id"],
            "tables": [
                {"table": f"{r.system}.{r.table}", "found": r.found, "erased": r.erased, "held": r.held}
                for r in results
            ],
            "holds": held_ids,
        },
    )
    if payload.get("notify"):
        found = holds_by_id(session, set(held_ids))
        kept = [found.get(hold_id) for hold_id in held_ids]
        lang = payload.get("lang", "nb")
        subject, text = messages.withdrawn_mail(
            lang,
            activity=payload["activity_name"],
            erased=sum(r.erased for r in results),
            kept=[  # what the subject may read about each hold: its public text, never its basis
                (sum(r.held.get(h.id, 0) for r in results), public_text(h.kind, h.public_text, lang))
                for h in kept
                if h is not None
            ],
        )
        notify.enqueue_email(
            session, event="consent.withdrawn", to=payload["subject"], subject=subject, text=text
        )
