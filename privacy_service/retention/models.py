"""Holds (what protects data from retention and erasure), retention runs and what each did per rule."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from privacy_service.columns import json_column, tz_column
from privacy_service.kernel import utcnow


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
    basis: str = Field(max_length=1000)  # internal: case notes and references, never shown to the subject
    # what the subject reads in a letter or mail, {"nb", "en"}; null or a language left out: the standard
    # text for the kind (holds.STANDARD_PUBLIC_TEXT)
    public_text: dict[str, str] | None = Field(default=None, sa_column=json_column(nullable=True))
    reference: str | None = Field(default=None, max_length=60)  # case, request or policy reference
    source: str = Field(default="api", max_length=20)  # policies | api | officer | request
    starts_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    ends_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    set_by: str = Field(max_length=200)
    released_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    released_by: str | None = Field(default=None, max_length=200)
    release_note: str | None = Field(default=None, max_length=1000)


class RetentionRun(SQLModel, table=True):
    """One run of the retention rules (or a dry run): when, who started it, how it ended."""

    __tablename__ = "retention_run"

    id: int | None = Field(default=None, primary_key=True)
    dry_run: bool = False
    trigger: str = Field(max_length=20)  # cli | api | scheduler
    started_by: str = Field(max_length=200)
    started_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    finished_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    status: str = Field(default="running", max_length=20)  # running | completed | failed | interrupted
    as_of: datetime = Field(default_factory=utcnow, sa_column=tz_column())  # the "now" the periods count from
    scheduled_for: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    rule_filter: list[str] = Field(default_factory=list, sa_column=json_column())


class RetentionRunRule(SQLModel, table=True):
    """What one run did with one rule."""

    __tablename__ = "retention_run_rule"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="retention_run.id", index=True)
    rule: str = Field(max_length=300, index=True)  # Rule.key
    activity: str = Field(max_length=64)
    action: str = Field(max_length=10)
    period: str = Field(max_length=20)
    cutoff: datetime = Field(sa_column=tz_column())
    candidates: int = 0
    acted: int = 0
    held: int = 0
    held_by: dict[str, int] = Field(default_factory=dict, sa_column=json_column())  # hold id -> rows
    failed: int = 0
    error: str | None = Field(default=None, max_length=1000)
    seconds: float = 0.0
    deposit_path: str | None = Field(default=None, max_length=500)


class RetentionDeposit(SQLModel, table=True):
    """One archive extract of one table's rows, waiting for (or holding) the archive's receipt.

    The rows stay in the data system until the receipt is recorded; `keys` names exactly the rows deposited,
    so that only they are deleted then (a JSON list: fine at the size of the tables deposited here; see
    docs/retention.md).
    """

    __tablename__ = "retention_deposit"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="retention_run.id", index=True)
    activity: str = Field(max_length=64, index=True)
    system: str = Field(max_length=100)
    table_name: str = Field(max_length=100)
    rule: str = Field(max_length=300)
    rows: int = 0
    keys: list[str] = Field(default_factory=list, sa_column=json_column())
    status: str = Field(default="pending_receipt", max_length=20, index=True)  # | received | rejected
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    path: str = Field(max_length=500)  # the extract's folder
    # per file of the extract: name, sha256, bytes
    files: list[dict[str, object]] = Field(default_factory=list, sa_column=json_column())
    remade_from: int | None = Field(default=None)  # the rejected deposit this one replaces
    archive_reference: str | None = Field(default=None, max_length=200)
    received_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    received_by: str | None = Field(default=None, max_length=200)
    rejected_reason: str | None = Field(default=None, max_length=1000)
    rejected_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    deleted_rows: int | None = None
    deleted_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
