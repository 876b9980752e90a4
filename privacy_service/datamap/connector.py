"""The data map's SQL primitives: reach a data system, read a mapped table's columns, match a subject by
identity, mask columns. The data map's service, its actions on a subject's rows and retention's due tables
are all built from these; nothing here decides what to act on.
"""

from __future__ import annotations

import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    MetaData,
    Select,
    String,
    Table,
    bindparam,
    case,
    create_engine,
    func,
    inspect,
    literal,
    or_,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, NoSuchTableError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from privacy_service.datamap.models import DataSystem, DataTable
from privacy_service.datamap.schemas import IDENTIFIER_RE, IDENTITY_KINDS, is_identity_kind
from privacy_service.errors import N_, DomainError, ValidationFailed, worded

T = TypeVar("T")
# A subject's identity as the data map searches it: per kind one value, or several (every value searches)
Identity = Mapping[str, str | Sequence[str]]
MASK_TEXT = "[erased]"
MATCHED = "_matched_by"  # select_subject(matches=True): (kind, by a later value?) of what found the row


class DataSystemError(DomainError):
    """A data system cannot be reached or does not match its map; the message names system and table."""

    code = "data_system_error"
    status = 502


@contextmanager
def reporting(system: str, table: str, doing: str) -> Iterator[None]:
    """Turn a database error into a DataSystemError that names the system and table, never the URL: it may
    hold a secret. `doing` completes "could not be …" (read, changed)."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise DataSystemError(
            f"Data system '{system}', table '{table}' could not be {doing} ({type(exc).__name__})."
        ) from exc


def mapped_tables(session: Session, *, activity: str | None = None) -> list[tuple[DataSystem, DataTable]]:
    """Return the mapped tables (all, or one activity's) with their systems, by system and table name."""
    stmt = select(DataSystem, DataTable).join(DataTable, DataTable.system_id == DataSystem.id)
    if activity is not None:
        stmt = stmt.where(DataTable.activity_slug == activity)
    stmt = stmt.order_by(DataSystem.name, DataTable.table_name)
    return [(s, t) for s, t in session.execute(stmt)]


# --- reaching a data system ---------------------------------------------------------------------------------


def system_url(system: DataSystem, *, instance_path: Path) -> str:
    """Return the system's database URL: its environment variable if set, else the default URL."""
    if system.url_env and os.environ.get(system.url_env):
        return os.environ[system.url_env]
    if system.url:
        return system.url.replace("{instance}", str(Path(instance_path).resolve()))
    raise DataSystemError(f"Data system '{system.name}' has no URL: set the variable {system.url_env}.")


# Server databases (PostgreSQL) keep one small pool per URL for the process: a request's plan, its answer and
# an erasure each reach the same systems, and a new connection per call cost more than the look-ups. SQLite
# files get an engine per call (no pool), so a test's or a demo's file is never held open.
# No pre-ping: it cost a round trip per checkout (issue 18). A connection the server dropped fails its first
# statement instead; SQLAlchemy invalidates the pool, and a read is asked once more on a fresh connection
# (read_with_retry). A subject's rows are changed likewise (change_with_retry), unless the connection was lost
# while committing; a retention run's batches are not retried: the next run finishes them.
_SHARED: dict[str, Engine] = {}
_SHARED_LOCK = threading.Lock()


def _shared_engine(url: str) -> Engine:
    with _SHARED_LOCK:
        engine = _SHARED.get(url)
        if engine is None:
            engine = create_engine(url, pool_size=2, max_overflow=4, pool_recycle=300)
            _SHARED[url] = engine
        return engine


def read_with_retry(engine: Engine, read: Callable[[Connection], T]) -> T:
    """Run `read` on one connection outside a transaction (a read needs no BEGIN nor ROLLBACK); when the
    server had dropped the pooled connection, run it once more on a fresh one."""
    for attempt in (1, 2):
        try:
            with engine.connect() as conn:
                return read(conn.execution_options(isolation_level="AUTOCOMMIT"))
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def change_with_retry(engine: Engine, change: Callable[[Connection], T]) -> T:
    """Run `change` in one transaction; when the server had dropped the pooled connection before the commit
    was sent, run it once more on a fresh one: the server kept nothing of the first try. A connection lost
    while committing is not retried (the change may have been kept)."""
    for attempt in (1, 2):
        committing = False
        try:
            with engine.connect() as conn:
                with conn.begin():
                    result = change(conn)
                    committing = True
                return result
        except DBAPIError as exc:
            if attempt == 2 or committing or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def dispose_engines() -> None:
    """Close the pooled data-system connections (app shutdown, tests, after a fork)."""
    with _SHARED_LOCK:
        for engine in _SHARED.values():
            engine.dispose()
        _SHARED.clear()


@contextmanager
def engines(instance_path: Path) -> Iterator[Callable[[DataSystem], Engine]]:
    """Yield a function that returns a system's engine; the SQLite engines it made are disposed on exit."""
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


# --- a mapped table's columns -------------------------------------------------------------------------------


# A server table's columns as read from the data system, kept a minute: reading them cost more than the
# look-up itself. A column renamed meanwhile shows as a failed read until then.
REFLECT_SECONDS = 60.0
_REFLECTED: dict[tuple[str, str], tuple[float, Table]] = {}


def reflect_table(conn: Connection, system: DataSystem, table: DataTable) -> Table:
    """Return the mapped table as the data system has it; raise DataSystemError when a mapped column is
    missing or a name is not a plain SQL name."""
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
        reflected = _read_columns(conn, system, table)
        if conn.dialect.name != "sqlite":
            _REFLECTED[key] = (time.monotonic(), reflected)  # read-only from here on: safe to share
    missing = sorted(set(names[1:]) - set(reflected.c.keys()))
    if missing:
        raise DataSystemError(
            f"Data system '{system.name}', table '{table.table_name}' lacks columns: {', '.join(missing)}."
        )
    return reflected


def _read_columns(conn: Connection, system: DataSystem, table: DataTable) -> Table:
    try:  # columns only: reflecting indexes warns on expression indexes and is not needed
        found = inspect(conn).get_columns(table.table_name)
    except NoSuchTableError:
        found = []
    if not found:
        raise DataSystemError(
            f"Data system '{system.name}' has no table '{table.table_name}'; fix systems.yaml."
        )
    return Table(
        table.table_name, MetaData(), *(Column(c["name"], c["type"], nullable=c["nullable"]) for c in found)
    )


def column_type(column: Any) -> type:
    """The Python type of a column's values (text when the dialect does not say)."""
    try:
        return column.type.python_type
    except NotImplementedError:
        return str


# --- finding a subject --------------------------------------------------------------------------------------


def clean_identity(identity: Identity) -> dict[str, list[str]]:
    """Return the identity's non-empty values per kind, stripped, each once and in the order given; refuse
    unknown kinds and an empty identity. A kind may hold one value or several (a person's linked ones)."""
    unknown = sorted(k for k in identity if not is_identity_kind(k))
    if unknown:
        raise ValidationFailed(
            worded(
                "Unknown identity kind %(unknown)s; use %(kinds)s.",
                unknown=", ".join(unknown),
                kinds=", ".join((*IDENTITY_KINDS, "portal:<client>")),
            ),
            fields={f"identity.{k}": [N_("Unknown identity kind.")] for k in unknown},
        )
    clean: dict[str, list[str]] = {}
    for kind, given in identity.items():
        values = [given] if isinstance(given, str) or given is None else list(given)
        stripped = [str(v).strip() for v in values if v is not None and str(v).strip()]
        if stripped:
            clean[kind] = list(dict.fromkeys(stripped))
    if not clean:
        raise ValidationFailed(
            N_("Give at least one identity to look for."), fields={"identity": [N_("Required.")]}
        )
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


def identity_match(column: Any, kind: str, value: str) -> ColumnElement[bool] | None:
    """The condition that a row's identity column holds the value (None: this column can never hold it)."""
    if kind == "email":
        return func.lower(column) == value.lower()
    if kind == "phone":
        return phone_key(column).in_(_phone_variants(value))
    if kind == "national_id":
        return column == re.sub(r"\s", "", value)
    if column_type(column) is int:
        return column == int(value) if value.isdigit() else None
    return column == value


def _bound_match(column: Any, kind: str, name: str) -> ColumnElement[bool]:
    """identity_match of a list of values, left as an expanding bound parameter `name`."""
    if kind == "email":
        return func.lower(column).in_(bindparam(name, type_=String(), expanding=True))
    if kind == "phone":
        return phone_key(column).in_(bindparam(name, type_=String(), expanding=True))
    return column.in_(bindparam(name, expanding=True))


def _bound_values(column: Any, kind: str, values: list[str]) -> list[Any]:
    """The parameter list _bound_match compares with, as identity_match would (empty: the column holds
    none of them)."""
    out: list[Any] = []
    for value in values:
        if kind == "email":
            out.append(value.lower())
        elif kind == "phone":
            out.extend(_phone_variants(value))
        elif kind == "national_id":
            out.append(re.sub(r"\s", "", value))
        elif column_type(column) is int:
            out.extend([int(value)] if value.isdigit() else [])
        else:
            out.append(value)
    return list(dict.fromkeys(out))


# A table's subject look-ups, built once per shape (which kinds, with or without MATCHED) for as long as its
# reflected columns are kept: building and keying a statement cost more than running it. The values are
# expanding parameters, so a person's several addresses reuse the statement of one.
_STATEMENTS: weakref.WeakKeyDictionary[Table, dict[tuple[Any, ...], Select[Any]]] = (
    weakref.WeakKeyDictionary()
)


def _subject_statement(
    reflected: Table, table: DataTable, kinds: tuple[str, ...], matches: bool
) -> Select[Any]:
    columns = [table.key_column, *(c for c in table.columns if c != table.key_column)]
    shape = (tuple(columns), tuple((k, table.identity[k]) for k in kinds), matches)
    built = _STATEMENTS.setdefault(reflected, {})
    if shape not in built:
        found = [reflected.c[table.identity[k]] for k in kinds]
        conditions = [_bound_match(c, k, f"v{i}") for i, (c, k) in enumerate(zip(found, kinds, strict=True))]
        # per kind: 1 when the row holds the kind's first value, 2 when it holds a later one, else 0
        flags = (
            [
                case((_bound_match(c, k, f"f{i}"), 1), (cond, 2), else_=0).label(f"_matched_{i}")
                for i, (c, k, cond) in enumerate(zip(found, kinds, conditions, strict=True))
            ]
            if matches
            else []
        )
        built[shape] = (
            select(*(reflected.c[c] for c in columns), *flags)
            .where(or_(*conditions))
            .order_by(reflected.c[table.key_column])
        )
    return built[shape]


def select_subject(
    conn: Connection,
    system: DataSystem,
    table: DataTable,
    wanted: Mapping[str, list[str]],
    *,
    matches: bool = False,
) -> list[dict[str, Any]]:
    """Return the key and mapped columns of the table's rows that match any of the identities' values, by
    key. With `matches`, each row also carries MATCHED: (kind, later) for each identity kind that matched it,
    `later` true when a value after the kind's first did (read in the same query)."""
    reflected = reflect_table(conn, system, table)
    kinds: list[str] = []
    params: dict[str, Any] = {}
    for kind, given in wanted.items():
        column = reflected.c[table.identity[kind]]
        if values := _bound_values(column, kind, given):
            params[f"v{len(kinds)}"] = values
            if matches:  # an empty list is allowed: the first value may not fit the column, a later one may
                params[f"f{len(kinds)}"] = _bound_values(column, kind, given[:1])
            kinds.append(kind)
    if not kinds:
        return []
    columns = [table.key_column, *(c for c in table.columns if c != table.key_column)]
    rows = []
    for row in conn.execute(_subject_statement(reflected, table, tuple(kinds), matches), params):
        values = list(row)
        found = dict(zip(columns, values[: len(columns)], strict=True))
        if matches:
            flags = values[len(columns) :]
            found[MATCHED] = [(k, hit == 2) for k, hit in zip(kinds, flags, strict=True) if hit]
        rows.append(found)
    return rows


# --- masking and values -------------------------------------------------------------------------------------


def masked_values(table: Table, columns: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """The values that mask the columns: NULL where the column allows it, else MASK_TEXT in a text column."""
    values: dict[str, Any] = {}
    for name in columns:
        column = table.c[name]
        if column.nullable:
            values[name] = None
        elif isinstance(column.type, String):
            values[name] = MASK_TEXT
        else:
            raise DataSystemError(f"Column '{name}' cannot be masked: it is NOT NULL and not text.")
    return values


def unmasked(table: Table, columns: list[str] | tuple[str, ...]) -> ColumnElement[bool]:
    """Rows in which any of the columns still holds something other than its masked value."""
    return or_(
        *(table.c[c].is_not(None) if table.c[c].nullable else table.c[c] != MASK_TEXT for c in columns)
    )


def plain_value(value: Any) -> Any:
    """A column value as JSON can hold it: dates and times in ISO 8601, bytes as hex, the rest as it is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value
