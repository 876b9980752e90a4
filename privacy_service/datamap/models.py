"""Data systems and, per table, how the data of an activity is found, erased, restricted and aged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from privacy_service.columns import json_column, tz_column
from privacy_service.kernel import utcnow


class DataSystem(SQLModel, table=True):
    """A database holding personal data; its URL (with secrets) comes from the environment."""

    __tablename__ = "data_system"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True, index=True)
    # {nb, en}, or one plain text written before descriptions were given in both languages
    description: Any = Field(default="", sa_column=json_column())
    url_env: str | None = Field(default=None, max_length=100)
    url: str | None = Field(default=None, max_length=500)  # default when url_env is unset; no secrets here
    content_hash: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())


class DataTable(SQLModel, table=True):
    """One table of a data system mapped to an activity."""

    __tablename__ = "data_table"
    __table_args__ = (UniqueConstraint("system_id", "table_name"),)

    id: int | None = Field(default=None, primary_key=True)
    system_id: int = Field(foreign_key="data_system.id", index=True)
    table_name: str = Field(max_length=100)
    activity_slug: str = Field(max_length=64, index=True)
    key_column: str = Field(max_length=100)
    identity: dict[str, str] = Field(default_factory=dict, sa_column=json_column())  # identity kind -> column
    columns: dict[str, str] = Field(
        default_factory=dict, sa_column=json_column()
    )  # column -> data category key
    erasure: str = Field(max_length=10)  # delete | mask
    mask_columns: list[str] = Field(default_factory=list, sa_column=json_column())
    restriction_column: str | None = Field(default=None, max_length=100)
    anchor_column: str | None = Field(default=None, max_length=100)
