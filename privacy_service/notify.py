"""E-mail and follow-up tasks through a durable outbox, delivered with retry and backoff.

A message is written to the outbox in the same transaction as the change it reports, so a change is never
committed without its notifications, and a notification never goes out for a change that rolled back.
The dispatcher (`privacy-service outbox deliver`, and the scheduler) sends what is due, one row per short
transaction; on PostgreSQL rows are claimed with FOR UPDATE SKIP LOCKED: no message is sent twice.

Webhooks wait in the same outbox (written in the change's transaction) but are delivered in a lane of their
own, so mail and tasks never wait behind a slow receiver: see webhooks.py. They carry
`X-Privacy-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` keyed with the subscription's
secret, `X-Privacy-Event` and `X-Privacy-Delivery` (the outbox id: receivers drop repeats).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, select
from sqlmodel import Field, Session, SQLModel

from privacy_service.columns import json_column, tz_column
from privacy_service.errors import DomainError
from privacy_service.kernel import utcnow
from privacy_service.mail import MailError, build_message, send_message

# Work queued with a change and done after it, with the same retries: kind "task", handled by name.
TaskHandler = Callable[[Session, dict[str, Any], "Transport"], None]
TASKS: dict[str, TaskHandler] = {}


def register_task(name: str, handler: TaskHandler) -> None:
    """Register the handler of a task kind (the app factory registers every package's)."""
    TASKS[name] = handler


log = logging.getLogger(__name__)
MAX_ATTEMPTS = 30
FIRST_DELAY = timedelta(seconds=10)
MAX_DELAY = timedelta(hours=1)


class OutboxMessage(SQLModel, table=True):
    """One e-mail or webhook delivery waiting, done or given up."""

    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # email | webhook | task
    event: str = Field(max_length=60)
    subscription_id: int | None = Field(default=None, foreign_key="webhook_subscription.id", index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    status: str = Field(default="pending", max_length=10, index=True)  # pending | delivered | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(index=True))
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    delivered_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))


class DeliveryAttempt(SQLModel, table=True):
    """One try at delivering an outbox message: the delivery log officers read."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outbox_message.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    ok: bool
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int = 0


# --- enqueueing (in the caller's transaction; webhooks: see webhooks.py) ---------------------------------


def enqueue_email(
    session: Session,
    *,
    event: str,
    to: str,
    subject: str,
    text: str,
    list_unsubscribe_url: str | None = None,
) -> None:
    """Queue an e-mail to a subject; the dispatcher sends it (with RFC 8058 headers when a link is given)."""
    session.add(
        OutboxMessage(
            kind="email",
            event=event,
            payload={
                "to": to,
                "subject": subject,
                "text": text,
                "list_unsubscribe_url": list_unsubscribe_url,
            },
        )
    )


def enqueue_task(session: Session, *, task: str, payload: dict[str, Any]) -> None:
    """Queue work to do after the change commits (retried like a delivery until it succeeds)."""
    if task not in TASKS:
        raise ValueError(f"no handler registered for task {task!r}")
    session.add(OutboxMessage(kind="task", event=task, payload=payload))


# --- delivering ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transport:
    """Where mail goes, and how webhooks are sent (webhooks.py)."""

    smtp_url: str | None
    outbox_dir: Path
    sender: str = "personvern@localhost"
    http_timeout: float = 5.0
    webhook_allow_http: bool = False  # PRIVACY_WEBHOOK_ALLOW_HTTP
    webhook_allow_private: bool = False  # PRIVACY_WEBHOOK_ALLOW_PRIVATE
    webhook_concurrency: int = 4  # PRIVACY_WEBHOOK_CONCURRENCY
    instance_path: Path | None = None  # for tasks that reach the data systems
    base_url: str = "http://localhost:5000"
    secret_key: str = ""


def transport_for(config: Any) -> Transport:
    """The transport of an app's settings (mail to instance/outbox when no SMTP URL is set)."""
    instance = Path(config["PRIVACY_INSTANCE_PATH"])
    return Transport(
        smtp_url=config.get("PRIVACY_SMTP_URL"),
        outbox_dir=instance / "outbox",
        sender=config.get("PRIVACY_MAIL_FROM") or "personvern@localhost",
        instance_path=instance,
        base_url=config.get("PRIVACY_BASE_URL", ""),
        secret_key=config.get("SECRET_KEY", ""),
        webhook_allow_http=bool(config.get("PRIVACY_WEBHOOK_ALLOW_HTTP")),
        webhook_allow_private=bool(config.get("PRIVACY_WEBHOOK_ALLOW_PRIVATE")),
        webhook_concurrency=int(config.get("PRIVACY_WEBHOOK_CONCURRENCY") or 4),
    )


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The X-Privacy-Signature header value for a body."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None
) -> bool:
    """Check a signature header as a receiver should: right key, right body, recent timestamp."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), header)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the given number of failed attempts: doubling from 10 s, at most an hour."""
    return min(FIRST_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def _send(message: OutboxMessage, session: Session, transport: Transport) -> int | None:
    if message.kind == "task":
        handler = TASKS.get(message.event)
        if handler is None:
            raise RuntimeError(f"no handler for task {message.event!r}")
        handler(session, message.payload, transport)
        return None
    if message.kind == "email":
        p = message.payload
        mail = build_message(
            to=p["to"],
            subject=p["subject"],
            text=p["text"],
            sender=transport.sender,
            list_unsubscribe_url=p.get("list_unsubscribe_url"),
        )
        send_message(mail, smtp_url=transport.smtp_url, outbox_dir=transport.outbox_dir)
        return None
    raise RuntimeError(f"{message.kind} messages are not delivered in this lane")


def _claim(session: Session, now: datetime, after_id: int) -> OutboxMessage | None:
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.kind != "webhook",  # webhooks have their own lane (webhooks.py)
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.id > after_id,
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return session.scalar(stmt)


def deliver_due(
    engine: Engine, transport: Transport, *, now: datetime | None = None, limit: int = 200
) -> dict[str, int]:
    """Send what is due, each message in its own transaction; return counts delivered, retrying, failed."""
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    last_id = 0
    for _ in range(limit):
        with Session(engine, expire_on_commit=False) as session, session.begin():
            clock = now or utcnow()
            message = _claim(session, clock, last_id)
            if message is None:
                break
            last_id = message.id or last_id
            started = time.perf_counter()
            status_code: int | None = None
            error: str | None = None
            savepoint = session.begin_nested()  # a failed task leaves none of its writes behind
            try:
                status_code = _send(message, session, transport)
                savepoint.commit()
            except (OSError, MailError, RuntimeError, DomainError) as err:
                savepoint.rollback()
                error = f"{type(err).__name__}: {str(err)[:300]}"
            except Exception as err:  # noqa: BLE001 - a bug in one task must not stall the whole outbox
                savepoint.rollback()
                log.exception("outbox message %s (%s) failed unexpectedly", message.id, message.event)
                error = f"{type(err).__name__} (see the service log)"
            message.attempts += 1
            session.add(
                DeliveryAttempt(
                    message_id=message.id,
                    ok=error is None,
                    status_code=status_code,
                    error=error,
                    duration_ms=int((time.perf_counter() - started) * 1000),
                )
            )
            if error is None:
                message.status, message.delivered_at, message.last_error = "delivered", utcnow(), None
                counts["delivered"] += 1
            elif message.attempts >= MAX_ATTEMPTS:
                message.status, message.last_error = "failed", error
                counts["failed"] += 1
            else:
                message.next_attempt_at = clock + backoff(message.attempts)
                message.last_error = error
                counts["retrying"] += 1
    return counts


def messages_query(*, kind: str | None = None) -> Select[Any]:
    """The outbox messages (the delivery log), newest first."""
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return stmt


def list_messages(session: Session, *, kind: str | None = None, limit: int = 200) -> list[OutboxMessage]:
    """The newest outbox messages (the delivery log)."""
    return list(session.scalars(messages_query(kind=kind).limit(limit)))


def attempts_for(session: Session, message_ids: list[int]) -> dict[int, list[DeliveryAttempt]]:
    """The attempts of some messages, oldest first."""
    out: dict[int, list[DeliveryAttempt]] = {}
    if message_ids:
        stmt = (
            select(DeliveryAttempt)
            .where(DeliveryAttempt.message_id.in_(message_ids))
            .order_by(DeliveryAttempt.id)
        )
        for attempt in session.scalars(stmt):
            out.setdefault(attempt.message_id, []).append(attempt)
    return out


def next_due(message: OutboxMessage) -> datetime | None:
    """When a pending message is tried next."""
    return message.next_attempt_at if message.status == "pending" else None
