"""A connection the database server dropped is replaced without a pre-ping on every request (issue 18).

The engine no longer pings before each checkout (a round trip per request): a request that meets a dropped
connection answers 503 with Retry-After, the pool is invalidated, and the next request is served again.
"""

from __future__ import annotations

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event
from tests_support import bearer


@pytest.fixture
def engine_name() -> str:
    return "postgresql"  # SQLite has no server to drop connections


def _terminate_others(app: Flask) -> int:
    url = app.extensions["engine"].url.set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def test_a_read_on_a_dropped_connection_is_asked_again_on_a_fresh_one(app: Flask, client, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("registry:read"))
    assert client.get("/api/v1/activities", headers=key).status_code == 200
    assert _terminate_others(app) >= 1  # the pooled connection is gone
    assert client.get("/api/v1/activities", headers=key).status_code == 200
    assert client.get("/api/v1/activities/accounts", headers=key).status_code == 200


def test_a_write_on_a_dropped_connection_answers_503_and_the_next_one_is_served(  # type: ignore[no-untyped-def]
    app: Flask, client, make_key
) -> None:
    key = bearer(make_key("registry:read", "breaches:manage"))
    assert client.get("/api/v1/activities", headers=key).status_code == 200
    assert _terminate_others(app) >= 1
    body = {"title": "Lost laptop", "discovered_at": "2026-12-01T10:00:00+01:00",
            "description": "A laptop was left on a train."}  # fmt: skip
    dropped = client.post("/api/v1/breaches", json=body, headers=key)
    assert dropped.status_code == 503 and dropped.headers["Retry-After"] == "5"
    assert dropped.get_json()["error"]["code"] == "unavailable"
    again = client.post("/api/v1/breaches", json=body, headers=key)
    assert again.status_code == 201, again.get_json()
    listed = client.get("/api/v1/breaches", headers=key).get_json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert [b["title"] for b in items] == ["Lost laptop"]  # the refused write left nothing behind


def test_a_request_checks_out_a_connection_without_pinging_it(app: Flask, client, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("registry:read"))
    # organisations: Flask answers them (a kept activity page would be sent before Flask, ropa/fastpath.py)
    client.get("/api/v1/organisations", headers=key)  # a connection in the pool
    engine = app.extensions["engine"]
    pings: list[object] = []
    original = engine.dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return original(dbapi_connection)

    engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
    checkouts: list[object] = []
    event.listen(engine, "checkout", lambda *args: checkouts.append(args))
    try:
        assert client.get("/api/v1/organisations", headers=key).status_code == 200
    finally:
        engine.dialect.do_ping = original  # type: ignore[method-assign]
    assert checkouts and pings == []
