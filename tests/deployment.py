"""A real deployment for the tests: gunicorn `serve` processes and a `scheduler` on one PostgreSQL.

Each deployment gets its own database on the test cluster and its own instance folder. The processes are the
ones an operator runs (`privacy-service serve`, `privacy-service scheduler`), started with the environment
variables of docs/deployment.md, so what passes here is what runs in production.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, Request, build_opener

import psycopg
from pgcluster import free_port, unique_dbname
from tests_support import settle_with

REPO = Path(__file__).resolve().parent.parent
_ids = itertools.count()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    url: str,
    method: str = "GET",
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> Response:
    """One HTTP request over loopback (a JSON body: an object, or bytes sent as they are); HTTP errors are
    answers, not exceptions."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return Response(answer.status, dict(answer.headers), answer.read())
    except urllib.error.HTTPError as err:
        return Response(err.code, dict(err.headers), err.read())


def settle_over_http(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """tests_support.settle() against a running service: `url` is the request's API address."""

    def post(path: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = call(f"{url}/{path}", "POST", body=payload, headers=headers)
        assert answer.status == 200, answer.body
        return answer.json()

    return settle_with(call(url, headers=headers).json(), post)


@dataclass
class Process:
    """A running service process with its log file."""

    name: str
    proc: subprocess.Popen
    log: Path
    port: int | None = None
    log_file: Any = None
    hot_port: int | None = None  # `serve`'s second pool, the status reads (--hot-workers)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def children(self) -> list[int]:
        """The process ids of its children (gunicorn's workers)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                found.append(int(stat.parent.name))
        return sorted(found)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.alive():
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
        finally:
            if self.log_file is not None and not self.alive():
                self.log_file.close()


@dataclass
class Deployment:
    """One PostgreSQL database, one instance folder, and the processes serving them."""

    server: dict[str, Any]
    root: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    dbname: str = ""
    processes: list[Process] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dbname = self.dbname or unique_dbname("deploy")
        self.instance = self.root / "instance"
        self.instance.mkdir(parents=True, exist_ok=True)
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {self.dbname}")

    @property
    def database_url(self) -> str:
        s = self.server
        return f"postgresql://{s['user']}@{s['host']}:{s['port']}/{self.dbname}"

    def admin(self) -> psycopg.Connection:
        s = self.server
        return psycopg.connect(
            host=s["host"], port=s["port"], user=s["user"], dbname="postgres", autocommit=True
        )

    def connect(self) -> psycopg.Connection:
        """A direct connection to the deployment's database (to check what the service wrote)."""
        s = self.server
        return psycopg.connect(
            host=s["host"], port=s["port"], user=s["user"], dbname=self.dbname, autocommit=True
        )

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PRIVACY_", "DATABASE_URL"))}
        env.update(
            {
                "DATABASE_URL": self.database_url,
                "PRIVACY_INSTANCE_PATH": str(self.instance),
                "PRIVACY_POLICIES": str(REPO / "policies"),
                "PRIVACY_SECRET_KEY": "deployment-test-secret",
                "PRIVACY_BASE_URL": "http://127.0.0.1",
                **self.env_extra,
            }
        )
        return env

    def cli(self, *args: str, check: bool = True, timeout: float = 300) -> str:
        """Run a `privacy-service` command against this deployment and return its output."""
        done = subprocess.run(
            [sys.executable, "-m", "privacy_service.cli", *args],
            env=self.env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"privacy-service {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout + done.stderr

    def demo(self, people: int = 200) -> str:
        """Load the demo data systems, the registry and the demo officers."""
        return self.cli("demo", "--no-serve", "--people", str(people))

    def api_key(self, *scopes: str, name: str | None = None) -> str:
        out = self.cli(
            "api-key", "create", "--name", name or f"key{next(_ids)}", "--scopes", ",".join(scopes)
        )
        return next(word for word in out.split() if word.startswith("psk_"))

    def _start(self, name: str, args: list[str], port: int | None, env: dict[str, str] | None) -> Process:
        log = self.root / f"{name}.log"
        log_file = log.open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "privacy_service.cli", *args],
            env={**self.env, **(env or {})},
            cwd=self.root,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a signal to the test's group never reaches it by accident
        )
        process = Process(name, proc, log, port, log_file)
        self.processes.append(process)
        return process

    def serve(
        self,
        workers: int = 2,
        env: dict[str, str] | None = None,
        name: str | None = None,
        hot_workers: int = 0,
    ) -> Process:
        """Start `privacy-service serve` on a free port and wait until /readyz answers 200.

        hot_workers: the second pool for the status reads, on a port of its own (0: the main pool only, so
        the process's children are gunicorn's workers, as the fault tests expect)."""
        port = free_port()
        args = ["serve", "--port", str(port), "--workers", str(workers), "--hot-workers", str(hot_workers)]
        hot_port = free_port() if hot_workers else None
        if hot_port:
            args += ["--hot-port", str(hot_port)]
        process = self._start(name or f"serve{port}", args, port, env)
        process.hot_port = hot_port
        wait_until(lambda: process_ready(process), timeout=60, what=f"{process.name} ready")
        if hot_port:
            hot = f"http://127.0.0.1:{hot_port}/readyz"
            wait_until(lambda: _answers(hot), timeout=60, what=f"{process.name}'s status-read pool ready")
        return process

    def scheduler(self, env: dict[str, str] | None = None, name: str = "scheduler") -> Process:
        """Start `privacy-service scheduler` and wait until it has synchronised its jobs."""
        process = self._start(name, ["scheduler"], None, env)
        wait_until(lambda: "retention jobs:" in process.log.read_text(), timeout=60, what="scheduler up")
        return process

    def close(self) -> None:
        for process in self.processes:
            process.stop()
        with self.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.dbname} WITH (FORCE)")


class Browser:
    """A cookie-keeping HTTP client that fills in forms' CSRF tokens, as a person's browser would."""

    def __init__(self, base: str) -> None:
        self.base, self.opener = base, build_opener(HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=20) as answer:
            return answer.read().decode()

    def submit(self, path: str, fields: dict[str, str], form_page: str | None = None) -> tuple[str, str]:
        page = self.get(form_page or path)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert token, f"no form on {form_page or path}"
        body = urlencode({**fields, "csrf_token": token.group(1)}).encode()
        with self.opener.open(Request(self.base + path, data=body, method="POST"), timeout=60) as answer:  # noqa: S310
            return answer.geturl(), answer.read().decode()


def process_ready(process: Process) -> bool:
    if not process.alive():
        raise AssertionError(f"{process.name} exited:\n{process.log.read_text()[-3000:]}")
    try:
        return call(process.url + "/readyz", timeout=2).status == 200
    except OSError:
        return False


def _answers(url: str) -> bool:
    try:
        return call(url, timeout=2).status == 200
    except OSError:
        return False


def wait_until(check: Any, *, timeout: float, what: str, interval: float = 0.1) -> float:
    """Poll check() until it is true; return the seconds it took, or fail naming what never happened."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for: {what}")
