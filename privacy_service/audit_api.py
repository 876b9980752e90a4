"""GET /api/v1/audit and /api/v1/audit/verify."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select

from privacy_service.audit import AuditEvent, count_events
from privacy_service.audit_anchor import anchor_settings, verify_anchored
from privacy_service.db import get_session
from privacy_service.security.access import require

blp = Blueprint("audit", __name__, description="The append-only, hash-chained audit trail")


class AuditArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    after_seq = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    action = fields.String(load_default=None)
    object_type = fields.String(load_default=None)
    object_id = fields.String(load_default=None)


class AuditEventSchema(Schema):
    seq = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String()
    details = fields.Dict()
    prev_hash = fields.String()
    hash = fields.String()


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEventSchema))
    total = fields.Integer()
    next_after_seq = fields.Integer(allow_none=True)


class AnchorSchema(Schema):
    keyed = fields.Boolean(
        metadata={"description": "Signed with PRIVACY_AUDIT_ANCHOR_KEY (not a derived key)"}
    )
    anchored_seq = fields.Integer(
        allow_none=True, metadata={"description": "The newest valid anchor's event"}
    )
    anchored_hash = fields.String(allow_none=True)
    anchored_at = fields.String(allow_none=True)
    lines_checked = fields.Integer()
    bad_lines = fields.List(
        fields.Integer(), metadata={"description": "Lines, counted from the file's end, whose HMAC fails"}
    )
    other_key_lines = fields.Integer(metadata={"description": "Lines signed with another key, not checked"})
    written_seq = fields.Integer(allow_none=True, metadata={"description": "The head anchored by this call"})
    warnings = fields.List(fields.String())


class VerifySchema(Schema):
    ok = fields.Boolean()
    events = fields.Integer(metadata={"description": "Events checked"})
    first_bad_seq = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)
    head_seq = fields.Integer(
        allow_none=True, metadata={"description": "The last event, when the chain holds"}
    )
    anchor = fields.Nested(AnchorSchema)


@blp.route("/audit")
@blp.arguments(AuditArgsSchema, location="query", as_kwargs=True)
@blp.response(200, AuditPageSchema)
@require("audit:read")
def list_audit(after_seq: int, limit: int, **filters: Any) -> dict[str, Any]:
    """List audit events in sequence order."""
    session = get_session()
    query = select(AuditEvent).where(AuditEvent.seq > after_seq)
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(AuditEvent, name) == value)
    items = session.scalars(query.order_by(AuditEvent.seq).limit(limit)).all()
    return {
        "items": items,
        "total": count_events(session),
        "next_after_seq": items[-1].seq if len(items) == limit else None,
    }


@blp.route("/audit/verify")
@blp.response(200, VerifySchema)
@require("audit:read")
def verify_audit() -> Any:
    """Check the whole hash chain and its anchor; name the first event that does not fit; anchor the head."""
    path, key = anchor_settings(current_app.config)
    return verify_anchored(get_session(), path=path, key=key)
