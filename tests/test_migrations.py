"""The migrations build the schema the models describe, on both engines."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
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


def test_a_plain_system_description_becomes_json_and_one_in_two_languages_blocks_the_way_down(
    make_db_url: Callable[..., str],
) -> None:
    engine = make_engine(make_db_url("empty"))
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0028")
            conn.execute(
                sa.text(
                    "INSERT INTO data_system (name, description, content_hash, updated_at) "
                    "VALUES ('portal', 'The portal database', '', CURRENT_TIMESTAMP)"
                )
            )
            command.upgrade(cfg, "0029")
            table = sa.table("data_system", sa.column("name"), sa.column("description", sa.JSON()))
            assert conn.execute(sa.select(table.c.description)).scalar_one() == "The portal database"
            conn.execute(
                table.update().values(description={"nb": "Portalbasen", "en": "The portal database"})
            )
            with pytest.raises(RuntimeError, match="two languages"):
                command.downgrade(cfg, "0028")
    finally:
        engine.dispose()
