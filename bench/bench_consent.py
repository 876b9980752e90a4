"""The consent status and "may I process?" reads with 1,000,000 consent states under gunicorn, on PostgreSQL
and on SQLite, against bare Flask.

Run by hand: python bench/bench_consent.py [--states 1000000] [--seconds 15] [--workers 2]
    [--engine postgresql|sqlite|both] [--connections 32,128]
Needs wrk (apt-get install wrk) and PostgreSQL's binaries (a throwaway cluster is started).
One subject in ten is a linked person (a portal id and an e-mail address, issue 21), so the reads resolve
identifiers as they do in production.

Prints, per engine and connection count: the consent status read and "may I process?" (random subjects)
against the bare Flask JSON endpoint served the same way in the same run, with the ratios of throughput, p99
and CPU per request (the workers' CPU time over the requests answered: steadier than req/s on a shared
machine); on PostgreSQL a plain look-up baseline too (Flask, persistent psycopg connection, prepared
statement); POST /consents:query with 1,000 pairs; and the read-your-writes check across workers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import REPO, free_port, start, stop, table, wrk, wrk_cpu  # noqa: E402

GET_SCRIPT = """
math.randomseed(%(seed)d)
request = function()
  return wrk.format("GET", "%(prefix)s" .. math.random(1, %(n)d) .. "%(suffix)s")
end
"""

QUERY_SCRIPT = """
wrk.method = "POST"
wrk.body = [[%(body)s]]
wrk.headers["Content-Type"] = "application/json"
"""


def prepare(url: str, instance: Path, states: int) -> str:
    """Load the policies, write states with SQL (set-based, as a migration would), return a consent key."""
    from sqlalchemy import text

    from privacy_service.audit import Actor
    from privacy_service.db import make_engine, transaction
    from privacy_service.migrate import upgrade
    from privacy_service.policies import load_policies
    from privacy_service.security.service import create_api_client

    engine = make_engine(url)
    upgrade(engine)
    actor = Actor("cli", "bench")
    with transaction(engine) as session:
        load_policies(session, root=REPO / "policies", instance_path=instance, actor=actor)
        __, key = create_api_client(
            session, name="portal", scopes=["consent:read", "consent:write"], actor=actor
        )
    postgres = engine.dialect.name == "postgresql"
    numbers = (
        "generate_series(1, :n) AS g"
        if postgres
        else "(WITH RECURSIVE n(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM n WHERE g < :n) SELECT g FROM n)"
    )
    receipt = "md5(g::text)::uuid::text" if postgres else "printf('r%08d', g)"
    at = "now() - (g || ' seconds')::interval" if postgres else "datetime('now', '-' || g || ' seconds')"
    # the portal's user ids, stored under its key (people.subject_key): "portal/user-<g>"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO consent_event (receipt_id, subject, purpose, status, dpv_status, notice_version,"
                " notice_sha256, channel, evidence, actor, at, receipt)"
                f" SELECT {receipt}, 'portal/user-' || g, 'surveys',"
                " CASE WHEN g % 10 = 0 THEN 'withdrawn' ELSE 'given' END,"
                " CASE WHEN g % 10 = 0 THEN 'dpv:ConsentWithdrawn' ELSE 'dpv:ConsentGiven' END,"
                f" '1', '{'0' * 64}', 'web', '{{}}', 'api_client:portal', {at}, '{{}}'"
                f" FROM {numbers}"
            ),
            {"n": states},
        )
        conn.execute(
            text(
                "INSERT INTO consent_state (subject, purpose, status, dpv_status, since, notice_version,"
                " renewal_required, last_event_id)"
                " SELECT subject, purpose, status, dpv_status, at, notice_version, false, id"
                " FROM consent_event"
            )
        )
        conn.execute(
            text(f"INSERT INTO person (id, created_at) SELECT g, {at} FROM {numbers} WHERE g % 10 = 3"),
            {"n": states},
        )
        # a few restrictions, so "may I process?" finds flags to weigh
        conn.execute(
            text(
                "INSERT INTO processing_flag (subject, activity, kind, set_at, set_by)"
                f" SELECT 'portal/user-' || g, 'surveys', 'restricted', {at}, 'bench' FROM {numbers}"
                " WHERE g % 1000 = 7"
            ),
            {"n": states},
        )
        # one person in ten has linked identifiers (issue 21): her portal id 'user-g' and an e-mail address,
        # with a restriction under the address for one in a thousand, which her portal id must see
        for kind, client, value in (
            ("portal", "portal", "'user-' || g"),
            ("email", "", "'user-' || g || '@example.org'"),
        ):
            conn.execute(
                text(
                    "INSERT INTO person_identifier (person_id, kind, client, value, verified_by, linked_by,"
                    f" linked_at) SELECT g, '{kind}', '{client}', {value}, 'portal_verified', 'bench', {at}"
                    f" FROM {numbers} WHERE g % 10 = 3"
                ),
                {"n": states},
            )
        conn.execute(
            text(
                "INSERT INTO processing_flag (subject, activity, kind, set_at, set_by)"
                f" SELECT 'user-' || g || '@example.org', 'surveys', 'restricted', {at}, 'bench'"
                f" FROM {numbers} WHERE g % 1000 = 3"
            ),
            {"n": states},
        )
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE" if postgres else "ANALYZE")
        )
    engine.dispose()
    return key


def read_your_writes(port: int, key: str, rounds: int, states: int) -> int:
    """PUT withdrawn/given, then GET on a fresh connection (either worker); return the stale reads."""
    stale = 0
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for i in range(rounds):
        status = "withdrawn" if i % 2 == 0 else "given"
        subject = f"user-{1 + i * 7919 % states}"
        url = f"http://127.0.0.1:{port}/api/v1/consents/{subject}/surveys"
        body = json.dumps({"status": status}).encode()
        urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers, method="PUT")).read()
        got = json.loads(urllib.request.urlopen(urllib.request.Request(url, headers=headers)).read())
        stale += got["status"] != status
    return stale


def linked_answers(port: int, key: str, states: int) -> str:
    """How many restrictions recorded under a linked e-mail the portal's own id is told of (all, or the
    linking does not work under load)."""
    headers = {"Authorization": f"Bearer {key}"}
    wanted = range(3, states + 1, 1000)
    seen = 0
    for g in wanted:
        url = f"http://127.0.0.1:{port}/api/v1/subjects/user-{g}/processing?activity=surveys"
        got = json.loads(urllib.request.urlopen(urllib.request.Request(url, headers=headers)).read())
        seen += got["status"] == "restricted"
    return f"{seen}/{len(wanted)}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--states", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--engine", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--connections", default="32,128", help="comma-separated wrk connection counts")
    args = parser.parse_args()
    engines = ("postgresql", "sqlite") if args.engine == "both" else (args.engine,)
    for engine in engines:
        if engine == "postgresql":
            from pgcluster import throwaway_cluster

            with throwaway_cluster() as cluster:
                run(args, cluster.url("postgres"))
        else:
            run(args, None)


def run(args: argparse.Namespace, url: str | None) -> None:
    """Prepare one database and measure the reads against the baselines served the same way."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-consent-"))
    url = url or f"sqlite:///{tmp / 'bench.db'}"
    name = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    t0 = time.perf_counter()
    key = prepare(url, tmp, args.states)
    print(f"\n== {name}: prepared {args.states:,} consent states in {time.perf_counter() - t0:.1f}s")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PRIVACY_INSTANCE_PATH": str(tmp),
        "PRIVACY_SECRET_KEY": "bench",
    }
    if name == "PostgreSQL":
        env["BENCH_DB_URL"] = url.replace("postgresql+psycopg", "postgresql")
    port, bare_port = free_port(), free_port()
    app = start("privacy_service:create_app()", port, env, REPO, args.workers, "/healthz")
    bare = start("bare_app:create_app()", bare_port, env, REPO / "bench", args.workers, "/hello")
    auth = {"Authorization": f"Bearer {key}"}
    scripts = {}
    for label, prefix, suffix in (
        ("get", "/api/v1/consents/user-", "/surveys"),
        ("processing", "/api/v1/subjects/user-", "/processing?activity=surveys"),
        ("lookup", "/lookup/user-", "/surveys"),
    ):
        scripts[label] = tmp / f"{label}.lua"
        scripts[label].write_text(
            GET_SCRIPT % {"seed": 7, "prefix": prefix, "suffix": suffix, "n": args.states}
        )
    pairs = [{"subject": f"user-{1 + i * 997 % args.states}", "purpose": "surveys"} for i in range(1000)]
    query_script = tmp / "query.lua"
    query_script.write_text(QUERY_SCRIPT % {"body": json.dumps({"pairs": pairs})})
    base = f"http://127.0.0.1:{port}"
    try:
        for script in ("get", "processing"):  # warm the caches (page cache, prepared statements, the key)
            wrk(base, 3, 32, auth, scripts[script])
        for connections in (int(c) for c in args.connections.split(",")):
            results = {
                "bare Flask /hello": wrk_cpu(
                    bare, f"http://127.0.0.1:{bare_port}/hello", args.seconds, connections
                ),
            }
            if name == "PostgreSQL":
                results["plain look-up (Flask, psycopg, prepared, no auth)"] = wrk_cpu(
                    bare, f"http://127.0.0.1:{bare_port}", args.seconds, connections, None, scripts["lookup"]
                )
            results["GET /api/v1/consents/{subject}/surveys"] = wrk_cpu(
                app, base, args.seconds, connections, auth, scripts["get"]
            )
            results["GET /api/v1/subjects/{subject}/processing?activity=surveys"] = wrk_cpu(
                app, base, args.seconds, connections, auth, scripts["processing"]
            )
            print(f"\n{name}, {connections} connections, {args.workers} workers, {args.seconds}s each")
            print(table(results, "bare Flask /hello"))
        # one connection per worker: the time of a query itself, not of waiting for a free worker
        query = wrk(f"{base}/api/v1/consents:query", args.seconds, args.workers, auth, query_script)
        print(
            f"\nPOST /consents:query, 1,000 pairs, {args.workers} connections: {query['rps']:.0f} req/s, "
            f"p50 {query['p50_ms']:.1f} ms, p99 {query['p99_ms']:.1f} ms, "
            f"errors {int(query['non_2xx'] + query['socket_errors'])}"
        )
        linked = linked_answers(port, key, args.states)
        print(f"linked identifiers: {linked} of the restrictions under an e-mail seen by the portal's own id")
        stale = read_your_writes(port, key, 500, args.states)
        print(f"read-your-writes: {stale} stale reads in 500 PUT-then-GET rounds, {args.workers} workers")
    finally:
        stop(app, bare)


if __name__ == "__main__":
    main()
