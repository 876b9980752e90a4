"""The wire of OpenDSR 2.0 (dsar/opendsr.py): the processor's receipt, its status callbacks, our answer."""

from __future__ import annotations

from datetime import UTC

from marshmallow import EXCLUDE, Schema, fields, validate

REPORTED = ("pending", "in_progress", "completed", "cancelled")  # § 8: what a processor may report


class ReceiptSchema(Schema):
    """The processor's answer to a request (§ 7.3); what we keep of it."""

    class Meta:
        unknown = EXCLUDE

    controller_id = fields.String(required=True, validate=validate.Length(max=200))
    subject_request_id = fields.String(required=True)
    encoded_request = fields.String(required=True)  # compared with what was sent, then dropped (§ 7.3)
    received_time = fields.AwareDateTime(required=True, default_timezone=UTC)
    expected_completion_time = fields.AwareDateTime(required=True, default_timezone=UTC)


class CallbackSchema(Schema):
    """A status callback (§ 8.6). Fields a processor adds beyond the specification are left out."""

    class Meta:
        unknown = EXCLUDE

    controller_id = fields.String(required=True, validate=validate.Length(max=200))
    status_callback_url = fields.String(required=True)
    subject_request_id = fields.UUID(required=True)
    request_status = fields.String(required=True, validate=validate.OneOf(REPORTED))
    expected_completion_time = fields.AwareDateTime(required=True, default_timezone=UTC)
    api_version = fields.String(load_default=None, allow_none=True)
    results_url = fields.URL(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    results_count = fields.Integer(load_default=None, allow_none=True, strict=True)


receipt_schema = ReceiptSchema()
callback_schema = CallbackSchema()


class CallbackAnswerSchema(Schema):
    """What we answer a callback we recorded (202)."""

    subject_request_id = fields.String(metadata={"example": "a7551968-d5d6-44b2-9831-815ac9017798"})
    request_status = fields.String(metadata={"description": "The status recorded", "example": "completed"})


callback_answer_schema = CallbackAnswerSchema()
