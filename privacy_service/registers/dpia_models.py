"""The DPIA register (GDPR Art. 35/36): one assessment per processing activity."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from privacy_service.columns import json_column, tz_column
from privacy_service.kernel import utcnow


class DpiaAssessment(SQLModel, table=True):
    """Where an activity stands with its data protection impact assessment; history is in the audit trail."""

    __tablename__ = "dpia_assessment"

    id: int | None = Field(default=None, primary_key=True)
    activity: str = Field(max_length=64, unique=True, index=True)  # the activity's slug in the registry
    # screening | not_required | required | in_progress | completed | prior_consultation
    status: str = Field(max_length=20, index=True)
    # ids from dpia_criteria.DATATILSYNET_LIST and dpia_criteria.WP248_CRITERIA that apply
    listed_items: list[str] = Field(default_factory=list, sa_column=json_column())
    criteria: list[str] = Field(default_factory=list, sa_column=json_column())
    screening_reasons: str | None = Field(default=None, max_length=5000)
    dpo_advice: str | None = Field(default=None, max_length=5000)  # Art. 35(2)
    dpo_advice_on: date | None = None
    residual_risk: str | None = Field(default=None, max_length=10)  # low | medium | high
    consultation_on: date | None = None  # Art. 36: when Datatilsynet was consulted
    consultation_reference: str | None = Field(default=None, max_length=200)
    consultation_outcome: str | None = Field(default=None, max_length=5000)
    document_reference: str | None = Field(default=None, max_length=300)  # the DPIA document itself
    started_on: date | None = None
    completed_on: date | None = None
    next_review_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    updated_by: str = Field(default="", max_length=200)
