"""Transfer assessments on the wire: what a client sends and what it reads."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from privacy_service.errors import N_
from privacy_service.kernel import SLUG, StrictSchema
from privacy_service.registers.transfers import ASSESSMENT_FIELDS, DEROGATION_POINTS, TIA_CONCLUSIONS


def _one_of(choices: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(choices, error=f"Use one of: {', '.join(choices)}.")


def _optional(length: int = 5000) -> fields.String:
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=length))


class TransferAssessmentInSchema(StrictSchema):
    """Create or replace the assessment of one transfer in an activity's record."""

    activity = fields.String(required=True, validate=SLUG, metadata={"description": "The activity's slug"})
    transfer = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[0-9a-f]{12}$", error=N_("A transfer's key, as GET /transfers gives it.")
        ),
        metadata={"description": "The transfer's key, as GET /transfers gives it"},
    )
    derogation_point = fields.String(load_default=None, allow_none=True, validate=_one_of(DEROGATION_POINTS))
    third_country_laws = _optional()
    supplementary_measures = _optional()
    tia_conclusion = fields.String(load_default=None, allow_none=True, validate=_one_of(TIA_CONCLUSIONS))
    assessed_by = fields.String(required=True, validate=validate.Length(min=1, max=200))
    assessed_on = fields.Date(required=True)
    next_review_on = fields.Date(load_default=None, allow_none=True)


class TransferWithAssessmentSchema(Schema):
    """A transfer in the record of processing with its assessment (assessed false when there is none)."""

    class Meta:
        fields = (
            "activity",
            "key",
            "index",
            "country",
            "recipient",
            "safeguard",
            "tool",
            "details",
            "assessed",
            "stale",
            *ASSESSMENT_FIELDS,
            "updated_at",
        )

    activity = fields.String()
    key = fields.String()
    index = fields.Integer()
    country = fields.Raw(metadata={"description": "text, or {nb, en}"})
    recipient = fields.Raw(metadata={"description": "text, or {nb, en}"})
    safeguard = fields.String()
    tool = fields.String(metadata={"description": "The Chapter V tool in words"})
    details = fields.Raw(allow_none=True, metadata={"description": "text, or {nb, en}"})
    assessed = fields.Boolean()
    stale = fields.Boolean(metadata={"description": "The record's safeguard changed since the assessment"})
    derogation_point = fields.String(allow_none=True)
    third_country_laws = fields.String(allow_none=True)
    supplementary_measures = fields.String(allow_none=True)
    tia_conclusion = fields.String(allow_none=True, metadata={"enum": list(TIA_CONCLUSIONS)})
    assessed_by = fields.String(allow_none=True)
    assessed_on = fields.Date(allow_none=True)
    next_review_on = fields.Date(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)


transfer_in_schema = TransferAssessmentInSchema()
transfer_schema = TransferWithAssessmentSchema()
