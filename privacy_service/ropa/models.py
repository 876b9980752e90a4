"""Registry tables: organisations, processing activities and their versions, service notices, rule changes,
and the registry's version counter that every change to them bumps in its own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint, event, text
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as OrmSession
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
    # the order the activity list pages in (records.list_activities, listing.activity_page)
    __table_args__ = (Index("ix_processing_activity_service_slug", "service", "slug"),)

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


class RegistryVersion(SQLModel, table=True):
    """The registry's version: one row whose counter every change to the registry bumps, in the change's own
    transaction, so a worker in any process learns of a change with one cheap read (ropa/answer_cache.py)."""

    __tablename__ = "registry_version"
    __table_args__ = (CheckConstraint("id = 1", name="ck_registry_version_one_row"),)

    id: int = Field(default=1, primary_key=True)
    version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


REGISTRY_MODELS = (Organisation, ProcessingActivity, ActivityVersion, ServiceNotice, RuleChange)
# Counted by the database, not read and written back: writers in other processes cannot lose a bump.
_BUMP = text("UPDATE registry_version SET version = version + 1")
_CHANGED = "privacy.registry_changed"  # session.info: this transaction wrote to the registry


def _touches_registry(session: OrmSession) -> bool:
    if any(isinstance(obj, REGISTRY_MODELS) for obj in (*session.new, *session.deleted)):
        return True
    return any(
        isinstance(obj, REGISTRY_MODELS) and session.is_modified(obj, include_collections=False)
        for obj in session.dirty
    )


@event.listens_for(OrmSession, "before_flush")
def _registry_flushed(session: OrmSession, _context: Any, _instances: Any) -> None:
    if _touches_registry(session):
        session.info[_CHANGED] = True


@event.listens_for(OrmSession, "do_orm_execute")
def _registry_bulk_written(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        mapper = state.bind_mapper
        if mapper is not None and issubclass(mapper.class_, REGISTRY_MODELS):
            state.session.info[_CHANGED] = True


@event.listens_for(OrmSession, "before_commit")
def _bump_registry_version(session: OrmSession) -> None:
    # Bumped last, inside the transaction's commit: the counter's row lock is held only while committing, so
    # registry writers never wait for each other's work, and never in an order that could deadlock.
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction bumps when it commits
    session.flush()  # the commit's own flush comes after this hook: see what it writes first
    if session.info.pop(_CHANGED, False):
        session.connection().execute(_BUMP)


@event.listens_for(OrmSession, "after_rollback")
def _registry_rolled_back(session: OrmSession) -> None:
    session.info.pop(_CHANGED, None)
