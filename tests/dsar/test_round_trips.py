"""Round trips of a request's plan and answer (issue 18): a regression test, not a timing test.

The plan and the answer read the registry, the data map and the holds once per request, search each data
system on one connection outside a transaction, and write the outcomes in one statement. The data systems are
the demo's SQLite files beside a SQLite service, and copies on PostgreSQL (pooled, as in production) beside a
PostgreSQL service. Timings are in bench/bench_dsar.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from pg_data_systems import SYSTEMS, admin, copy_to_postgres
from pgcluster import unique_dbname
from round_trips import RoundTrips, counting

from privacy_service.audit import Actor
from privacy_service.consent import service as consent
from privacy_service.db import transaction
from privacy_service.dsar import answer, decisions, plan, service

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
ACTIVITIES = ["accounts", "applications", "support", "surveys"]
ACTOR = Actor("cli", "tests")
# What plan + collect of an access request over the four activities may cost, with warm pools and caches
# (44 before issue 18): BEGIN, the request, the person it resolves to (issue 21), the activities, the map,
# one SELECT per table (4), the earlier outcomes (DELETE … RETURNING), the holds, the outcomes (one INSERT),
# the event, the request's status, the audit chain (3); for the answer (taking the outcomes the plan wrote
# and the person it found) the organisations, the withholdings, the consents with their history, the
# consent purpose outside the request (its name), the earlier requests; COMMIT. SQLite reads a file's
# columns afresh for every search (no reflection cache for files), and inserts the outcomes one by one; its
# round trips are calls inside the process.
BOUND = {"postgresql": 23, "sqlite": 29}
TABLES = ("accounts", "applications", "support_enquiries", "survey_responses")


@pytest.fixture
def systems(
    engine_name: str, demo: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str | None]:
    """The demo's data systems: its files beside SQLite, a copy on the run's PostgreSQL beside PostgreSQL."""
    if engine_name == "sqlite":
        yield None
        return
    server = request.getfixturevalue("pg_server")
    dbname = unique_dbname("ds_trips")
    url = copy_to_postgres(demo, server, dbname)
    for system in SYSTEMS:
        monkeypatch.setenv(f"PRIVACY_DS_{system.upper().replace('-', '_')}_URL", url)
    yield dbname
    from privacy_service.datamap.service import dispose_engines

    dispose_engines()
    with admin(server) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def _access_request(app: Flask) -> str:
    links = service.Links("http://localhost", "test-secret")
    data = {"type": "access", "subject": KARI, "activities": ACTIVITIES, "channel": "portal"}
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        for purpose in ("surveys", "newsletter"):  # two purposes, one outside the request: one query
            consent.record_consent(session, subject=KARI["email"], purpose=purpose, status="given",
                                   channel="api", actor=ACTOR, links=links)  # fmt: skip
        created = service.create_request(
            session, data=data, actor=ACTOR, links=links, verified_by="portal_verified"
        )
        return created.request.reference


def _plan_and_collect(app: Flask, reference: str) -> answer.Answer:
    instance = Path(app.config["PRIVACY_INSTANCE_PATH"])
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        req = service.get_request(session, reference=reference, for_update=True)
        secret = app.config["SECRET_KEY"]
        plan.make_plan(session, req, instance_path=instance, actor=ACTOR, secret=secret)
        return answer.collect(session, req, instance_path=instance, secret=secret)


def _counted(app: Flask) -> tuple[RoundTrips, answer.Answer]:
    _plan_and_collect(app, _access_request(app))  # warm: pools, reflected columns
    reference = _access_request(app)
    with counting() as trips:
        found = _plan_and_collect(app, reference)
    return trips, found


def _on(trips: RoundTrips, table: str) -> list[str]:
    return [s for s in trips.statements if f"FROM {table} " in s or s.endswith(f"FROM {table}")]


def test_plan_and_collect_of_an_access_request_stay_within_their_round_trips(
    app: Flask, engine_name: str, systems: str | None
) -> None:
    trips, found = _counted(app)
    assert trips.total <= BOUND[engine_name], trips.report()
    assert trips.kinds["pre_ping"] == 0, trips.report()  # a dropped connection is retried instead
    assert [c["purpose"] for c in found.consents] == ["newsletter", "surveys"]
    assert found.purposes["newsletter"] != "newsletter"  # named from the registry
    assert all(len(c["history"]) == 1 for c in found.consents)


def test_the_registry_the_map_and_the_holds_are_read_once_per_request(
    app: Flask, engine_name: str, systems: str | None
) -> None:
    trips, __ = _counted(app)
    # the request's activities, then (for its name in the letter) the consent purpose outside them
    assert len(_on(trips, "processing_activity")) == 2, trips.report()
    assert len(_on(trips, "data_system JOIN data_table")) == 1, trips.report()
    assert len(_on(trips, "hold")) == 1, trips.report()
    assert len([s for s in trips.statements if "FROM consent_" in s]) == 1, trips.report()  # with history
    inserts = [s for s in trips.statements if "INSERT INTO dsar_outcome" in s]
    # one multi-row INSERT … RETURNING; SQLite cannot tell which returned id is whose, so it inserts per row
    assert len(inserts) == (1 if engine_name == "postgresql" else len(ACTIVITIES)), trips.report()


def test_each_data_system_is_searched_on_one_connection_outside_a_transaction(
    app: Flask, engine_name: str, systems: str | None
) -> None:
    trips, __ = _counted(app)
    searched = [s for s in trips.statements if any(f"] SELECT {t}." in s for t in TABLES)]
    assert len(searched) == len(TABLES), trips.report()  # one SELECT per table: the plan's
    databases = {s.split("]")[0] for s in searched}
    begun = [
        s for s in trips.statements if s.split("]")[0] in databases and s.endswith(("BEGIN", "ROLLBACK"))
    ]
    assert begun == [], trips.report()


@pytest.mark.parametrize("engine_name", ["postgresql"])  # SQLite files have no server to drop a connection
def test_a_data_system_connection_the_server_dropped_is_read_again_on_a_fresh_one(
    app: Flask, engine_name: str, systems: str, pg_server: dict[str, Any]
) -> None:
    _plan_and_collect(app, _access_request(app))  # the pool holds a connection to the data systems
    with admin(pg_server) as conn:
        dropped = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (systems,)
        ).fetchall()
    assert dropped
    reference = _access_request(app)
    _plan_and_collect(app, reference)
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        req = service.get_request(session, reference=reference)
        outcomes = {o.activity: o.records for o in service.outcomes(session, req)}
    assert outcomes["accounts"] == 1 and outcomes["surveys"] == 1


@pytest.mark.parametrize("engine_name", ["postgresql"])
def test_an_erasure_that_meets_a_dropped_data_system_connection_is_carried_out_on_a_fresh_one(
    app: Flask, engine_name: str, systems: str, pg_server: dict[str, Any]
) -> None:
    _plan_and_collect(app, _access_request(app))  # the pool holds a connection to the data systems
    links = service.Links("http://localhost", "test-secret")
    instance = Path(app.config["PRIVACY_INSTANCE_PATH"])
    data = {"type": "erasure", "subject": KARI, "activities": ["accounts", "surveys"], "channel": "portal"}
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        req = service.create_request(
            session, data=data, actor=ACTOR, links=links, verified_by="portal_verified"
        )
        outcomes = plan.make_plan(
            session, req.request, instance_path=instance, actor=ACTOR, secret=app.config["SECRET_KEY"]
        )
        items = [
            {"activity": o.activity, "decision": "uphold"}
            for o in outcomes
            if o.outcome in decisions.NEEDS_DECISION
        ]
        assert {i["activity"] for i in items} == {"accounts", "surveys"}
        service.decide_outcomes(session, reference=req.request.reference, items=items, actor=ACTOR)
    with admin(pg_server) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (systems,))
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        service.approve(
            session, reference=req.request.reference, actor=ACTOR, instance_path=instance, links=links
        )
    url = f"postgresql://{pg_server['user']}@{pg_server['host']}:{pg_server['port']}/{systems}"
    with psycopg.connect(url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM accounts WHERE lower(email) = %s", (KARI["email"],)
        ).fetchone()
    assert left == (0,)
