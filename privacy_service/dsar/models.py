"""Data-subject requests: the request, its timeline, identity challenges and the reference counter."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from privacy_service.columns import json_column, tz_column
from privacy_service.kernel import RIGHTS, utcnow

TYPES = RIGHTS  # a request asks for one of the rights
STATUSES = (
    "received",
    "awaiting_identity",
    "in_progress",
    "awaiting_decision",
    "completed",
    "rejected",
    "withdrawn",
)
OPEN_STATUSES = ("received", "awaiting_identity", "in_progress", "awaiting_decision")
CHANNELS = ("web", "api", "portal", "letter", "phone", "email", "in_person")
REJECTION_GROUNDS = ("manifestly_unfounded", "excessive", "identity_not_established")
IDENTIFIER_KINDS = ("email", "national_id")  # what a request may name its subject by
# How an identifier was proved (DESIGN.md §7): a one-time e-mail link or code, an ID-porten or HelseID login
# (the pid claim), a portal with the scope requests:write:verified, or an officer who names the document seen.
VERIFICATION_METHODS = ("email_code", "idporten", "helseid", "portal_verified", "officer")


class DsarRequest(SQLModel, table=True):
    """One data-subject request. The subject's identity is kept here only, not in audit or logs."""

    __tablename__ = "dsar_request"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=20, unique=True)  # DSR-YYYY-NNNNNN
    type: str = Field(max_length=20, index=True)
    status: str = Field(default="received", max_length=20, index=True)
    channel: str = Field(max_length=20)
    language: str = Field(default="nb", max_length=2)
    subject_email: str | None = Field(default=None, max_length=254)
    subject_name: str | None = Field(default=None, max_length=200)
    subject_national_id: str | None = Field(default=None, max_length=11)
    subject_key: str = Field(max_length=64, index=True)  # keyed hash of the e-mail or id: finds repeats
    activities: list[str] = Field(default_factory=list, sa_column=json_column())  # empty: every activity
    details: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    received_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    identity_status: str = Field(default="unverified", max_length=20)  # unverified | pending | verified
    identity_method: str | None = Field(default=None, max_length=20)  # one of VERIFICATION_METHODS
    # Each identifier with how and when it was proved; only proved identifiers ever search the data map.
    email_verified_by: str | None = Field(default=None, max_length=20)
    email_verified_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    national_id_verified_by: str | None = Field(default=None, max_length=20)
    national_id_verified_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    # Whoever holds the status link has proved to be the verified person (typed the code from the mailbox,
    # or came through a verified login): only then does the status page show the answer.
    submitter_verified: bool = False
    identity_asked_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    identity_arrived_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    due_on: date = Field(sa_column=Column(Date, nullable=False, index=True))
    extension_months: int = 0
    extension_reason: str | None = Field(default=None, max_length=2000)
    rejection_ground: str | None = Field(default=None, max_length=30)
    rejection_reason: str | None = Field(default=None, max_length=2000)
    status_token_hash: str = Field(max_length=64, unique=True)
    created_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    closed_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    decided_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))  # plan approved
    decided_by: str | None = Field(default=None, max_length=200)


class DsarEvent(SQLModel, table=True):
    """One step on a request's timeline (who, when, what; notes never repeat the subject's identity)."""

    __tablename__ = "dsar_event"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="dsar_request.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    kind: str = Field(max_length=30)
    actor: str = Field(max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    visible_to_subject: bool = True


class DsarChallenge(SQLModel, table=True):
    """A one-time identity check sent by e-mail: a link and a six-digit code, both single use, expiring."""

    __tablename__ = "dsar_challenge"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="dsar_request.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    expires_at: datetime = Field(sa_column=tz_column())
    attempts: int = 0  # counted by one UPDATE in the database, never read-modify-write
    address_key: str | None = Field(default=None, max_length=64, index=True)  # keyed hash of the address
    used_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))


class DsarCodeFailures(SQLModel, table=True):
    """Wrong codes per verified address and day (Europe/Oslo), across all its requests and checks: past the
    daily bound only an officer can verify the address. The address is a keyed hash, never in clear."""

    __tablename__ = "dsar_code_failures"

    address_key: str = Field(primary_key=True, max_length=64)
    day: date = Field(sa_column=Column(Date, primary_key=True))
    failures: int = 0


class DsarSequence(SQLModel, table=True):
    """The last reference number given out per year (DSR-YYYY-NNNNNN); the row lock serialises writers."""

    __tablename__ = "dsar_sequence"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = 0


class DsarOutcome(SQLModel, table=True):
    """The plan, then the result, for one activity of a request: does the right apply, why, what was found."""

    __tablename__ = "dsar_outcome"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="dsar_request.id", index=True)
    activity: str = Field(max_length=64)
    outcome: str = Field(max_length=20)  # one of rules.OUTCOMES
    applies: bool
    legal_ground: str = Field(max_length=300)
    reason: str = Field(max_length=1000)
    records: int | None = None  # rows found (None: the activity is not in the data map: checked by hand)
    held: int = 0
    details: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    # The decision on this activity (dsar/decisions.py): None while the officer has yet to decide.
    decision: str | None = Field(default=None, max_length=10)  # uphold | refuse
    decision_ground: str | None = Field(default=None, max_length=30)  # a key of decisions.GROUNDS
    decision_reasons: str | None = Field(default=None, max_length=2000)
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    # What a search by hand found, for an activity outside the data map (None: not yet checked).
    manual_result: str | None = Field(default=None, max_length=20)  # a key of decisions.MANUAL_RESULTS
    manual_records: int | None = None  # found_handled: how many records
    manual_controller: str | None = Field(default=None, max_length=200)  # sent_to_controller: to whom
    manual_by: str | None = Field(default=None, max_length=200)
    manual_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))


class DsarDocument(SQLModel, table=True):
    """A stored answer (the PDF letter or the ZIP export), kept for the subject to download for a while."""

    __tablename__ = "dsar_document"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="dsar_request.id", index=True)
    kind: str = Field(max_length=10)  # letter | export
    filename: str = Field(max_length=100)
    media_type: str = Field(max_length=50)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())


class DsarWithholding(SQLModel, table=True):
    """Data the officer keeps out of an access or portability answer (dsar/withholding.py): a whole table, one
    column, or the rows with the listed key values, with a ground (Art. 15(4) or Personal Data Act § 16) and
    the reasons the subject is told."""

    __tablename__ = "dsar_withholding"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="dsar_request.id", index=True)
    activity: str = Field(max_length=64)
    system: str = Field(max_length=100)
    table: str = Field(max_length=100)
    column: str | None = Field(default=None, max_length=100)  # None: the whole table, or the rows listed
    row_keys: list[str] | None = Field(default=None, sa_column=json_column(nullable=True))
    ground: str = Field(max_length=30)  # a key of withholding.GROUNDS
    reasons: str = Field(max_length=2000)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())


APPEAL_STATUSES = ("received", "prepared", "sent_to_appeal_body", "decided")
APPEAL_OUTCOMES = ("upheld", "reversed", "partly")  # upheld: the refusal stands


class DsarAppeal(SQLModel, table=True):
    """An appeal against a refusal on a statutory health registry (an individual decision, Public
    Administration Act §§ 28–34): received, prepared, sent to the appeal body, decided. Each step is kept with
    who and when in `steps`; notes are the officers' and never reach the subject."""

    __tablename__ = "dsar_appeal"

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="dsar_request.id", index=True)
    activities: list[str] = Field(default_factory=list, sa_column=json_column())  # the refusals appealed
    status: str = Field(default="received", max_length=20, index=True)  # one of APPEAL_STATUSES
    received_on: date = Field(sa_column=Column(Date, nullable=False))
    appeal_deadline: date = Field(sa_column=Column(Date, nullable=False))  # three weeks (§ 29)
    late: bool = False  # received after appeal_deadline: the officer may still consider it (§ 31)
    prepare_by: date = Field(sa_column=Column(Date, nullable=False, index=True))  # reverse or send on by then
    sent_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    decision_expected_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True, index=True))
    decided_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    outcome: str | None = Field(default=None, max_length=10)  # one of APPEAL_OUTCOMES
    steps: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())


# OpenDSR 2.0 § 8, and `queued` before the processor has acknowledged the request (201)
OPENDSR_STATUSES = ("queued", "pending", "in_progress", "completed", "cancelled")


class DsarProcessorRequest(SQLModel, table=True):
    """An OpenDSR request sent to one processor about a request (dsar/opendsr.py), and the status it last
    reported by a signed callback. Holds no identity: the body is built from the request when it is sent."""

    __tablename__ = "dsar_processor_request"
    __table_args__ = (UniqueConstraint("request_id", "organisation"),)

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="dsar_request.id", index=True)
    organisation: str = Field(max_length=64)  # the processor's slug in the registry
    subject_request_id: str = Field(max_length=36, unique=True)  # UUID v4, lower case (OpenDSR 2.0 § 1.1)
    request_type: str = Field(max_length=20)  # erasure | access | portability
    activities: list[str] = Field(default_factory=list, sa_column=json_column())
    status: str = Field(default="queued", max_length=20)  # one of OPENDSR_STATUSES
    controller_id: str | None = Field(default=None, max_length=200)  # who we are in the processor's system
    received_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))  # by the processor
    expected_completion_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    results_url: str | None = Field(default=None, max_length=1000)
    results_count: int | None = None
    # each status with when it was reported: [{"status", "at"}]
    history: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
