"""Legitimate-interest assessments (GDPR Art. 6(1)(f)): one per processing activity that relies on it."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from privacy_service.columns import tz_column
from privacy_service.kernel import utcnow


class LiaAssessment(SQLModel, table=True):
    """The three-part test of an activity's legitimate interest; history is in the audit trail."""

    __tablename__ = "lia_assessment"

    id: int | None = Field(default=None, primary_key=True)
    activity: str = Field(max_length=64, unique=True, index=True)  # the activity's slug in the registry
    # Art. 6(1) second subparagraph: 6(1)(f) does not apply to an authority performing its tasks
    public_task_processing: bool = False
    # (1) the legitimate interest pursued: whose, and whether it is lawful, specific and present
    interest: str = Field(default="", max_length=5000)
    interest_holder: str = Field(default="controller", max_length=20)  # controller | third_party
    interest_lawful: bool = False
    interest_specific: bool = False
    interest_present: bool = False
    # (2) necessity
    necessity: str | None = Field(default=None, max_length=5000)
    alternatives: str | None = Field(default=None, max_length=5000)  # less intrusive means considered
    # (3) balancing
    reasonable_expectations: str | None = Field(default=None, max_length=5000)
    data_nature: str | None = Field(default=None, max_length=5000)
    impact: str | None = Field(default=None, max_length=5000)
    safeguards: str | None = Field(default=None, max_length=5000)
    conclusion: str = Field(max_length=20, index=True)  # legitimate | not_legitimate
    conclusion_reasons: str | None = Field(default=None, max_length=5000)
    assessed_by: str = Field(max_length=200)
    assessed_on: date
    next_review_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    updated_by: str = Field(default="", max_length=200)
