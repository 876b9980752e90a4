"""PostgreSQL advisory locks that keep two processes from doing the same retention work at once.

A key is one bigint: the namespace in the high 32 bits (a rule being run, a run alive, a schedule slot) and
the value in the low 32 (a name's CRC-32, or a run's id). SQLite deployments run one scheduler: there every
lock is granted at once.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

RULE = 7262002  # a rule is being run
RUN = 7262003  # a run is alive
SLOT = 7262004  # a rule's schedule slot is being run


def lock_key(namespace: int, value: int) -> int:
    """One bigint advisory-lock key: the namespace in the high 32 bits, the value in the low 32."""
    return (namespace << 32) | (value & 0xFFFFFFFF)


@contextmanager
def try_lock(engine: Engine, namespace: int, name: str, *, on: Connection | None = None) -> Iterator[bool]:
    """Hold the advisory lock for `name` while the block runs; yield False if another process has it.

    `on` is a connection this process already holds (the run's own): the lock is taken there instead of on a
    connection of its own.
    """
    if engine.dialect.name != "postgresql":
        yield True
        return
    args = {"key": lock_key(namespace, zlib.crc32(name.encode()))}
    with contextlib.nullcontext(on) if on is not None else engine.connect() as conn:
        taken = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), args).scalar_one()
        conn.commit()
        if not taken:
            yield False
            return
        try:
            yield True
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), args)
            conn.commit()


class RunLock:
    """The run's own advisory lock (PostgreSQL), taken before its record commits and held until it ends,
    so another process never takes a live run for a dead one."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.args = engine, {}
        self.conn: Connection | None = None

    def __enter__(self) -> RunLock:
        if self.engine.dialect.name == "postgresql":
            self.conn = self.engine.connect()
        return self

    def acquire(self, run_id: int) -> None:
        """Take the lock of this run (its record is about to commit)."""
        if self.conn is not None:
            self.args = {"key": lock_key(RUN, run_id)}
            self.conn.execute(text("SELECT pg_advisory_lock(:key)"), self.args)
            self.conn.commit()

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            try:
                if self.args:
                    self.conn.execute(text("SELECT pg_advisory_unlock(:key)"), self.args)
                    self.conn.commit()
            finally:
                self.conn.close()


def unlocked_runs(engine: Engine, run_ids: list[int]) -> list[int]:
    """Of these runs, those whose lock no process holds: their process is gone (on SQLite, all of them)."""
    if engine.dialect.name != "postgresql" or not run_ids:
        return list(run_ids)
    free = []
    with engine.connect() as conn:
        for run_id in run_ids:
            args = {"key": lock_key(RUN, run_id)}
            if conn.execute(text("SELECT pg_try_advisory_lock(:key)"), args).scalar_one():
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), args)
                free.append(run_id)
        conn.commit()
    return free
