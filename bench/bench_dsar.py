"""Data-subject requests on PostgreSQL with demo data systems of up to 1,000,000 subjects.

Run by hand: python bench/bench_dsar.py [--subjects 1000000] [--samples 200] [--plan-only]
Prints, in one run on one throwaway PostgreSQL:
- plan + collect for one subject's access request over the four helsedata activities (accounts,
  applications, support, surveys): p50/p99, against hand-written SQL doing the same look-ups (one SELECT per
  table by lower(email), the demo's index) on one connection, and the ratio; and the round trips one
  plan + collect makes to every database (statements, BEGIN/COMMIT/ROLLBACK, pre-pings; tests/round_trips.py),
  and the CPU the bench process spent per plan + collect (steadier than wall time on a shared machine);
- the full answer (PDF letter + ZIP) for a subject with 1,000 rows;
- the erasure of one subject across all systems (approve: delete or mask in four tables, holds checked,
  ledger, Art. 19 notices), as the tables grow from 10,000 to --subjects, against hand-written DELETEs.
--plan-only fills --subjects only and measures plan + collect alone.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import REPO  # noqa: E402

ACTIVITIES = ["accounts", "applications", "support", "surveys"]
SYSTEMS = ("helsedata-portal", "helsedata-support", "helsedata-survey")
TABLES = ("accounts", "applications", "support_enquiries", "survey_responses")


def _fill(ds_url: str, n: int) -> None:
    """n accounts; a third of them with an application, half with a support enquiry and a survey answer."""
    from sqlalchemy import create_engine, text

    from privacy_service.datamap.demo import _metadata

    engine = create_engine(ds_url)
    metadata = _metadata()
    with engine.begin() as conn:
        for system in SYSTEMS:
            metadata[system].drop_all(conn)
            metadata[system].create_all(conn)
        e = "'p' || g || '@example.no'"
        statements = [
            "INSERT INTO accounts (id, name, email, created_at, last_login_at, restricted)"
            f" SELECT g, 'Person ' || g, {e}, now(), now(), false FROM generate_series(1, :n) g",
            "INSERT INTO applications"
            " (id, account_id, reference, name, email, submitted_at, status, restricted)"
            f" SELECT g, g, 'HDS-' || g, 'Person ' || g, {e}, now(), 'decided', false"
            " FROM generate_series(1, :n, 3) g",
            "INSERT INTO support_enquiries (name, email, subject, body, received_at, restricted)"
            f" SELECT 'Person ' || g, {e}, 's', 'b', now(), false FROM generate_series(1, :n, 2) g",
            "INSERT INTO survey_responses (name, email, answers, consent_given_at, submitted_at, restricted)"
            f" SELECT 'Person ' || g, {e}, '{{}}', now(), now(), false FROM generate_series(1, :n, 2) g",
        ]
        for statement in statements:
            conn.execute(text(statement), {"n": n})
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    engine.dispose()


def _service(url: str, instance: Path) -> Any:
    from privacy_service import notify
    from privacy_service.audit import Actor
    from privacy_service.db import make_engine, transaction
    from privacy_service.dsar import jobs
    from privacy_service.migrate import upgrade
    from privacy_service.policies import load_policies

    for name, handler in jobs.TASKS.items():  # as the app factory does: a verified request queues its plan
        notify.register_task(name, handler)
    engine = make_engine(url)
    upgrade(engine)
    with transaction(engine) as session:
        load_policies(session, root=REPO / "policies", instance_path=instance, actor=Actor("cli", "bench"))
    return engine


def _request(engine: Any, email: str, kind: str) -> str:
    from privacy_service.audit import Actor
    from privacy_service.db import transaction
    from privacy_service.dsar import service

    data = {"type": kind, "subject": {"email": email}, "activities": ACTIVITIES, "channel": "portal"}
    links = service.Links("http://localhost:5000", "bench-secret")
    with transaction(engine) as session:
        # a portal whose user logged in vouches for the e-mail: only a proved identifier searches the data
        created = service.create_request(session, data=data, actor=Actor("cli", "bench"), links=links,
                                         verified_by="portal_verified")  # fmt: skip
        return created.request.reference


def _uphold_all(session: Any, reference: str, actor: Any) -> None:
    """The officer upholds every outcome that waits for a decision (approval needs them all decided)."""
    from privacy_service.dsar import decisions, lifecycle, service

    req = service.get_request(session, reference=reference)
    items = [
        {"activity": o.activity, "decision": "uphold"}
        for o in lifecycle.outcomes_of(session, req)
        if o.outcome in decisions.NEEDS_DECISION and o.decision is None
    ]
    if items:
        service.decide_outcomes(session, reference=reference, items=items, actor=actor)


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _plan_and_collect(engine: Any, reference: str, instance: Path) -> None:
    from privacy_service.audit import Actor
    from privacy_service.db import transaction
    from privacy_service.dsar import answer, plan, service

    with transaction(engine) as session:
        req = service.get_request(session, reference=reference, for_update=True)
        plan.make_plan(session, req, instance_path=instance, actor=Actor("cli", "bench"))
        answer.collect(session, req, instance_path=instance)


def bench_plan(engine: Any, ds_url: str, instance: Path, n: int, samples: int) -> None:
    import psycopg
    from round_trips import counting

    rng = random.Random(7)
    subjects = [f"p{rng.randint(1, n)}@example.no" for _ in range(samples)]
    service_ms, sql_ms, cpu_ms = [], [], []
    raw = psycopg.connect(ds_url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    for email in subjects:
        reference = _request(engine, email, "access")
        started, cpu = time.perf_counter(), time.process_time()
        _plan_and_collect(engine, reference, instance)
        service_ms.append((time.perf_counter() - started) * 1000)
        cpu_ms.append((time.process_time() - cpu) * 1000)  # this process only: not the servers' share
        started = time.perf_counter()
        for table in TABLES:  # the same look-ups by hand
            raw.execute(f"SELECT * FROM {table} WHERE lower(email) = %s", (email,)).fetchall()  # noqa: S608
        sql_ms.append((time.perf_counter() - started) * 1000)
    reference = _request(engine, subjects[0], "access")
    with counting() as trips:  # one more request, counted (warm pools and caches, as above)
        _plan_and_collect(engine, reference, instance)
    raw.close()
    (p50, p99), (b50, b99) = _percentiles(service_ms), _percentiles(sql_ms)
    print(
        f"plan+collect, {n:,} subjects, {samples} requests: p50 {p50:.1f} ms p99 {p99:.1f} ms; "
        f"CPU here p50 {statistics.median(cpu_ms):.1f} ms; "
        f"hand-written SQL p50 {b50:.2f} ms p99 {b99:.2f} ms; ratio p50 {p50 / b50:.0f}x; "
        f"round trips {trips.total} ({', '.join(f'{k} {v}' for k, v in sorted(trips.kinds.items()))})",
        flush=True,
    )
    if os.environ.get("BENCH_TRACE"):
        print(trips.report(), flush=True)


def bench_answer(engine: Any, ds_url: str, instance: Path) -> None:
    from sqlalchemy import create_engine, text

    from privacy_service.audit import Actor
    from privacy_service.db import transaction
    from privacy_service.dsar import plan, service

    heavy = "heavy.subject@example.no"
    ds = create_engine(ds_url)
    with ds.begin() as conn:
        heavy_rows = (
            "INSERT INTO support_enquiries (name, email, subject, body, received_at, restricted)"
            " SELECT 'Heavy Subject', :e, 'Enquiry ' || g, repeat('text ', 40), now(), false"
            " FROM generate_series(1, 1000) g"
        )
        conn.execute(text(heavy_rows), {"e": heavy})
    ds.dispose()
    reference = _request(engine, heavy, "access")
    actor = Actor("cli", "bench")
    with transaction(engine) as session:
        req = service.get_request(session, reference=reference, for_update=True)
        plan.make_plan(session, req, instance_path=instance, actor=actor)
        _uphold_all(session, reference, actor)
    with transaction(engine) as session:
        service.approve(session, reference=reference, actor=actor, instance_path=instance,
                    links=service.Links("http://localhost:5000", "bench-secret"))  # fmt: skip
    started = time.perf_counter()  # the draft (collect, letter, export) and sending it
    with transaction(engine) as session:
        service.make_draft(session, reference=reference, actor=actor, instance_path=instance)
    with transaction(engine) as session:
        service.complete(session, reference=reference, actor=actor, instance_path=instance,
                         links=service.Links("http://localhost:5000", "bench-secret"))  # fmt: skip
    seconds = time.perf_counter() - started
    with transaction(engine) as session:
        req = service.get_request(session, reference=reference)
        from privacy_service.dsar import answer

        letter, export = answer.document(session, req, "letter"), answer.document(session, req, "export")
        sizes = (len(letter.content), len(export.content))  # type: ignore[union-attr]
    print(f"full answer for a subject with 1,000 rows: {seconds:.2f} s (PDF {sizes[0] / 1024:.0f} KB, "
          f"ZIP {sizes[1] / 1024:.0f} KB)", flush=True)  # fmt: skip


def bench_erasure(engine: Any, ds_url: str, instance: Path, n: int, rounds: int = 5) -> None:
    import psycopg

    from privacy_service.audit import Actor
    from privacy_service.db import transaction
    from privacy_service.dsar import plan, service

    actor, links = Actor("cli", "bench"), service.Links("http://localhost:5000", "bench-secret")
    rng = random.Random(n)
    erase_ms, sql_ms = [], []
    raw = psycopg.connect(ds_url.replace("postgresql+psycopg", "postgresql"), autocommit=True)
    for _ in range(rounds):
        email = (
            f"p{rng.randrange(1, n, 6)}@example.no"  # has an account, a support enquiry and a survey answer
        )
        reference = _request(engine, email, "erasure")
        with transaction(engine) as session:
            req = service.get_request(session, reference=reference, for_update=True)
            plan.make_plan(session, req, instance_path=instance, actor=actor)
            _uphold_all(session, reference, actor)
        started = time.perf_counter()
        with transaction(engine) as session:
            service.approve(session, reference=reference, actor=actor, instance_path=instance, links=links)
        erase_ms.append((time.perf_counter() - started) * 1000)
        other = f"p{rng.randrange(1, n, 6) + 6}@example.no"
        started = time.perf_counter()
        with raw.transaction():
            for table in TABLES:
                raw.execute(f"DELETE FROM {table} WHERE lower(email) = %s", (other,))  # noqa: S608
        sql_ms.append((time.perf_counter() - started) * 1000)
    raw.close()
    e50, b50 = statistics.median(erase_ms), statistics.median(sql_ms)
    print(f"erasure of one subject, {n:,} subjects: median {e50:.0f} ms (max {max(erase_ms):.0f}); "
          f"hand-written DELETEs {b50:.2f} ms; ratio {e50 / b50:.0f}x", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--plan-only", action="store_true", help="fill --subjects only; plan + collect alone")
    args = parser.parse_args()
    from pgcluster import throwaway_cluster
    from sqlalchemy import create_engine, text

    with ExitStack() as stack:
        cluster = stack.enter_context(throwaway_cluster())
        instance = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-dsar-")))
        admin = create_engine(cluster.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in ("privacy", "ds"):
                conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url, ds_url = cluster.url("privacy"), cluster.url("ds")
        for system in SYSTEMS:
            os.environ[f"PRIVACY_DS_{system.upper().replace('-', '_')}_URL"] = ds_url
        engine = _service(url, instance)
        sizes = [args.subjects] if args.plan_only else sorted({10_000, 100_000, args.subjects})
        for n in sizes:
            started = time.perf_counter()
            _fill(ds_url, n)
            print(f"-- {n:,} subjects filled in {time.perf_counter() - started:.1f} s", flush=True)
            if args.plan_only:
                bench_plan(engine, ds_url, instance, n, args.samples)
                continue
            bench_erasure(engine, ds_url, instance, n)
            if n == args.subjects:
                bench_plan(engine, ds_url, instance, n, args.samples)
                bench_answer(engine, ds_url, instance)
        engine.dispose()


if __name__ == "__main__":
    main()
