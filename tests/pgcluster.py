"""A throwaway PostgreSQL cluster for the tests, the benchmarks and the fault drills.

initdb refuses to run as root, and CI runs as root: there the cluster is created and run as the `postgres`
user, in a directory that user owns. Durability is switched off (fsync, synchronous_commit): the data is
thrown away at the end.

Not part of the shipped package: the tests import it as `pgcluster` (tests/ is on their path) and the
benchmarks through bench/common.py.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


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


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """Create and start a cluster; stop it and remove its files on exit."""
    # Not under pytest's tmp folder: its parents are private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="privacy-service-pg-"))
    cluster = Cluster(base=base, port=free_port())
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        cluster._prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*cluster._prefix, pg_bin("initdb"), "-D", str(cluster.data), "-A", "trust", "-U", "postgres"]
        + ["-E", "UTF8", "--no-locale"],
        check=True,
        capture_output=True,
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
