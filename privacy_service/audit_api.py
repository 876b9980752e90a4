"""GET /api/v1/audit and /api/v1/audit/verify."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select

from privacy_service.audit import AuditEvent, count_events, verify_chain
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


class VerifySchema(Schema):
    ok = fields.Boolean()
    events = fields.Integer(metadata={"description": "Events checked"})
    first_bad_seq = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True)


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
    """Check the whole hash chain and name the first event that does not fit."""
    return verify_chain(get_session())
