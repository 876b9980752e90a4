"""Fixtures for the deployment tests: real gunicorn and scheduler processes on the test PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from deployment import Deployment


@pytest.fixture
def make_deployment(pg_server: dict[str, Any], tmp_path: Path) -> Iterator[Callable[..., Deployment]]:
    """Return a factory of deployments, each on its own database; their processes stop at the end."""
    made: list[Deployment] = []

    def make(**env: str) -> Deployment:
        deployment = Deployment(pg_server, tmp_path / f"deployment{len(made)}", env_extra=env)
        made.append(deployment)
        return deployment

    yield make
    for deployment in made:
        deployment.close()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A Redis server on loopback for shared rate-limit counts (Debian's redis-server, as in production)."""
    import shutil
    import subprocess

    from deployment import free_port, wait_until

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is missing: ./run-tests installs it (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        import socket

        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_until(up, timeout=20, what="redis-server listening")
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
