"""Marshmallow schemas of the consent API: input validation and the documented output shapes."""

from __future__ import annotations

import json
import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from privacy_service.consent.rules import CHANNELS, PROCESSING_STATUSES, STATUSES
from privacy_service.consent.tokens import Links
from privacy_service.errors import worded
from privacy_service.kernel import SLUG, JsonBoolean, LocalisedSchema, StrictSchema
from privacy_service.people import service as people

MAX_EVIDENCE_BYTES = 4096
MAX_PAIRS = 1000


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
    notify_subject = JsonBoolean(
        load_default=True,
        metadata={"description": "Mail the receipt or confirmation when the subject is an e-mail address"},
    )

    @validates("evidence")
    def _small_evidence(self, value: dict[str, Any], **_: Any) -> None:
        if len(json.dumps(value, default=str)) > MAX_EVIDENCE_BYTES:
            raise ValidationError(worded("At most %(most)s bytes of evidence.", most=MAX_EVIDENCE_BYTES))


class ConsentStateSchema(Schema):
    subject = fields.String()
    purpose = fields.String()
    status = fields.String(metadata={"description": "given | withdrawn", "enum": list(STATUSES)})
    dpv_status = fields.String(
        metadata={
            "description": "dpv:ConsentGiven | dpv:RenewedConsentGiven | …",
            "example": "dpv:ConsentGiven",
        }
    )
    since = fields.String(
        metadata={
            "description": "When the current status was recorded (ISO 8601, UTC)",
            "format": "date-time",
        }
    )
    notice_version = fields.String(allow_none=True)
    renewal_required = fields.Boolean(
        metadata={"description": "A materially changed notice was published since: ask again."}
    )
    event_id = fields.Integer()


class ConsentChangeOutSchema(ConsentStateSchema):
    withdraw_url = fields.String(
        metadata={
            "description": "The signed one-click withdrawal link, only in the answer to the write that "
            "recorded the consent (for the portal to show its own user); reads never carry it"
        }
    )
    changed = fields.Boolean(metadata={"description": "False when the PUT repeated the current status"})
    receipt = fields.Dict(
        metadata={
            "description": "Kantara Consent Receipt v1.1 + ISO/IEC TS 27560 record (iso27560; its "
            "record_id is the same for every event of one consent): docs/api.md, Consent receipts"
        }
    )


class ReceiptArgsSchema(StrictSchema):
    lang = fields.String(
        load_default=None,
        validate=validate.OneOf(("nb", "en")),
        metadata={
            "description": "The PDF's language; by default as Accept-Language asks, else as the receipt "
            "was issued"
        },
    )


class ReceiptOutSchema(Schema):
    receipt = fields.Dict(metadata={"description": "Kantara Consent Receipt v1.1 + ISO/IEC TS 27560 record"})


_PAIR_KEYS = {"subject", "purpose"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def _check_pairs(pairs: list[Any]) -> None:
    # One pass over up to 1,000 pairs: a nested schema per pair costs more than the database look-up.
    if not 1 <= len(pairs) <= MAX_PAIRS:
        raise ValidationError(
            worded("Send 1 to %(most)s pairs (%(given)s given).", most=MAX_PAIRS, given=len(pairs))
        )
    for i, pair in enumerate(pairs):
        if not (
            isinstance(pair, dict)
            and pair.keys() == _PAIR_KEYS
            and isinstance(pair["subject"], str)
            and 0 < len(pair["subject"]) <= 254
            and isinstance(pair["purpose"], str)
            and _SLUG.match(pair["purpose"])
        ):
            raise ValidationError(
                worded(
                    "Pair %(number)s: give exactly a subject (1–254 characters) and a purpose slug.",
                    number=i + 1,
                )
            )


class QuerySchema(StrictSchema):
    pairs = fields.List(
        fields.Raw(),
        required=True,
        validate=_check_pairs,
        metadata={"description": 'Up to 1,000 objects {"subject": "…", "purpose": "<activity slug>"}'},
    )


class QueryItemSchema(Schema):
    subject = fields.String()
    purpose = fields.String()
    status = fields.String(
        allow_none=True,
        metadata={"description": "given | withdrawn | null (never recorded)", "enum": [*STATUSES, None]},
    )
    since = fields.String(allow_none=True, metadata={"format": "date-time"})
    notice_version = fields.String(allow_none=True)
    renewal_required = fields.Boolean()


class QueryOutSchema(Schema):
    items = fields.List(fields.Nested(QueryItemSchema))


def state_json(state: Any, *, links: Links | None = None, brief: bool = False) -> dict[str, Any]:
    """Render a consent state for the wire, in ConsentStateSchema's order; brief: a QueryItemSchema item.

    The view, consents:query and the fast path all answer with this, so the three cannot drift apart; it
    is a dict literal because the query and the fast path cannot afford a schema dump per state.
    """
    body = {
        "subject": people.shown_subject(state.subject),  # a stored key is named as its client knows it
        "purpose": state.purpose,
        "status": state.status,
        "dpv_status": state.dpv_status,
        "since": state.since.isoformat() if state.since else None,
        "notice_version": state.notice_version,
        "renewal_required": bool(state.renewal_required),
        "event_id": state.last_event_id,
    }
    if brief:
        del body["dpv_status"], body["event_id"]
    elif links is not None:
        body["withdraw_url"] = links.withdraw_url(state.id, state.purpose)
    return body


def etag(state: Any) -> str:
    """The ETag of a consent state: a new event changes it, and so does a notice asking for renewal."""
    return f'"e{state.last_event_id}{"r" if state.renewal_required else ""}"'


class EventSchema(Schema):
    event_id = fields.Integer()
    receipt_id = fields.String(allow_none=True, metadata={"description": "null for another client's event"})
    status = fields.String(metadata={"enum": list(STATUSES)})
    dpv_status = fields.String(metadata={"example": "dpv:ConsentGiven"})
    at = fields.String(metadata={"format": "date-time"})
    notice_version = fields.String(allow_none=True)
    notice_sha256 = fields.String(allow_none=True)
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    actor = fields.String(
        metadata={"description": "who recorded it; for another client's or an officer's event only the kind"}
    )


class HistorySchema(Schema):
    subject = fields.String()
    purpose = fields.String()
    events = fields.List(fields.Nested(EventSchema))


class ProcessingArgsSchema(StrictSchema):
    activity = fields.String(required=True, validate=SLUG)


class ProcessingSchema(Schema):
    subject = fields.String()
    activity = fields.String()
    status = fields.String(
        validate=validate.OneOf(PROCESSING_STATUSES),
        metadata={
            "description": "Only `allowed` means the data may be processed; every other status means no."
        },
    )
    renewal_required = fields.Boolean(
        metadata={"description": "True when the status is renewal_required: the subject must consent again."}
    )


class NoticeInSchema(StrictSchema):
    purpose = fields.String(required=True, validate=SLUG)
    version = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9._-]{1,40}$"))
    text = fields.Nested(LocalisedSchema, required=True)
    renewal_required = JsonBoolean(load_default=False)


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
