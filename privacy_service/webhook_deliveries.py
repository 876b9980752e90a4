"""A subscription's own deliveries, as its developer needs them: a test ping, the listing, redelivery.

Each acts on one subscription and answers for it only to the client that owns it (an officer may act on any):
another client's subscription or delivery is "not found", never "forbidden", so its existence is not told.
Pings and redeliveries go through the webhook lane like every event (webhooks.py): signed at the moment of
sending, so a redelivered event carries a fresh `t` in X-Privacy-Signature and passes the receiver's
timestamp check however old the event is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.errors import N_, Conflict, NotFound, worded
from privacy_service.kernel import utcnow
from privacy_service.notify import DeliveryAttempt, OutboxMessage
from privacy_service.webhooks import PING, WebhookSubscription, queue_delivery


class DeliveryPending(Conflict):
    """A delivery still waiting to be sent cannot be queued again."""

    code = "delivery_pending"


def get_subscription(
    session: Session, *, subscription_id: int, client: str | None, active: bool = True
) -> WebhookSubscription:
    """Return a subscription the caller may act on (a client: only its own; None: an officer), or NotFound."""
    sub = session.get(WebhookSubscription, subscription_id)
    if sub is None or (client is not None and sub.client != client):
        raise NotFound(N_("No subscription has this id."))
    if active and not sub.active:
        raise NotFound(N_("No active subscription has this id."))
    return sub


def ping(session: Session, *, subscription_id: int, client: str | None, actor: Actor) -> dict[str, Any]:
    """Queue a `webhook.ping` to this one subscription, whatever events it subscribes to, so its developer can
    check the receiver and the signature check before a real event depends on them."""
    sub = get_subscription(session, subscription_id=subscription_id, client=client)
    message = queue_delivery(
        session, subscription=sub, event=PING, data={"subscription_id": sub.id, "events": sub.events}
    )
    session.flush()
    record_event(
        session,
        actor=actor,
        action="webhook.ping",
        object_type="webhook_subscription",
        object_id=str(sub.id),
        details={"client": sub.client, "delivery": message.id},
    )
    return delivery_rows(session, [message])[0]


def list_deliveries(
    session: Session, *, subscription_id: int, client: str | None, page: int = 1, per_page: int = 100
) -> dict[str, Any]:
    """One page of a subscription's deliveries, newest first (an ended subscription's too: its history)."""
    sub = get_subscription(session, subscription_id=subscription_id, client=client, active=False)
    own = (OutboxMessage.kind == "webhook") & (OutboxMessage.subscription_id == sub.id)
    total = session.scalar(select(func.count()).select_from(OutboxMessage).where(own)) or 0
    newest = select(OutboxMessage).where(own).order_by(OutboxMessage.id.desc())
    messages = list(session.scalars(newest.offset((page - 1) * per_page).limit(per_page)))
    return {"items": delivery_rows(session, messages), "total": total, "page": page, "per_page": per_page}


def redeliver(
    session: Session, *, subscription_id: int, delivery_id: int, client: str | None, actor: Actor
) -> dict[str, Any]:
    """Queue a delivered or failed delivery again: the same id and body, a fresh signature when sent.

    The id stays, as a redelivery is the same delivery again (receivers drop a repeat of an id they have
    handled); its retries start afresh, and the listing still counts every attempt ever made."""
    sub = get_subscription(session, subscription_id=subscription_id, client=client)
    message = session.get(OutboxMessage, delivery_id)
    if message is None or message.kind != "webhook" or message.subscription_id != sub.id:
        raise NotFound(N_("This subscription has no delivery with this id."))
    was = message.status
    # one statement that re-queues only what is not pending, so two redeliveries at once queue it once
    requeued = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status != "pending")
        .values(status="pending", attempts=0, delivered_at=None, next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(message)
    if requeued.rowcount != 1:
        raise DeliveryPending(
            worded(
                "Delivery %(delivery)s is still waiting to be sent; send it again once it is delivered or "
                "has failed.",
                delivery=message.id,
            )
        )
    record_event(
        session,
        actor=actor,
        action="webhook.redeliver",
        object_type="webhook_delivery",
        object_id=str(message.id),
        details={"client": sub.client, "subscription": sub.id, "was": was},
    )
    return delivery_rows(session, [message])[0]


def delivery_rows(session: Session, messages: list[OutboxMessage]) -> list[dict[str, Any]]:
    """The deliveries as their subscriber reads them: state, every attempt counted, the last answer; never
    the body (the subscriber has it) nor anything of another client."""
    ids = [m.id for m in messages if m.id is not None]
    stats: dict[int, tuple[int, DeliveryAttempt | None]] = {}
    if ids:
        counted = (
            select(DeliveryAttempt.message_id, func.count(), func.max(DeliveryAttempt.id))
            .where(DeliveryAttempt.message_id.in_(ids))
            .group_by(DeliveryAttempt.message_id)
        )
        counts = {message_id: (count, last_id) for message_id, count, last_id in session.execute(counted)}
        latest = select(DeliveryAttempt).where(DeliveryAttempt.id.in_([i for _, i in counts.values()]))
        last = {a.id: a for a in session.scalars(latest)}
        stats = {message_id: (count, last[last_id]) for message_id, (count, last_id) in counts.items()}
    rows = []
    for m in messages:
        count, attempt = stats.get(m.id or 0, (0, None))
        rows.append(
            {
                "id": m.id,
                "event": m.event,
                "created_at": m.created_at,
                "state": m.status,
                "attempts": count,
                "last_status_code": attempt.status_code if attempt else None,
                "last_error": attempt.error if attempt else None,
                "last_attempt_at": attempt.at if attempt else None,
                "next_attempt_at": m.next_attempt_at if m.status == "pending" else None,
                "delivered_at": m.delivered_at,
            }
        )
    return rows
