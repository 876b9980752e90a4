"""The data map's front door: load systems.yaml, read the map, and find a subject's rows set-based with SQL.

The SQL primitives live in connector.py; actions.py (erase, restrict, rectify a subject's rows) and expiry.py
(retention's due rows) are built on them too. None of those imports this module.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.datamap.connector import (
    MATCHED,
    DataSystemError,
    Identity,
    clean_identity,
    dispose_engines,
    engines,
    mapped_tables,
    plain_value,
    read_with_retry,
    reflect_table,
    reporting,
    select_subject,
)
from privacy_service.datamap.models import DataSystem, DataTable
from privacy_service.datamap.schemas import validate_systems
from privacy_service.kernel import utcnow
from privacy_service.ropa import service as ropa

__all__ = [  # what dsar, retention, the app factory and the pages use besides the functions below
    "DataSystemError",
    "Identity",
    "dispose_engines",
    "mapped_tables",
    "plain_value",
]

_SYSTEM_FIELDS = ("description", "url_env", "url")
_TABLE_FIELDS = {
    "activity": "activity_slug",
    "key": "key_column",
    "identity": "identity",
    "columns": "columns",
    "erasure": "erasure",
    "mask_columns": "mask_columns",
    "restriction_column": "restriction_column",
    "anchor_column": "anchor_column",
}


@dataclass
class SubjectRows:
    """The rows of one mapped table that belong to a subject, with the data category of each column."""

    system: str
    table: str
    activity: str
    key: str
    categories: dict[str, str]  # column -> data category key
    rows: list[dict[str, Any]] = field(default_factory=list)  # key + mapped columns only
    data_table_id: int | None = None
    matched: dict[str, int] = field(default_factory=dict)  # identity kind -> rows any of its values matched
    # identity kind -> of those, the rows a value after the kind's first matched (a person's linked ones)
    matched_later: dict[str, int] = field(default_factory=dict)


# --- loading systems.yaml ---------------------------------------------------------------------------------


def _content_hash(record: dict[str, Any]) -> str:
    canonical = {**record, "tables": sorted(record["tables"], key=lambda t: t["table"])}
    body = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _sync_tables(session: Session, *, system: DataSystem, tables: list[dict[str, Any]]) -> dict[str, list]:
    rows = session.scalars(select(DataTable).where(DataTable.system_id == system.id))
    existing = {t.table_name: t for t in rows}
    changes: dict[str, list] = {"tables_added": [], "tables_changed": [], "tables_removed": []}
    for spec in tables:
        row = existing.pop(spec["table"], None)
        if row is None:
            row = DataTable(system_id=system.id, table_name=spec["table"], erasure=spec["erasure"])
            session.add(row)
            changes["tables_added"].append(spec["table"])
        elif any(getattr(row, attr) != spec[key] for key, attr in _TABLE_FIELDS.items()):
            changes["tables_changed"].append(spec["table"])
        for key, attr in _TABLE_FIELDS.items():
            setattr(row, attr, spec[key])
    for name, row in existing.items():
        session.delete(row)
        changes["tables_removed"].append(name)
    return changes


def _apply_system(session: Session, *, record: dict[str, Any], actor: Actor) -> str:
    digest = _content_hash(record)
    system = session.scalar(select(DataSystem).where(DataSystem.name == record["name"]))
    if system is not None and system.content_hash == digest:
        return "unchanged"
    outcome = "created" if system is None else "updated"
    if system is None:
        system = DataSystem(name=record["name"])
        session.add(system)
    changed = [f for f in _SYSTEM_FIELDS if getattr(system, f) != record[f]]
    for name in _SYSTEM_FIELDS:
        setattr(system, name, record[name])
    system.content_hash, system.updated_at = digest, utcnow()
    session.flush()
    changes = _sync_tables(session, system=system, tables=record["tables"])
    details: dict[str, Any] = {"hash": digest, **changes}
    if outcome == "updated":
        details["fields"] = changed
    session.flush()
    record_event(
        session,
        actor=actor,
        action=f"datamap.system.{'create' if outcome == 'created' else 'update'}",
        object_type="data_system",
        object_id=system.name,
        details=details,
    )
    return outcome


def load_systems(
    session: Session,
    *,
    systems: list[dict[str, Any]],
    activities: dict[str, set[str]],
    instance_path: Path,
    actor: Actor,
) -> dict[str, int]:
    """Validate the systems against the registry and upsert them; unchanged systems are not written."""
    # instance_path is not stored: {instance} is resolved on connecting; moving the folder needs no reload.
    records = validate_systems(systems, activities=activities)  # before any write: all or nothing
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for record in records:
        counts[_apply_system(session, record=record, actor=actor)] += 1
    return counts


# --- reading the map ---------------------------------------------------------------------------------------


def list_systems(session: Session) -> list[DataSystem]:
    """Return every data system, by name."""
    return list(session.scalars(select(DataSystem).order_by(DataSystem.name)))


def tables_for_activity(session: Session, *, activity: str) -> list[tuple[DataSystem, DataTable]]:
    """Return the mapped tables holding an activity's data, with their systems."""
    return mapped_tables(session, activity=activity)


def find_subject_rows(
    session: Session,
    *,
    identity: Identity,
    instance_path: Path,
    activity: str | None = None,
    activities: Collection[str] | None = None,
    tables: list[tuple[DataSystem, DataTable]] | None = None,
) -> list[SubjectRows]:
    """Return the subject's rows in every mapped table (or one activity's, or those of `activities`),
    matching any identity given (a kind may hold several values: each searches), in the map's order.
    `tables` is the map when the caller has read it already. Each data system is searched on one connection,
    outside a transaction."""
    wanted = clean_identity(identity)
    todo: list[tuple[DataSystem, DataTable, dict[str, list[str]]]] = []
    for system, table in mapped_tables(session, activity=activity) if tables is None else tables:
        if (activity is not None and table.activity_slug != activity) or (
            activities is not None and table.activity_slug not in activities
        ):
            continue
        if kinds := {k: v for k, v in wanted.items() if k in table.identity}:
            todo.append((system, table, kinds))
    found: list[SubjectRows] = []
    with engines(instance_path) as engine_for:
        groups: dict[Engine, list[tuple[DataSystem, DataTable, dict[str, list[str]]]]] = {}
        for item in todo:
            groups.setdefault(engine_for(item[0]), []).append(item)
        for engine, group in groups.items():
            found.extend(_search(engine, group))
    order = {id(table): i for i, (__, table, __) in enumerate(todo)}
    found.sort(key=lambda f: order[f.data_table])
    return [f.rows for f in found]


@dataclass
class _Found:
    data_table: int  # id() of the DataTable searched: restores the map's order
    rows: SubjectRows


def _search(engine: Engine, group: list[tuple[DataSystem, DataTable, dict[str, list[str]]]]) -> list[_Found]:
    """Search one data system's tables on one connection; a database error names the table it met."""
    at = [group[0]]

    def read(conn: Connection) -> list[_Found]:
        out = []
        for item in group:
            at[0] = item
            if (rows := _subject_rows(conn, *item)) is not None:
                out.append(_Found(id(item[1]), rows))
        return out

    try:
        return read_with_retry(engine, read)
    except SQLAlchemyError as exc:
        system, table, __ = at[0]
        with reporting(system.name, table.table_name, "read"):
            raise exc


def _subject_rows(
    conn: Connection, system: DataSystem, table: DataTable, kinds: dict[str, list[str]]
) -> SubjectRows | None:
    rows = select_subject(conn, system, table, kinds, matches=True)
    if not rows:
        return None
    matched: dict[str, int] = {}
    later: dict[str, int] = {}
    for row in rows:
        for kind, by_later in row.pop(MATCHED):
            matched[kind] = matched.get(kind, 0) + 1
            if by_later:
                later[kind] = later.get(kind, 0) + 1
    return SubjectRows(
        system=system.name,
        table=table.table_name,
        activity=table.activity_slug,
        key=table.key_column,
        categories=dict(table.columns),
        rows=rows,
        data_table_id=table.id,
        matched=matched,
        matched_later=later,
    )


def identity_values(
    session: Session, *, kind: str, activities: Collection[str], instance_path: Path
) -> list[str]:
    """Return the distinct non-empty values of one identity kind (e.g. every e-mail address) in the tables
    mapped to `activities`: who a breach of those activities concerns (Art. 34)."""
    values: set[str] = set()
    with engines(instance_path) as engine_for:
        for system, table in mapped_tables(session):
            if table.activity_slug not in activities or kind not in table.identity:
                continue
            with reporting(system.name, table.table_name, "read"):
                rows = read_with_retry(engine_for(system), _distinct(system, table, kind))
            values.update(str(v).strip() for (v,) in rows if str(v).strip())
    return sorted(values)


def _distinct(system: DataSystem, table: DataTable, kind: str) -> Callable[[Connection], list[Any]]:
    def read(conn: Connection) -> list[Any]:
        column = reflect_table(conn, system, table).c[table.identity[kind]]
        return list(conn.execute(select(column).where(column.is_not(None)).distinct()))

    return read


@dataclass
class MapOverview:
    """The data map as the officer's page shows it: each system's tables, and the registry's activities."""

    systems: list[DataSystem]
    tables: dict[str, list[DataTable]]  # system name -> its mapped tables
    activities: dict[str, ropa.Activity]  # slug -> the registry's current (not retired) activity
    unmapped: list[ropa.Activity]  # current activities no table holds, by slug


def map_overview(session: Session) -> MapOverview:
    """Return every system with its tables, and name the current activities that no table holds."""
    tables: dict[str, list[DataTable]] = {}
    for system, table in mapped_tables(session):
        tables.setdefault(system.name, []).append(table)
    activities = {a.slug: a for a in ropa.activities_for(session, include_retired=False)}
    mapped = {t.activity_slug for system_tables in tables.values() for t in system_tables}
    unmapped = [a for slug, a in sorted(activities.items()) if slug not in mapped]
    return MapOverview(list_systems(session), tables, activities, unmapped)
