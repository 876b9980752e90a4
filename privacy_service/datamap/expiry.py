"""Set-based retention on one mapped table: count what is due and held, then act in bounded batches.

The retention runner names the rule (anchor, cutoff, action) and what holds protect (record keys, subject
identities, or everything); this module turns that into SQL on the data system. Every batch is one short
transaction there: a crash leaves each row untouched or fully handled, and the next run continues.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, String, Table, and_, delete, false, func, not_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from privacy_service.datamap.actions import MASK_TEXT
from privacy_service.datamap.models import DataSystem, DataTable
from privacy_service.datamap.service import DataSystemError, _engines, _match, _reflect, mapped_tables


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

    @property
    def key(self) -> Any:
        return self.table.c[self.mapping.key_column]

    def due(self) -> ColumnElement[bool]:
        """Rows past the cutoff (and, to anonymise, not yet anonymised)."""
        anchor = self.table.c[self.anchor]
        cutoff = self.cutoff
        if cutoff.tzinfo is not None and not getattr(anchor.type, "timezone", False):
            cutoff = cutoff.astimezone(UTC).replace(tzinfo=None)  # naive columns hold UTC
        condition = anchor <= cutoff
        if self.action == "anonymise":
            unmasked = [
                self.table.c[c].is_not(None) if self.table.c[c].nullable else self.table.c[c] != MASK_TEXT
                for c in self.mask_columns
            ]
            condition = and_(condition, or_(*unmasked))
        return condition

    def held(self, protection: Protection) -> ColumnElement[bool]:
        """Rows the holds protect."""
        if protection.everything:
            return self.key.is_not(None)
        parts: list[ColumnElement[bool]] = []
        if protection.keys:
            python_type = _python_type(self.key)
            keys = [python_type(k) for k in protection.keys if _fits(python_type, k)]
            if keys:
                parts.append(self.key.in_(keys))
        for kind, value in protection.subjects:
            column = self.mapping.identity.get(kind)
            if column and (match := _match(self.table.c[column], kind, value)) is not None:
                parts.append(match)
        return or_(*parts) if parts else false()

    def count(self, where: ColumnElement[bool]) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(self.table).where(where)).scalar_one()

    def act_batch(
        self,
        where: ColumnElement[bool],
        limit: int,
        deposit_dir: Path | None,
        batch_no: int,
        after: Any = None,
    ) -> tuple[int, Any]:
        """Act on the next `limit` due, unheld rows after key `after`, in one transaction.

        Return how many rows were handled and the last key of the batch (None: nothing left). Walking the key
        order with a moving lower bound reads every row at most once per run, however many batches there are.
        """
        window = where if after is None else and_(where, self.key > after)
        page = select(self.key).where(window).order_by(self.key).limit(limit).subquery()
        with self.engine.begin() as conn:
            upper = conn.execute(select(func.max(page.c[self.key.name]))).scalar()
            if upper is None:
                return 0, None
            batch = and_(window, self.key <= upper)
            if self.action == "anonymise":
                return conn.execute(update(self.table).where(batch).values(**self._masked())).rowcount, upper
            if self.action == "deposit":  # remove exactly the rows written to disk, in the same transaction
                assert deposit_dir is not None
                rows = conn.execute(select(self.table).where(batch).order_by(self.key))
                path = deposit_dir / f"{self.mapping.table_name}-{batch_no:05d}.jsonl"
                keys = _write_jsonl(path, rows, self.mapping.key_column)
                return conn.execute(delete(self.table).where(self.key.in_(keys))).rowcount, upper
            return conn.execute(delete(self.table).where(batch)).rowcount, upper

    def _masked(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in self.mask_columns:
            column = self.table.c[name]
            if column.nullable:
                values[name] = None
            elif isinstance(column.type, String):
                values[name] = MASK_TEXT
            else:
                raise DataSystemError(f"Column '{name}' cannot be blanked: it is NOT NULL and not text.")
        return values


def _python_type(column: Any) -> type:
    try:
        return column.type.python_type
    except NotImplementedError:
        return str


def _fits(python_type: type, value: str) -> bool:
    return python_type is not int or str(value).lstrip("-").isdigit()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _write_jsonl(path: Path, rows: Any, key: str) -> list[Any]:
    """Write rows as JSON lines, flushed to disk before the caller deletes them; return their keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    keys = []
    with open(tmp, "w", encoding="utf-8") as fh:
        for row in rows:
            keys.append(row._mapping[key])
            fh.write(json.dumps({k: _plain(v) for k, v in row._mapping.items()}, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return keys


@contextmanager
def open_due_table(
    session: Session,
    *,
    system: str,
    table: str,
    anchor: str,
    cutoff: datetime,
    action: str,
    mask_columns: tuple[str, ...],
    instance_path: Path,
) -> Iterator[DueTable]:
    """Open a mapped table for a rule; raise DataSystemError when it or a named column is missing."""
    found = [(s, t) for s, t in mapped_tables(session) if s.name == system and t.table_name == table]
    if not found:
        raise DataSystemError(f"The data map has no table {system}.{table}.")
    data_system, mapping = found[0]
    with _engines(instance_path) as engine_for:
        engine = engine_for(data_system)
        try:
            with engine.connect() as conn:
                reflected = _reflect(conn, data_system, mapping)
        except SQLAlchemyError as exc:
            raise DataSystemError(
                f"Data system '{system}', table '{table}' could not be read ({type(exc).__name__})."
            ) from exc
        missing = [c for c in (anchor, *mask_columns) if c not in reflected.c]
        if missing:
            raise DataSystemError(f"Table {system}.{table} has no column {', '.join(missing)}.")
        yield DueTable(data_system, mapping, reflected, engine, anchor, cutoff, action, mask_columns)


def unheld(due: DueTable, protection: Protection) -> ColumnElement[bool]:
    """Due and not protected by any hold."""
    return and_(due.due(), not_(due.held(protection)))
