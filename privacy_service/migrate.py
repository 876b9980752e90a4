"""Alembic, driven from code: upgrade the schema and tell whether it is current."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine


def migrations_path() -> Path:
    """Return the migrations folder: the source tree's, or the copy shipped in the wheel."""
    source = Path(__file__).resolve().parent.parent / "migrations"
    return source if source.is_dir() else Path(__file__).resolve().parent / "_migrations"


def alembic_config(url: str | None = None) -> Config:
    """Return an Alembic config for the given database URL."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_path()))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database schema to the given revision."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


@cache
def head_revision() -> str | None:
    """Return the newest migration revision."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(conn: Connection) -> str | None:
    """Return the revision the database is at."""
    return MigrationContext.configure(conn).get_current_revision()
