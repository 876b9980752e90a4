"""A throwaway PostgreSQL cluster for the tests, the benchmarks and the fault drills.

initdb refuses to run as root, and CI runs as root: there the cluster is created and run as the `postgres`
user, in a directory that user owns. Durability is switched off (fsync, synchronous_commit): the data is
thrown away at the end.

A test run shares one cluster between its pytest-xdist workers (`SharedCluster`): the first process that
needs PostgreSQL starts it, the others find it, and the process that made the run folder stops it. Each
process names its databases with `unique_dbname`, so the workers never meet on the cluster.

Not part of the shipped package: the tests import it as `pgcluster` (tests/ is on their path) and the
benchmarks through bench/common.py.
"""

from __future__ import annotations

import fcntl
import glob
import itertools
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class PostgresMissing(RuntimeError):
    """PostgreSQL's server binaries are not installed."""


def pg_bin(name: str) -> str:
    """Return the path of a PostgreSQL server binary (initdb, pg_ctl...), or raise PostgresMissing."""
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise PostgresMissing(f"PostgreSQL's {name} is not installed (apt-get install postgresql).")
    return found


def free_port() -> int:
    """Return a TCP port on loopback that nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """A running throwaway cluster: where it lives and how to reach it."""

    base: Path
    port: int
    host: str = "127.0.0.1"
    user: str = "postgres"
    _prefix: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.base / "data"

    def url(self, dbname: str = "postgres") -> str:
        """A SQLAlchemy URL for one database of the cluster."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def _ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(
            [*self._prefix, pg_bin("pg_ctl"), "-D", str(self.data), *args], check=check, capture_output=True
        )

    def start(self) -> None:
        opts = (
            f"-k {self.base} -p {self.port} -c listen_addresses={self.host} -c max_connections=300 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._ctl("-o", opts, "-l", str(self.base / "log"), "-w", "start")

    def stop(self, mode: str = "immediate") -> None:
        self._ctl("-m", mode, "-w", "stop", check=False)


def _as_postgres() -> list[str]:
    """The command prefix that runs PostgreSQL's binaries as `postgres` when we are root."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _new_base() -> Path:
    # Not under pytest's tmp folder: its parents are private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="privacy-service-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    return base


def start_cluster() -> Cluster:
    """Create a cluster in a new folder and start it; on failure leave nothing behind."""
    base = _new_base()
    cluster = Cluster(base=base, port=free_port(), _prefix=_as_postgres())
    try:
        subprocess.run(
            [*cluster._prefix, pg_bin("initdb"), "-D", str(cluster.data), "-A", "trust", "-U", "postgres"]
            + ["-E", "UTF8", "--no-locale"],
            check=True,
            capture_output=True,
        )
        cluster.start()
    except BaseException:
        if (cluster.data / "postmaster.pid").exists():
            cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
        raise
    return cluster


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """Create and start a cluster; stop it and remove its files on exit."""
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.base, ignore_errors=True)


class SharedCluster:
    """One throwaway cluster for a whole test run, started by the first process that asks for it.

    `root` is a folder private to the run (the pytest-xdist controller makes it and hands it to the workers).
    A lock file there lets one process start the cluster while the others wait; `cluster.json` then tells
    every process where it listens. Only the owner of the run calls stop().
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._state = root / "cluster.json"

    def server(self) -> dict[str, Any]:
        """Return host, port and user of the run's cluster, starting it if nobody has yet."""
        with (self.root / "lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when the process dies
            if not self._state.exists():
                cluster = start_cluster()
                state = {"base": str(cluster.base), "host": cluster.host, "port": cluster.port}
                self._state.write_text(json.dumps(state))
            state = json.loads(self._state.read_text())
        return {"host": state["host"], "port": state["port"], "user": "postgres"}

    def stop(self) -> None:
        """Stop the cluster if it was started, and remove its files and the run folder."""
        if self._state.exists():
            state = json.loads(self._state.read_text())
            cluster = Cluster(base=Path(state["base"]), port=state["port"], _prefix=_as_postgres())
            cluster.stop()
            shutil.rmtree(cluster.base, ignore_errors=True)
        shutil.rmtree(self.root, ignore_errors=True)


_names = itertools.count()


def unique_dbname(kind: str) -> str:
    """A database name no other process of the run uses: kind, the xdist worker, the process, a counter."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{kind}_{worker}_{os.getpid()}_{next(_names)}"
