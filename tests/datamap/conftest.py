"""Fixtures for the data map: the shipped systems.yaml and activities, demo data, a fresh registry."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import Session

from privacy_service.audit import Actor
from privacy_service.datamap.demo import create_demo_data
from privacy_service.datamap.service import load_systems
from privacy_service.db import make_engine
from privacy_service.policies import read_policies

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
ACTOR = Actor("cli", "tests")


@pytest.fixture(scope="session")
def shipped_activities() -> dict[str, set[str]]:
    """Return each shipped activity's slug with its data category keys."""
    docs = read_policies(POLICIES)
    return {a["slug"]: {c["key"] for c in a["data_categories"]} for a in docs["activities"]}


@pytest.fixture(scope="session")
def _shipped_systems() -> list[dict[str, Any]]:
    return yaml.safe_load((POLICIES / "systems.yaml").read_text(encoding="utf-8"))["systems"]


@pytest.fixture
def systems(_shipped_systems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return a fresh copy of the entries of the shipped policies/systems.yaml, free to edit."""
    return copy.deepcopy(_shipped_systems)


@pytest.fixture
def system(systems: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the helsedata-portal entry, free to edit."""
    return next(s for s in systems if s["name"] == "helsedata-portal")


@pytest.fixture
def session(make_db_url: Callable[..., str]) -> Iterator[Session]:
    """A session on a fresh, migrated registry database (SQLite and PostgreSQL)."""
    engine = make_engine(make_db_url("empty"))
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """An instance folder holding the demo data systems (seed 7, a few people and Kari Nordmann)."""
    create_demo_data(instance_path=tmp_path, seed=7, people=25)
    return tmp_path


@pytest.fixture
def load(
    session: Session, shipped_activities: dict[str, set[str]], instance: Path
) -> Callable[[list[dict[str, Any]]], dict[str, int]]:
    """Return a function loading systems into the registry in one committed transaction."""

    def do(items: list[dict[str, Any]]) -> dict[str, int]:
        try:
            counts = load_systems(
                session, systems=items, activities=shipped_activities, instance_path=instance, actor=ACTOR
            )
        except Exception:
            session.rollback()
            raise
        session.commit()
        return counts

    return do
