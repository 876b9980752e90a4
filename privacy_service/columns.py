"""Column helpers shared by every package's models: aware UTC timestamps and JSON columns."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Column, DateTime, Dialect, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB

from privacy_service.kernel import as_utc


def json_column(nullable: bool = False) -> Column:
    """A JSON column: JSONB on PostgreSQL, JSON text elsewhere."""
    return Column(JSON().with_variant(JSONB(), "postgresql"), nullable=nullable)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware, on SQLite too (which keeps no offset):
    the API then writes every time with its offset, as RFC 3339 and the OpenAPI date-time format require."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value)


def tz_column(nullable: bool = False, index: bool = False) -> Column:
    """A timezone-aware timestamp column (UTC)."""
    return Column(UtcDateTime(), nullable=nullable, index=index)
