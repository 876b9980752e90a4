"""What the benchmarks share: free ports, gunicorn start-up, and wrk runs parsed into figures.

Importing it also puts the test helpers (tests/) on the path: the benchmarks start their throwaway PostgreSQL
with the tests' `pgcluster`, which the package does not ship.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests") not in sys.path:
    sys.path.append(str(REPO / "tests"))  # appended, so nothing there shadows an installed module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(  # noqa: PLR0913
    app: str, port: int, env: dict, cwd: Path, workers: int, ready_path: str, nice: int = 0
) -> subprocess.Popen:
    """Start gunicorn serving app on loopback (at `nice`, as `serve` starts its main pool) and wait until
    ready_path answers."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            # the same gunicorn settings as `privacy-service serve`, for the app and its baselines alike
            "--config",
            "python:privacy_service.gunicorn_conf",
            app,
        ],
        cwd=cwd,
        env=env,
        preexec_fn=(lambda: os.nice(nice)) if nice else None,  # noqa: PLW1509
    )
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=1)
            return proc
        except Exception:  # noqa: BLE001
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{app} did not start")


def stop(*procs: subprocess.Popen) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait()


def wrk(
    url: str,
    seconds: int,
    connections: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    threads: int = 2,
) -> dict[str, float]:
    """Run wrk and return requests/s, p50/p99 in ms, non-2xx/3xx responses and socket errors."""
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    if script:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": pct("50"),
        "p99_ms": pct("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(int(x) for x in sock.groups()) if sock else 0,
        "timeouts": int(sock.group(4)) if sock else 0,  # no answer within wrk's 2 s (part of socket_errors)
    }


def children(pid: int) -> list[int]:
    """The processes whose parent is pid (gunicorn's workers under its master)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time used so far by these processes, in seconds."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk_cpu(
    server: subprocess.Popen, url: str, seconds: int, connections: int, *args: Any
) -> dict[str, float]:
    """wrk against a gunicorn server, with the CPU its workers spent per request (ms) beside the figures."""
    workers = children(server.pid)
    before = cpu_seconds(workers)
    result = wrk(url, seconds, connections, *args)
    requests = result["rps"] * seconds
    result["cpu_ms"] = (cpu_seconds(workers) - before) * 1000 / requests if requests else float("nan")
    return result


def table(results: dict[str, dict[str, float]], baseline: str) -> str:
    """The figures as a text table with each row's ratio to the baseline's throughput and p99."""
    base = results[baseline]
    cpu = "cpu_ms" in base
    lines = [
        f"{'target':62} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'÷base':>6} {'p99÷base':>9}"
        + (f" {'CPU ms/req':>10} {'base÷CPU':>8}" if cpu else "")
    ]
    for name, r in results.items():
        errors = int(r["non_2xx"] + r["socket_errors"])
        line = (
            f"{name:62} {r['rps']:8.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {errors:7d} "
            f"{r['rps'] / base['rps']:6.2f} {r['p99_ms'] / base['p99_ms']:9.2f}"
        )
        if cpu and "cpu_ms" in r:
            line += f" {r['cpu_ms']:10.3f} {base['cpu_ms'] / r['cpu_ms']:8.2f}"
        lines.append(line)
    return "\n".join(lines)
