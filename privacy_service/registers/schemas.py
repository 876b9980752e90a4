"""marshmallow schemas of the breach register's API, with all their validation messages."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from privacy_service.errors import N_
from privacy_service.kernel import SLUG, StrictSchema
from privacy_service.registers.models import NOT_REQUIRED_GROUNDS, RISK_LEVELS, STATUSES

_TEXT = validate.Length(min=3, max=5000, error=N_("Between 3 and 5000 characters."))
_CATEGORY = fields.String(validate=validate.Length(min=1, max=200))


class BreachInSchema(StrictSchema):
    """A breach as recorded when it is discovered."""

    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    description = fields.String(required=True, validate=_TEXT, metadata={"description": "What happened"})
    discovered_at = fields.AwareDateTime(
        required=True,
        metadata={"description": "When the controller became aware; the 72 hours run from here"},
    )
    occurred_at = fields.AwareDateTime(load_default=None, allow_none=True)
    data_categories = fields.List(_CATEGORY, load_default=list)
    subject_categories = fields.List(_CATEGORY, load_default=list)
    # strict: 2.5 or 1e-42 is no count (a float was truncated to 0 and accepted; found by the fuzzer)
    approx_subjects = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=0)
    )
    approx_records = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(min=0)
    )
    activities = fields.List(
        fields.String(validate=SLUG),
        load_default=list,
        metadata={"description": "Slugs of the processing activities concerned (records of processing)"},
    )
    consequences = fields.String(load_default="", validate=validate.Length(max=5000))
    measures = fields.String(load_default="", validate=validate.Length(max=5000))


class AssessInSchema(StrictSchema):
    risk_level = fields.String(required=True, validate=validate.OneOf(RISK_LEVELS))
    reasons = fields.String(
        required=True,
        validate=_TEXT,
        metadata={"description": "Why this level; for no_risk, why Datatilsynet is not notified"},
    )


class NotifyAuthorityInSchema(StrictSchema):
    notified_at = fields.AwareDateTime(required=True)
    authority_reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    delay_reasons = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=5000),
        metadata={"description": "Required when notified_at is later than notify_authority_by (Art. 33(1))"},
    )


class SubjectTextsSchema(StrictSchema):
    nb = fields.String(required=True, validate=_TEXT)
    en = fields.String(required=True, validate=_TEXT)


class NotifySubjectsInSchema(StrictSchema):
    """Either the texts (bokmål and English) or the Art. 34(3) ground with its reason."""

    texts = fields.Nested(SubjectTextsSchema, load_default=None, allow_none=True)
    not_required = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(NOT_REQUIRED_GROUNDS)
    )
    not_required_reason = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=5000)
    )

    @validates_schema
    def _one_of_the_two(self, data: dict[str, Any], **_: Any) -> None:
        if bool(data.get("texts")) == bool(data.get("not_required")):
            raise ValidationError(
                N_("Give either texts (nb and en) or not_required with its reason."), "_schema"
            )
        if data.get("not_required") and not (data.get("not_required_reason") or "").strip():
            raise ValidationError(
                N_("Say why notifying the data subjects is not required."), "not_required_reason"
            )


class BreachListArgsSchema(StrictSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))


class BreachSchema(Schema):
    """A breach as the API shows it: every field listed here, the row never dumped whole."""

    reference = fields.String(metadata={"description": "AVVIK-YYYY-NNNN"})
    title = fields.String()
    description = fields.String()
    discovered_at = fields.DateTime()
    occurred_at = fields.DateTime(allow_none=True)
    notify_authority_by = fields.DateTime(metadata={"description": "discovered_at + 72 hours (Art. 33(1))"})
    data_categories = fields.List(fields.String())
    subject_categories = fields.List(fields.String())
    approx_subjects = fields.Integer(allow_none=True)
    approx_records = fields.Integer(allow_none=True)
    activities = fields.List(fields.String())
    consequences = fields.String()
    measures = fields.String()
    status = fields.String()
    assessment = fields.Method("_assessment")
    authority_notification = fields.Method("_authority")
    subject_notification = fields.Method("_subjects")
    created_at = fields.DateTime()
    created_by = fields.String()
    closed_at = fields.DateTime(allow_none=True)

    def _assessment(self, breach: Any) -> dict[str, Any] | None:
        if breach.risk_level is None:
            return None
        return {
            "risk_level": breach.risk_level,
            "reasons": breach.risk_reasons,
            "assessed_at": _iso(breach.assessed_at),
        }

    def _authority(self, breach: Any) -> dict[str, Any] | None:
        if breach.authority_notified_at is None:
            return None
        return {
            "notified_at": _iso(breach.authority_notified_at),
            "authority_reference": breach.authority_reference,
            "delay_reasons": breach.delay_reasons,
        }

    def _subjects(self, breach: Any) -> dict[str, Any] | None:
        if breach.subjects_notified_at is None and breach.subjects_not_required is None:
            return None
        return {
            "texts": breach.subject_text,
            "sent_count": breach.subjects_sent_count,
            "notified_at": _iso(breach.subjects_notified_at),
            "not_required": breach.subjects_not_required,
            "not_required_reason": breach.subjects_not_required_reason,
        }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


breach_schema = BreachSchema()


class PdfArgsSchema(StrictSchema):
    lang = fields.String(load_default="nb", validate=validate.OneOf(("nb", "en")))
