"""Marshmallow schemas of the consent API: input validation and the documented output shapes."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from privacy_service.consent.rules import CHANNELS, PROCESSING_STATUSES, STATUSES
from privacy_service.ropa.schemas import SLUG, LocalisedSchema, StrictSchema

MAX_EVIDENCE_BYTES = 4096


class ConsentChangeSchema(StrictSchema):
    """PUT /consents/{subject}/{purpose}."""

    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    notice_version = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "The notice version the subject was shown; default the latest published."},
    )
    channel = fields.String(load_default="api", validate=validate.OneOf(CHANNELS))
    evidence = fields.Dict(
        load_default=dict,
        metadata={"description": "How consent was collected (form id, session reference…), at most 4 KB."},
    )
    language = fields.String(load_default="nb", validate=validate.OneOf(("nb", "en")))

    @validates("evidence")
    def _small_evidence(self, value: dict[str, Any], **_: Any) -> None:
        if len(json.dumps(value, default=str)) > MAX_EVIDENCE_BYTES:
            raise ValidationError(f"At most {MAX_EVIDENCE_BYTES} bytes of evidence.")


class ConsentStateSchema(Schema):
    subject = fields.String()
    purpose = fields.String()
    status = fields.String(metadata={"description": "given | withdrawn"})
    dpv_status = fields.String(metadata={"description": "dpv:ConsentGiven | dpv:RenewedConsentGiven | …"})
    since = fields.String(metadata={"description": "When the current status was recorded (ISO 8601, UTC)"})
    notice_version = fields.String(allow_none=True)
    renewal_required = fields.Boolean(
        metadata={"description": "A materially changed notice was published since: ask again."}
    )
    event_id = fields.Integer()
    withdraw_url = fields.String(metadata={"description": "The signed one-click withdrawal link for mails"})


class ConsentChangeOutSchema(ConsentStateSchema):
    changed = fields.Boolean(metadata={"description": "False when the PUT repeated the current status"})
    receipt = fields.Dict(metadata={"description": "Kantara Consent Receipt v1.1 + ISO/IEC TS 27560 record"})


class ReceiptOutSchema(Schema):
    receipt = fields.Dict(metadata={"description": "Kantara Consent Receipt v1.1 + ISO/IEC TS 27560 record"})


class PairSchema(StrictSchema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=254))
    purpose = fields.String(required=True, validate=SLUG)


class QuerySchema(StrictSchema):
    pairs = fields.List(fields.Nested(PairSchema), required=True, validate=validate.Length(min=1, max=1000))


class QueryItemSchema(Schema):
    subject = fields.String()
    purpose = fields.String()
    status = fields.String(
        allow_none=True, metadata={"description": "given | withdrawn | null (never recorded)"}
    )
    since = fields.String(allow_none=True)
    notice_version = fields.String(allow_none=True)
    renewal_required = fields.Boolean()


class QueryOutSchema(Schema):
    items = fields.List(fields.Nested(QueryItemSchema))


class EventSchema(Schema):
    event_id = fields.Integer()
    receipt_id = fields.String()
    status = fields.String()
    dpv_status = fields.String()
    at = fields.String()
    notice_version = fields.String(allow_none=True)
    notice_sha256 = fields.String(allow_none=True)
    channel = fields.String()
    actor = fields.String()


class HistorySchema(Schema):
    subject = fields.String()
    purpose = fields.String()
    events = fields.List(fields.Nested(EventSchema))


class ProcessingArgsSchema(StrictSchema):
    activity = fields.String(required=True, validate=SLUG)


class ProcessingSchema(Schema):
    subject = fields.String()
    activity = fields.String()
    status = fields.String(metadata={"description": " | ".join(PROCESSING_STATUSES)})
    renewal_required = fields.Boolean()


class NoticeInSchema(StrictSchema):
    purpose = fields.String(required=True, validate=SLUG)
    version = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,40}$"))
    text = fields.Nested(LocalisedSchema, required=True)
    renewal_required = fields.Boolean(load_default=False)


class NoticesFileSchema(StrictSchema):
    notices = fields.List(fields.Raw(), required=True)  # validated one by one, so errors name the notice


notice_in_schema = NoticeInSchema()
notices_file_schema = NoticesFileSchema()


class NoticeSchema(Schema):
    purpose = fields.String()
    version = fields.String()
    text = fields.Dict()
    text_sha256 = fields.String()
    renewal_required = fields.Boolean()
    published_at = fields.DateTime()
    published_by = fields.String()


class NoticeArgsSchema(StrictSchema):
    purpose = fields.String(load_default=None, validate=SLUG)
