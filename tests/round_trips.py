"""Count the round trips a piece of code makes to every database: the app's and the data systems'.

Listens on the Engine class, so engines made while counting (a data system's) are counted too. A round trip
is a statement, a transaction's BEGIN, COMMIT or ROLLBACK (not on an AUTOCOMMIT connection, where the driver
sends none), and a pool's pre-ping on checkout. The bench and the regression tests share it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import Pool


@dataclass
class RoundTrips:
    """What was counted: every round trip in order (a statement's whole SQL), and their number by kind."""

    statements: list[str] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        """Every round trip counted."""
        return sum(self.kinds.values())

    def report(self) -> str:
        """The counts by kind, then the statements, one a line (for a failing assertion's message)."""
        head = ", ".join(f"{k} {v}" for k, v in sorted(self.kinds.items()))
        return f"{self.total} round trips ({head}):\n" + "\n".join(s[:200] for s in self.statements)


def _autocommit(conn: Connection) -> bool:
    return conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT" or (
        conn.engine.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    )


@contextmanager
def counting() -> Iterator[RoundTrips]:
    """Count the round trips made inside the block, on every engine."""
    seen = RoundTrips()

    def statement(conn: Connection, cursor: Any, sql: str, *args: Any) -> None:
        seen.kinds["statement"] += 1
        seen.statements.append(f"[{conn.engine.url.database}] {' '.join(sql.split())}")

    def transaction(kind: str) -> Any:
        def listen(conn: Connection, *args: Any) -> None:
            if not _autocommit(conn):
                seen.kinds[kind] += 1
                seen.statements.append(f"[{conn.engine.url.database}] {kind.upper()}")

        return listen

    def checkout(dbapi_conn: Any, record: Any, proxy: Any) -> None:
        if getattr(proxy._pool, "_pre_ping", False):  # noqa: SLF001 - the pool's own flag
            seen.kinds["pre_ping"] += 1
            seen.statements.append("PRE-PING")

    listeners: list[tuple[Any, str, Any]] = [
        (Engine, "before_cursor_execute", statement),
        (Engine, "begin", transaction("begin")),
        (Engine, "commit", transaction("commit")),
        (Engine, "rollback", transaction("rollback")),
        (Pool, "checkout", checkout),
    ]
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    try:
        yield seen
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)
