"""The record of processing activities carried out as a processor (GDPR Art. 30(2)): one row per processing
Helsedirektoratet or Helsedataservice carries out on behalf of other controllers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Field, SQLModel

from privacy_service.columns import json_column, tz_column
from privacy_service.kernel import utcnow

PROCESSOR_STATUSES = ("active", "ended")


class ProcessorRecord(SQLModel, table=True):
    """What we process for whom, under which agreement, with which sub-processors and transfers
    (Art. 30(2))."""

    __tablename__ = "processor_record"

    id: int | None = Field(default=None, primary_key=True)
    key: str | None = Field(default=None, max_length=64, unique=True)  # set for records loaded from policies/
    processor: str = Field(max_length=64, index=True)  # organisation slug: who of us acts as processor
    controllers: list[str] = Field(default_factory=list, sa_column=json_column())  # Art. 30(2)(a)
    # the data processing agreement (Art. 28(3)); None: the sources do not state it
    agreement_ref: str | None = Field(default=None, max_length=500)
    agreement_date: date | None = None
    # Art. 30(2)(b): [{controller, description: {nb, en}}], at least one for each controller
    categories: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    sub_processors: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())  # Art. 28(2)
    transfers: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())  # Art. 30(2)(c)
    security_measures: dict[str, str] = Field(default_factory=dict, sa_column=json_column())  # Art. 30(2)(d)
    dpo: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))  # Art. 30(2)(a)
    status: str = Field(default="active", max_length=10, index=True)  # active | ended
    started_on: date | None = None
    ended_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    created_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    updated_by: str = Field(max_length=200)
