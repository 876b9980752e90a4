"""The migrations build the schema the models describe, on both engines: a table or column added to a model
without its migration (or the other way round) fails here, not on a deployed database."""

from __future__ import annotations

from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import privacy_service.all_models  # noqa: F401  (every table on SQLModel.metadata)
from privacy_service.db import make_engine


def test_models_and_migrations_agree(make_db_url: Callable[..., str]) -> None:
    engine = make_engine(make_db_url("empty"))
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == []
