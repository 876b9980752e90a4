"""Consent events (immutable), the current state per subject and purpose, notices, processing flags."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from privacy_service.columns import json_column, tz_column
from privacy_service.kernel import utcnow

# A subject key: an e-mail address (254), or a client's name (100), "/" and its user id (254).
SUBJECT_KEY_LENGTH = 360


class ConsentNotice(SQLModel, table=True):
    """One version of the text a subject is shown when asked for consent to a purpose."""

    __tablename__ = "consent_notice"
    __table_args__ = (UniqueConstraint("purpose", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=64, index=True)  # the slug of a consent-based activity
    version: str = Field(max_length=40)
    text: dict[str, str] = Field(default_factory=dict, sa_column=json_column())  # {"nb": ..., "en": ...}
    text_sha256: str = Field(max_length=64)
    renewal_required: bool = False  # a material change: earlier consents must be renewed
    published_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    published_by: str = Field(max_length=200)


class ConsentEvent(SQLModel, table=True):
    """One change of consent; never updated or deleted. Its receipt is kept as issued."""

    __tablename__ = "consent_event"
    __table_args__ = (Index("ix_consent_event_subject_purpose", "subject", "purpose", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    receipt_id: str = Field(max_length=36, unique=True)
    subject: str = Field(max_length=SUBJECT_KEY_LENGTH)  # people.subject_key
    purpose: str = Field(max_length=64)
    status: str = Field(max_length=10)  # given | withdrawn
    dpv_status: str = Field(max_length=40)
    notice_version: str | None = Field(default=None, max_length=40)
    notice_sha256: str | None = Field(default=None, max_length=64)
    channel: str = Field(max_length=20)
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    actor: str = Field(max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    receipt: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    # the same receipt in the other language(s), by language, for the reader's PDF; None before issue 20
    translations: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))


class ConsentState(SQLModel, table=True):
    """The current consent of a subject for a purpose: always equal to the latest event."""

    __tablename__ = "consent_state"
    __table_args__ = (UniqueConstraint("subject", "purpose", name="uq_consent_state_subject_purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=SUBJECT_KEY_LENGTH)  # people.subject_key
    purpose: str = Field(max_length=64, index=True)
    status: str | None = Field(default=None, max_length=10)  # None only inside the writing transaction
    dpv_status: str | None = Field(default=None, max_length=40)
    since: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    notice_version: str | None = Field(default=None, max_length=40)
    renewal_required: bool = False
    last_event_id: int | None = Field(default=None)


class StateRow(NamedTuple):
    """A consent state read by its columns, for the status reads (a field of a named tuple reads in a tenth of
    the time a field of a SQLAlchemy Row takes). A pair never recorded has only its subject and purpose."""

    subject: str
    purpose: str
    id: int | None = None
    status: str | None = None
    dpv_status: str | None = None
    since: datetime | None = None
    notice_version: str | None = None
    renewal_required: bool = False
    last_event_id: int | None = None


class ProcessingFlag(SQLModel, table=True):
    """A restriction (Art. 18) or an upheld objection (Art. 21) of one subject's data in one activity."""

    __tablename__ = "processing_flag"
    __table_args__ = (Index("ix_processing_flag_subject_activity", "subject", "activity"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=SUBJECT_KEY_LENGTH)  # people.subject_key
    activity: str = Field(max_length=64)
    kind: str = Field(max_length=12)  # restricted | objected
    reference: str | None = Field(default=None, max_length=40)  # the request that set it
    set_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    set_by: str = Field(max_length=200)
    lifted_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    lifted_by: str | None = Field(default=None, max_length=200)
