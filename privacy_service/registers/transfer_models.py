"""Transfer assessments (GDPR Chapter V): one per transfer to a third country in an activity's record."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from privacy_service.columns import tz_column
from privacy_service.kernel import utcnow


class TransferAssessment(SQLModel, table=True):
    """The Chapter V tool and the transfer impact assessment of a transfer; history is in the audit trail."""

    __tablename__ = "transfer_assessment"
    __table_args__ = (UniqueConstraint("activity", "transfer_key", name="uq_transfer_assessment_transfer"),)

    id: int | None = Field(default=None, primary_key=True)
    activity: str = Field(max_length=64, index=True)  # the activity's slug in the registry
    # derived from the transfer's country and recipient (transfers.transfer_key): stable when the record's
    # transfers are reordered, new when the transfer goes to someone else
    transfer_key: str = Field(max_length=16)
    country: str = Field(max_length=200)  # as the record said when assessed
    recipient: str = Field(max_length=1000)
    safeguard: str = Field(max_length=20)  # the record's safeguard when assessed: adequacy | scc | bcr | ...
    derogation_point: str | None = Field(default=None, max_length=1)  # Art. 49(1)(a)–(g)
    third_country_laws: str | None = Field(default=None, max_length=5000)
    supplementary_measures: str | None = Field(default=None, max_length=5000)
    tia_conclusion: str | None = Field(default=None, max_length=20)  # adequate | not_adequate | not_required
    assessed_by: str = Field(max_length=200)
    assessed_on: date
    next_review_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    updated_by: str = Field(default="", max_length=200)
