"""marshmallow schemas of the registry: the policy files, API input and output, all validation messages."""

from __future__ import annotations

from datetime import date
from typing import Any

from cryptography import x509
from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from privacy_service.errors import N_, worded
from privacy_service.kernel import (
    ART9_CONDITIONS,
    ART89_PURPOSES,
    ISO_PERIOD,
    LEGAL_BASES,
    SERVICES_RE,
    SLUG,
    JsonBoolean,
    Localised,
    LocalisedName,
    LocalisedSchema,
    PageArgsSchema,
    StrictSchema,
    TextOrLocalised,
    valid_org_number,
)
from privacy_service.ropa.dpv_terms import DPV_PURPOSES, EEA_CODES, LOCATION_RE
from privacy_service.ropa.rules import (
    DEFAULT_SCHEDULE,
    DISPOSAL_DECISIONS,
    KANTARA_PURPOSE_CATEGORIES,
    ORG_ROLES,
    PROCESSOR_ROLES,
    RULE_ACTIONS,
    SAFEGUARDS,
    STATUSES,
)


def _one_of(choices: Any, what: str) -> validate.OneOf:
    return validate.OneOf(list(choices), error=f"Unknown {what} {{input}}; choose one of: {{choices}}.")


class DpoSchema(StrictSchema):
    name = fields.String(load_default=None, allow_none=True)
    email = fields.Email(required=True)
    phone = fields.String(load_default=None, allow_none=True)


OPENDSR_FORMATS = ("sha256", "raw")  # the identity formats of OpenDSR 2.0 § 5.2 we send (never md5 or sha1)
OPENDSR_TYPES = ("erasure", "access", "portability")  # OpenDSR 2.0 § 6.2


def _pem_certificate(value: str) -> None:
    """An X.509 certificate in PEM: the processor's callback signing certificate (OpenDSR 2.0 § 4.1)."""
    try:
        x509.load_pem_x509_certificate(value.encode())
    except ValueError:
        raise ValidationError(N_("Not an X.509 certificate in PEM.")) from None


class OpenDsrEndpointSchema(StrictSchema):
    """Where a processor takes OpenDSR requests, and how its callbacks are checked (docs/opendsr.md)."""

    url = fields.URL(
        required=True,
        schemes={"https", "http"},
        require_tld=False,
        metadata={
            "description": "The OpenDSR base URL with the major version, e.g. https://opendsr.x.no/v2",
            "example": "https://opendsr.ehelse.no/v2",
        },
    )
    domain = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$", error=N_("Not a domain name.")),
        metadata={
            "description": "The processor's X-OpenDSR-Processor-Domain: only it may call back",
            "example": "opendsr.ehelse.no",
        },
    )
    certificate = fields.String(
        required=True,
        validate=_pem_certificate,
        metadata={
            "description": "The processor's signing certificate (PEM), as its /discovery publishes it",
            "example": "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU…\n-----END CERTIFICATE-----\n",
        },
    )
    identity_format = fields.String(load_default="sha256", validate=_one_of(OPENDSR_FORMATS, "format"))
    request_types = fields.List(
        fields.String(validate=_one_of(OPENDSR_TYPES, "request type")),
        load_default=list(OPENDSR_TYPES),
        metadata={"description": "The supported_subject_request_types of the processor's /discovery"},
    )


class OrganisationSchema(StrictSchema):
    """An organisation in organisations.yaml and the API."""

    slug = fields.String(required=True, validate=SLUG)
    name = LocalisedName(required=True)
    org_number = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "9 digits; null when the sources do not state it (the record says so)"},
    )
    role = fields.String(required=True, validate=_one_of(ORG_ROLES, "role"))
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True)
    address = fields.String(load_default=None, allow_none=True)
    website = fields.URL(load_default=None, allow_none=True)
    dpo = fields.Nested(DpoSchema, load_default=None, allow_none=True)
    # absent (not null) when the processor takes no OpenDSR requests: it is told by e-mail (Art. 19)
    opendsr = fields.Nested(OpenDsrEndpointSchema, allow_none=True)

    @pre_load
    def _strip_org_number(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("org_number"), (str, int)):
            data = {**data, "org_number": str(data["org_number"]).replace(" ", "")}
        return data

    @validates_schema
    def _check_org_number(self, data: dict, **_: Any) -> None:
        if data["org_number"] is not None and not valid_org_number(data["org_number"]):
            raise ValidationError(
                N_("Not a valid Norwegian organisation number (9 digits with a mod-11 check digit)."),
                "org_number",
            )


def _iso_date(value: str) -> None:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValidationError(N_("Not a valid date.")) from None


class ProcessorSchema(StrictSchema):
    organisation = fields.String(required=True, validate=SLUG)
    role = fields.String(required=True, validate=_one_of(PROCESSOR_ROLES, "processor role"))
    agreement_ref = TextOrLocalised(
        required=True, max_length=500, metadata={"description": "The data processing agreement, {nb, en}"}
    )
    task = Localised(load_default=None, allow_none=True)
    sub_processor_of = fields.String(load_default=None, allow_none=True, validate=SLUG)
    # Left out when not stated: records loaded before keep their hash. ISO text, as the record is JSON.
    agreed_on = fields.String(
        allow_none=True, validate=_iso_date, metadata={"description": "The date of the processing agreement"}
    )

    @post_load
    def _none_left_out(self, data: dict, **_: Any) -> dict:
        if "agreed_on" in data and data["agreed_on"] is None:
            data.pop("agreed_on")
        return data

    @validates_schema
    def _sub_processor_names_processor(self, data: dict, **_: Any) -> None:
        if data["role"] == "sub_processor" and not data.get("sub_processor_of"):
            raise ValidationError(
                N_("A sub-processor must name the processor it works for."), "sub_processor_of"
            )


class DataCategorySchema(StrictSchema):
    key = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$"))
    name = Localised(required=True)
    special = JsonBoolean(load_default=False)


def _location(value: str) -> None:
    if not LOCATION_RE.match(value):
        raise ValidationError(N_("Use a two-letter country code (ISO 3166-1, e.g. NO or US), or EU or EEA."))


def _third_country(value: str) -> None:
    _location(value)
    if value in EEA_CODES or value in ("EU", "EEA"):
        # Chapter V governs transfers out of the EEA; data going to a member state is no transfer
        raise ValidationError(N_("A country of the EU/EEA is no third country: name the country outside it."))


class TransferSchema(StrictSchema):
    country = TextOrLocalised(
        required=True, max_length=200, metadata={"description": "The third country, {nb, en}"}
    )
    recipient = TextOrLocalised(required=True, metadata={"description": "The recipient, {nb, en}"})
    safeguard = fields.String(required=True, validate=_one_of(SAFEGUARDS, "safeguard"))
    details = TextOrLocalised(load_default=None, allow_none=True, max_length=5000)
    # Left out when not given: records loaded before keep their hash.
    country_code = fields.String(
        validate=_third_country,
        metadata={
            "description": "The third country's ISO 3166-1 alpha-2 code (US); none for several countries"
        },
    )


AUTOMATED_GROUNDS = ("22(2)(a)", "22(2)(b)", "22(2)(c)")


class AutomatedDecisionSchema(StrictSchema):
    """What a person is told about a decision made by automated means (Art. 13(2)(f), 14(2)(g), 15(1)(h))."""

    ground = fields.String(
        required=True,
        validate=_one_of(AUTOMATED_GROUNDS, "Art. 22(2) ground"),
        metadata={"description": "22(2)(a) contract | 22(2)(b) authorised by law | 22(2)(c) consent"},
    )
    authority = Localised(
        load_default=None, allow_none=True, metadata={"description": "The law that authorises it (22(2)(b))"}
    )
    logic = Localised(required=True, metadata={"description": "The logic involved, in plain words"})
    significance = Localised(
        required=True, metadata={"description": "Its significance and envisaged consequences for the person"}
    )

    @validates_schema
    def _law_named(self, data: dict, **_: Any) -> None:
        if data["ground"] == "22(2)(b)" and not data.get("authority"):
            raise ValidationError(
                N_("A decision authorised by law (22(2)(b)) must name the law."), "authority"
            )


# The fields a draft record may mark as not stated by its source: the record says so instead of guessing.
NOT_STATED_FIELDS = (
    "legal_basis", "national_basis", "processors", "recipients", "transfers", "retention",
    "security_measures", "data_categories", "data_subjects", "source", "systems", "owner",
)  # fmt: skip


def _valid_cron(value: str) -> None:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value)
    except ValueError as err:
        raise ValidationError(
            worded("Not a crontab schedule (minute hour day month weekday): %(err)s", err=err)
        ) from err


_COLUMN_RE = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"
COARSEN_UNITS = ("month",)


class RetentionRuleSchema(StrictSchema):
    """A machine rule carried out by the retention runner on one mapped table of the activity."""

    system = fields.String(required=True, validate=validate.Length(min=1, max=100))
    table = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"))
    anchor = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"),
        metadata={"description": "The column the period counts from; default the table's anchor_column"},
    )
    period = fields.String(required=True, validate=ISO_PERIOD)
    action = fields.String(required=True, validate=_one_of(RULE_ACTIONS, "retention action"))
    mask_columns = fields.List(
        fields.String(validate=validate.Regexp(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")),
        load_default=list,
        metadata={"description": "anonymise: the columns to blank; default the table's mask_columns"},
    )
    schedule = fields.String(load_default=DEFAULT_SCHEDULE, validate=_valid_cron)
    note = fields.String(load_default=None, allow_none=True)
    anchor_fallback = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(_COLUMN_RE),
        metadata={"description": "The column the period counts from when the anchor is NULL"},
    )
    keep_columns = fields.List(
        fields.String(validate=validate.Regexp(_COLUMN_RE)),
        load_default=list,
        metadata={"description": "anonymise: columns kept as they are (never the key or a timestamp)"},
    )
    coarsen = fields.Dict(
        keys=fields.String(validate=validate.Regexp(_COLUMN_RE)),
        values=fields.String(validate=validate.OneOf(COARSEN_UNITS)),
        load_default=dict,
        metadata={"description": "anonymise: timestamp columns kept only to the month ({column: month})"},
    )
    reviewed_free_text = fields.List(
        fields.String(validate=validate.Regexp(_COLUMN_RE)),
        load_default=list,
        metadata={
            "description": "anonymise: free-text columns an officer reviewed and keeps (say so in note)"
        },
    )

    @validates_schema
    def _check_anonymise(self, data: dict, **_: Any) -> None:
        kept = {"keep_columns", "coarsen", "reviewed_free_text"}
        if data.get("action") != "anonymise" and any(data.get(k) for k in kept):
            raise ValidationError(N_("Only an anonymise rule keeps columns."), "keep_columns")
        if data.get("reviewed_free_text") and not data.get("note"):
            raise ValidationError(N_("Say in note who reviewed the free text, and when."), "note")


class RetentionSchema(StrictSchema):
    text = Localised(required=True)
    period = fields.String(load_default=None, allow_none=True, validate=ISO_PERIOD)
    rules = fields.List(fields.Nested(RetentionRuleSchema), load_default=list)
    trigger = Localised(load_default=None, allow_none=True)
    legal_basis = TextOrLocalised(load_default=None, allow_none=True)


class DisposalSchema(StrictSchema):
    decision = fields.String(required=True, validate=_one_of(DISPOSAL_DECISIONS, "disposal decision"))
    preservation_period = fields.String(load_default=None, allow_none=True, validate=ISO_PERIOD)
    authority = TextOrLocalised(load_default=None, allow_none=True)


class DpiaSchema(StrictSchema):
    required = JsonBoolean(load_default=False)
    reference = fields.String(load_default=None, allow_none=True)
    outcome = fields.String(load_default=None, allow_none=True)
    prior_consultation = JsonBoolean(load_default=False)


class SystemRefSchema(StrictSchema):
    name = TextOrLocalised(required=True)
    location = TextOrLocalised(
        load_default=None, allow_none=True, metadata={"description": "Where the data is stored, in words"}
    )
    # Left out when not given: records loaded before keep their hash.
    located_in = fields.String(
        validate=_location,
        metadata={"description": "The country (ISO 3166-1 alpha-2, e.g. NO) or EU / EEA where it is stored"},
    )


class StatutoryRegistrySchema(StrictSchema):
    """A statutory health registry: refusals of the subject's rights on it are individual decisions
    (enkeltvedtak) that can be appealed (Public Administration Act §§ 24–29)."""

    act = Localised(required=True, metadata={"description": "The act establishing the registry"})
    appeal_body = Localised(
        required=True, metadata={"description": "The body that hears appeals against the controller"}
    )


class ResponsibilitySchema(StrictSchema):
    """What one party to a joint-controller arrangement answers for (Art. 26(1))."""

    organisation = fields.String(required=True, validate=SLUG)
    answers_for = Localised(required=True)


class JointArrangementSchema(StrictSchema):
    """The arrangement between joint controllers (Art. 26): its essence is made available to the data subjects
    (Art. 26(2)), so the privacy notice publishes it."""

    essence = Localised(
        required=True, metadata={"description": "The essence of the arrangement (Art. 26(2))"}
    )
    responsibilities = fields.List(fields.Nested(ResponsibilitySchema), load_default=list)
    contact_point = fields.String(
        load_default=None,
        allow_none=True,
        validate=SLUG,
        metadata={"description": "The organisation the data subjects contact (Art. 26(1)); null: not stated"},
    )
    agreement_ref = TextOrLocalised(load_default=None, allow_none=True, max_length=500)
    agreed_on = fields.Date(load_default=None, allow_none=True)

    @post_load
    def _date_as_text(self, data: dict, **_: Any) -> dict:
        # The record is stored as JSON: keep the date as ISO text.
        if data.get("agreed_on") is not None:
            data["agreed_on"] = data["agreed_on"].isoformat()
        return data


def _non_empty_list(nested: type[Schema] | fields.Field, **kwargs: Any) -> fields.List:
    item = fields.Nested(nested) if isinstance(nested, type) else nested
    return fields.List(item, validate=validate.Length(min=1, error=N_("Give at least one.")), **kwargs)


class ActivitySchema(StrictSchema):
    """One processing activity: every field of Art. 30(1) and the Datatilsynet template additions."""

    slug = fields.String(required=True, validate=SLUG)
    service = fields.String(
        required=True, validate=validate.Regexp(SERVICES_RE, error=N_("Not a valid service name."))
    )
    status = fields.String(load_default="active", validate=_one_of(STATUSES, "status"))
    name = LocalisedName(required=True)
    description = Localised(required=True)
    controller = fields.String(required=True, validate=SLUG)
    joint_controllers = fields.List(fields.String(validate=SLUG), load_default=list)
    representative = fields.String(load_default=None, allow_none=True)
    processors = fields.List(fields.Nested(ProcessorSchema), load_default=list)
    purposes = _non_empty_list(LocalisedSchema, required=True)
    # Left out when not given: records loaded before keep their hash.
    dpv_purposes = fields.List(
        fields.String(
            validate=validate.OneOf(
                sorted(DPV_PURPOSES), error="Not a purpose of DPV 2.3: {input} (see https://w3id.org/dpv)."
            )
        ),
        metadata={
            "description": "The W3C DPV 2.3 purposes that fit (ServiceProvision, ...), for the JSON-LD"
        },
    )
    # Required, unless legal_bases gives it as its first entry (_primary_from_lists); the description says
    # so instead of `required`, which a client that sends only legal_bases would rightly read as a lie.
    legal_basis = fields.String(
        load_default=None,
        validate=_one_of(LEGAL_BASES, "legal basis"),
        metadata={
            "description": "The primary Art. 6(1) basis. Required unless legal_bases is given: then it is "
            "the first of them"
        },
    )
    legal_bases = fields.List(
        fields.String(validate=_one_of(LEGAL_BASES, "legal basis")),
        validate=validate.Length(min=1, max=6, error=N_("Give between one and six legal bases.")),
        metadata={"description": "Every Art. 6(1) basis, the primary first; the rights follow the most "
                  "restrictive. Left out when there is one."},
    )  # fmt: skip
    national_basis = Localised(load_default=None, allow_none=True)
    art9_condition = fields.String(
        load_default=None, allow_none=True, validate=_one_of(ART9_CONDITIONS, "Art. 9 condition")
    )
    art9_conditions = fields.List(
        fields.String(validate=_one_of(ART9_CONDITIONS, "Art. 9 condition")),
        validate=validate.Length(min=1, max=10, error=N_("Give between one and ten Art. 9 conditions.")),
        metadata={
            "description": "Every Art. 9(2) condition, art9_condition first. Left out when there is one."
        },
    )
    art89_purposes = fields.List(
        fields.String(validate=_one_of(ART89_PURPOSES, "Art. 89 purpose")),
        validate=validate.Length(min=1, error=N_("Give at least one, or leave the field out.")),
        metadata={"description": "archiving | research | statistics, when the activity serves only these "
                  "(Personal Data Act § 17)"},
    )  # fmt: skip
    art10 = JsonBoolean(load_default=False)
    consent_purpose = fields.String(load_default=None, allow_none=True, validate=SLUG)
    on_withdrawal = fields.String(
        load_default=None,
        allow_none=True,
        validate=_one_of(("erase", "stop"), "withdrawal action"),
        metadata={
            "description": "What a consent withdrawal does: erase the subject's data, or stop using it"
        },
    )
    legitimate_interest = Localised(load_default=None, allow_none=True)
    lia_reference = TextOrLocalised(load_default=None, allow_none=True)
    data_subjects = _non_empty_list(LocalisedSchema, required=True)
    data_categories = _non_empty_list(DataCategorySchema, required=True)
    vulnerable_subjects = JsonBoolean(load_default=False)
    children = JsonBoolean(load_default=False)
    source = Localised(load_default=None, allow_none=True)
    recipients = fields.List(fields.Nested(LocalisedSchema), load_default=list)
    # Left out when not given: records loaded before keep their hash.
    third_parties = fields.List(
        fields.Nested(LocalisedSchema),
        metadata={
            "description": "The recipients that are third parties (Art. 4(10)): neither the controllers "
            "nor processors acting for them. A consent receipt discloses to third parties only when one is "
            "listed."
        },
    )
    purpose_categories = fields.List(
        fields.String(validate=_one_of(KANTARA_PURPOSE_CATEGORIES, "purpose category")),
        validate=validate.Length(min=1, error=N_("Give at least one, or leave the field out.")),
        metadata={
            "description": "The purposes' categories from the Kantara Consent Receipt v1.1 list (default "
            "'Core Function'), for consent receipts"
        },
    )
    transfers = fields.List(fields.Nested(TransferSchema), load_default=list)
    retention = fields.Nested(RetentionSchema, required=True)
    security_measures = _non_empty_list(LocalisedSchema, required=True)
    disposal = fields.Nested(DisposalSchema, load_default=None, allow_none=True)
    dpia = fields.Nested(
        DpiaSchema,
        load_default=lambda: {
            "required": False,
            "reference": None,
            "outcome": None,
            "prior_consultation": False,
        },
    )
    automated_decisions = JsonBoolean(load_default=False)
    # Left out of a record without automated decisions: records loaded before keep their hash.
    automated_decision = fields.Nested(
        AutomatedDecisionSchema,
        allow_none=True,
        metadata={"description": "With automated_decisions: the Art. 22(2) ground, logic, significance"},
    )
    not_stated = fields.List(
        fields.String(validate=_one_of(NOT_STATED_FIELDS, "field")),
        validate=validate.Length(min=1, error=N_("Give at least one, or leave the field out.")),
        metadata={"description": "Fields the source does not state (a draft's unknowns): the record says so"},
    )
    business_process = fields.String(load_default=None, allow_none=True)
    owner = TextOrLocalised(load_default=None, allow_none=True)
    review_date = fields.Date(load_default=None, allow_none=True)
    systems = fields.List(fields.Nested(SystemRefSchema), load_default=list)
    # Left out of a record that is no statutory registry: records loaded before keep their hash.
    statutory_registry = fields.Nested(
        StatutoryRegistrySchema,
        allow_none=True,
        metadata={"description": "Set for a statutory health registry: the act and the appeal body"},
    )
    # Left out of a record without joint controllers: records loaded before keep their hash.
    joint_arrangement = fields.Nested(
        JointArrangementSchema,
        allow_none=True,
        metadata={"description": "Required with joint_controllers: the arrangement of Art. 26"},
    )

    @pre_load
    def _primary_from_lists(self, data: Any, **_: Any) -> Any:
        # A record may give only the lists: the primary basis and condition are their first entries.
        if not isinstance(data, dict):
            return data
        for one, many in (("legal_basis", "legal_bases"), ("art9_condition", "art9_conditions")):
            listed = data.get(many)
            if data.get(one) is None and isinstance(listed, list) and listed and isinstance(listed[0], str):
                data = {**data, one: listed[0]}
        return data

    # Run beside the field errors, not after them: the officer's form lists every mistake in one pass.
    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _legal_rules(self, data: dict, original: Any = None, **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        bases = [data.get("legal_basis"), *(data.get("legal_bases") or [])]
        given = original if isinstance(original, dict) else {}
        if given.get("legal_basis") is None and not given.get("legal_bases"):  # neither: as `required` said
            errors["legal_basis"] = [N_("Missing data for required field.")]
        for one, many in (("legal_basis", "legal_bases"), ("art9_condition", "art9_conditions")):
            if data.get(many) and data.get(one) != data[many][0]:
                errors[many] = [worded("List %(primary)s first (it is the primary one).", primary=one)]
        special = any(c.get("special") for c in data.get("data_categories") or [])
        if special and not data.get("art9_condition"):
            errors["art9_condition"] = [
                N_("Special categories of data are processed: name the Art. 9(2) condition.")
            ]
        if "6(1)(a)" in bases and data.get("legal_basis") != "6(1)(a)":
            errors["legal_bases"] = [
                N_(
                    "List consent (6(1)(a)) first: the consent purpose and its withdrawal follow the primary "
                    "basis."
                )
            ]
        if "6(1)(a)" in bases and not data.get("consent_purpose"):
            errors["consent_purpose"] = [N_("A consent-based activity must name its consent purpose.")]
        if data.get("on_withdrawal") and data.get("legal_basis") != "6(1)(a)":
            errors["on_withdrawal"] = [N_("Only a consent-based activity has a withdrawal action.")]
        if {"6(1)(c)", "6(1)(e)"} & set(bases) and not data.get("national_basis"):
            errors["national_basis"] = [
                N_("Art. 6(3): a legal obligation or public task needs its national legal basis.")
            ]
        keys = [c.get("key") for c in data.get("data_categories") or []]
        if len(keys) != len(set(keys)):
            errors["data_categories"] = [N_("Each data category key must be unique within the activity.")]
        errors.update(_joint_arrangement_errors(data))
        if data.get("automated_decision") and not data.get("automated_decisions"):
            errors["automated_decision"] = [N_("Only an activity with automated_decisions describes one.")]
        if data.get("automated_decision") and data.get("art9_condition"):
            allowed = {"9(2)(a)", "9(2)(g)"}
            if not allowed & {data["art9_condition"], *(data.get("art9_conditions") or [])}:
                errors["automated_decision"] = [
                    N_("Art. 22(4): an automated decision on special categories needs 9(2)(a) or 9(2)(g).")
                ]
        if errors:
            raise ValidationError(errors)

    @post_load
    def _one_code_is_no_list(self, data: dict, **_: Any) -> dict:
        # A list of one says no more than the single field: store it as a single-basis record always was, so
        # its content hash (and version) does not change.
        for key in ("legal_bases", "art9_conditions", "art89_purposes"):
            if key in data:
                data[key] = list(dict.fromkeys(data[key]))
        for key in ("legal_bases", "art9_conditions"):
            if len(data.get(key) or []) <= 1:
                data.pop(key, None)
        for key in ("statutory_registry", "joint_arrangement", "automated_decision"):
            if data.get(key, False) is None:  # the API answers null for "none": same record
                data.pop(key)
        return data

    @post_load
    def _dates_as_text(self, data: dict, **_: Any) -> dict:
        # The record is stored as JSON: keep the review date as ISO text.
        if data.get("review_date") is not None:
            data["review_date"] = data["review_date"].isoformat()
        return data


def _joint_arrangement_errors(data: dict) -> dict[str, list[str]]:
    """Art. 26(1): joint controllers determine their responsibilities in an arrangement (who its parties are
    is checked with the other references, in service.check_references)."""
    joint, arrangement = data.get("joint_controllers") or [], data.get("joint_arrangement")
    if joint and not arrangement:
        return {
            "joint_arrangement": ["Joint controllers need their arrangement (Art. 26): give its essence."]
        }
    if arrangement and not joint:
        return {"joint_arrangement": ["Only an activity with joint_controllers has a joint arrangement."]}
    return {}


class ActivityUpdateSchema(ActivitySchema):
    """The body of PUT: the whole record; the slug may be left out (it is in the path)."""

    slug = fields.String(load_default=None)


class NoticeSchema(StrictSchema):
    title = Localised(required=True)
    intro = Localised(required=True)
    contact = Localised(required=True)
    controller = fields.String(required=True, validate=SLUG)
    # Left out of a notice listing only its own service's activities: notices loaded before keep their hash.
    also_lists = fields.List(
        fields.String(validate=SLUG),
        validate=validate.Length(min=1, error=N_("Give at least one, or leave the field out.")),
        metadata={"description": "Activities recorded under another service that this notice also describes "
                  "(one processing, one record: e.g. a chatbot offered on two sites)"},
    )  # fmt: skip


class ActivitiesFileSchema(StrictSchema):
    """One file under policies/activities/."""

    service = fields.String(
        required=True, validate=validate.Regexp(SERVICES_RE, error=N_("Not a valid service name."))
    )
    notice = fields.Nested(NoticeSchema, required=True)
    activities = fields.List(fields.Raw(), required=True)  # validated one by one, so errors name the activity


class OrganisationsFileSchema(StrictSchema):
    organisations = fields.List(fields.Raw(), required=True)


# --- API output -------------------------------------------------------------------------------------------


class RightSchema(Schema):
    right = fields.String()
    article = fields.String()
    applies = fields.Boolean()
    reason = fields.String()
    limit = fields.String(
        allow_none=True,
        metadata={
            "description": "A ground the officer may invoke against the right, e.g. Personal Data Act § 17"
        },
    )


class JointArrangementOutSchema(JointArrangementSchema):
    agreed_on = fields.String(allow_none=True)  # stored as ISO text


class ActivityOutSchema(ActivitySchema):
    """An activity as the API returns it: the record plus version metadata and derived rights."""

    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)
    updated_by = fields.String(dump_only=True)
    rights = fields.List(fields.Nested(RightSchema), dump_only=True)
    review_date = fields.String(allow_none=True)
    statutory_registry = fields.Nested(StatutoryRegistrySchema, allow_none=True, dump_default=None)
    joint_arrangement = fields.Nested(JointArrangementOutSchema, allow_none=True, dump_default=None)


class RuleChangeResultSchema(Schema):
    """What the dry run of a rule change found for one rule."""

    rule = fields.String()
    action = fields.String()
    period = fields.String()
    candidates = fields.Integer(metadata={"description": "rows due under the new rule"})
    acted = fields.Integer(metadata={"description": "rows it would delete, anonymise or deposit"})
    held = fields.Integer(metadata={"description": "due rows a hold keeps back"})
    error = fields.String(allow_none=True)


class RuleChangeSchema(Schema):
    """A change to an activity's retention rules, waiting for its dry run and confirmation (or decided)."""

    id = fields.Integer()
    activity = fields.String()
    status = fields.String(metadata={"description": "pending | applied | discarded | superseded"})
    rules = fields.List(fields.Nested(RetentionRuleSchema), metadata={"description": "the proposed rules"})
    before = fields.List(fields.Nested(RetentionRuleSchema), metadata={"description": "the rules in force"})
    proposed_at = fields.DateTime()
    proposed_by = fields.String()
    dry_run_id = fields.Integer(allow_none=True, metadata={"description": "the dry retention run"})
    dry_run_version = fields.Integer(allow_none=True, metadata={"description": "activity version it saw"})
    dry_run_at = fields.DateTime(allow_none=True)
    dry_run_by = fields.String(allow_none=True)
    dry_run_result = fields.List(fields.Nested(RuleChangeResultSchema))
    decided_at = fields.DateTime(allow_none=True)
    decided_by = fields.String(allow_none=True)


class RuleChangeListArgsSchema(StrictSchema):
    status = fields.String(
        load_default=None, validate=_one_of(("pending", "applied", "discarded", "superseded"), "status")
    )
    activity = fields.String(load_default=None, validate=SLUG)


class ActivityWrittenSchema(ActivityOutSchema):
    """An activity as a write returns it, with the rule change the write left waiting, if any."""

    pending_rule_change = fields.Nested(RuleChangeSchema, allow_none=True, dump_only=True)


class ActivitySummarySchema(Schema):
    slug = fields.String()
    service = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    name = fields.Nested(LocalisedSchema)
    controller = fields.String()
    legal_basis = fields.String(metadata={"example": "6(1)(a)"})
    special_categories = fields.Boolean()
    version = fields.Integer()
    updated_at = fields.DateTime()
    updated_by = fields.String()


class ActivityListArgsSchema(PageArgsSchema):
    service = fields.String(load_default=None)
    controller = fields.String(load_default=None)
    legal_basis = fields.String(load_default=None, validate=_one_of(LEGAL_BASES, "legal basis"))
    special_categories = fields.Boolean(load_default=None)
    status = fields.String(load_default=None, validate=_one_of(STATUSES, "status"))
    q = fields.String(load_default=None, validate=validate.Length(max=200))


class ActivityListSchema(Schema):
    items = fields.List(fields.Nested(ActivitySummarySchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class VersionSchema(Schema):
    version = fields.Integer()
    status = fields.String()
    change = fields.String()
    changed_at = fields.DateTime()
    changed_by = fields.String()
    changes = fields.List(
        fields.Dict(), metadata={"description": "Fields that differ from the previous version"}
    )
    data = fields.Dict()


class VersionListSchema(Schema):
    slug = fields.String()
    versions = fields.List(fields.Nested(VersionSchema))


class OrganisationOutSchema(OrganisationSchema):
    class Meta:
        unknown = EXCLUDE


class RopaArgsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    format = fields.String(load_default="json", validate=_one_of(("pdf", "csv", "json", "jsonld"), "format"))
    lang = fields.String(load_default="en", validate=_one_of(("nb", "en"), "language"))
    service = fields.String(
        load_default=None,
        validate=validate.Regexp(
            SERVICES_RE, error=N_("Not a service name (lower-case letters, digits and '-').")
        ),
    )
    include_retired = fields.Boolean(load_default=True)
    controller = fields.String(
        load_default=None,
        validate=SLUG,
        metadata={"description": "One controller's record: the activities it is (joint) controller of"},
    )


activity_schema = ActivitySchema()
activity_out_schema = ActivityOutSchema()
organisation_schema = OrganisationSchema()
activities_file_schema = ActivitiesFileSchema()
organisations_file_schema = OrganisationsFileSchema()
