"""`serve` with its second pool: the consent and processing status reads are answered on a port of their own,
by workers that never hold a slow request, so a portal's read does not wait behind one (issue 18, item 2).

A real deployment on PostgreSQL: `privacy-service serve --workers 1 --hot-workers 1`. The main pool's only
worker is kept busy by a request creation waiting on a table lock; the status reads on the second pool are
answered meanwhile, and the same read sent to the main pool waits.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import urllib.error
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from deployment import Deployment, call, wait_until

pytestmark = pytest.mark.ops

KARI = "kari.nordmann@example.no"


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = {child for child, of in parents.items() if of == parent}
        found |= children
        todo += children
    return found


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_status_reads_have_a_pool_of_their_own(make_deployment: Callable[..., Deployment]) -> None:
    deployment = make_deployment()
    deployment.demo(people=10)
    key = {
        "Authorization": "Bearer "
        + deployment.api_key(
            "consent:read", "consent:write", "requests:write", "registry:read", name="portal"
        )
    }
    web = deployment.serve(workers=1, hot_workers=1)
    hot = f"http://127.0.0.1:{web.hot_port}"
    processes = _descendants(web.proc.pid)
    assert len(processes) == 4  # two gunicorn masters, one worker each
    # the main pool yields the processor to the reads (serve's --main-nice, 5 by default)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    hot_pool = {pid for pid in processes if f":{web.hot_port}" in _cmdline(pid)}
    hot_pool |= {pid for pid in processes if _parent(pid) in hot_pool}
    assert len(hot_pool) == 2
    assert {pid: os.getpriority(os.PRIO_PROCESS, pid) for pid in processes} == {
        pid: own if pid in hot_pool else own + 5 for pid in processes
    }

    written = call(f"{web.url}/api/v1/consents/{KARI}/surveys", "PUT", body={"status": "given"}, headers=key)
    assert written.status == 200, written.body
    for path in (f"/api/v1/consents/{KARI}/surveys", f"/api/v1/subjects/{KARI}/processing?activity=surveys"):
        via_hot, via_main = call(hot + path, headers=key), call(web.url + path, headers=key)
        assert via_hot.status == via_main.status == 200
        assert via_hot.body == via_main.body and via_hot.headers.get("ETag") == via_main.headers.get("ETag")
    assert call(hot + f"/api/v1/consents/{KARI}/surveys", headers={}).status == 401  # Flask words the refusal

    # anything else sent to the status-read pool is refused, not served: it must stay free for the reads
    for method, path in (
        ("GET", "/api/v1/activities"),
        ("PUT", f"/api/v1/consents/{KARI}/surveys"),
        ("GET", "/"),
        ("GET", "/api/v1/ropa"),
    ):
        refused = call(
            hot + path, method, body={"status": "withdrawn"} if method == "PUT" else None, headers=key
        )
        assert refused.status == 404, (method, path, refused.status)
        assert "main address" in json.loads(refused.body)["error"]["message"]
    assert call(hot + "/healthz").status == 200
    assert call(f"{web.url}/api/v1/consents/{KARI}/surveys", headers=key).json()["status"] == "given"

    # the main pool's only worker waits on a lock; the status reads are answered meanwhile
    lock = psycopg.connect(deployment.database_url.replace("postgresql+psycopg", "postgresql"))
    lock.execute("LOCK TABLE dsar_request IN ACCESS EXCLUSIVE MODE")
    created: list[int] = []
    creating = threading.Thread(
        target=lambda: created.append(
            call(
                f"{web.url}/api/v1/requests",
                "POST",
                body={"type": "access", "subject": {"email": "slow@example.org"}},
                headers=key,
                timeout=60,
            ).status
        )
    )
    creating.start()
    try:
        wait_until(
            lambda: (
                lock.execute(
                    "SELECT count(*) FROM pg_locks WHERE relation = 'dsar_request'::regclass AND NOT granted"
                ).fetchone()[0]
                > 0
            ),
            timeout=30,
            what="the request creation waiting on the lock",
        )
        for __ in range(20):
            read = call(f"{hot}/api/v1/subjects/{KARI}/processing?activity=surveys", headers=key, timeout=5)
            assert read.status == 200 and read.json()["status"] == "allowed"
        # the same read sent to the main pool queues behind the creation
        with pytest.raises((TimeoutError, urllib.error.URLError)):
            call(f"{web.url}/api/v1/consents/{KARI}/surveys", headers=key, timeout=2)
    finally:
        lock.rollback()
        lock.close()
        creating.join(60)
    assert created == [201]

    # one SIGTERM to serve stops both pools: no gunicorn master or worker is left behind
    assert web.stop(signal.SIGTERM) == 0
    wait_until(
        lambda: not any(Path(f"/proc/{pid}").exists() for pid in processes), timeout=30, what="pools gone"
    )
