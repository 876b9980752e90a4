"""Holds: set, release, list, and which of a table's rows they protect.

Precedence (DESIGN.md §4): an active hold always wins, over retention and over an erasure request. A hold is
active from its start until its end or its release. Releasing never deletes anything by itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlmodel import Session

from privacy_service import notify
from privacy_service.audit import Actor, record_event
from privacy_service.catalogue import ByCode
from privacy_service.errors import N_, Conflict, NotFound, ValidationFailed
from privacy_service.kernel import as_utc, utcnow
from privacy_service.retention.models import Hold
from privacy_service.retention.schemas import KINDS, SCOPES, scope_errors

# The identity a subject's rows were found by: per kind one value, or several (a person's linked identifiers)
Identity = Mapping[str, str | Sequence[str]]

# What the subject reads about a hold when the hold gives no text of its own in her language. The basis is an
# internal note (case numbers, parties, evidence) and never reaches a letter or a mail.
STANDARD_PUBLIC_TEXT = ByCode("hold_public_text", ("archive_law", "legal", "request_pending", "other"))


def public_text(kind: str, texts: dict[str, str] | None, lang: str) -> str:
    """What the subject reads about a hold in her language: its own text, else the kind's standard text."""
    lang = lang if lang in ("nb", "en") else "nb"
    own = (texts or {}).get(lang)
    return own or STANDARD_PUBLIC_TEXT.get(kind, STANDARD_PUBLIC_TEXT["other"])[lang]


def _public_texts(value: Any) -> dict[str, str] | None:
    """The hold's own texts for the subject, trimmed; None when it gives none."""
    texts = {lang: str(value[lang]).strip() for lang in ("nb", "en") if (value or {}).get(lang)}
    return {lang: text for lang, text in texts.items() if text} or None


# The outbox task a released hold queues: whoever kept work waiting on the hold (an erasure request it
# blocked) registers the handler; retention knows none of them.
RELEASED_TASK = "retention.hold_released"


@dataclass(frozen=True)
class TableRef:
    """A mapped table as holds see it."""

    system: str
    table: str
    activity: str


def set_hold(session: Session, *, data: dict[str, Any], actor: Actor) -> Hold:
    """Set a hold from validated fields (kind, scope and what the scope needs, basis, optional public text for
    the subject and times)."""
    errors: dict[str, list[str]] = {}
    if data.get("kind") not in KINDS:
        errors["kind"] = [f"Must be one of: {', '.join(KINDS)}."]
    if data.get("scope") not in SCOPES:
        errors["scope"] = [f"Must be one of: {', '.join(SCOPES)}."]
    if not (data.get("basis") or "").strip():
        errors["basis"] = [N_("Say why the data must be kept (e.g. 'Archives Act § 6; Noark 5: preserve').")]
    errors.update(scope_errors(data))
    starts, ends = as_utc(data.get("starts_at")) or utcnow(), as_utc(data.get("ends_at"))
    if ends is not None and ends <= starts:
        errors["ends_at"] = [N_("Must be after the start.")]
    if errors:
        raise ValidationFailed(N_("The hold is not valid."), fields=errors)
    hold = Hold(
        kind=data["kind"],
        scope=data["scope"],
        activity=data.get("activity"),
        system=data.get("system"),
        table_name=data.get("table_name"),
        subject_kind=data.get("subject_kind"),
        subject_value=(data.get("subject_value") or "").strip().lower() or None,
        record_keys=[str(k) for k in data.get("record_keys") or []],
        basis=data["basis"].strip(),
        public_text=_public_texts(data.get("public_text")),
        reference=data.get("reference"),
        source=data.get("source", "api"),
        starts_at=starts,
        ends_at=ends,
        set_by=str(actor),
    )
    session.add(hold)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="hold.set",
        object_type="hold",
        object_id=str(hold.id),
        details={
            "kind": hold.kind,
            "scope": hold.scope,
            "activity": hold.activity,
            "table": f"{hold.system}.{hold.table_name}" if hold.table_name else None,
            "records": len(hold.record_keys),
            "reference": hold.reference,
            # the languages of its own text only: the basis and the texts may name people
            "public_text": sorted(hold.public_text or {}),
        },
    )
    return hold


def is_active(hold: Hold, at: datetime | None = None) -> bool:
    """Whether a hold protects data at the given time (now by default)."""
    at = at or utcnow()
    return hold.released_at is None and hold.starts_at <= at and (hold.ends_at is None or hold.ends_at > at)


_POLICY_FIELDS = (
    "kind", "scope", "activity", "system", "table_name", "subject_kind", "subject_value", "record_keys",
    "basis", "public_text", "ends_at",
)  # fmt: skip


def apply_policy_holds(session: Session, *, holds: list[dict[str, Any]], actor: Actor) -> dict[str, int]:
    """Make policies/holds.yaml current: set new holds, replace changed ones, release removed ones.

    A policy hold is known by its key (kept as reference "policies:<key>"); loading twice changes nothing.
    """
    counts = {"created": 0, "updated": 0, "unchanged": 0, "released": 0}
    current = {
        h.reference: h
        for h in session.scalars(select(Hold).where(Hold.source == "policies", Hold.released_at.is_(None)))
    }
    wanted = {f"policies:{h['key']}": h for h in holds}
    for reference, data in wanted.items():
        fields = {k: data.get(k) for k in _POLICY_FIELDS}
        fields["record_keys"] = [str(k) for k in fields["record_keys"] or []]
        fields["subject_value"] = (fields["subject_value"] or "").strip().lower() or None
        fields["public_text"] = _public_texts(fields["public_text"])
        existing = current.get(reference)
        if existing is not None:
            same = all(getattr(existing, k) == v for k, v in fields.items() if k != "ends_at")
            if same and (existing.ends_at is None) == (fields["ends_at"] is None):
                counts["unchanged"] += 1
                continue
            release_hold(
                session,
                hold_id=existing.id or 0,
                actor=actor,
                note="Replaced by a changed policies/holds.yaml",
            )
            counts["updated"] += 1
        else:
            counts["created"] += 1
        set_hold(
            session,
            data={**fields, "reference": reference, "source": "policies", "starts_at": data.get("starts_at")},
            actor=actor,
        )
    for reference, hold in current.items():
        if reference not in wanted:
            release_hold(session, hold_id=hold.id or 0, actor=actor, note="Removed from policies/holds.yaml")
            counts["released"] += 1
    return counts


def release_hold(session: Session, *, hold_id: int, actor: Actor, note: str) -> Hold:
    """Release an active hold; what it protected becomes due at the next retention run, not now, and the
    erasures it blocked are retried after the release commits (RELEASED_TASK)."""
    hold = session.get(Hold, hold_id)
    if hold is None:
        raise NotFound(N_("No hold has this id."))
    if hold.released_at is not None:
        raise Conflict(N_("The hold is already released."))
    if not note.strip():
        raise ValidationFailed(N_("Say why the hold is released."), fields={"note": [N_("Required.")]})
    hold.released_at, hold.released_by, hold.release_note = utcnow(), str(actor), note.strip()
    session.flush()
    record_event(
        session,
        actor=actor,
        action="hold.release",
        object_type="hold",
        object_id=str(hold.id),
        details={"kind": hold.kind, "scope": hold.scope},
    )
    if RELEASED_TASK in notify.TASKS:  # registered by the app factory
        notify.enqueue_task(session, task=RELEASED_TASK, payload={"hold_id": hold.id})
    return hold


def _active(at: datetime) -> Any:
    return (
        Hold.released_at.is_(None),
        Hold.starts_at <= at,
        or_(Hold.ends_at.is_(None), Hold.ends_at > at),
    )


def list_holds(session: Session, *, active_only: bool = False, activity: str | None = None) -> list[Hold]:
    """Return holds, newest first."""
    stmt = select(Hold).order_by(Hold.id.desc())
    if active_only:
        stmt = stmt.where(*_active(utcnow()))
    if activity:
        stmt = stmt.where(Hold.activity == activity)
    return list(session.scalars(stmt))


def holds_for_table(session: Session, table: TableRef, *, at: datetime | None = None) -> list[Hold]:
    """Return the active holds that may cover rows of a mapped table."""
    return holds_for_tables(session, [table], at=at)[table]


def holds_for_tables(
    session: Session, tables: Collection[TableRef], *, at: datetime | None = None
) -> dict[TableRef, list[Hold]]:
    """Return, per mapped table, the active holds that may cover its rows, read in one query (by id)."""
    refs = list(dict.fromkeys(tables))
    if not refs:
        return {}
    params = {
        "at": at or utcnow(),
        "activities": sorted({t.activity for t in refs}),
        "tables": sorted({t.table for t in refs}),
    }
    holds = list(session.scalars(_holds_for_tables(), params))
    return {ref: [h for h in holds if _may_cover(h, ref)] for ref in refs}


@functools.cache
def _holds_for_tables() -> Select[tuple[Hold]]:
    """One statement whatever the tables, built once: it may read a few holds too many (a table of that name
    in another system), which _may_cover leaves out."""
    activities, tables = bindparam("activities", expanding=True), bindparam("tables", expanding=True)
    return (
        select(Hold)
        .where(
            *_active(bindparam("at")),
            or_(
                (Hold.scope == "activity") & Hold.activity.in_(activities),
                Hold.scope.in_(("table", "records")) & Hold.table_name.in_(tables),
                (Hold.scope == "subject") & or_(Hold.activity.is_(None), Hold.activity.in_(activities)),
            ),
        )
        .order_by(Hold.id)
    )


def _may_cover(hold: Hold, table: TableRef) -> bool:
    """The query's condition for one table, on a hold it read."""
    if hold.scope == "activity":
        return hold.activity == table.activity
    if hold.scope in ("table", "records"):
        return (hold.system, hold.table_name) == (table.system, table.table)
    return hold.scope == "subject" and hold.activity in (None, table.activity)


def held_rows(holds: list[Hold], *, keys: list[Any], identity: Identity | None = None) -> dict[str, Hold]:
    """Which of a subject's row keys the holds protect (key as text → the first hold that covers it).

    `identity` is the identity the rows were found by (a kind may hold several values: a person's linked
    identifiers): a subject hold covers them when it names one of them.
    """
    wanted = {
        k: {str(v).strip().lower() for v in ([given] if isinstance(given, str) else given)}
        for k, given in (identity or {}).items()
    }
    out: dict[str, Hold] = {}
    for hold in holds:
        if hold.scope in ("activity", "table"):
            covered = [str(k) for k in keys]
        elif hold.scope == "records":
            covered = [str(k) for k in keys if str(k) in set(hold.record_keys)]
        elif hold.subject_kind and hold.subject_value in wanted.get(hold.subject_kind, ()):
            covered = [str(k) for k in keys]
        else:
            covered = []
        for key in covered:
            out.setdefault(key, hold)
    return out


def protected_rows(
    session: Session,
    *,
    system: str,
    table: str,
    activity: str,
    keys: list[Any],
    identity: Identity | None = None,
    ignore_reference: str | None = None,
) -> dict[str, Hold]:
    """Which of a subject's rows in one mapped table an active hold protects (key as text → hold).

    `ignore_reference` names a request whose own evidence hold does not count (an erasure request may erase
    what only its own request_pending hold keeps).
    """
    holds = holds_for_table(session, TableRef(system, table, activity))
    return protected_among(holds, keys=keys, identity=identity, ignore_reference=ignore_reference)


def protected_among(
    holds: list[Hold],
    *,
    keys: list[Any],
    identity: Identity | None = None,
    ignore_reference: str | None = None,
) -> dict[str, Hold]:
    """protected_rows with the table's holds already read (holds_for_tables)."""
    kept = [
        h
        for h in holds
        if not (ignore_reference and h.kind == "request_pending" and h.reference == ignore_reference)
    ]
    return held_rows(kept, keys=keys, identity=identity)


def protector(
    session: Session, *, identity: Identity, ignore_reference: str | None = None
) -> Callable[[Any, Any, list[Any]], dict[str, Hold]]:
    """The `protect` callback the data map's erasure takes: the held rows of a (system, table) it visits."""

    def protect(system: Any, table: Any, keys: list[Any]) -> dict[str, Hold]:
        return protected_rows(
            session,
            system=system.name,
            table=table.table_name,
            activity=table.activity_slug,
            keys=keys,
            identity=identity,
            ignore_reference=ignore_reference,
        )

    return protect


def request_hold(session: Session, *, reference: str) -> Hold | None:
    """The active evidence hold an erasure request keeps on its subject's data, if any."""
    return session.scalar(
        select(Hold).where(
            Hold.kind == "request_pending", Hold.reference == reference, Hold.released_at.is_(None)
        )
    )


def holds_by_id(session: Session, ids: set[int]) -> dict[int, Hold]:
    """The holds with these ids, by id (a run report or a withdrawal mail names the holds that kept rows)."""
    if not ids:
        return {}
    return {h.id or 0: h for h in session.scalars(select(Hold).where(Hold.id.in_(ids)))}


def held_keys(
    session: Session, *, system: str, table: str, activity: str, rows: list[tuple[Any, dict[str, str]]]
) -> set[Any]:
    """Which rows of one mapped table an active hold protects, each row given as (key, the identity it was
    found by): a replayed erasure finds each row by an identity of its own."""
    holds = holds_for_table(session, TableRef(system, table, activity))
    return {key for key, identity in rows if held_rows(holds, keys=[key], identity=identity)}
