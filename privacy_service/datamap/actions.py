"""Acting on a subject's rows through the data map: erase (delete or mask) and flag, never touching held rows.

Each table is changed in one transaction on its own data system, in bounded batches of keys; the caller
decides which rows are protected (holds live in retention, which the data map does not know) via `protect`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, delete, select, update
from sqlmodel import Session

from privacy_service.datamap.connector import (
    Identity,
    change_with_retry,
    clean_identity,
    engines,
    mapped_tables,
    masked_values,
    reflect_table,
    reporting,
    select_subject,
)
from privacy_service.datamap.models import DataSystem, DataTable

BATCH = 500

# key (as text) -> the object protecting it (a hold); the data map only reads its `id`
Protect = Callable[[DataSystem, DataTable, list[Any]], dict[str, Any]]


@dataclass
class TableErasure:
    """What erasure did (or, in a dry run, would do) in one table."""

    system: str
    table: str
    activity: str
    strategy: str  # delete | mask
    found: int = 0
    erased: int = 0
    held: dict[int, int] = field(default_factory=dict)  # hold id -> rows it kept


def _erase(conn: Connection, reflected: Table, table: DataTable, keys: list[Any]) -> int:
    """Delete or mask (the table's erasure strategy) the rows with these keys, in batches; return how many."""
    key_col, done = reflected.c[table.key_column], 0
    for start in range(0, len(keys), BATCH):
        batch = keys[start : start + BATCH]
        if table.erasure == "delete":
            done += conn.execute(delete(reflected).where(key_col.in_(batch))).rowcount
        else:
            values = masked_values(reflected, table.mask_columns)
            done += conn.execute(update(reflected).where(key_col.in_(batch)).values(**values)).rowcount
    return done


def erase_subject_rows(
    session: Session,
    *,
    identity: Identity,
    instance_path: Path,
    activity: str | None = None,
    protect: Protect | None = None,
    dry_run: bool = False,
) -> list[TableErasure]:
    """Delete or mask the subject's rows in every mapped table (or one activity's), except protected rows."""
    wanted = clean_identity(identity)
    results: list[TableErasure] = []
    with engines(instance_path) as engine_for:
        for system, table in mapped_tables(session, activity=activity):
            kinds = {k: v for k, v in wanted.items() if k in table.identity}
            if not kinds:
                continue
            with reporting(system.name, table.table_name, "changed"):
                outcome = change_with_retry(
                    engine_for(system), _eraser(system, table, kinds, protect=protect, dry_run=dry_run)
                )
            if outcome.found:
                results.append(outcome)
    return results


def _eraser(
    system: DataSystem,
    table: DataTable,
    kinds: dict[str, list[str]],
    *,
    protect: Protect | None,
    dry_run: bool,
) -> Callable[[Connection], TableErasure]:
    """The erasure of the subject's rows in one table, as one transaction (asked again whole on a retry)."""

    def erase(conn: Connection) -> TableErasure:
        outcome = TableErasure(system.name, table.table_name, table.activity_slug, table.erasure)
        keys = [r[table.key_column] for r in select_subject(conn, system, table, kinds)]
        protected = protect(system, table, keys) if protect and keys else {}
        for hold in protected.values():
            outcome.held[hold.id] = outcome.held.get(hold.id, 0) + 1
        todo = [k for k in keys if str(k) not in protected]
        outcome.found = len(keys)
        if not dry_run:
            _erase(conn, reflect_table(conn, system, table), table, todo)
        outcome.erased = len(todo)
        return outcome

    return erase


@dataclass
class TableUpdate:
    """What an update of a subject's rows did in one table."""

    system: str
    table: str
    activity: str
    column: str
    updated: int = 0


def update_subject_rows(
    session: Session,
    *,
    identity: Identity,
    instance_path: Path,
    activity: str,
    column: str | None,
    value: Any,
) -> list[TableUpdate]:
    """Set one column of the subject's rows in an activity's tables (rectification), or, with `column` None,
    each table's restriction flag column to `value` (restriction). Tables without that column are skipped.
    Each table in its own transaction; rows are matched by identity as find_subject_rows does."""
    wanted = clean_identity(identity)
    results: list[TableUpdate] = []
    with engines(instance_path) as engine_for:
        for system, table in mapped_tables(session, activity=activity):
            kinds = {k: v for k, v in wanted.items() if k in table.identity}
            name = column or table.restriction_column
            if not kinds or not name or (column and column not in table.columns):
                continue
            with reporting(system.name, table.table_name, "changed"):
                done = change_with_retry(engine_for(system), _updater(system, table, kinds, name, value))
            if done is not None:
                results.append(TableUpdate(system.name, table.table_name, table.activity_slug, name, done))
    return results


def _updater(
    system: DataSystem, table: DataTable, kinds: dict[str, list[str]], name: str, value: Any
) -> Callable[[Connection], int | None]:
    """Set one column of the subject's rows in one table, as one transaction: how many rows, or None when the
    table lacks the column or holds no row of the subject."""

    def update_rows(conn: Connection) -> int | None:
        reflected = reflect_table(conn, system, table)
        if name not in reflected.c:
            return None
        keys = [r[table.key_column] for r in select_subject(conn, system, table, kinds)]
        if not keys:
            return None
        key_col, done = reflected.c[table.key_column], 0
        for start in range(0, len(keys), BATCH):
            batch = keys[start : start + BATCH]
            done += conn.execute(update(reflected).where(key_col.in_(batch)).values({name: value})).rowcount
        return done

    return update_rows


def scan_identities(
    session: Session, *, instance_path: Path, kinds: tuple[str, ...], match: Callable[[str, str], bool]
) -> Iterator[tuple[DataSystem, DataTable, list[tuple[Any, dict[str, str]]]]]:
    """Per mapped table, the keys (with their identity values) of the rows whose identity of one of `kinds`
    satisfies `match`. Rows are streamed and only matches kept: the erasure replay matches keyed hashes,
    which SQL cannot compute."""
    with engines(instance_path) as engine_for:
        for system, table in mapped_tables(session):
            wanted = [k for k in kinds if k in table.identity]
            if not wanted:
                continue
            found: list[tuple[Any, dict[str, str]]] = []
            with reporting(system.name, table.table_name, "read"), engine_for(system).connect() as conn:
                reflected = reflect_table(conn, system, table)
                identity = [reflected.c[table.identity[k]] for k in wanted]
                stmt = select(reflected.c[table.key_column], *identity)
                rows = conn.execution_options(stream_results=True, yield_per=5000).execute(stmt)
                for row in rows:
                    values = {k: str(v) for k, v in zip(wanted, row[1:], strict=True) if v is not None}
                    if any(match(k, v) for k, v in values.items()):
                        found.append((row[0], values))
            yield system, table, found


def erase_keys(
    session: Session, *, instance_path: Path, system: DataSystem, table: DataTable, keys: list[Any]
) -> int:
    """Delete or mask (the table's erasure strategy) the rows with these keys; return how many."""
    with engines(instance_path) as engine_for, reporting(system.name, table.table_name, "changed"):
        return change_with_retry(
            engine_for(system), lambda conn: _erase(conn, reflect_table(conn, system, table), table, keys)
        )
