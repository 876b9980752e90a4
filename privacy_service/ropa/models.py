"""Registry tables: organisations, processing activities and their versions, service notices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from privacy_service.columns import json_column, tz_column
from privacy_service.kernel import utcnow


class Organisation(SQLModel, table=True):
    """A controller, processor, sub-processor or supervisory authority."""

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True, index=True)
    name_nb: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    org_number: str | None = Field(default=None, max_length=9, index=True)  # None: not stated
    role: str = Field(max_length=30)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    content_hash: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    updated_by: str = Field(default="", max_length=200)


class ProcessingActivity(SQLModel, table=True):
    """One record of processing; `data` is the whole validated record, columns hold what lists filter on."""

    __tablename__ = "processing_activity"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True, index=True)
    service: str = Field(max_length=64, index=True)
    status: str = Field(max_length=20, index=True)
    name_nb: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    controller: str = Field(max_length=64, index=True)
    legal_basis: str = Field(max_length=10, index=True)
    special_categories: bool = Field(default=False, index=True)
    version: int = 1
    data: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    content_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    updated_by: str = Field(default="", max_length=200)


class ActivityVersion(SQLModel, table=True):
    """A kept version of an activity: what it said, who changed it, when and how."""

    __tablename__ = "activity_version"
    __table_args__ = (UniqueConstraint("activity_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="processing_activity.id", index=True)
    version: int
    status: str = Field(max_length=20)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    change: str = Field(max_length=30)  # create | update | retire | policy_load
    changed_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    changed_by: str = Field(max_length=200)


class ServiceNotice(SQLModel, table=True):
    """The header of one service's public privacy notice (helsedata, helsedirektoratet, helsenorge)."""

    __tablename__ = "service_notice"

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=64, unique=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    content_hash: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())


class RuleChange(SQLModel, table=True):
    """A change to an activity's machine retention rules that waits for a dry run and a confirmation.

    The activity's record keeps the rules in force until the change is applied (DESIGN §7): the runner and
    the scheduler only ever read the record.
    """

    __tablename__ = "rule_change"

    id: int | None = Field(default=None, primary_key=True)
    activity: str = Field(max_length=64, index=True)  # the activity's slug (slugs never change)
    # pending | applied | discarded | superseded
    status: str = Field(default="pending", max_length=20, index=True)
    rules: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())  # proposed
    before: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())  # then in force
    proposed_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    proposed_by: str = Field(max_length=200)
    dry_run_id: int | None = None  # the dry retention run that showed what the rules will do
    dry_run_version: int | None = None  # the activity version that dry run was made on
    dry_run_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    dry_run_by: str | None = Field(default=None, max_length=200)
    dry_run_result: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    decided_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    decided_by: str | None = Field(default=None, max_length=200)
