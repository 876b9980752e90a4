"""The migrations build the schema the models describe, on both engines."""

from __future__ import annotations

from collections.abc import Callable

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import privacy_service.all_models  # noqa: F401  (every table on SQLModel.metadata)
from privacy_service.db import make_engine
from privacy_service.migrate import alembic_config, current_revision, head_revision


def test_the_migrated_schema_matches_the_models(make_db_url: Callable[..., str]) -> None:
    engine = make_engine(make_db_url("empty"))
    try:
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_the_newest_migration_goes_down_and_up_again(make_db_url: Callable[..., str]) -> None:
    engine = make_engine(make_db_url("empty"))
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "-1")
            command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    finally:
        engine.dispose()
