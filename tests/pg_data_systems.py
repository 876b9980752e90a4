"""The demo's data systems copied from their SQLite files into a database of their own on the test cluster,
for tests that need data systems on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, select

from privacy_service.datamap.demo import _metadata

SYSTEMS = {
    "helsedata-support": "helsedata_support.db",
    "helsedata-survey": "helsedata_survey.db",
    "helsedata-portal": "helsedata_portal.db",
}


def admin(server: dict[str, Any]) -> psycopg.Connection:
    """A connection to the cluster's maintenance database, for CREATE and DROP DATABASE."""
    return psycopg.connect(
        host=server["host"], port=server["port"], user=server["user"], dbname="postgres", autocommit=True
    )


def copy_to_postgres(demo: Path, server: dict[str, Any], dbname: str) -> str:
    """Create `dbname`, copy the demo's three data systems' tables and rows into it, and return its URL."""
    with admin(server) as conn:
        conn.execute(f"CREATE DATABASE {dbname}")
    url = f"postgresql+psycopg://{server['user']}@{server['host']}:{server['port']}/{dbname}"
    target, metadata = create_engine(url), _metadata()
    with target.begin() as out:
        for system, file in SYSTEMS.items():
            metadata[system].create_all(out)
            source = create_engine(f"sqlite:///{demo / 'demo' / file}")
            with source.connect() as src:
                for table in metadata[system].sorted_tables:
                    if rows := [dict(r._mapping) for r in src.execute(select(table))]:
                        out.execute(table.insert(), rows)
            source.dispose()
    target.dispose()
    return url
