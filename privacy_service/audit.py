"""The append-only, hash-chained audit trail (DESIGN.md §2).

Each event's hash covers its own fields and the previous event's hash, so editing, deleting or reordering any
event breaks the chain at that point. Events are written by the service that makes a change, in the same
transaction. Details never hold personal data in clear: callers pass pseudonymous ids and references.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Field, Session, SQLModel

from privacy_service.columns import json_column, tz_column
from privacy_service.kernel import as_utc, utcnow

GENESIS_HASH = "0" * 64


class AuditEvent(SQLModel, table=True):
    """One append-only audit event."""

    __tablename__ = "audit_event"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(default_factory=utcnow, sa_column=tz_column(index=True))
    actor: str = Field(max_length=200)
    action: str = Field(max_length=100, index=True)
    object_type: str = Field(max_length=100)
    object_id: str = Field(max_length=200, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


@dataclass(frozen=True)
class Actor:
    """Who did something: an officer, an API client, the system or a data subject (by reference)."""

    kind: str  # user | api_client | system | subject | cli | processor (an OpenDSR callback)
    id: str
    role: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


SYSTEM = Actor("system", "privacy-service")


def compute_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    details: dict,
    prev: str,
) -> str:
    """Return the SHA-256 of the event's canonical JSON form chained to the previous hash."""
    at_utc = as_utc(at)
    assert at_utc is not None
    body = json.dumps(
        {
            "seq": seq,
            "at": at_utc.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "details": details,
            "prev": prev,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _lock_chain(session: Session) -> None:
    # Two PostgreSQL transactions must not both extend the chain from the same tail; SQLite has one writer.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7262001)"))


def record_event(
    session: Session,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the chain in the caller's transaction."""
    _lock_chain(session)
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    clean = json.loads(json.dumps(details or {}, default=str))
    event = AuditEvent(
        seq=seq,
        at=utcnow(),
        actor=str(actor),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=clean,
        prev_hash=prev,
        hash="",
    )
    event.hash = compute_hash(
        seq=seq,
        at=event.at,
        actor=event.actor,
        action=action,
        object_type=object_type,
        object_id=event.object_id,
        details=clean,
        prev=prev,
    )
    session.add(event)
    session.flush()
    return event


@dataclass
class AnchorReport:
    """What the chain was checked against outside the database (audit_anchor.py)."""

    keyed: bool  # signed with PRIVACY_AUDIT_ANCHOR_KEY, not with the key derived from the secret key
    anchored_seq: int | None = None  # the newest valid anchor the chain was held to
    anchored_hash: str | None = None
    anchored_at: str | None = None
    lines_checked: int = 0
    bad_lines: list[int] = field(default_factory=list)  # line numbers whose HMAC does not match
    other_key_lines: int = 0  # signed with another key (before a key change): not checked
    written_seq: int | None = None  # the head this verify anchored; None when it found a fault
    written_line: str | None = None  # the signed line appended to the file
    warnings: list[str] = field(default_factory=list)


@dataclass
class VerifyResult:
    """The outcome of checking the whole chain."""

    ok: bool
    events: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_seq: int | None = None  # the last event, when the chain holds
    head_hash: str = GENESIS_HASH
    marked_hash: str | None = None  # the hash of the event verify_chain was asked to mark
    anchor: AnchorReport | None = None


def verify_chain(session: Session, *, batch: int = 5000, mark_seq: int = 0) -> VerifyResult:
    """Walk the chain in order and name the first event that does not fit; keep the hash at `mark_seq`."""
    prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    last_seq = 0
    marked = None
    while True:
        # Plain rows, not ORM objects: a long trail must not fill the session's identity map.
        rows = session.execute(
            select(*AuditEvent.__table__.columns)
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not rows:
            break
        for ev in rows:
            count += 1
            if ev.seq != expected_seq:
                return VerifyResult(False, count, expected_seq, f"event {expected_seq} is missing")
            if ev.prev_hash != prev:
                return VerifyResult(False, count, ev.seq, "previous-hash link broken (deleted or reordered)")
            digest = compute_hash(
                seq=ev.seq,
                at=ev.at,
                actor=ev.actor,
                action=ev.action,
                object_type=ev.object_type,
                object_id=ev.object_id,
                details=ev.details,
                prev=ev.prev_hash,
            )
            if digest != ev.hash:
                return VerifyResult(False, count, ev.seq, "content does not match its hash (edited)")
            if ev.seq == mark_seq:
                marked = ev.hash
            prev = ev.hash
            expected_seq += 1
            last_seq = ev.seq
    return VerifyResult(True, count, head_seq=last_seq, head_hash=prev, marked_hash=marked)


def count_events(session: Session) -> int:
    """Return the number of events in the trail."""
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def events_of(session: Session, *, object_type: str, object_id: str) -> list[AuditEvent]:
    """Return the events about one object (its history), newest first."""
    query = select(AuditEvent).where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
    return list(session.scalars(query.order_by(AuditEvent.seq.desc())))


def latest_events(session: Session, *, limit: int = 200) -> list[AuditEvent]:
    """Return the newest events, newest first."""
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)))
