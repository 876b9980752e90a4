"""Demo data systems for the requests tests (Kari Nordmann is always there)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from privacy_service.datamap.demo import create_demo_data


@pytest.fixture
def demo(app) -> Path:  # type: ignore[no-untyped-def]
    instance = Path(app.config["PRIVACY_INSTANCE_PATH"])
    create_demo_data(instance_path=instance, seed=7, people=40, anchor=date(2026, 11, 1))
    return instance
