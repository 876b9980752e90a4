"""The consent status API with 1,000,000 consent states on PostgreSQL under gunicorn, against bare Flask.

Run by hand: python bench/bench_consent.py [--states 1000000] [--seconds 15] [--workers 2]
Needs wrk (apt-get install wrk) and PostgreSQL's binaries (a throwaway cluster is started).
Prints, at 32 and 128 connections: GET status (random subjects) and the bare Flask JSON endpoint served the
same way in the same run, with the ratios; a plain look-up baseline (persistent psycopg connection, prepared
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
from bench.common import REPO, free_port, start, stop, table, wrk  # noqa: E402

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
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO consent_event (receipt_id, subject, purpose, status, dpv_status, notice_version,"
                " notice_sha256, channel, evidence, actor, at, receipt)"
                " SELECT md5(g::text)::uuid::text, 'user-' || g, 'surveys',"
                " CASE WHEN g % 10 = 0 THEN 'withdrawn' ELSE 'given' END,"
                " CASE WHEN g % 10 = 0 THEN 'dpv:ConsentWithdrawn' ELSE 'dpv:ConsentGiven' END,"
                " '1', repeat('0', 64), 'web', '{}', 'bench', now() - (g || ' seconds')::interval, '{}'"
                " FROM generate_series(1, :n) AS g"
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
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return key


def read_your_writes(port: int, key: str, rounds: int) -> int:
    """PUT withdrawn/given, then GET on a fresh connection (either worker); return the stale reads."""
    stale = 0
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    for i in range(rounds):
        status = "withdrawn" if i % 2 == 0 else "given"
        subject = f"user-{1 + i * 7919 % 999_000}"
        url = f"http://127.0.0.1:{port}/api/v1/consents/{subject}/surveys"
        body = json.dumps({"status": status}).encode()
        urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers, method="PUT")).read()
        got = json.loads(urllib.request.urlopen(urllib.request.Request(url, headers=headers)).read())
        stale += got["status"] != status
    return stale


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--states", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    from pgcluster import throwaway_cluster

    tmp = Path(tempfile.mkdtemp(prefix="bench-consent-"))
    with throwaway_cluster() as cluster:
        url = cluster.url("postgres")
        t0 = time.perf_counter()
        key = prepare(url, tmp, args.states)
        print(f"prepared {args.states:,} consent states in {time.perf_counter() - t0:.1f}s (PostgreSQL)")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PRIVACY_INSTANCE_PATH": str(tmp),
            "PRIVACY_SECRET_KEY": "bench",
            "BENCH_DB_URL": url.replace("postgresql+psycopg", "postgresql"),
        }
        port, bare_port = free_port(), free_port()
        app = start("privacy_service:create_app()", port, env, REPO, args.workers, "/healthz")
        bare = start("bare_app:create_app()", bare_port, env, REPO / "bench", args.workers, "/hello")
        auth = {"Authorization": f"Bearer {key}"}
        get_script = tmp / "get.lua"
        get_script.write_text(
            GET_SCRIPT
            % {"seed": 7, "prefix": "/api/v1/consents/user-", "suffix": "/surveys", "n": args.states}
        )
        lookup_script = tmp / "lookup.lua"
        lookup_script.write_text(
            GET_SCRIPT % {"seed": 7, "prefix": "/lookup/user-", "suffix": "/surveys", "n": args.states}
        )
        pairs = [{"subject": f"user-{1 + i * 997 % args.states}", "purpose": "surveys"} for i in range(1000)]
        query_script = tmp / "query.lua"
        query_script.write_text(QUERY_SCRIPT % {"body": json.dumps({"pairs": pairs})})
        try:
            for connections in (32, 128):
                results = {
                    "bare Flask /hello": wrk(
                        f"http://127.0.0.1:{bare_port}/hello", args.seconds, connections
                    ),
                    "plain look-up (psycopg, prepared, no auth)": wrk(
                        f"http://127.0.0.1:{bare_port}", args.seconds, connections, script=lookup_script
                    ),
                    "GET /api/v1/consents/{subject}/surveys": wrk(
                        f"http://127.0.0.1:{port}", args.seconds, connections, auth, get_script
                    ),
                }
                print(f"\n{connections} connections, {args.workers} workers, {args.seconds}s each")
                print(table(results, "bare Flask /hello"))
            # one connection per worker: the time of a query itself, not of waiting for a free worker
            query_url = f"http://127.0.0.1:{port}/api/v1/consents:query"
            query = wrk(query_url, args.seconds, args.workers, auth, query_script)
            print(
                f"\nPOST /consents:query, 1,000 pairs, {args.workers} connections: {query['rps']:.0f} req/s, "
                f"p50 {query['p50_ms']:.1f} ms, p99 {query['p99_ms']:.1f} ms, "
                f"errors {int(query['non_2xx'] + query['socket_errors'])}"
            )
            stale = read_your_writes(port, key, 500)
            print(f"read-your-writes: {stale} stale reads in 500 PUT-then-GET rounds, {args.workers} workers")
        finally:
            stop(app, bare)


if __name__ == "__main__":
    main()
