"""The breach register (GDPR Art. 33 and 34): one row per personal data breach, from discovery to closing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from privacy_service.columns import json_column, tz_column
from privacy_service.kernel import utcnow

RISK_LEVELS = ("no_risk", "risk", "high_risk")
STATUSES = ("open", "assessed", "notified", "closed")
NOT_REQUIRED_GROUNDS = ("34(3)(a)", "34(3)(b)", "34(3)(c)")


class Breach(SQLModel, table=True):
    """A personal data breach: what happened, the assessment, and who was told when (Art. 33(5))."""

    __tablename__ = "breach"
    __table_args__ = (UniqueConstraint("year", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=20, unique=True, index=True)  # AVVIK-YYYY-NNNN
    year: int
    number: int
    title: str = Field(max_length=200)
    description: str = Field(max_length=5000)
    discovered_at: datetime = Field(sa_column=tz_column())
    occurred_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    notify_authority_by: datetime = Field(sa_column=tz_column(index=True))  # discovered_at + 72 h, Art. 33(1)
    data_categories: list[str] = Field(default_factory=list, sa_column=json_column())
    subject_categories: list[str] = Field(default_factory=list, sa_column=json_column())
    approx_subjects: int | None = None
    approx_records: int | None = None
    activities: list[str] = Field(default_factory=list, sa_column=json_column())  # ropa activity slugs
    consequences: str = Field(default="", max_length=5000)  # Art. 33(3)(c)
    measures: str = Field(default="", max_length=5000)  # Art. 33(3)(d)
    status: str = Field(default="open", max_length=10, index=True)  # open | assessed | notified | closed
    risk_level: str | None = Field(default=None, max_length=10)  # no_risk | risk | high_risk
    risk_reasons: str | None = Field(default=None, max_length=5000)
    assessed_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    authority_notified_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    authority_reference: str | None = Field(default=None, max_length=100)  # Datatilsynet's case number
    delay_reasons: str | None = Field(default=None, max_length=5000)  # Art. 33(1): when later than 72 hours
    subject_text: dict[str, str] | None = Field(default=None, sa_column=json_column(nullable=True))  # nb, en
    subjects_notified_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    subjects_sent_count: int | None = None
    subjects_not_required: str | None = Field(default=None, max_length=10)  # 34(3)(a) | (b) | (c)
    subjects_not_required_reason: str | None = Field(default=None, max_length=5000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    created_by: str = Field(max_length=200)
    closed_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
