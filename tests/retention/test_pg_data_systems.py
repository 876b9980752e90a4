"""Data systems on PostgreSQL: the runner walks heap pages there, and must leave what the key walk leaves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pg_data_systems import SYSTEMS, admin, copy_to_postgres
from pgcluster import unique_dbname
from sqlalchemy import MetaData, Table, create_engine, text

from privacy_service.datamap.expiry import DueTable
from privacy_service.datamap.models import DataTable
from privacy_service.retention import runner

from .conftest import query
from .test_runner import APPLICATIONS, DPO, NOW, SUPPORT, SURVEYS, _hold

EXTRA = 3000  # support rows added to both copies so the walk takes many slices


@pytest.fixture
def engine_name() -> str:
    return "sqlite"  # the service's own database; the data systems below are the point


@pytest.fixture
def ds_dbname(pg_server: dict[str, Any]) -> Iterator[str]:
    """A name of its own on the run's cluster (workers share it); the database goes when the test ends."""
    dbname = unique_dbname("ds_pagewalk")
    yield dbname
    with admin(pg_server) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def _add_support_rows(url: str) -> None:
    """Rows of uneven width, a third of them long past the period, interleaved with recent ones."""
    engine = create_engine(url)
    old, recent = datetime(2020, 1, 1), (NOW - timedelta(days=3)).replace(tzinfo=None)
    with engine.begin() as conn:
        start = conn.execute(text("SELECT max(id) FROM support_enquiries")).scalar_one() + 1
        conn.execute(
            text(
                "INSERT INTO support_enquiries (id, name, email, subject, body, received_at, answered_at,"
                " restricted) VALUES (:id, :n, :e, 's', :b, :t, :t, false)"
            ),
            [
                {
                    "id": start + i,
                    "n": f"Person {i}",
                    "e": f"p{i}@example.no",
                    "b": "x" * (i % 7 * 300),
                    "t": old if i % 3 == 0 else recent,
                }
                for i in range(EXTRA)
            ],
        )
    engine.dispose()


def _state(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    with engine.connect() as conn:
        state = {
            "support": sorted(conn.execute(text("SELECT id FROM support_enquiries")).scalars()),
            "survey": sorted(
                tuple(r) for r in conn.execute(text("SELECT id, name, email FROM survey_responses"))
            ),
            "applications": sorted(conn.execute(text("SELECT id FROM applications")).scalars()),
        }
    engine.dispose()
    return state


def _deposited(result: Any) -> list[int]:
    lines = (Path(result.deposit_path) / "applications.csv").read_bytes().decode("utf-8").split("\r\n")[:-1]
    return sorted(int(line.split(";")[0]) for line in lines)


def _reject_deposits(app) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.db import transaction
    from privacy_service.retention.deposits import list_deposits, reject_deposit

    with app.app_context(), transaction(app.extensions["engine"]) as session:
        for deposit in list_deposits(session, status="pending_receipt"):
            reject_deposit(session, deposit_id=deposit.id or 0, reason="Another engine's copy", actor=DPO)


def _run(app, demo: Path):  # type: ignore[no-untyped-def]
    run = runner.run_retention(
        app.extensions["engine"],
        instance_path=demo,
        actor=DPO,
        only=[SUPPORT, SURVEYS, APPLICATIONS],
        now=NOW,
        batch=37,
    )
    with app.app_context():
        from privacy_service.db import transaction

        with transaction(app.extensions["engine"]) as session:
            __, results = runner.get_run(session, run.id)
    return run, {r.rule: r for r in results}


def test_the_page_walk_on_postgresql_leaves_what_the_key_walk_leaves(  # type: ignore[no-untyped-def]
    ds_dbname,
    app,
    demo,
    pg_server,
    monkeypatch,  # ds_dbname first: it is dropped after the app closes
) -> None:
    pg_url = copy_to_postgres(demo, pg_server, ds_dbname)
    sqlite_support = f"sqlite:///{demo / 'demo' / 'helsedata_support.db'}"
    _add_support_rows(sqlite_support)
    _add_support_rows(pg_url)
    # half the applications are old enough to deposit
    for url in (f"sqlite:///{demo / 'demo' / 'helsedata_portal.db'}", pg_url):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE applications SET submitted_at = '1990-01-01' WHERE id % 2 = 1"))
        engine.dispose()
    everyone = [r[0] for r in query(demo, "helsedata_support.db", "SELECT id FROM support_enquiries")]
    old = [
        r[0]
        for r in query(
            demo,
            "helsedata_support.db",
            "SELECT id FROM support_enquiries WHERE answered_at <= '2021-01-01' ORDER BY id",
        )
    ]
    assert len(old) == EXTRA // 3 and len(everyone) > len(old)
    email = query(demo, "helsedata_support.db", "SELECT email FROM support_enquiries WHERE id = :i", i=old[5])
    _hold(app, scope="records", system="helsedata-support", table_name="support_enquiries",
          record_keys=[str(k) for k in old[100:110]])  # fmt: skip
    _hold(app, scope="subject", subject_kind="email", subject_value=email[0][0])
    _hold(app, scope="records", system="helsedata-portal", table_name="applications", record_keys=["1"])

    # SQLite data systems first (the key walk), then the same rows on PostgreSQL (the page walk)
    for system in SYSTEMS:
        monkeypatch.delenv(f"PRIVACY_DS_{system.upper().replace('-', '_')}_URL", raising=False)
    lite_run, lite = _run(app, demo)
    lite_state = {
        "support": sorted(
            r[0] for r in query(demo, "helsedata_support.db", "SELECT id FROM support_enquiries")
        ),
        "survey": sorted(
            tuple(r)
            for r in query(demo, "helsedata_survey.db", "SELECT id, name, email FROM survey_responses")
        ),
        "applications": sorted(
            r[0] for r in query(demo, "helsedata_portal.db", "SELECT id FROM applications")
        ),
    }
    for system in SYSTEMS:
        monkeypatch.setenv(f"PRIVACY_DS_{system.upper().replace('-', '_')}_URL", pg_url)
    _reject_deposits(app)  # the SQLite extract waits for a receipt: free its rows for the PostgreSQL copy
    pg_run, pg = _run(app, demo)

    assert _state(pg_url) == lite_state
    for key in (SUPPORT, SURVEYS, APPLICATIONS):
        assert pg[key].error is None and lite[key].error is None, (pg[key].error, lite[key].error)
        assert (pg[key].candidates, pg[key].acted, pg[key].held, pg[key].held_by) == (
            lite[key].candidates,
            lite[key].acted,
            lite[key].held,
            lite[key].held_by,
        ), key
    assert pg[SUPPORT].acted > EXTRA // 3 and pg[SUPPORT].held >= 10
    assert set(old[100:110]) <= set(lite_state["support"])  # held rows stay
    assert pg[SURVEYS].acted == pg[SURVEYS].candidates > 0  # rows with an empty e-mail too
    assert _deposited(pg[APPLICATIONS]) == _deposited(lite[APPLICATIONS]) != []

    again_run, again = _run(app, demo)  # nothing left to do
    assert all(again[k].acted == 0 for k in (SUPPORT, SURVEYS, APPLICATIONS))
    assert _state(pg_url) == lite_state


class _Counted(DueTable):
    """The real table and its real deletes; each slice's row count is written down."""

    slices: list[int]

    def _act(self, conn: Any, batch: Any) -> int:
        done = super()._act(conn, batch)
        self.slices.append(done)
        return done


def _pg_table(pg_server: dict[str, Any], dbname: str, *statements: str) -> tuple[Any, Table]:
    """A database of its own holding table `t`, made by the statements; its engine and the reflected table."""
    with admin(pg_server) as conn:
        conn.execute(f"CREATE DATABASE {dbname}")
    url = f"postgresql+psycopg://{pg_server['user']}@{pg_server['host']}:{pg_server['port']}/{dbname}"
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    return engine, Table("t", MetaData(), autoload_with=engine)


def _walker(engine: Any, table: Table, **rule: Any) -> _Counted:
    walk = _Counted(
        system=None,  # type: ignore[arg-type]  # not read by the walk
        mapping=DataTable(key_column="id"),
        table=table,
        engine=engine,
        anchor="at",
        cutoff=datetime(2010, 1, 1),
        **{"action": "delete", "mask_columns": (), **rule},
    )
    walk.slices = []
    return walk


def test_the_page_walk_sizes_each_slice_to_the_batch(ds_dbname, pg_server) -> None:  # type: ignore[no-untyped-def]
    """A tenth of 60,000 rows due, evenly: each slice after the first (measuring) one holds about `batch`."""
    engine, table = _pg_table(
        pg_server,
        ds_dbname,
        "CREATE TABLE t (id integer PRIMARY KEY, at timestamp NOT NULL)",
        "INSERT INTO t SELECT i, CASE WHEN i % 10 = 0 THEN timestamp '2000-01-01'"
        " ELSE timestamp '2030-01-01' END FROM generate_series(1, 60000) i",
    )
    walk = _walker(engine, table)
    try:
        assert walk.act_all(walk.due(), batch=500) == 6000
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM t WHERE id % 10 = 0")).scalar_one() == 0
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 54000
        acting = [n for n in walk.slices if n]
        assert sum(acting) == 6000 and len(acting) >= 8, walk.slices
        assert all(250 <= n <= 1000 for n in acting[1:-1]), walk.slices  # about the batch, the last one less
    finally:
        engine.dispose()


def test_anonymising_on_postgresql_keeps_timestamps_only_to_the_month(ds_dbname, pg_server) -> None:  # type: ignore[no-untyped-def]
    """Blanked names, timestamps (with and without a zone) cut to the first of their month; a rerun finds
    nothing left to do, and rows not yet due keep everything."""
    engine, table = _pg_table(
        pg_server,
        ds_dbname,
        "CREATE TABLE t (id integer PRIMARY KEY, name text, at timestamp NOT NULL, seen timestamptz)",
        "SET TIME ZONE 'Europe/Oslo'",
        "INSERT INTO t VALUES (1, 'Kari', '2003-05-17 13:45:12.5', '2003-05-31 23:30:00+02'),"
        " (2, NULL, '2004-02-09 08:15:00', '2004-02-01 00:00:00+00'),"
        " (3, 'Ola', '2029-12-24 18:00:00', '2029-12-24 18:00:00+01')",
    )
    walk = _walker(engine, table, action="anonymise", mask_columns=("name",), coarsen=("at", "seen"))
    try:
        assert walk.act_all(walk.due(), batch=500) == 2  # the row with no name still had exact times
        with engine.connect() as conn:
            conn.execute(text("SET TIME ZONE 'UTC'"))
            rows = conn.execute(text("SELECT id, name, at::text, seen::text FROM t ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [
            (1, None, "2003-05-01 00:00:00", "2003-05-01 00:00:00+00"),
            (2, None, "2004-02-01 00:00:00", "2004-02-01 00:00:00+00"),
            (3, "Ola", "2029-12-24 18:00:00", "2029-12-24 17:00:00+00"),
        ]
        assert walk.act_all(walk.due(), batch=500) == 0
    finally:
        engine.dispose()
