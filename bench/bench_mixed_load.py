"""Mixed traffic at 132 connections against gunicorn on PostgreSQL, then a memory soak.

Run by hand: python bench/bench_mixed_load.py [--states 200000] [--people 2000] [--seconds 180] [--soak 600]
    [--workers 2] [--hot-workers 2] [--main-nice 5]
Needs wrk (apt-get install wrk) and PostgreSQL's binaries (a throwaway cluster is started).

The deployment is what docs/deployment.md describes on one host: `serve` (gunicorn) and the `scheduler` (which
plans the new requests and sends their mails), the registry from policies/, the demo data systems with
--people synthetic persons, and --states consent states. `serve` is started both ways, side by side: with its
second pool for the status reads (--workers at nice +--main-nice beside --hot-workers, the reads routed to the
second pool as the reverse proxy of docs/deployment.md routes them) and as one pool of --workers +
--hot-workers workers answering everything.

Printed, all from the same run:
1. the baselines at 128 connections: bare Flask /hello, and the consent status read alone on each arrangement;
2. the mix for --seconds, once per arrangement, run as six wrk processes at once (connections in brackets):
   consent status reads (64), consent writes (16), request creation (8), the activity list (24), one
   activity (16) and the record as PDF (1: an officer exporting it again and again): requests/s, p50, p99
   and errors per endpoint, and the consent reads' p99 in the mix over their p99 alone (the target is at
   most 2x);
3. the soak (two pools): the mix again for --soak seconds (0: none), with the resident memory of the web
   workers and the scheduler sampled every 10 s (first, last, highest).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.bench_consent import prepare  # noqa: E402
from bench.common import REPO, children, free_port, start, stop, table, wrk  # noqa: E402

READ = """
math.randomseed(11)
request = function()
  return wrk.format("GET", "/api/v1/consents/user-" .. math.random(1, %(n)d) .. "/surveys")
end
"""
WRITE = """
math.randomseed(13)
wrk.headers["Content-Type"] = "application/json"
request = function()
  local s = math.random(1, %(n)d)
  local body = '{"status":"withdrawn"}'
  if math.random(1, 2) == 1 then body = '{"status":"given","notice_version":"1"}' end
  return wrk.format("PUT", "/api/v1/consents/user-" .. s .. "/surveys", nil, body)
end
"""
CREATE = """
math.randomseed(os.time())
local run = math.random(1, 1000000000)
local n = 0
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = '{"type":"access","subject":{"email":"load' .. run .. '-' .. n .. '@example.org"}}'
  return wrk.format("POST", "/api/v1/requests", nil, body)
end
"""
MIX = (  # name, path or script, connections
    ("GET /api/v1/consents/{subject}/surveys", READ, 64),
    ("PUT /api/v1/consents/{subject}/surveys", WRITE, 16),
    ("POST /api/v1/requests", CREATE, 8),
    ("GET /api/v1/activities", "/api/v1/activities", 24),
    ("GET /api/v1/activities/accounts", "/api/v1/activities/accounts", 16),
    ("GET /api/v1/ropa?format=pdf", "/api/v1/ropa?format=pdf&lang=en", 1),
)
READS = MIX[0][0]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def run_mix(
    port: int, read_port: int, seconds: int, auth: dict[str, str], tmp: Path, states: int
) -> dict[str, dict]:
    """The mix against `port`, the consent status reads against `read_port`."""
    results: dict[str, dict] = {}

    def one(name: str, target: str, connections: int) -> None:
        url, script = f"http://127.0.0.1:{read_port if name == READS else port}", None
        if target.startswith("/"):
            url += target
        else:
            script = tmp / f"mix{abs(hash(name))}.lua"
            script.write_text(target % {"n": states})
        results[name] = wrk(url, seconds, connections, auth, script, threads=1)

    threads = [threading.Thread(target=one, args=item) for item in MIX]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {name: results[name] for name, __, __ in MIX}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--states", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--soak", type=int, default=600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hot-workers", type=int, default=2)
    parser.add_argument("--main-nice", type=int, default=5, help="as serve's --main-nice")
    args = parser.parse_args()
    from pgcluster import throwaway_cluster

    from privacy_service.datamap.demo import create_demo_data
    from privacy_service.db import make_engine, transaction
    from privacy_service.security.service import create_api_client

    tmp = Path(tempfile.mkdtemp(prefix="bench-mixed-"))
    with throwaway_cluster() as cluster:
        url = cluster.url("postgres")
        t0 = time.perf_counter()
        create_demo_data(instance_path=tmp, seed=1, people=args.people, anchor=date.today())
        prepare(url, tmp, args.states)
        engine = make_engine(url)
        from privacy_service.audit import Actor

        with transaction(engine) as session:
            scopes = ["consent:read", "consent:write", "requests:write", "registry:read"]
            __, key = create_api_client(session, name="load", scopes=scopes, actor=Actor("cli", "bench"))
        engine.dispose()
        print(
            f"prepared {args.states:,} consent states and {args.people:,} persons in the data systems "
            f"in {time.perf_counter() - t0:.1f}s (PostgreSQL)"
        )
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "PRIVACY_INSTANCE_PATH": str(tmp),
            "PRIVACY_POLICIES": str(REPO / "policies"),
            "PRIVACY_SECRET_KEY": "bench",
        }
        port, hot_port, one_port, bare_port = free_port(), free_port(), free_port(), free_port()
        everything = args.workers + args.hot_workers
        app = start("privacy_service:create_app()", port, env, REPO, args.workers, "/healthz", args.main_nice)
        hot_env = {**env, "PRIVACY_HOT_POOL": "1"}
        hot = start("privacy_service:create_app()", hot_port, hot_env, REPO, args.hot_workers, "/healthz")
        one_pool = start("privacy_service:create_app()", one_port, env, REPO, everything, "/healthz")
        bare = start("bare_app:create_app()", bare_port, env, REPO / "bench", everything, "/hello")
        log = (tmp / "scheduler.log").open("w")
        scheduler = subprocess.Popen(
            [sys.executable, "-m", "privacy_service.cli", "scheduler"], env=env, stdout=log, stderr=log
        )
        auth = {"Authorization": f"Bearer {key}"}
        try:
            read_script = tmp / "read.lua"
            read_script.write_text(READ % {"n": args.states})
            two = f"two pools ({args.workers} + {args.hot_workers} for the reads)"
            one = f"one pool ({everything} workers)"
            base = {
                "bare Flask /hello": wrk(f"http://127.0.0.1:{bare_port}/hello", 20, 128),
                f"consent status alone, {two}": wrk(
                    f"http://127.0.0.1:{hot_port}", 20, 128, auth, read_script
                ),
                f"consent status alone, {one}": wrk(
                    f"http://127.0.0.1:{one_port}", 20, 128, auth, read_script
                ),
            }
            print("\n1. baselines, 128 connections, 20 s each")
            print(table(base, "bare Flask /hello"))
            for arrangement, main_port, read_port in ((one, one_port, one_port), (two, port, hot_port)):
                mixed = run_mix(main_port, read_port, args.seconds, auth, tmp, args.states)
                total = sum(r["rps"] for r in mixed.values())
                errors = sum(int(r["non_2xx"] + r["socket_errors"]) for r in mixed.values())
                print(
                    f"\n2. the mix, {arrangement}, {sum(c for *__, c in MIX)} connections, {args.seconds} s: "
                    f"{total:,.0f} req/s in all, {errors} errors"
                )
                alone = base[f"consent status alone, {arrangement}"]
                print(table({**mixed, "consent status alone (above)": alone}, "consent status alone (above)"))
                read = mixed[READS]
                print(
                    f"consent status in the mix: {read['rps']:,.0f} req/s, p50 {read['p50_ms']:.1f} ms, "
                    f"p99 {read['p99_ms']:.1f} ms = {read['p99_ms'] / alone['p99_ms']:.2f}x its p99 alone"
                )
            if args.soak <= 0:
                return

            samples: list[tuple[float, int, int]] = []
            done = threading.Event()

            def sample() -> None:
                started = time.monotonic()
                while not done.is_set():
                    workers = sum(rss_kb(p) for p in children(app.pid) + children(hot.pid))
                    samples.append((time.monotonic() - started, workers, rss_kb(scheduler.pid)))
                    done.wait(10)

            sampler = threading.Thread(target=sample)
            sampler.start()
            soak = run_mix(port, hot_port, args.soak, auth, tmp, args.states)
            done.set()
            sampler.join()
            soak_errors = sum(int(r["non_2xx"] + r["socket_errors"]) for r in soak.values())
            soak_total = sum(r["rps"] for r in soak.values())
            first, last = samples[0], samples[-1]
            top = max(s[1] for s in samples)
            print(f"\n3. soak, {args.soak} s: {soak_total:,.0f} req/s, {soak_errors} errors")
            print(table({**soak, "bare Flask /hello (alone, above)": base["bare Flask /hello"]},
                        "bare Flask /hello (alone, above)"))  # fmt: skip
            for name, r in soak.items():
                if r["non_2xx"] or r["socket_errors"]:
                    print(f"  {name}: {r['non_2xx']} non-2xx, {r['timeouts']} timeouts (> 2 s), "
                          f"{r['socket_errors'] - r['timeouts']} other socket errors")  # fmt: skip
            print(
                f"web workers RSS: first {first[1] / 1024:.0f} MB, last {last[1] / 1024:.0f} MB, "
                f"highest {top / 1024:.0f} MB ({len(samples)} samples); "
                f"scheduler RSS: first {first[2] / 1024:.0f} MB, last {last[2] / 1024:.0f} MB"
            )
            half = len(samples) // 2
            early = sum(s[1] for s in samples[:half]) / max(half, 1)
            late = sum(s[1] for s in samples[half:]) / max(len(samples) - half, 1)
            print(f"mean RSS first half {early / 1024:.1f} MB, second half {late / 1024:.1f} MB "
                  f"({(late - early) / max(early, 1) * 100:+.1f}%)")  # fmt: skip
            with make_engine(url).connect() as conn:
                from sqlalchemy import text

                made = conn.execute(text("SELECT count(*) FROM dsar_request")).scalar_one()
                queued = conn.execute(
                    text("SELECT count(*) FROM outbox_message WHERE status = 'pending'")
                ).scalar()
            print(f"requests created: {made:,}; outbox still pending at the end: {queued:,}")
        finally:
            scheduler.terminate()
            scheduler.wait()
            log.close()
            stop(app, hot, one_pool, bare)


if __name__ == "__main__":
    main()
