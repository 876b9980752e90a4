"""Legitimate-interest assessments on the wire: what a client sends and what it reads."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from privacy_service.kernel import SLUG, StrictSchema
from privacy_service.registers.lias import ASSESSMENT_FIELDS, CONCLUSIONS, HOLDERS, STATUSES


def _one_of(choices: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(choices, error=f"Use one of: {', '.join(choices)}.")


def _optional(length: int = 5000) -> fields.String:
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=length))


class LiaAssessmentInSchema(StrictSchema):
    """Create or replace the legitimate-interest assessment of one activity."""

    activity = fields.String(required=True, validate=SLUG, metadata={"description": "The activity's slug"})
    public_task_processing = fields.Boolean(
        required=True,
        metadata={
            "description": "Whether the processing is part of the authority's tasks (Art. 6(1) 2nd sub.)"
        },
    )
    interest = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    interest_holder = fields.String(load_default="controller", validate=_one_of(HOLDERS))
    interest_lawful = fields.Boolean(load_default=False)
    interest_specific = fields.Boolean(load_default=False)
    interest_present = fields.Boolean(load_default=False)
    necessity = _optional()
    alternatives = _optional()
    reasonable_expectations = _optional()
    data_nature = _optional()
    impact = _optional()
    safeguards = _optional()
    conclusion = fields.String(required=True, validate=_one_of(CONCLUSIONS))
    conclusion_reasons = _optional()
    assessed_by = fields.String(required=True, validate=validate.Length(min=1, max=200))
    assessed_on = fields.Date(required=True)
    next_review_on = fields.Date(load_default=None, allow_none=True)


class LiaAssessmentSchema(Schema):
    """An activity relying on Art. 6(1)(f) and its assessment (status not_assessed when there is none)."""

    class Meta:
        fields = ("activity", "status", *ASSESSMENT_FIELDS, "updated_at", "updated_by")

    activity = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    public_task_processing = fields.Boolean(allow_none=True)
    interest = fields.String(allow_none=True)
    interest_holder = fields.String(allow_none=True, metadata={"enum": list(HOLDERS)})
    interest_lawful = fields.Boolean(allow_none=True)
    interest_specific = fields.Boolean(allow_none=True)
    interest_present = fields.Boolean(allow_none=True)
    necessity = fields.String(allow_none=True)
    alternatives = fields.String(allow_none=True)
    reasonable_expectations = fields.String(allow_none=True)
    data_nature = fields.String(allow_none=True)
    impact = fields.String(allow_none=True)
    safeguards = fields.String(allow_none=True)
    conclusion = fields.String(allow_none=True, metadata={"enum": list(CONCLUSIONS)})
    conclusion_reasons = fields.String(allow_none=True)
    assessed_by = fields.String(allow_none=True)
    assessed_on = fields.Date(allow_none=True)
    next_review_on = fields.Date(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)


lia_in_schema = LiaAssessmentInSchema()
lia_schema = LiaAssessmentSchema()
