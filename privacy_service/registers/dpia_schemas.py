"""The DPIA register on the wire: what a client sends and what it reads."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from privacy_service.kernel import SLUG, StrictSchema
from privacy_service.registers.dpia_criteria import CRITERIA_IDS, LISTED_IDS
from privacy_service.registers.dpias import ASSESSMENT_FIELDS, RISKS, SAVED_STATUSES, STATUSES

_TEXT = validate.Length(min=1, max=5000)


def _one_of(choices: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(choices, error=f"Use one of: {', '.join(choices)}.")


def _ids(choices: tuple[str, ...]) -> fields.List:
    return fields.List(fields.String(validate=_one_of(choices)), load_default=list)


def _optional(length: int = 5000) -> fields.String:
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=length))


def _day() -> fields.Date:
    return fields.Date(load_default=None, allow_none=True)


class DpiaAssessmentInSchema(StrictSchema):
    """Create or replace the assessment of one activity."""

    activity = fields.String(required=True, validate=SLUG, metadata={"description": "The activity's slug"})
    status = fields.String(required=True, validate=_one_of(SAVED_STATUSES))
    listed_items = _ids(LISTED_IDS)
    criteria = _ids(CRITERIA_IDS)
    screening_reasons = _optional()
    dpo_advice = _optional()
    dpo_advice_on = _day()
    residual_risk = fields.String(load_default=None, allow_none=True, validate=_one_of(RISKS))
    consultation_on = _day()
    consultation_reference = _optional(200)
    consultation_outcome = _optional()
    document_reference = _optional(300)
    started_on = _day()
    completed_on = _day()
    next_review_on = _day()


class DpiaAssessmentSchema(Schema):
    """An activity's place in the DPIA register (status not_assessed when nobody assessed it)."""

    class Meta:
        fields = (
            "activity",
            "status",
            "screening_indicates_dpia",
            "triggers",
            "attention",
            *ASSESSMENT_FIELDS,
            "updated_at",
            "updated_by",
        )

    activity = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    screening_indicates_dpia = fields.Boolean()
    triggers = fields.List(fields.String())
    attention = fields.List(fields.String())
    listed_items = fields.List(fields.String())
    criteria = fields.List(fields.String())
    screening_reasons = fields.String(allow_none=True)
    dpo_advice = fields.String(allow_none=True)
    dpo_advice_on = fields.Date(allow_none=True)
    residual_risk = fields.String(allow_none=True, metadata={"enum": list(RISKS)})
    consultation_reference = fields.String(allow_none=True)
    consultation_outcome = fields.String(allow_none=True)
    document_reference = fields.String(allow_none=True)
    consultation_on = fields.Date(allow_none=True)
    started_on = fields.Date(allow_none=True)
    completed_on = fields.Date(allow_none=True)
    next_review_on = fields.Date(allow_none=True)
    updated_at = fields.DateTime(allow_none=True)
    updated_by = fields.String(allow_none=True)


dpia_in_schema = DpiaAssessmentInSchema()
dpia_schema = DpiaAssessmentSchema()
