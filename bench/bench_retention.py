"""The retention runner on a large table, against one hand-written DELETE with the same conditions.

Run by hand: python bench/bench_retention.py [--rows 1000000] [--engines sqlite,postgresql]
For each engine, at 100,000 rows and at --rows: a support_enquiries table (the demo's) where 10% of the rows
are past the rule's period and 1% of those are under a hold on listed keys. Prints the hand-written
DELETE's time on a copy of the table, the runner's time (ratio; rows per second), the dry run's time, and the
runner's peak memory over what the process held before the run (measured in a child process).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import REPO  # noqa: E402

RULE = "support:helsedata-support.support_enquiries:delete"
OLD, NEW = datetime(2020, 1, 1), datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)

CHILD = """
import json, resource, sys, time
from pathlib import Path
from privacy_service.audit import Actor
from privacy_service.db import make_engine
from privacy_service.retention.runner import run_retention, get_run
from sqlmodel import Session
url, instance = sys.argv[1], Path(sys.argv[2])
engine = make_engine(url)
from sqlalchemy.orm import configure_mappers
configure_mappers()  # a scheduler process is long-lived: its models are set up once, not per run
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
actor = Actor("cli", "bench")
run = run_retention(engine, instance_path=instance, actor=actor, only=[sys.argv[3]], trigger="cli")
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with Session(engine) as session:
    __, results = get_run(session, run.id)
r = results[0]
print(json.dumps({"seconds": seconds, "acted": r.acted, "held": r.held, "error": r.error,
                  "rss_before_kb": before, "rss_peak_kb": peak}))
"""


def _fill(ds_url: str, rows: int) -> None:
    """Create the demo's support table, and a copy for the baseline, with `rows` rows."""
    from sqlalchemy import create_engine, text

    from privacy_service.datamap.demo import _metadata

    engine = create_engine(ds_url)
    metadata = _metadata()["helsedata-support"]
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS baseline"))
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "INSERT INTO support_enquiries (id, name, email, phone, subject, body, received_at,"
                    " answered_at, restricted) SELECT g, 'Person ' || g, 'p' || g || '@example.no', NULL,"
                    " 's', 'b', :new, CASE WHEN g % 10 = 0 THEN CAST(:old AS timestamp)"
                    " ELSE CAST(:new AS timestamp) END, false FROM generate_series(1, :n) AS g"
                ),
                {"n": rows, "old": OLD, "new": NEW},
            )
        else:
            insert = metadata.tables["support_enquiries"].insert()
            for start in range(1, rows + 1, 50_000):
                conn.execute(
                    insert,
                    [
                        {
                            "id": i,
                            "name": f"Person {i}",
                            "email": f"p{i}@example.no",
                            "subject": "s",
                            "body": "b",
                            "received_at": NEW,
                            "answered_at": OLD if i % 10 == 0 else NEW,
                            "restricted": False,
                        }
                        for i in range(start, min(start + 50_000, rows + 1))
                    ],
                )
        conn.execute(text("CREATE INDEX IF NOT EXISTS ix_bench_answered ON support_enquiries (answered_at)"))
        conn.execute(text("CREATE TABLE baseline AS SELECT * FROM support_enquiries"))
        conn.execute(text("CREATE INDEX ix_baseline_answered ON baseline (answered_at)"))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            conn.execute(text("ANALYZE"))
            conn.commit()
    engine.dispose()


def _baseline(ds_url: str, held: list[int]) -> float:
    from sqlalchemy import bindparam, create_engine, text

    from privacy_service.retention.rules import cutoff

    engine = create_engine(ds_url)
    limit = cutoff(datetime.now(UTC), "P3M").replace(tzinfo=None)
    statement = text("DELETE FROM baseline WHERE answered_at <= :c AND id NOT IN :held").bindparams(
        bindparam("held", expanding=True)
    )
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(statement, {"c": limit, "held": held})
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds


def _setup(url: str, instance: Path, held: list[int]) -> None:
    from privacy_service.audit import Actor
    from privacy_service.db import make_engine, transaction
    from privacy_service.migrate import upgrade
    from privacy_service.policies import load_policies
    from privacy_service.retention.holds import set_hold

    engine = make_engine(url)
    upgrade(engine)
    actor = Actor("cli", "bench")
    with transaction(engine) as session:
        load_policies(session, root=REPO / "policies", instance_path=instance, actor=actor)
        set_hold(
            session,
            data={
                "kind": "legal",
                "scope": "records",
                "system": "helsedata-support",
                "table_name": "support_enquiries",
                "record_keys": [str(k) for k in held],
                "basis": "bench",
            },
            actor=actor,
        )
    engine.dispose()


def _dry_run(url: str, instance: Path) -> float:
    from privacy_service.audit import Actor
    from privacy_service.datamap.service import dispose_engines
    from privacy_service.db import make_engine
    from privacy_service.retention.runner import run_retention

    engine = make_engine(url)
    started = time.perf_counter()
    run_retention(engine, instance_path=instance, actor=Actor("cli", "bench"), only=[RULE], dry_run=True)
    seconds = time.perf_counter() - started
    engine.dispose()
    dispose_engines()  # the data system's pooled connections, or the next size cannot drop its database
    return seconds


def bench(engine_name: str, rows: int, cluster: object | None) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-retention-"))
    try:
        if cluster is not None:
            from sqlalchemy import create_engine, text

            admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")  # type: ignore[attr-defined]
            with admin.connect() as conn:
                for name in ("privacy", "ds"):
                    conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
                    conn.execute(text(f"CREATE DATABASE {name}"))
            admin.dispose()
            url, ds_url = cluster.url("privacy"), cluster.url("ds")  # type: ignore[attr-defined]
        else:
            url, ds_url = f"sqlite:///{tmp / 'privacy.db'}", f"sqlite:///{tmp / 'support.db'}"
        os.environ["PRIVACY_DS_HELSEDATA_SUPPORT_URL"] = ds_url
        t0 = time.perf_counter()
        _fill(ds_url, rows)
        filled = time.perf_counter() - t0
        held = list(range(1000, rows + 1, 1000))  # ids % 10 == 0: all of them are past the period
        _setup(url, tmp, held)
        baseline = _baseline(ds_url, held)
        dry = _dry_run(url, tmp)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, url, str(tmp), RULE], capture_output=True, text=True, check=True
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
        assert result["error"] is None, result
        assert result["held"] == len(held) and result["acted"] == rows // 10 - len(held), result
        return {
            "fill_s": filled,
            "baseline_s": baseline,
            "runner_s": result["seconds"],
            "acted": result["acted"],
            "dry_s": dry,
            "peak_mb": (result["rss_peak_kb"] - result["rss_before_kb"]) / 1024,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    head = f"{'engine':11} {'rows':>9} {'DELETE s':>9} {'runner s':>9} {'ratio':>6} {'rows/s':>9}"
    print(head + f" {'dry s':>7} {'peak MB':>8}")
    with contextlib.ExitStack() as stack:
        cluster = None
        if "postgresql" in args.engines:
            from pgcluster import throwaway_cluster

            cluster = stack.enter_context(throwaway_cluster())
        for engine_name in args.engines.split(","):
            for rows in sorted({100_000, args.rows}):
                r = bench(engine_name, rows, cluster if engine_name == "postgresql" else None)
                print(
                    f"{engine_name:11} {rows:9,} {r['baseline_s']:9.2f} {r['runner_s']:9.2f} "
                    f"{r['runner_s'] / r['baseline_s']:6.2f} {r['acted'] / r['runner_s']:9,.0f} "
                    f"{r['dry_s']:7.2f} {r['peak_mb']:8.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
