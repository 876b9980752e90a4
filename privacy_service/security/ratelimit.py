"""Rate limits kept in the service's own database, so that every worker and instance counts together.

`database://` names this store to `limits` (importing the module registers it); Flask-Limiter's fixed-window
strategy uses it. A hit is one upsert in its own short transaction on the app's engine: it starts a new window
when the old one has ended, adds to the count otherwise, and returns the count. The row lock (PostgreSQL) or
the database lock (SQLite) makes concurrent hits from any number of processes add up exactly, and a count is
kept whatever becomes of the request that made it.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from limits.errors import ConfigurationError
from limits.storage import Storage
from sqlalchemy import Engine, case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Select

from privacy_service.errors import DomainError
from privacy_service.kernel import utcnow
from privacy_service.security.models import RateLimitCounter

DATABASE_STORE = "database://"
# Stores whose counts live in one process: several workers would each count on their own.
PER_PROCESS_SCHEMES = frozenset({"memory", "async+memory"})
# Expired rows are deleted on one write in this many (per process): cheap, and the table stays small.
PURGE_EVERY = 100

log = logging.getLogger(__name__)
_table = RateLimitCounter.__table__  # type: ignore[attr-defined]


def is_per_process(uri: str) -> bool:
    """Tell whether a rate-limit store URI keeps its counts in one process's memory."""
    return urlparse(uri).scheme in PER_PROCESS_SCHEMES


class PerProcessStore(DomainError):
    """Several web workers were asked for with a store that counts in each process."""

    code = "per_process_rate_limits"


def refuse_per_process_store(uri: str, workers: int) -> None:
    """Refuse several workers on a per-process store: each would allow the whole limit on its own."""
    if workers > 1 and is_per_process(uri):
        raise PerProcessStore(
            f"{workers} workers with the rate-limit store {uri} would each count on their own, allowing "
            f"every limit {workers} times over. Count in the database (leave PRIVACY_RATELIMIT_STORAGE "
            "unset, or set it to database://) or in Redis (redis://host:6379), or serve with --workers 1."
        )


class DatabaseStorage(Storage):
    """Fixed-window counts in the rate_limit_counter table, on SQLite or PostgreSQL."""

    STORAGE_SCHEME = ["database"]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        *,
        engine: Engine | None = None,
        secret: str = "",
        purge_every: int = PURGE_EVERY,
        **options: Any,
    ) -> None:
        if engine is None:
            raise ConfigurationError("the database:// rate-limit store needs the app's engine")
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.engine = engine
        self._secret = secret.encode()
        self._purge_every = purge_every
        self._writes = itertools.count(1)
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def _digest(self, key: str) -> str:
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add `amount` to the key's count, starting a window of `expiry` seconds if none is running."""
        now = utcnow()
        stmt = self._insert(_table).values(
            key=self._digest(key), count=amount, expires_at=now + timedelta(seconds=expiry)
        )
        ended = _table.c.expires_at <= now
        stmt = stmt.on_conflict_do_update(
            index_elements=[_table.c.key],
            set_={
                "count": case((ended, stmt.excluded.count), else_=_table.c.count + stmt.excluded.count),
                "expires_at": case((ended, stmt.excluded.expires_at), else_=_table.c.expires_at),
            },
        ).returning(_table.c.count)
        with self.engine.begin() as conn:
            count = conn.execute(stmt).scalar_one()
        if next(self._writes) % self._purge_every == 0:
            try:
                self.purge_expired()
            except SQLAlchemyError as exc:  # the hit is counted; the next purge takes these rows
                log.warning("rate-limit purge failed: %s", type(exc).__name__)
        return count

    def _running(self, key: str) -> Select:
        where = (_table.c.key == self._digest(key), _table.c.expires_at > utcnow())
        return select(_table.c.count, _table.c.expires_at).where(*where)

    def get(self, key: str) -> int:
        """Return the key's count in its running window (0 when none runs)."""
        with self.engine.connect() as conn:
            row = conn.execute(self._running(key)).first()
        return row.count if row else 0

    def get_expiry(self, key: str) -> float:
        """Return when the key's running window ends, in seconds since the epoch (now when none runs)."""
        with self.engine.connect() as conn:
            row = conn.execute(self._running(key)).first()
        return row.expires_at.timestamp() if row else time.time()

    def check(self) -> bool:
        """Tell whether the database answers."""
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        """Delete every count; return how many there were."""
        with self.engine.begin() as conn:
            return conn.execute(delete(_table)).rowcount

    def clear(self, key: str) -> None:
        """Delete the key's count."""
        with self.engine.begin() as conn:
            conn.execute(delete(_table).where(_table.c.key == self._digest(key)))

    def purge_expired(self) -> int:
        """Delete the counts whose window has ended; return how many."""
        with self.engine.begin() as conn:
            return conn.execute(delete(_table).where(_table.c.expires_at <= utcnow())).rowcount
