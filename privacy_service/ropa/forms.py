"""The officer's activity edit form and how it maps onto the activity record."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from privacy_service.ropa.rules import ART9_CONDITIONS, LEGAL_BASES, STATUSES

# form field -> path in the record (the marshmallow field it is validated as)
FIELD_PATHS: dict[str, tuple[str, ...]] = {
    "name_nb": ("name", "nb"),
    "name_en": ("name", "en"),
    "description_nb": ("description", "nb"),
    "description_en": ("description", "en"),
    "status": ("status",),
    "legal_basis": ("legal_basis",),
    "national_basis_nb": ("national_basis", "nb"),
    "national_basis_en": ("national_basis", "en"),
    "art9_condition": ("art9_condition",),
    "consent_purpose": ("consent_purpose",),
    "retention_text_nb": ("retention", "text", "nb"),
    "retention_text_en": ("retention", "text", "en"),
    "retention_period": ("retention", "period"),
    "owner": ("owner",),
    "review_date": ("review_date",),
    "dpia_required": ("dpia", "required"),
    "dpia_reference": ("dpia", "reference"),
}
OPTIONAL_GROUPS = {"national_basis"}  # an empty localised text means "none"


class ActivityForm(FlaskForm):
    version = HiddenField()
    name_nb = StringField(_l("Name (Norwegian)"), validators=[Length(max=300)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=300)])
    description_nb = TextAreaField(_l("Description (Norwegian)"), validators=[Length(max=5000)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Length(max=5000)])
    status = SelectField(_l("Status"), choices=[SelectChoice(s) for s in STATUSES])
    legal_basis = SelectField(_l("Legal basis (Art. 6(1))"), choices=[SelectChoice(k) for k in LEGAL_BASES])
    national_basis_nb = StringField(
        _l("National legal basis (Norwegian)"), validators=[Optional(), Length(max=5000)]
    )
    national_basis_en = StringField(
        _l("National legal basis (English)"), validators=[Optional(), Length(max=5000)]
    )
    art9_condition = SelectField(
        _l("Art. 9(2) condition"),
        choices=[SelectChoice("", "—")] + [SelectChoice(k, f"{k} {v}") for k, v in ART9_CONDITIONS.items()],
    )
    consent_purpose = StringField(_l("Consent purpose"), validators=[Optional(), Length(max=64)])
    retention_text_nb = TextAreaField(_l("Retention (Norwegian)"), validators=[Length(max=5000)])
    retention_text_en = TextAreaField(_l("Retention (English)"), validators=[Length(max=5000)])
    retention_period = StringField(_l("Retention period (ISO 8601, e.g. P30D)"), validators=[Optional()])
    owner = StringField(_l("Owner"), validators=[Optional(), Length(max=300)])
    review_date = StringField(_l("Review date (YYYY-MM-DD)"), validators=[Optional()])
    dpia_required = BooleanField(_l("DPIA required"))
    dpia_reference = StringField(_l("DPIA reference"), validators=[Optional(), Length(max=300)])


def _get(record: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def form_values(record: dict[str, Any]) -> dict[str, Any]:
    """Return the form's initial values from a record."""
    values = {name: _get(record, path) for name, path in FIELD_PATHS.items()}
    return {k: ("" if v is None and k != "dpia_required" else v) for k, v in values.items()}


def apply_form(record: dict[str, Any], form: ActivityForm) -> dict[str, Any]:
    """Return a copy of the record with the form's values written in."""
    import copy

    out = copy.deepcopy(record)
    for name, path in FIELD_PATHS.items():
        value = form[name].data
        if isinstance(value, str):
            value = value.strip() or None
        target = out
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[path[-1]] = value
    for group in OPTIONAL_GROUPS:
        if isinstance(out.get(group), dict) and not any(out[group].values()):
            out[group] = None
    if out.get("dpia"):
        out["dpia"]["required"] = bool(form.dpia_required.data)
    return out


def errors_to_fields(messages: dict[str, Any]) -> dict[str, list[str]]:
    """Map marshmallow messages (nested by record path) onto form field names."""
    out: dict[str, list[str]] = {}
    for name, path in FIELD_PATHS.items():
        value: Any = messages
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, list):
                break
        if isinstance(value, list):
            out[name] = [str(m) for m in value]
    covered = {p[0] for p in FIELD_PATHS.values()}
    rest = [f"{k}: {v}" for k, v in messages.items() if k not in covered]
    if rest:
        out["_record"] = rest
    return out
