"""The retention runner on a large table, against one hand-written DELETE with the same conditions.

Run by hand: python bench/bench_retention.py [--rows 1000000] [--engines sqlite,postgresql]
    [--shared-buffers 128MB,1GB] [--repeat 3]
For each engine (PostgreSQL at each shared_buffers size), at 100,000 rows and at --rows: a support_enquiries
table (the demo's) where 10% of the rows are past the rule's period and 1% of those are under a hold on listed
keys. Prints the hand-written DELETE's time on a copy of the table, the runner's time in a warm child process
(ratio, median of --repeat runs, and the range; rows per second), the dry run's time, and the runner's peak
memory over what the process held before the run.
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
# A scheduler process is long-lived: its models are set up, its pools hold connections and the table's
# reflection is cached by the time a nightly rule runs (the rules of one slot run one after another in it).
# A dry run of the same rule, first, puts this process in that state; it changes nothing.
actor = Actor("cli", "bench")
run_retention(engine, instance_path=instance, actor=actor, only=[sys.argv[3]], dry_run=True)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
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
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))  # on an open connection, as the runner's is
        conn.commit()
        started = time.perf_counter()
        conn.execute(statement, {"c": limit, "held": held})
        conn.commit()
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


def _size_buffers(cluster: object, size: str) -> None:
    """Give the throwaway cluster room for both copies of the table, as a database server would have.

    With PostgreSQL's 128 MB default the baseline's DELETE evicts the pages the runner then reads: measured,
    the same statements ran 20% slower right after the baseline than before it. With both tables in shared
    buffers the two are compared on the work they do, not on what the other left in the cache.
    """
    from sqlalchemy import create_engine, text

    admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")  # type: ignore[attr-defined]
    with admin.connect() as conn:
        conn.execute(text(f"ALTER SYSTEM SET shared_buffers = '{size}'"))
    admin.dispose()
    cluster.stop("fast")  # type: ignore[attr-defined]
    cluster.start()  # type: ignore[attr-defined]


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
    parser.add_argument(
        "--shared-buffers",
        default="128MB,1GB",
        help="PostgreSQL's shared_buffers, each measured in turn: its default (the table partly in the OS "
        "cache) and room for both copies of the table",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="measure each size this many times (fresh tables each time) and print the median run and the "
        "range of the ratios: one run on a shared 2-core machine varies by a third",
    )
    args = parser.parse_args()
    head = f"{'engine':11} {'buffers':>7} {'rows':>9} {'DELETE s':>9} {'runner s':>9} {'ratio':>6}"
    print(head + f" {'range':>11} {'rows/s':>9} {'dry s':>7} {'peak MB':>8}")
    with contextlib.ExitStack() as stack:
        cluster = None
        if "postgresql" in args.engines:
            from pgcluster import throwaway_cluster

            cluster = stack.enter_context(throwaway_cluster())
        for engine_name in args.engines.split(","):
            pg = engine_name == "postgresql"
            for buffers in args.shared_buffers.split(",") if pg else ["-"]:
                if pg:
                    _size_buffers(cluster, buffers)
                for rows in sorted({100_000, args.rows}):
                    runs = sorted(
                        (bench(engine_name, rows, cluster if pg else None) for _ in range(args.repeat)),
                        key=lambda r: r["runner_s"] / r["baseline_s"],
                    )
                    r = runs[len(runs) // 2]
                    ratio = r["runner_s"] / r["baseline_s"]
                    low, high = (x["runner_s"] / x["baseline_s"] for x in (runs[0], runs[-1]))
                    print(
                        f"{engine_name:11} {buffers:>7} {rows:9,} {r['baseline_s']:9.2f} "
                        f"{r['runner_s']:9.2f} {ratio:6.2f} {f'{low:.2f}–{high:.2f}':>11} "
                        f"{r['acted'] / r['runner_s']:9,.0f} {r['dry_s']:7.2f} {r['peak_mb']:8.1f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
