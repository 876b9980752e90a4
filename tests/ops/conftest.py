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
