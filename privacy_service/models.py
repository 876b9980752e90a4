"""Column helpers shared by every package's models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, DateTime
from sqlalchemy.dialects.postgresql import JSONB


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def json_column(nullable: bool = False) -> Column:
    """A JSON column: JSONB on PostgreSQL, JSON text elsewhere."""
    return Column(JSON().with_variant(JSONB(), "postgresql"), nullable=nullable)


def tz_column(nullable: bool = False, index: bool = False) -> Column:
    """A timezone-aware timestamp column."""
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


def as_utc(value: datetime | None) -> datetime | None:
    """Return the datetime as aware UTC (SQLite returns naive values)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
