"""marshmallow schemas of the processor records' API (GDPR Art. 30(2)), with all their validation messages."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from privacy_service.errors import N_
from privacy_service.kernel import SLUG, Localised, LocalisedSchema, StrictSchema
from privacy_service.registers.processing_models import PROCESSOR_STATUSES
from privacy_service.ropa.rules import SAFEGUARDS

_AT_LEAST_ONE = validate.Length(min=1, error=N_("Give at least one."))


class CategorySchema(StrictSchema):
    """A category of processing carried out on behalf of one controller (Art. 30(2)(b))."""

    controller = fields.String(required=True, validate=SLUG)
    description = Localised(required=True)


class SubProcessorSchema(StrictSchema):
    organisation = fields.String(required=True, validate=SLUG)
    agreement_ref = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ProcessorTransferSchema(StrictSchema):
    """A transfer to a third country or an international organisation, with its Chapter V tool
    (Art. 30(2)(c))."""

    country = fields.String(required=True, validate=validate.Length(min=2, max=100))
    recipient = fields.String(required=True, validate=validate.Length(min=1, max=200))
    safeguard = fields.String(
        required=True,
        validate=validate.OneOf(SAFEGUARDS, error="Unknown safeguard {input}; choose one of: {choices}."),
    )
    details = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class DpoContactSchema(StrictSchema):
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    email = fields.Email(required=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50))


class ProcessorRecordInSchema(StrictSchema):
    """A processor record, whole, as POST creates it and PUT replaces it."""

    key = fields.String(
        load_default=None,
        allow_none=True,
        validate=SLUG,
        metadata={"description": "A stable key; policies/processor-records.yaml finds its records by it"},
    )
    processor = fields.String(
        required=True,
        validate=SLUG,
        metadata={"description": "Organisation slug of the processor (one of us)"},
    )
    controllers = fields.List(
        fields.String(validate=SLUG),
        required=True,
        validate=_AT_LEAST_ONE,
        metadata={"description": "Slugs of the controllers on whose behalf the processor acts"},
    )
    agreement_ref = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "The data processing agreement's reference; null where it is not stated"},
    )
    agreement_date = fields.Date(load_default=None, allow_none=True)
    categories = fields.List(
        fields.Nested(CategorySchema),
        required=True,
        validate=_AT_LEAST_ONE,
        metadata={"description": "The categories of processing carried out for each controller"},
    )
    sub_processors = fields.List(fields.Nested(SubProcessorSchema), load_default=list)
    transfers = fields.List(fields.Nested(ProcessorTransferSchema), load_default=list)
    security_measures = Localised(
        required=True, metadata={"description": "General description of the measures of Art. 32(1)"}
    )
    dpo = fields.Nested(DpoContactSchema, load_default=None, allow_none=True)
    status = fields.String(
        load_default="active",
        validate=validate.OneOf(
            PROCESSOR_STATUSES, error="Unknown status {input}; choose one of: {choices}."
        ),
    )
    started_on = fields.Date(load_default=None, allow_none=True)
    ended_on = fields.Date(load_default=None, allow_none=True)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        controllers = data.get("controllers") or []
        if len(controllers) != len(set(controllers)):
            errors["controllers"] = [N_("Name each controller once.")]
        if data.get("processor") in controllers:
            errors.setdefault("controllers", []).append("The processor cannot act on its own behalf.")
        named = {c["controller"] for c in data.get("categories") or []}
        if named - set(controllers):
            errors["categories"] = [
                f"{s!r} is not one of the controllers." for s in sorted(named - set(controllers))
            ]
        elif data.get("categories") and set(controllers) - named:
            errors["categories"] = [
                f"Give the categories of processing for {s!r} (Art. 30(2)(b))."
                for s in sorted(set(controllers) - named)
            ]
        if data.get("status") == "ended" and not data.get("ended_on"):
            errors["ended_on"] = [N_("An ended record says when it ended.")]
        if data.get("status") == "active" and data.get("ended_on"):
            errors["ended_on"] = [N_("An active record has no end date; set status ended.")]
        if data.get("started_on") and data.get("ended_on") and data["ended_on"] < data["started_on"]:
            errors["ended_on"] = [N_("Must not be earlier than started_on.")]
        if errors:
            raise ValidationError(errors)


class ProcessorRecordListArgsSchema(StrictSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(PROCESSOR_STATUSES))


class ProcessorRecordSchema(Schema):
    """A processor record as the API shows it: every field listed here, the row never dumped whole."""

    id = fields.Integer()
    key = fields.String(allow_none=True)
    processor = fields.String()
    controllers = fields.List(fields.String())
    agreement_ref = fields.String(allow_none=True)
    agreement_date = fields.Date(allow_none=True)
    categories = fields.List(fields.Nested(CategorySchema))
    sub_processors = fields.List(fields.Nested(SubProcessorSchema))
    transfers = fields.List(fields.Nested(ProcessorTransferSchema))
    security_measures = fields.Nested(LocalisedSchema)
    dpo = fields.Nested(DpoContactSchema, allow_none=True)
    status = fields.String()
    started_on = fields.Date(allow_none=True)
    ended_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()
    created_by = fields.String()
    updated_at = fields.DateTime()
    updated_by = fields.String()


class ProcessorRecordsFileSchema(StrictSchema):
    """policies/processor-records.yaml: each record is validated on its own, so errors name it."""

    processor_records = fields.List(fields.Raw(), required=True)


class PolicyProcessorRecordSchema(ProcessorRecordInSchema):
    """A record in policies/: it must have its key, so loading twice changes nothing."""

    key = fields.String(required=True, validate=SLUG)


processor_record_in_schema = ProcessorRecordInSchema()
processor_records_file_schema = ProcessorRecordsFileSchema()
policy_processor_record_schema = PolicyProcessorRecordSchema()
processor_record_schema = ProcessorRecordSchema()


class ProtocolArgsSchema(StrictSchema):
    lang = fields.String(load_default="nb", validate=validate.OneOf(("nb", "en")))
    processor = fields.String(
        load_default=None, validate=SLUG, metadata={"description": "One processor only"}
    )
