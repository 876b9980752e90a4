"""Engine and session handling: one engine per app, one session per request or job."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, Select, event, func, select
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from privacy_service.errors import DomainError


def make_engine(url: str) -> Engine:
    """Create the engine for a database URL (SQLite gets foreign keys and WAL)."""
    if url.startswith("sqlite"):
        kwargs: dict = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # A server that does not answer fails a connection attempt within 5 s: requests get a 503, not a hang.
    # No pre-ping: it cost every request a round trip to the server. A pooled connection the server dropped
    # (a restart, a failover) fails its first statement instead; SQLAlchemy sees the disconnect and
    # invalidates the whole pool; a read is asked again on a fresh connection (RetryStaleReads), a write
    # answers 503 with Retry-After (http.py). pool_recycle replaces connections before an idle timeout
    # closes them.
    return create_engine(
        url, pool_size=5, max_overflow=10, pool_recycle=1800, connect_args={"connect_timeout": 5}
    )


STALE_CONNECTION = "privacy.stale_connection"  # set in the WSGI environ by the 503 handler (http.py)

StartResponse = Callable[..., Any]


class RetryStaleReads:
    """WSGI middleware: a read that met a connection the database server had dropped is asked once more.

    Without a pre-ping, the first request after a server restart or failover meets a dead pooled connection;
    SQLAlchemy invalidates the pool and the request answers 503 (http.py), marking the environ. A GET or HEAD
    changes nothing, so it is run again on a fresh connection and the caller never sees the stale pool. A
    write keeps its 503 with Retry-After: it may have done something that cannot be undone."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        started: list[tuple[Any, ...]] = []

        def remember(*args: Any) -> Callable[[bytes], None]:
            started.append(args)
            return lambda _data: None  # Flask never writes through the legacy write() callable

        body = self.app(environ, remember)
        if environ.pop(STALE_CONNECTION, False) and started and str(started[0][0]).startswith("503"):
            close = getattr(body, "close", None)
            if close is not None:
                close()
            return self.app(environ, start_response)
        start_response(*started[0])
        return body


def init_app(app: Flask) -> None:
    """Attach the engine to the app and close the request session on teardown."""
    app.extensions["engine"] = make_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    app.wsgi_app = RetryStaleReads(app.wsgi_app)  # type: ignore[method-assign]

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def unit_of_work(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a view so that its request is one transaction: the changes commit when the answer is below 400
    and roll back otherwise. Routes never commit; the app factory wraps every view with this."""

    @functools.wraps(view)  # keeps the access rule and CSRF marks the view carries
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except DomainError:
            kept: Session | None = g.get("db_session")
            if kept is not None and g.pop("db_keep_changes", False):
                kept.commit()  # a refusal's audit event, kept although the error handler answers
            raise
        session: Session | None = g.get("db_session")
        if session is not None:
            if response.status_code < 400 or g.pop("db_keep_changes", False):
                session.commit()
            else:
                session.rollback()
        return response

    return wrapper


def keep_changes() -> None:
    """Commit this request's changes although its answer is an error (a refused login's audit event), an
    answer returned or a DomainError raised."""
    g.db_keep_changes = True


def end_read(session: Session) -> None:
    """End the request's read-only transaction (the key look-up) so that its write begins a transaction of
    its own: SQLite cannot turn a read begun before another writer's commit into a write. Once the request
    has written (an idempotency key claimed, see idempotency.py) there is nothing to end: it does nothing."""
    if not session.info.get("wrote"):
        session.rollback()


def get_engine() -> Engine:
    """Return the current app's engine."""
    return current_app.extensions["engine"]


def get_session() -> Session:
    """Return the session of the current request (created on first use)."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """Open a session and commit once at the end, or roll back on error (jobs and CLI)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def page_of(session: Session, stmt: Select[Any], *, page: int, per_page: int) -> tuple[list[Any], int]:
    """One page of a query's rows (page from 1) and how many rows the query has in all."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return list(session.scalars(stmt.offset((page - 1) * per_page).limit(per_page))), total
