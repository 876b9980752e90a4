"""GET /api/v1/activities with 5,000 activities under gunicorn, against bare Flask endpoints in the same run.

Run by hand: python bench/bench_activities_api.py [--activities 5000] [--seconds 10] [--connections 16]
Needs wrk (apt-get install wrk). Prints requests/s, p50/p99 and the workers' CPU per request for each target,
and the ratios to the bare endpoint returning the same body (and to the bare /hello) in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import REPO, free_port, start, table, wrk_cpu  # noqa: E402

CANNED = "bare /canned (same 100-item body)"


def prepare(instance: Path, n: int, url: str | None = None) -> tuple[str, str]:
    """Fill a database (SQLite unless a URL is given) with the shipped policies and n synthetic activities."""
    from privacy_service.audit import Actor
    from privacy_service.db import make_engine, transaction
    from privacy_service.migrate import upgrade
    from privacy_service.policies import load_policies
    from privacy_service.ropa.schemas import activity_schema
    from privacy_service.ropa.service import create_activity
    from privacy_service.security.service import create_api_client

    url = url or f"sqlite:///{instance / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    actor = Actor("cli", "bench")
    with transaction(engine) as session:
        load_policies(session, root=REPO / "policies", instance_path=instance, actor=actor)
        for i in range(n):
            create_activity(session, data=activity_schema.load(synthetic(i)), actor=actor)
        _, key = create_api_client(session, name="bench", scopes=["registry:read"], actor=actor)
    engine.dispose()
    return url, key


def synthetic(i: int) -> dict:
    basis = ["6(1)(a)", "6(1)(b)", "6(1)(c)", "6(1)(e)", "6(1)(f)"][i % 5]
    return {
        "slug": f"bench-{i:05d}",
        "service": "bench",
        "name": {"nb": f"Behandling nr. {i} – særlig øvelse", "en": f"Processing no. {i}"},
        "description": {
            "nb": "Syntetisk aktivitet for ytelsesmåling.",
            "en": "Synthetic activity for benchmarking.",
        },
        "controller": "helsedir",
        "purposes": [{"nb": "Måling", "en": "Measurement"}],
        "legal_basis": basis,
        "consent_purpose": f"bench-{i:05d}" if basis == "6(1)(a)" else None,
        "national_basis": {"nb": "Lov § 1", "en": "Act § 1"} if basis in ("6(1)(c)", "6(1)(e)") else None,
        "data_subjects": [{"nb": "Brukere", "en": "Users"}],
        "data_categories": [{"key": "name", "name": {"nb": "Navn", "en": "Name"}}],
        "retention": {"text": {"nb": "Ett år.", "en": "One year."}, "period": "P1Y"},
        "security_measures": [{"nb": "Tilgangsstyring", "en": "Access control"}],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--activities", type=int, default=5000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--postgres", action="store_true", help="run on a throwaway PostgreSQL cluster")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    with contextlib.ExitStack() as stack:
        db_url = None
        if args.postgres:
            from pgcluster import throwaway_cluster

            db_url = stack.enter_context(throwaway_cluster()).url("postgres")
        run(args, db_url)


def run(args: argparse.Namespace, db_url: str | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    t0 = time.perf_counter()
    url, key = prepare(tmp, args.activities, db_url)
    engine = "PostgreSQL" if db_url else "SQLite"
    print(f"prepared {args.activities} activities in {time.perf_counter() - t0:.1f}s ({engine})")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PRIVACY_INSTANCE_PATH": str(tmp),
        "PRIVACY_SECRET_KEY": "bench",
    }
    port, bare_port = free_port(), free_port()
    app = start("privacy_service:create_app()", port, env, REPO, args.workers, "/healthz")
    auth = {"Authorization": f"Bearer {key}"}
    api = f"http://127.0.0.1:{port}/api/v1/activities"
    answer = urllib.request.urlopen(urllib.request.Request(f"{api}?per_page=100&page=7", headers=auth))
    page, etag = answer.read(), answer.headers.get("ETag")
    canned = tmp / "canned.json"
    canned.write_bytes(page)
    bare = start(
        "bare_app:create_app()",
        bare_port,
        {**env, "BENCH_CANNED": str(canned)},
        REPO / "bench",
        args.workers,
        "/hello",
    )
    try:
        targets = {
            "bare /hello": (bare, f"http://127.0.0.1:{bare_port}/hello", {}),
            CANNED: (bare, f"http://127.0.0.1:{bare_port}/canned", {}),
            "GET /api/v1/activities?per_page=100": (app, f"{api}?per_page=100&page=7", auth),
            "GET /api/v1/activities?legal_basis=6(1)(a)&per_page=20": (
                app,
                f"{api}?legal_basis=6(1)(a)&per_page=20",
                auth,
            ),
            "GET /api/v1/activities/bench-04711": (app, f"{api}/bench-04711", auth),
            "GET /api/v1/activities?per_page=100 If-None-Match (304)": (
                app,
                f"{api}?per_page=100&page=7",
                {**auth, "If-None-Match": etag} if etag else auth,
            ),
        }
        results = {
            name: wrk_cpu(server, url, args.seconds, args.connections, headers)
            for name, (server, url, headers) in targets.items()
        }
        # a distinct query string per request: every one misses the kept answers and is built afresh
        miss = REPO / "bench" / "miss.lua"
        results["GET /api/v1/activities?per_page=100 (every request a miss)"] = wrk_cpu(
            app, f"{api}?per_page=100&page=7", args.seconds, args.connections, auth, miss
        )
    finally:
        app.terminate()
        bare.terminate()
        app.wait()
        bare.wait()
    print(table(results, CANNED))
    hello = results["bare /hello"]
    print("÷hello: " + ", ".join(f"{n} {r['rps'] / hello['rps']:.2f}" for n, r in results.items()))
    print(
        json.dumps(
            {
                "engine": engine,
                "workers": args.workers,
                "connections": args.connections,
                "seconds": args.seconds,
            }
        )
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
