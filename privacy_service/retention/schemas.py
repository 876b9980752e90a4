"""Marshmallow schemas of the retention API and of policies/holds.yaml."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate, validates_schema
from marshmallow.exceptions import ValidationError

from privacy_service.kernel import SLUG, JsonBoolean, StrictSchema
from privacy_service.ropa.schemas import RuleChangeListArgsSchema, RuleChangeSchema

__all__ = ["RuleChangeListArgsSchema", "RuleChangeSchema"]  # the registry keeps rule changes; shown here too

KINDS = ("archive_law", "legal", "request_pending", "other")
SCOPES = ("activity", "table", "subject", "records")
IDENTITY_KINDS = ("email", "national_id", "phone", "account_id")


def scope_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    """The fields the hold's scope needs that `data` lacks (a subject hold also names an identity kind)."""
    scope, errors = data.get("scope"), {}
    needs = {
        "activity": ("activity",),
        "table": ("system", "table_name"),
        "subject": ("subject_kind", "subject_value"),
        "records": ("system", "table_name", "record_keys"),
    }.get(scope or "", ())
    for name in needs:
        if not data.get(name):
            errors[name] = [f"Required for a hold on scope {scope}."]
    if scope == "subject" and data.get("subject_kind") not in IDENTITY_KINDS:
        errors["subject_kind"] = [f"Must be one of: {', '.join(IDENTITY_KINDS)}."]
    return errors


class PublicTextSchema(StrictSchema):
    """What the subject reads about a hold, per language; a missing one is the kind's standard text."""

    nb = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    en = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class HoldInSchema(StrictSchema):
    """A hold to set: what it covers (scope), why (basis: internal), what the subject reads (public_text),
    from when to when."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    scope = fields.String(required=True, validate=validate.OneOf(SCOPES))
    activity = fields.String(load_default=None, allow_none=True, validate=SLUG)
    system = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    table_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    subject_kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(IDENTITY_KINDS))
    subject_value = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=254))
    record_keys = fields.List(fields.String(validate=validate.Length(min=1, max=100)), load_default=list)
    basis = fields.String(
        required=True,
        validate=validate.Length(min=3, max=1000),
        metadata={"description": "Internal note: why the data must be kept; never shown to the subject"},
    )
    public_text = fields.Nested(
        PublicTextSchema,
        load_default=None,
        allow_none=True,
        metadata={
            "description": "The text for the subject's letters and mails, {nb, en}; a language left out gets "
            "the standard text for the kind"
        },
    )
    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))
    starts_at = fields.AwareDateTime(load_default=None, allow_none=True)
    ends_at = fields.AwareDateTime(load_default=None, allow_none=True)

    @validates_schema
    def _scope_fields(self, data: dict[str, Any], **_: Any) -> None:
        errors = scope_errors(data)
        if errors:
            raise ValidationError(errors)


class PolicyHoldSchema(HoldInSchema):
    """A hold declared in policies/holds.yaml; `key` names it so loading twice changes nothing."""

    key = fields.String(required=True, validate=SLUG)


class HoldsFileSchema(StrictSchema):
    holds = fields.List(fields.Raw(), required=True)


class HoldSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    scope = fields.String()
    activity = fields.String(allow_none=True)
    system = fields.String(allow_none=True)
    table_name = fields.String(allow_none=True)
    subject_kind = fields.String(allow_none=True)
    record_keys = fields.List(fields.String())
    basis = fields.String(metadata={"description": "Internal note; never shown to the subject"})
    public_text = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": "What the subject reads, {nb, en}: the hold's own text or the kind's standard one"
        },
    )
    public_text_standard = fields.List(
        fields.String(), metadata={"description": "The languages in which the standard text is used"}
    )
    reference = fields.String(allow_none=True)
    source = fields.String()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime(allow_none=True)
    set_by = fields.String()
    released_at = fields.DateTime(allow_none=True)
    released_by = fields.String(allow_none=True)
    release_note = fields.String(allow_none=True)
    active = fields.Boolean()
    # the subject's identity value is personal data: never in list answers


class ReleaseInSchema(StrictSchema):
    note = fields.String(required=True, validate=validate.Length(min=3, max=1000))


class ReleaseOutSchema(Schema):
    hold = fields.Nested(HoldSchema)
    rows_due = fields.Dict(
        metadata={"description": "Per rule, rows that were held by this hold and become due at the next run"}
    )


class HoldListArgsSchema(StrictSchema):
    active = fields.Boolean(load_default=None, allow_none=True)
    activity = fields.String(load_default=None, allow_none=True, validate=SLUG)


class RunInSchema(StrictSchema):
    dry_run = JsonBoolean(load_default=False)
    rules = fields.List(fields.String(), load_default=None, allow_none=True)


class RunRuleSchema(Schema):
    rule = fields.String()
    activity = fields.String()
    action = fields.String()
    period = fields.String()
    cutoff = fields.DateTime()
    candidates = fields.Integer()
    acted = fields.Integer()
    held = fields.Integer()
    held_by = fields.Dict(metadata={"description": "hold id → rows it kept"})
    failed = fields.Integer()
    error = fields.String(allow_none=True)
    seconds = fields.Float()
    deposit_path = fields.String(allow_none=True)


class RunSchema(Schema):
    id = fields.Integer()
    dry_run = fields.Boolean()
    trigger = fields.String()
    started_by = fields.String()
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    status = fields.String(metadata={"description": "running | completed | failed | interrupted"})
    as_of = fields.DateTime()
    rules = fields.List(fields.Nested(RunRuleSchema))
    pending_deposits = fields.List(
        fields.Nested(lambda: DepositSchema()),
        metadata={"description": "Deposits waiting for the archive's receipt: their rows are still kept"},
    )


class RuleSchema(Schema):
    key = fields.String()
    activity = fields.String()
    system = fields.String()
    table = fields.String()
    anchor = fields.String(allow_none=True)
    anchor_fallback = fields.String(allow_none=True)
    period = fields.String()
    action = fields.String()
    schedule = fields.String()
    mask_columns = fields.List(fields.String())
    keep_columns = fields.List(fields.String())
    problems = fields.List(fields.String())


hold_in_schema = HoldInSchema()
policy_hold_schema = PolicyHoldSchema()
holds_file_schema = HoldsFileSchema()


class DepositFileSchema(Schema):
    name = fields.String()
    sha256 = fields.String()
    bytes = fields.Integer()


class DepositSchema(Schema):
    """A deposit as the API shows it: never its keys (they identify people's records)."""

    id = fields.Integer()
    run_id = fields.Integer(allow_none=True)
    activity = fields.String()
    system = fields.String()
    table = fields.String(attribute="table_name")
    rule = fields.String()
    rows = fields.Integer()
    status = fields.String(metadata={"description": "pending_receipt | received | rejected"})
    created_at = fields.DateTime()
    files = fields.List(fields.Nested(DepositFileSchema))
    remade_from = fields.Integer(allow_none=True)
    archive_reference = fields.String(allow_none=True)
    received_at = fields.DateTime(allow_none=True)
    received_by = fields.String(allow_none=True)
    rejected_reason = fields.String(allow_none=True)
    deleted_rows = fields.Integer(allow_none=True)
    deleted_at = fields.DateTime(allow_none=True)


class DepositListArgsSchema(StrictSchema):
    status = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(("pending_receipt", "received", "rejected")),
    )


class DepositReceiptInSchema(StrictSchema):
    archive_reference = fields.String(required=True, validate=validate.Length(min=1, max=200))
    received_at = fields.Date(required=True)


class DepositRejectInSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=1000))
