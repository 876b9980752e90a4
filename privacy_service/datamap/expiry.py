"""Set-based retention on one mapped table: count what is due and held, then act in bounded batches.

The retention runner names the rule (anchor, cutoff, action) and what holds protect (record keys, subject
identities, or everything); this module turns that into SQL on the data system. Every batch is one short
transaction there: a crash leaves each row untouched or fully handled, and the next run continues.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Table,
    Text,
    Time,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from privacy_service.datamap.connector import (
    DataSystemError,
    column_type,
    engines,
    identity_match,
    mapped_tables,
    masked_values,
    reflect_table,
    reporting,
    unmasked,
)
from privacy_service.datamap.models import DataSystem, DataTable
from privacy_service.errors import N_

_Act = Callable[[Any], int]


@dataclass
class Protection:
    """What holds protect in a table: everything, listed keys, and subjects by identity (kind, value)."""

    everything: bool = False
    keys: list[str] = field(default_factory=list)
    subjects: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class DueTable:
    """A mapped table opened for one rule: the conditions and the batch operations."""

    system: DataSystem
    mapping: DataTable
    table: Table
    engine: Engine
    anchor: str
    cutoff: datetime
    action: str
    mask_columns: tuple[str, ...]
    fallback: str | None = None
    # the other rules on this table, (anchor, fallback, cutoff) each: a row is due only when every rule is
    also: tuple[tuple[str, str | None, datetime], ...] = ()
    coarsen: tuple[str, ...] = ()  # anonymise: timestamp columns kept to the month

    @property
    def key(self) -> Any:
        return self.table.c[self.mapping.key_column]

    def due(self) -> ColumnElement[bool]:
        """Rows past every rule's cutoff (and, to anonymise, not yet anonymised)."""
        rules = ((self.anchor, self.fallback, self.cutoff), *self.also)
        condition = and_(*(self._past(anchor, fallback, cutoff) for anchor, fallback, cutoff in rules))
        if self.action == "anonymise":
            # a row whose blanked columns were empty anyway still has its timestamps to coarsen
            dialect = self.engine.dialect.name
            exact = [self.table.c[c] != month_of(self.table.c[c], dialect) for c in self.coarsen]
            condition = and_(condition, or_(unmasked(self.table, self.mask_columns), *exact))
        return condition

    def _past(self, anchor_name: str, fallback: str | None, cutoff: datetime) -> ColumnElement[bool]:
        """The anchor (where NULL, the fallback) at or before the cutoff; NULL in both: never due."""
        anchor: Any = self.table.c[anchor_name]
        if cutoff.tzinfo is not None and not getattr(anchor.type, "timezone", False):
            cutoff = cutoff.astimezone(UTC).replace(tzinfo=None)  # naive columns hold UTC
        if fallback:
            anchor = func.coalesce(anchor, self.table.c[fallback])
        return anchor <= cutoff  # NULL <= x is not true: a row with no anchor is never due

    def held(self, protection: Protection) -> ColumnElement[bool]:
        """Rows the holds protect."""
        if protection.everything:
            return self.key.is_not(None)
        parts: list[ColumnElement[bool]] = []
        if protection.keys:
            python_type = column_type(self.key)
            keys = [python_type(k) for k in protection.keys if _fits(python_type, k)]
            if keys and python_type is int:
                # as constants, written once: PostgreSQL hashes a constant list (not a bound parameter's),
                # and every batch reuses the one compiled statement instead of rendering the list again
                listed = literal_column("(" + ",".join(str(k) for k in keys) + ")")
                parts.append(self.key.op("IN", is_comparison=True)(listed))
            elif keys:
                held = bindparam("held_keys", keys, expanding=True, literal_execute=True, unique=True)
                parts.append(self.key.in_(held))
        for kind, value in protection.subjects:
            column = self.mapping.identity.get(kind)
            if column and (match := identity_match(self.table.c[column], kind, value)) is not None:
                # never NULL: NOT (NULL) would drop rows with an empty identity column from every action
                parts.append(and_(self.table.c[column].is_not(None), match))
        return or_(*parts) if parts else false()

    def count(self, where: ColumnElement[bool]) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(self.table).where(where)).scalar_one()

    def counts(self, where: ColumnElement[bool], parts: list[ColumnElement[bool]]) -> tuple[int, list[int]]:
        """Rows matching `where`, and of those the rows matching each part: one scan, whatever the parts."""
        sums = [func.coalesce(func.sum(case((part, 1), else_=0)), 0) for part in parts]
        with self.engine.connect() as conn:
            row = conn.execute(select(func.count(), *sums).select_from(self.table).where(where)).one()
        return row[0], [int(n) for n in row[1:]]

    def act_all(self, where: ColumnElement[bool], batch: int) -> int:
        """Act on every row matching `where`, in transactions of about `batch` rows; return the rows handled.

        Each transaction covers one slice of the table: on PostgreSQL a range of heap pages (ctid), read in
        physical order, so the whole run reads each page once; elsewhere a range of keys, walked in key order.
        Each slice is re-checked against `where` as it is acted on, so a row changed meanwhile is left alone.
        The walk keeps one connection (one checkout and ping), committing each slice on its own.
        """
        with self.engine.connect() as conn:
            walk = self._walk_pages if self._plain_pg_table(conn) else self._walk_keys
            conn.rollback()  # the look at the catalogue ends before the first slice's transaction
            return walk(conn, where, batch, lambda part: self._act(conn, and_(where, part)))

    def _plain_pg_table(self, conn: Connection) -> bool:
        """A PostgreSQL heap table (partitioned tables and views have no pages of their own: walk keys)."""
        if conn.dialect.name != "postgresql":
            return False
        kind = conn.execute(
            text("SELECT relkind FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": self.table.name}
        ).scalar()
        return kind == "r"

    def _walk_keys(self, conn: Connection, where: ColumnElement[bool], batch: int, act: _Act) -> int:
        handled, after = 0, None
        while True:
            window = where if after is None else and_(where, self.key > after)
            page = select(self.key).where(window).order_by(self.key).limit(batch).subquery()
            with conn.begin():
                upper = conn.execute(select(func.max(page.c[self.key.name]))).scalar()
                if upper is None:
                    return handled
                keys = self.key <= upper if after is None else and_(self.key > after, self.key <= upper)
                handled += act(keys)
            after = upper

    def _walk_pages(self, conn: Connection, where: ColumnElement[bool], batch: int, act: _Act) -> int:
        """Ranges of heap pages, sized as it goes so that each holds about `batch` matching rows."""
        with conn.begin():
            pages = conn.execute(
                text("SELECT pg_relation_size(CAST(:t AS regclass)) / current_setting('block_size')::int"),
                {"t": self.table.name},
            ).scalar_one()
        handled, low, span = 0, 0, 64  # 64 pages hold at most ~18,600 rows, whatever their size
        while low <= pages:
            high = low + span
            part = text("ctid >= CAST(:low AS tid) AND ctid < CAST(:high AS tid)").bindparams(
                low=f"({low},0)", high=f"({high},0)"
            )
            with conn.begin():
                done = act(part)
            handled, low = handled + done, high
            # the next range in proportion to what this one held, at most 4 times as wide: the first, small
            # range finds the density of due rows, the rest each hold about `batch`. A dense stretch right
            # after a sparse one can still give a slice more than `batch` rows; the cap keeps that to a few.
            span = min(span * 4, 1 << 20) if done == 0 else max(1, min(span * 4, span * batch // done))
        return handled

    def _act(self, conn: Connection, batch: ColumnElement[bool]) -> int:
        if self.action == "anonymise":
            values = masked_values(self.table, self.mask_columns)
            values |= {c: month_of(self.table.c[c], conn.dialect.name) for c in self.coarsen}
            return conn.execute(update(self.table).where(batch).values(**values)).rowcount
        if self.action == "deposit":  # a deposit never deletes here: the archive's receipt does (delete_keys)
            raise DataSystemError(
                N_("A deposit rule writes an extract; its rows are deleted on the receipt.")
            )
        return conn.execute(delete(self.table).where(batch)).rowcount

    @contextmanager
    def rows(self, where: ColumnElement[bool]) -> Iterator[Any]:
        """Stream the rows matching `where` in key order (for an archive extract)."""
        with self.engine.connect() as conn:
            query = select(self.table).where(where).order_by(self.key)
            yield conn.execution_options(stream_results=True, yield_per=1000).execute(query)

    def delete_keys(self, keys: list[str], batch: int, keep: Protection | None = None) -> int:
        """Delete exactly the rows with these keys that `keep` does not protect, `batch` keys per transaction;
        return the rows deleted."""
        python_type = column_type(self.key)
        values = [python_type(k) for k in keys if _fits(python_type, k)]
        deleted = 0
        for start in range(0, len(values), batch):
            chunk = self.key.in_(values[start : start + batch])
            if keep is not None:
                chunk = and_(chunk, not_(self.held(keep)))
            with self.engine.begin() as conn:
                deleted += conn.execute(delete(self.table).where(chunk)).rowcount
        return deleted


def month_of(column: Any, dialect: str) -> Any:
    """The column's timestamp kept only to its month (the first of the month, midnight UTC: naive columns
    hold UTC)."""
    if dialect == "postgresql":
        if getattr(column.type, "timezone", False):  # the month in UTC, whatever the session's time zone
            return func.date_trunc("month", column, "UTC")
        return func.date_trunc("month", column)
    # SQLite keeps SQLAlchemy DateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' text
    return func.strftime("%Y-%m-01 00:00:00.000000", column)


def _fits(python_type: type, value: str) -> bool:
    return python_type is not int or str(value).lstrip("-").isdigit()


@contextmanager
def open_due_table(
    session: Session,
    *,
    system: str,
    table: str,
    anchor: str | None,
    cutoff: datetime,
    action: str,
    mask_columns: tuple[str, ...],
    instance_path: Path,
    fallback: str | None = None,
    also: tuple[tuple[str, str | None, datetime], ...] = (),
    keep: tuple[str, ...] = (),
    coarsen: tuple[str, ...] = (),
    reviewed: tuple[str, ...] = (),
) -> Iterator[DueTable]:
    """Open a mapped table for a rule; raise DataSystemError when it or a named column is missing."""
    found = [(s, t) for s, t in mapped_tables(session) if s.name == system and t.table_name == table]
    if not found:
        raise DataSystemError(f"The data map has no table {system}.{table}.")
    data_system, mapping = found[0]
    with engines(instance_path) as engine_for:
        engine = engine_for(data_system)
        with reporting(system, table, "read"), engine.connect() as conn:
            reflected = reflect_table(conn, data_system, mapping)
        anchors = [c for a, f, __ in ((anchor, fallback, cutoff), *also) for c in (a, f) if c]
        missing = [c for c in (*anchors, *mask_columns, *keep, *coarsen) if c not in reflected.c]
        if missing:
            raise DataSystemError(f"Table {system}.{table} has no column {', '.join(missing)}.")
        if action == "anonymise":
            _check_anonymous(reflected, mapping.key_column, (*mask_columns, *keep, *coarsen), keep, reviewed)
        yield DueTable(
            data_system,
            mapping,
            reflected,
            engine,
            anchor or "",
            cutoff,
            action,
            mask_columns,
            fallback,
            also,
            coarsen,
        )


def _check_anonymous(
    table: Table, key: str, named: tuple[str, ...], keep: tuple[str, ...], reviewed: tuple[str, ...]
) -> None:
    """Refuse an anonymisation that leaves a column unnamed, or keeps an exact timestamp or free text.

    Every column but the key must be blanked, coarsened or kept; a kept column may not be a date or time,
    nor free text (a TEXT column) unless an officer reviewed it (the rule's reviewed_free_text).
    """
    unnamed = [c.name for c in table.columns if c.name != key and c.name not in named]
    if unnamed:
        raise DataSystemError(
            f"Anonymising {table.name} leaves {', '.join(unnamed)} unnamed: blank, coarsen or keep each."
        )
    timestamps = [c for c in keep if isinstance(table.c[c].type, Date | DateTime | Time)]
    if timestamps:
        raise DataSystemError(f"Anonymising {table.name} keeps the exact time in {', '.join(timestamps)}.")
    free = [c for c in keep if isinstance(table.c[c].type, Text) and c not in reviewed]
    if free:
        raise DataSystemError(f"Anonymising {table.name} keeps unreviewed free text in {', '.join(free)}.")


def unheld(due: DueTable, protection: Protection) -> ColumnElement[bool]:
    """Due and not protected by any hold."""
    return and_(due.due(), not_(due.held(protection)))
