"""Rate limits counted in the database: shared by every app on it, exact under concurrency, windows end."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient
from limits.storage import storage_from_string
from sqlalchemy import func, select
from tests_support import csrf_token

from privacy_service.config import Settings
from privacy_service.db import make_engine
from privacy_service.security.models import RateLimitCounter
from privacy_service.security.ratelimit import (
    DatabaseStorage,
    PerProcessStore,
    refuse_per_process_store,
)

LOGIN_LIMIT = 10  # a minute per address (security/web.py)


@pytest.fixture
def make_store(make_db_url: Callable[..., str]) -> Iterator[Callable[..., DatabaseStorage]]:
    """Return a factory of database stores, each on its own fresh, migrated database."""
    engines = []

    def make(**options: int) -> DatabaseStorage:
        engine = make_engine(make_db_url("empty"))
        engines.append(engine)
        store = storage_from_string("database://", engine=engine, secret="test-secret", **options)  # type: ignore[arg-type]
        assert isinstance(store, DatabaseStorage)
        return store

    yield make
    for engine in engines:
        engine.dispose()


def _rows(store: DatabaseStorage) -> list[RateLimitCounter]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(RateLimitCounter)))  # type: ignore[arg-type]


def _login_attempts(clients: list[FlaskClient], n: int) -> list[int]:
    """POST n failed logins from one address, taking the clients in turn."""
    tokens = [csrf_token(c) for c in clients]
    statuses = []
    for i in range(n):
        body = {
            "username": f"nobody{i}",
            "password": "wrong-password",
            "csrf_token": tokens[i % len(clients)],
        }
        statuses.append(clients[i % len(clients)].post("/login", data=body).status_code)
    return statuses


def test_the_database_is_the_default_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIVACY_RATELIMIT_STORAGE", raising=False)
    assert Settings().ratelimit_storage == "database://"


def test_two_apps_on_one_database_count_the_login_limit_together(make_app: Callable[..., Flask]) -> None:
    first = make_app()
    second = make_app(SQLALCHEMY_DATABASE_URI=first.config["SQLALCHEMY_DATABASE_URI"])
    statuses = _login_attempts([first.test_client(), second.test_client()], LOGIN_LIMIT + 1)
    assert statuses == [401] * LOGIN_LIMIT + [429]


def test_a_refused_request_still_counts(app: Flask) -> None:
    # the form answers 422 and its transaction rolls back; the count was kept in its own transaction
    client = app.test_client()
    token = csrf_token(client, "/requests/new?lang=en")
    codes = [client.post("/requests/new?lang=en", data={"csrf_token": token}).status_code for _ in range(6)]
    assert codes == [422] * 5 + [429]


def test_the_memory_store_still_counts_in_one_process(make_app: Callable[..., Flask]) -> None:
    app = make_app(RATELIMIT_STORAGE_URI="memory://")
    assert _login_attempts([app.test_client()], LOGIN_LIMIT + 1) == [401] * LOGIN_LIMIT + [429]


def test_concurrent_hits_from_many_threads_add_up_exactly(make_store: Callable[..., DatabaseStorage]) -> None:
    store = make_store()
    threads, hits = 8, 40
    start = threading.Barrier(threads)

    def hammer() -> list[int]:
        start.wait()
        return [store.incr("LIMITER/198.51.100.7/auth.login", 60) for _ in range(hits)]

    with ThreadPoolExecutor(threads) as pool:
        seen = [
            count for future in [pool.submit(hammer) for _ in range(threads)] for count in future.result()
        ]
    # every hit got a count of its own: none was lost and none read a count another hit had also read
    assert sorted(seen) == list(range(1, threads * hits + 1))
    assert store.get("LIMITER/198.51.100.7/auth.login") == threads * hits


def test_a_window_that_has_ended_starts_a_new_count(make_store: Callable[..., DatabaseStorage]) -> None:
    store = make_store()
    assert [store.incr("key", 1) for _ in range(3)] == [1, 2, 3]
    ends = store.get_expiry("key")
    assert time.time() < ends <= time.time() + 1
    time.sleep(max(0.0, ends - time.time()) + 0.05)
    assert store.get("key") == 0
    assert store.incr("key", 60) == 1
    assert store.get_expiry("key") > ends + 30


def test_expired_counts_are_purged_now_and_then(make_store: Callable[..., DatabaseStorage]) -> None:
    store = make_store(purge_every=3)
    store.incr("old", 1)
    time.sleep(1.05)
    store.incr("a", 60)
    assert len(_rows(store)) == 2  # the ended window's row waits for the purge
    store.incr("b", 60)  # the third write purges
    assert len(_rows(store)) == 2 and store.get("a") == store.get("b") == 1


def test_the_table_keeps_neither_the_address_nor_the_username(
    make_store: Callable[..., DatabaseStorage],
) -> None:
    store = make_store()
    store.incr("LIMITER/198.51.100.7/auth.login/10/1/minute", 60)
    store.incr("LIMITER/account:kari.nordmann/auth.login/30/1/hour", 3600)
    keys = [row.key for row in _rows(store)]
    assert len(keys) == 2 and all(len(k) == 64 and "198.51" not in k and "kari" not in k for k in keys)


def test_clear_and_reset_end_counts(make_store: Callable[..., DatabaseStorage]) -> None:
    store = make_store()
    store.incr("a", 60, amount=3)
    store.incr("b", 60)
    store.clear("a")
    assert store.get("a") == 0 and store.get("b") == 1
    assert store.reset() == 1 and store.get("b") == 0
    assert store.check()
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(RateLimitCounter)).scalar_one() == 0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("uri", "workers", "refused"),
    [
        ("memory://", 2, True),
        ("memory://", 1, False),
        ("database://", 4, False),
        ("redis://localhost:6379", 4, False),
    ],
)
def test_several_workers_are_refused_only_on_a_per_process_store(
    uri: str, workers: int, refused: bool
) -> None:
    if refused:
        with pytest.raises(PerProcessStore, match="database://"):
            refuse_per_process_store(uri, workers)
    else:
        refuse_per_process_store(uri, workers)
