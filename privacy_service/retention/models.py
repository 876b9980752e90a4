"""Holds: what protects data from retention and from erasure."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from privacy_service.models import json_column, tz_column, utcnow


class Hold(SQLModel, table=True):
    """A hold on an activity, a table, one subject or listed record keys; it always wins over deletion."""

    __tablename__ = "hold"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)  # archive_law | legal | request_pending | other
    scope: str = Field(max_length=10)  # activity | table | subject | records
    activity: str | None = Field(default=None, max_length=64, index=True)
    system: str | None = Field(default=None, max_length=100)
    table_name: str | None = Field(default=None, max_length=100)
    subject_kind: str | None = Field(default=None, max_length=20)  # identity kind for scope subject
    subject_value: str | None = Field(default=None, max_length=254)
    record_keys: list[str] = Field(default_factory=list, sa_column=json_column())
    basis: str = Field(max_length=1000)
    reference: str | None = Field(default=None, max_length=60)  # case, request or policy reference
    source: str = Field(default="api", max_length=20)  # policies | api | officer | request
    starts_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    ends_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    set_by: str = Field(max_length=200)
    released_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    released_by: str | None = Field(default=None, max_length=200)
    release_note: str | None = Field(default=None, max_length=1000)
