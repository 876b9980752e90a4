"""Marshmallow schemas of the requests API: input validation and the documented output shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from privacy_service.dsar.decisions import DECISIONS, GROUNDS, MANUAL_RESULTS
from privacy_service.dsar.models import (
    APPEAL_OUTCOMES,
    APPEAL_STATUSES,
    CHANNELS,
    IDENTIFIER_KINDS,
    REJECTION_GROUNDS,
    STATUSES,
    TYPES,
)
from privacy_service.dsar.recipients import NOT_TOLD_REASONS
from privacy_service.dsar.restriction import NOTICE_CHANNELS
from privacy_service.dsar.withholding import GROUNDS as WITHHOLDING_GROUNDS
from privacy_service.dsar.withholding import MAX_ROWS as WITHHOLDING_MAX_ROWS
from privacy_service.errors import N_, worded
from privacy_service.kernel import SLUG, StrictSchema, valid_national_id

OFFICER_CHANNELS = ("letter", "phone", "email", "in_person")


class SubjectInSchema(StrictSchema):
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    name = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    national_id = fields.String(
        load_default=None,
        metadata={"description": "Norwegian national identity number; only ever in request bodies"},
    )

    @validates("national_id")
    def _nid(self, value: str | None, **_: Any) -> None:
        if value is not None and not valid_national_id(value):
            raise ValidationError(N_("Not a valid Norwegian national identity number (11 digits, mod-11)."))

    @validates_schema
    def _someone(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("email") and not data.get("national_id"):
            raise ValidationError(N_("Give an e-mail address or a national identity number."), "email")


class DetailsInSchema(StrictSchema):
    field = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "Rectification: the data item to correct (a column of the data map)"},
    )
    value = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "Rectification: the correct value"},
    )
    text = fields.String(
        load_default=None,
        validate=validate.Length(max=5000),
        metadata={"description": "The subject's own words (grounds for an objection, what to look for…)"},
    )


class RequestInSchema(StrictSchema):
    """POST /requests."""

    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    subject = fields.Nested(SubjectInSchema, required=True)
    activities = fields.List(
        fields.String(validate=SLUG),
        load_default=list,
        validate=validate.Length(max=100),
        metadata={"description": "The activities the request is about (slugs); empty or absent: all"},
    )
    details = fields.Nested(DetailsInSchema, load_default=dict)
    channel = fields.String(load_default="api", validate=validate.OneOf(CHANNELS))
    received_at = fields.AwareDateTime(
        load_default=None,
        default_timezone=UTC,
        metadata={"description": "Letters and calls: when it reached us (defaults to now)"},
    )
    language = fields.String(load_default="nb", validate=validate.OneOf(("nb", "en")))
    verified_by = fields.String(
        load_default=None,
        validate=validate.OneOf(("ID-porten", "HelseID")),
        metadata={"description": "With scope requests:write:verified: the subject logged in through this"},
    )

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        details = data.get("details") or {}
        if data.get("type") == "rectification" and not (details.get("field") and details.get("value")):
            raise ValidationError(N_("A rectification names the field and the correct value."), "details")
        received = data.get("received_at")
        if received is not None:
            now = datetime.now(UTC)
            if received > now + timedelta(minutes=5):
                raise ValidationError(N_("Cannot be in the future."), "received_at")
            if received < now - timedelta(days=366):
                raise ValidationError(N_("More than a year ago: check the date."), "received_at")
            if data.get("channel") not in OFFICER_CHANNELS:
                raise ValidationError(
                    worded(
                        "Only for requests that came by %(channels)s.",
                        channels=", ".join(OFFICER_CHANNELS),
                    ),
                    "received_at",
                )


class RequestListArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    type = fields.String(load_default=None, validate=validate.OneOf(TYPES))
    overdue = fields.Boolean(load_default=None)
    due_within_days = fields.Integer(load_default=None, validate=validate.Range(min=0, max=366))


class PackageArgsSchema(Schema):
    part = fields.String(load_default="all", validate=validate.OneOf(("all", "letter")))


class VerifyInSchema(StrictSchema):
    method = fields.String(
        load_default="officer",
        validate=validate.OneOf(("officer", "email")),
        metadata={
            "description": "officer: verified by hand (note required); email: send the subject a check"
        },
    )
    note = fields.String(
        load_default="",
        validate=validate.Length(max=2000),
        metadata={"description": "officer: the document seen, e.g. 'Passport shown at the front desk'"},
    )
    identifiers = fields.List(
        fields.String(validate=validate.OneOf(IDENTIFIER_KINDS)),
        load_default=list,
        validate=validate.Length(max=2),
        metadata={"description": "officer: which of the request's identifiers the document proved"},
    )


class ExtendInSchema(StrictSchema):
    months = fields.Integer(required=True, validate=validate.Range(min=1, max=2))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RejectInSchema(StrictSchema):
    ground = fields.String(required=True, validate=validate.OneOf(REJECTION_GROUNDS))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class WithdrawInSchema(StrictSchema):
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class CompleteInSchema(WithdrawInSchema):
    draft = fields.String(
        load_default=None,
        validate=validate.Regexp(
            r"^[0-9a-f]{64}$", error=N_("Give the SHA-256 of the draft letter, in hex.")
        ),
        metadata={"description": "The SHA-256 of the draft letter the officer read (the request's draft)"},
    )


class DraftArgsSchema(Schema):
    format = fields.String(load_default="pdf", validate=validate.OneOf(("pdf", "html", "zip")))


class DecisionInSchema(StrictSchema):
    activity = fields.String(required=True, validate=SLUG)
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    ground = fields.String(
        load_default=None,
        validate=validate.OneOf(tuple(GROUNDS)),
        metadata={"description": "refuse: the ground, one of " + ", ".join(GROUNDS)},
    )
    reasons = fields.String(
        load_default=None,
        validate=validate.Length(max=2000),
        metadata={"description": "refuse: the written reasons the subject is told (required)"},
    )


class DecisionsInSchema(StrictSchema):
    """POST /requests/{ref}/decisions."""

    decisions = fields.List(
        fields.Nested(DecisionInSchema), required=True, validate=validate.Length(min=1, max=500)
    )


class ManualResultInSchema(StrictSchema):
    activity = fields.String(required=True, validate=SLUG)
    result = fields.String(required=True, validate=validate.OneOf(tuple(MANUAL_RESULTS)))
    records = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=1_000_000),
        metadata={"description": "found_handled: how many records were found and handled"},
    )
    controller = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "sent_to_controller: the controller the request was sent to"},
    )


class ManualResultsInSchema(StrictSchema):
    """POST /requests/{ref}/manual-results."""

    results = fields.List(
        fields.Nested(ManualResultInSchema), required=True, validate=validate.Length(min=1, max=500)
    )


def _row_key(value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise ValidationError(N_("A row's key value: a text or a whole number."))
    if len(str(value)) > 200:
        raise ValidationError(N_("Longer than 200 characters."))


class WithholdingInSchema(StrictSchema):
    """POST /requests/{ref}/withholdings."""

    activity = fields.String(required=True, validate=SLUG)
    system = fields.String(required=True, validate=validate.Length(min=1, max=100))
    table = fields.String(required=True, validate=validate.Length(min=1, max=100))
    column = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "A data column of the table to withhold; absent: the whole table, or rows"},
    )
    rows = fields.List(
        fields.Raw(validate=_row_key),
        load_default=None,
        validate=validate.Length(min=1, max=WITHHOLDING_MAX_ROWS),
        metadata={"description": "The key values of the rows to withhold; absent: the whole table or column"},
    )
    ground = fields.String(
        required=True,
        validate=validate.OneOf(WITHHOLDING_GROUNDS),
        metadata={"description": "One of " + ", ".join(WITHHOLDING_GROUNDS)},
    )
    reasons = fields.String(
        required=True,
        validate=validate.Length(max=2000),
        metadata={"description": "The written reasons the subject is told (required)"},
    )


class WithholdingSchema(Schema):
    id = fields.Integer()
    activity = fields.String()
    system = fields.String()
    table = fields.String()
    kind = fields.String(metadata={"description": "table | column | rows"})
    column = fields.String(allow_none=True)
    rows = fields.List(fields.String(), allow_none=True, metadata={"description": "The key values withheld"})
    ground = fields.String()
    ground_text = fields.String(metadata={"description": "The ground in words, in the request's language"})
    reasons = fields.String()
    created_by = fields.String()
    created_at = fields.DateTime()


class LiftNoticeInSchema(StrictSchema):
    """POST /requests/{ref}/lift-restriction/notice."""

    activities = fields.List(
        fields.String(validate=SLUG),
        load_default=None,
        metadata={
            "description": "The activities whose restriction will be lifted; default: all still restricted"
        },
    )
    channel = fields.String(
        load_default="email",
        validate=validate.OneOf(NOTICE_CHANNELS),
        metadata={"description": "email: the standard notice to the proved address; letter: sent by post"},
    )


class LiftInSchema(StrictSchema):
    """POST /requests/{ref}/lift-restriction."""

    activities = fields.List(
        fields.String(validate=SLUG),
        load_default=None,
        metadata={"description": "The activities to lift; default: all still restricted"},
    )
    reasons = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "Why the restriction is lifted (for the record)"},
    )


class NotToldInSchema(StrictSchema):
    activity = fields.String(required=True, validate=SLUG)
    recipient = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "The recipient's key as the outcome lists it (details.recipients[].key)"},
    )
    reason = fields.String(
        required=True,
        validate=validate.OneOf(NOT_TOLD_REASONS),
        metadata={"description": "Art. 19: " + " | ".join(NOT_TOLD_REASONS)},
    )
    reasons = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RecipientsInSchema(StrictSchema):
    """POST /requests/{ref}/recipients."""

    recipients = fields.List(
        fields.Nested(NotToldInSchema), required=True, validate=validate.Length(min=1, max=500)
    )


class BlockedHoldSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    active = fields.Boolean()
    released_at = fields.AwareDateTime(allow_none=True)
    public_text = fields.Dict(metadata={"description": "What the subject reads about the hold, nb and en"})


class BlockedErasureSchema(Schema):
    reference = fields.String()
    activity = fields.String()
    held = fields.Integer(metadata={"description": "Rows a hold still keeps"})
    erased = fields.Integer(metadata={"description": "Rows erased so far"})
    state = fields.String(
        metadata={"description": "waiting (a hold is active) | queued (released, retry pending) | retried"}
    )
    retried_at = fields.String(allow_none=True)
    holds = fields.List(fields.Nested(BlockedHoldSchema))


class TimelineEventSchema(Schema):
    at = fields.DateTime()
    kind = fields.String()
    actor = fields.String()
    note = fields.String(allow_none=True)
    details = fields.Dict()


class IdentifierSchema(Schema):
    kind = fields.String(metadata={"description": "email | national_id (its value never leaves the service)"})
    verified_by = fields.String(
        allow_none=True,
        metadata={
            "description": "email_code | idporten | helseid | portal_verified | officer; null: unverified"
        },
    )
    verified_at = fields.AwareDateTime(allow_none=True)


class ProcessorRequestSchema(Schema):
    """An OpenDSR request sent to a processor (docs/opendsr.md), and the status it last reported."""

    organisation = fields.String(metadata={"description": "The processor's slug in the registry"})
    name = fields.Dict(metadata={"description": "The processor's name, {nb, en}"})
    subject_request_id = fields.String(metadata={"description": "The OpenDSR request's id (UUID v4)"})
    type = fields.String(metadata={"description": "erasure | access | portability"})
    activities = fields.List(fields.String())
    status = fields.String(
        metadata={
            "description": "queued (not received yet) | pending | in_progress | completed | cancelled | "
            "failed (the outbox gave up: the processor never confirmed it)"
        }
    )
    attempts = fields.Integer(allow_none=True, metadata={"description": "Tries so far, while not received"})
    updated_at = fields.AwareDateTime()
    expected_completion_at = fields.AwareDateTime(allow_none=True)
    results_count = fields.Integer(allow_none=True)


class RequestSchema(Schema):
    reference = fields.String(metadata={"example": "DSR-2026-000123"})
    type = fields.String(metadata={"enum": list(TYPES)})
    status = fields.String(metadata={"enum": list(STATUSES)})
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    language = fields.String()
    subject = fields.Dict(metadata={"description": "e-mail and name; the identity number is never shown"})
    activities = fields.List(fields.String())
    details = fields.Dict()
    received_at = fields.DateTime()
    identity_status = fields.String(metadata={"description": "unverified | pending | verified"})
    identity_method = fields.String(
        allow_none=True,
        metadata={"description": "email_code | idporten | helseid | portal_verified | officer"},
    )
    identifiers = fields.List(
        fields.Nested(IdentifierSchema),
        metadata={"description": "The identifiers the request names; only verified ones search the data"},
    )
    due_at = fields.Date(metadata={"description": "The last day to answer (Europe/Oslo)"})
    overdue = fields.Boolean()
    extension = fields.Dict(allow_none=True)
    rejection = fields.Dict(allow_none=True)
    outcomes = fields.List(
        fields.Dict(),
        metadata={
            "description": "Per activity, from the plan on: activity, outcome (pending | done | partial | "
            "refused | not_applicable | no_data | not_checked | forwarded), legal_ground, reason, records, "
            "held, tables, holds; told (organisation keys told, Art. 19), recipients (per recipient: key, "
            "organisation, name, kind, state told | not_told | pending, told_at or reason and reasons), "
            "restriction (notice_at, notice_channel, lifted_at, reasons), retries; decision (uphold | "
            "refuse | null: undecided), ground, reasons, decided_by, decided_at, suggestion; manual "
            "(outside the data map: result, records, controller, recorded_by, recorded_at)"
        },
    )
    draft = fields.Dict(
        allow_none=True,
        metadata={"description": "The draft answer waiting to be sent: sha256, created_at, bytes (or null)"},
    )
    withholdings = fields.List(
        fields.Nested(WithholdingSchema),
        metadata={"description": "Data kept out of an access or portability answer, with ground and reasons"},
    )
    timeline = fields.List(fields.Nested(TimelineEventSchema))
    appeals = fields.List(
        fields.Nested("AppealSchema"), metadata={"description": "Appeals against refusals on registries"}
    )
    processors = fields.List(
        fields.Nested(ProcessorRequestSchema),
        metadata={"description": "The OpenDSR requests sent to processors, with the status each reported"},
    )


class CreatedSchema(RequestSchema):
    status_url = fields.String(metadata={"description": "The subject's status page; shown this once"})


# --- appeals (dsar/appeals.py) ------------------------------------------------------------------------------


class AppealInSchema(StrictSchema):
    """POST /requests/{ref}/appeals."""

    received_on = fields.Date(required=True, metadata={"description": "The day the appeal reached us"})
    activities = fields.List(
        fields.String(validate=SLUG),
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "The refusals appealed against; left out: every refusal on a registry"},
    )
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class AppealStepInSchema(StrictSchema):
    """POST /requests/{ref}/appeals/{id}/steps."""

    step = fields.String(required=True, validate=validate.OneOf(APPEAL_STATUSES[1:]))
    on = fields.Date(data_key="date", load_default=None, metadata={"description": "Default: today"})
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
    outcome = fields.String(
        load_default=None,
        validate=validate.OneOf(APPEAL_OUTCOMES),
        metadata={"description": "decided: upheld | reversed | partly (required)"},
    )
    decision_expected_on = fields.Date(
        load_default=None, metadata={"description": "sent_to_appeal_body: when the appeal body should decide"}
    )

    @validates_schema
    def _outcome_with_decision(self, data: dict[str, Any], **_: Any) -> None:
        if data["step"] == "decided" and not data.get("outcome"):
            raise ValidationError(N_("A decided appeal needs its outcome."), "outcome")
        if data["step"] != "decided" and data.get("outcome"):
            raise ValidationError(N_("Only a decided appeal has an outcome."), "outcome")
        if data["step"] != "sent_to_appeal_body" and data.get("decision_expected_on"):
            raise ValidationError(
                N_("Only an appeal sent on has an expected decision."), "decision_expected_on"
            )


class AppealListArgsSchema(Schema):
    overdue = fields.Boolean(load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(APPEAL_STATUSES))


class AppealStepSchema(Schema):
    step = fields.String()
    on = fields.String()
    at = fields.String()
    by = fields.String()
    note = fields.String(allow_none=True)


class AppealSchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    activities = fields.List(fields.String())
    status = fields.String(metadata={"description": "received | prepared | sent_to_appeal_body | decided"})
    received_on = fields.Date()
    appeal_deadline = fields.Date(metadata={"description": "Three weeks after the letter (fvl. § 29)"})
    late = fields.Boolean(metadata={"description": "Received after appeal_deadline (fvl. § 31)"})
    prepare_by = fields.Date(metadata={"description": "By when we reverse or send the case on"})
    sent_on = fields.Date(allow_none=True)
    decision_expected_on = fields.Date(allow_none=True)
    decided_on = fields.Date(allow_none=True)
    outcome = fields.String(allow_none=True, metadata={"description": "upheld | reversed | partly"})
    due_on = fields.Date(allow_none=True, metadata={"description": "The current deadline"})
    overdue = fields.Boolean()
    steps = fields.List(fields.Nested(AppealStepSchema))
