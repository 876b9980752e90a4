"""GET /api/v1/audit and /api/v1/audit/verify."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy import select

from privacy_service.audit import AuditEvent
from privacy_service.audit_anchor import anchor_settings, verify_anchored
from privacy_service.db import get_session, page_of
from privacy_service.http import paged
from privacy_service.kernel import PageArgsSchema
from privacy_service.security.access import require

blp = Blueprint("audit", __name__, description="The append-only, hash-chained audit trail")


class AuditArgsSchema(PageArgsSchema):
    class Meta:
        unknown = EXCLUDE

    after_seq = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=2**31 - 1),
        metadata={"description": "Only events after this one (`next_after_seq` of the page before)"},
    )
    limit = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "The page size from before `per_page`; kept, `per_page` is the one to use"},
    )
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
    total = fields.Integer(metadata={"description": "Events that match (from after_seq on)"})
    page = fields.Integer()
    per_page = fields.Integer()
    next_after_seq = fields.Integer(
        allow_none=True, metadata={"description": "The last event of a full page: after_seq for the next"}
    )


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
@paged
def list_audit(after_seq: int, limit: int | None, page: int, per_page: int, **filters: Any) -> dict[str, Any]:
    """List audit events in sequence order, paged like every list; the trail only grows at its end, so a
    page stays the same while new events arrive."""
    session = get_session()
    per_page = limit or per_page
    query = select(AuditEvent).where(AuditEvent.seq > after_seq)
    for name, value in filters.items():
        if value is not None:
            query = query.where(getattr(AuditEvent, name) == value)
    items, total = page_of(session, query.order_by(AuditEvent.seq), page=page, per_page=per_page)
    return {
        "items": items,
        "total": total,
        "page": page,
        "per_page": per_page,
        "next_after_seq": items[-1].seq if len(items) == per_page else None,
    }


@blp.route("/audit/verify")
@blp.response(200, VerifySchema)
@require("audit:read")
def verify_audit() -> Any:
    """Check the whole hash chain and its anchor; name the first event that does not fit; anchor the head."""
    path, key = anchor_settings(current_app.config)
    return verify_anchored(get_session(), path=path, key=key)
