"""The data map: load systems.yaml, resolve system URLs, and find a subject's rows set-based with SQL."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    MetaData,
    Table,
    create_engine,
    func,
    inspect,
    literal,
    or_,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.datamap.models import DataSystem, DataTable
from privacy_service.datamap.schemas import IDENTIFIER_RE, IDENTITY_KINDS, validate_systems
from privacy_service.errors import DomainError, ValidationFailed
from privacy_service.models import utcnow

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


class DataSystemError(DomainError):
    """A data system cannot be reached or does not match its map; the message names system and table."""

    code = "data_system_error"
    status = 502


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


def system_url(system: DataSystem, *, instance_path: Path) -> str:
    """Return the system's database URL: its environment variable if set, else the default URL."""
    if system.url_env and os.environ.get(system.url_env):
        return os.environ[system.url_env]
    if system.url:
        return system.url.replace("{instance}", str(Path(instance_path).resolve()))
    raise DataSystemError(f"Data system '{system.name}' has no URL: set the variable {system.url_env}.")


def list_systems(session: Session) -> list[DataSystem]:
    """Return every data system, by name."""
    return list(session.scalars(select(DataSystem).order_by(DataSystem.name)))


def tables_for_activity(session: Session, *, activity: str) -> list[tuple[DataSystem, DataTable]]:
    """Return the mapped tables holding an activity's data, with their systems."""
    return _mapped_tables(session, activity=activity)


def mapped_tables(session: Session) -> list[tuple[DataSystem, DataTable]]:
    """Return every mapped table with its system, by system and table name."""
    return _mapped_tables(session, activity=None)


def _mapped_tables(session: Session, *, activity: str | None) -> list[tuple[DataSystem, DataTable]]:
    stmt = select(DataSystem, DataTable).join(DataTable, DataTable.system_id == DataSystem.id)
    if activity is not None:
        stmt = stmt.where(DataTable.activity_slug == activity)
    stmt = stmt.order_by(DataSystem.name, DataTable.table_name)
    return [(s, t) for s, t in session.execute(stmt)]


# --- the set-based connector --------------------------------------------------------------------------------


# Server databases (PostgreSQL) keep one small pool per URL for the process: a request's plan, its answer and
# an erasure each reach the same systems, and a new connection per call cost more than the look-ups. SQLite
# files get an engine per call (no pool), so a test's or a demo's file is never held open.
_SHARED: dict[str, Engine] = {}
_SHARED_LOCK = threading.Lock()


def _shared_engine(url: str) -> Engine:
    with _SHARED_LOCK:
        engine = _SHARED.get(url)
        if engine is None:
            engine = create_engine(url, pool_size=2, max_overflow=4, pool_pre_ping=True, pool_recycle=300)
            _SHARED[url] = engine
        return engine


def dispose_engines() -> None:
    """Close the pooled data-system connections (app shutdown, tests, after a fork)."""
    with _SHARED_LOCK:
        for engine in _SHARED.values():
            engine.dispose()
        _SHARED.clear()


@contextmanager
def _engines(instance_path: Path) -> Iterator[Callable[[DataSystem], Engine]]:
    cache: dict[str, Engine] = {}
    own: list[Engine] = []

    def get(system: DataSystem) -> Engine:
        url = system_url(system, instance_path=instance_path)
        if url not in cache:
            parsed = make_url(url)
            if parsed.get_backend_name() != "sqlite":
                cache[url] = _shared_engine(url)
                return cache[url]
            file = parsed.database
            if file not in (None, "", ":memory:") and not Path(file).exists():  # connecting would create it
                raise DataSystemError(f"Data system '{system.name}': its database file does not exist.")
            # SQLite data systems may be written by two schedulers' jobs at once: wait for the lock, not 5 s.
            cache[url] = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})
            own.append(cache[url])
        return cache[url]

    try:
        yield get
    finally:
        for engine in own:
            engine.dispose()


def plain_value(value: Any) -> Any:
    """A column value as JSON can hold it: dates and times in ISO 8601, bytes as hex, the rest as it is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _clean_identity(identity: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(identity) - set(IDENTITY_KINDS))
    if unknown:
        raise ValidationFailed(
            f"Unknown identity kind {', '.join(unknown)}; use {', '.join(IDENTITY_KINDS)}.",
            fields={f"identity.{k}": ["Unknown identity kind."] for k in unknown},
        )
    clean = {k: str(v).strip() for k, v in identity.items() if v is not None and str(v).strip()}
    if not clean:
        raise ValidationFailed("Give at least one identity to look for.", fields={"identity": ["Required."]})
    return clean


def _phone_variants(value: str) -> list[str]:
    digits = re.sub(r"[\s\-().]", "", value)
    digits = "+" + digits[2:] if digits.startswith("00") else digits
    if re.fullmatch(r"\+47\d{8}", digits):
        return [digits, digits[3:]]
    if re.fullmatch(r"\d{8}", digits):  # a Norwegian number written without its country code
        return [digits, "+47" + digits]
    return [digits]


def phone_key(column: Any) -> ColumnElement[str]:
    """Return the phone column without spaces and dashes, as matched and as indexed."""
    # Constants rendered inline, not bound: an expression index only serves an identical expression.
    space, dash, empty = (literal(c, literal_execute=True) for c in (" ", "-", ""))
    return func.replace(func.replace(column, space, empty), dash, empty)


def _match(column: Any, kind: str, value: str) -> ColumnElement[bool] | None:
    if kind == "email":
        return func.lower(column) == value.lower()
    if kind == "phone":
        return phone_key(column).in_(_phone_variants(value))
    if kind == "national_id":
        return column == re.sub(r"\s", "", value)
    try:
        wanted = column.type.python_type
    except NotImplementedError:
        wanted = str
    if wanted is int:
        return column == int(value) if value.isdigit() else None
    return column == value


# A server table's columns as read from the data system, kept a minute: reading them cost more than the
# look-up itself. A column renamed meanwhile shows as a failed read until then.
REFLECT_SECONDS = 60.0
_REFLECTED: dict[tuple[str, str], tuple[float, Table]] = {}


def _reflect(conn: Connection, system: DataSystem, table: DataTable) -> Table:
    optional = [c for c in (table.restriction_column, table.anchor_column) if c]
    names = [table.table_name, table.key_column, *table.columns, *table.identity.values(), *optional]
    # Checked again here: the map may have been written around the schema.
    if not all(re.fullmatch(IDENTIFIER_RE, n) for n in names):
        raise DataSystemError(f"Data system '{system.name}', table '{table.table_name}': invalid SQL name.")
    key = (str(conn.engine.url), table.table_name)
    cached = _REFLECTED.get(key) if conn.dialect.name != "sqlite" else None  # files are read afresh
    if cached is not None and time.monotonic() - cached[0] < REFLECT_SECONDS:
        reflected = cached[1]
    else:
        try:  # columns only: reflecting indexes warns on expression indexes and is not needed
            found = inspect(conn).get_columns(table.table_name)
        except NoSuchTableError:
            found = []
        if not found:
            raise DataSystemError(
                f"Data system '{system.name}' has no table '{table.table_name}'; fix systems.yaml."
            )
        reflected = Table(
            table.table_name,
            MetaData(),
            *(Column(c["name"], c["type"], nullable=c["nullable"]) for c in found),
        )
        if conn.dialect.name != "sqlite":
            _REFLECTED[key] = (time.monotonic(), reflected)  # read-only from here on: safe to share
    missing = sorted(set(names[1:]) - set(reflected.c.keys()))
    if missing:
        raise DataSystemError(
            f"Data system '{system.name}', table '{table.table_name}' lacks columns: {', '.join(missing)}."
        )
    return reflected


def _select_subject(
    conn: Connection, system: DataSystem, table: DataTable, wanted: dict[str, str]
) -> list[dict[str, Any]]:
    reflected = _reflect(conn, system, table)
    conditions = [
        cond
        for kind, value in wanted.items()
        if (cond := _match(reflected.c[table.identity[kind]], kind, value)) is not None
    ]
    if not conditions:
        return []
    columns = [table.key_column, *(c for c in table.columns if c != table.key_column)]
    stmt = (
        select(*(reflected.c[c] for c in columns))
        .where(or_(*conditions))
        .order_by(reflected.c[table.key_column])
    )
    return [dict(row._mapping) for row in conn.execute(stmt)]


def find_subject_rows(
    session: Session,
    *,
    identity: dict[str, str],
    instance_path: Path,
    activity: str | None = None,
    activities: Collection[str] | None = None,
) -> list[SubjectRows]:
    """Return the subject's rows in every mapped table (or one activity's, or those of `activities`),
    matching any identity given."""
    wanted = _clean_identity(identity)
    found: list[SubjectRows] = []
    with _engines(instance_path) as engine_for:
        for system, table in _mapped_tables(session, activity=activity):
            if activities is not None and table.activity_slug not in activities:
                continue
            kinds = {k: v for k, v in wanted.items() if k in table.identity}
            if not kinds:
                continue
            try:
                with engine_for(system).connect() as conn:
                    rows = _select_subject(conn, system, table, kinds)
            except SQLAlchemyError as exc:  # the URL may hold a secret: never echo it
                raise DataSystemError(
                    f"Data system '{system.name}', table '{table.table_name}' could not be read "
                    f"({type(exc).__name__})."
                ) from exc
            if rows:
                found.append(
                    SubjectRows(
                        system=system.name,
                        table=table.table_name,
                        activity=table.activity_slug,
                        key=table.key_column,
                        categories=dict(table.columns),
                        rows=rows,
                        data_table_id=table.id,
                    )
                )
    return found
