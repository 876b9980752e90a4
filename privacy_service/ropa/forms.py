"""The officer's activity edit form and how it maps onto the activity record."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml
from flask_babel import LazyString, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import BooleanField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import TextInput, html_params

from privacy_service.kernel import ART9_CONDITIONS, LEGAL_BASES, PERIOD_RE
from privacy_service.ropa.records import ActivityFilter
from privacy_service.ropa.rules import STATUSES
from privacy_service.ropa.texts import art9_text, legal_basis_text

PERIOD_UNITS = (("D", _l("days")), ("W", _l("weeks")), ("M", _l("months")), ("Y", _l("years")))


def _one_unit(period: str | None) -> tuple[str, str] | None:
    """An ISO period as an amount and one unit (P1Y6M as 18 months), or None when it takes two kinds."""
    match = PERIOD_RE.match(period or "")
    if not match:
        return None
    years, months, weeks, days = (int(g or 0) for g in match.groups())
    if (years or months) and (weeks or days):
        return None
    if years and months:
        return str(years * 12 + months), "M"
    if weeks and days:
        return str(weeks * 7 + days), "D"
    for amount, unit in ((years, "Y"), (months, "M"), (weeks, "W"), (days, "D")):
        if amount:
            return str(amount), unit
    return None


class PeriodWidget:
    """A number and a unit (days, weeks, months, years) instead of an ISO 8601 period to type."""

    def __call__(self, field: Any, **kwargs: Any) -> Markup:
        parts = _one_unit(field.data)
        if field.data and parts is None:  # two kinds of unit: keep the text as it is
            return TextInput()(field, **kwargs)
        amount, unit = parts or ("", "Y")
        attrs = html_params(id=field.id, name=f"{field.name}-amount", type="number", min="1", max="99999",
                            value=amount, inputmode="numeric", **kwargs)  # fmt: skip
        options = "".join(
            f'<option value="{code}"{" selected" if code == unit else ""}>{escape(str(words))}</option>'
            for code, words in PERIOD_UNITS
        )
        label = escape(_("Unit"))
        return Markup(  # noqa: S704 - html_params and escape() escaped every value above
            f'<span class="period"><input {attrs}> '
            f'<select name="{field.name}-unit" aria-label="{label}">{options}</select></span>'
        )


def _a_period(form: Any, field: Any) -> None:
    """The period must be a whole number of one unit the record can hold, said in words on the form."""
    if field.data and not PERIOD_RE.match(field.data):
        raise ValidationError(
            _("Give the period as a whole number of days, weeks, months or years (at most 99,999).")
        )


class PeriodField(StringField):
    """An ISO 8601 period entered as a number and a unit; a form posting the ISO text itself still works."""

    widget = PeriodWidget()

    def process(self, formdata: Any, data: Any = None, **kwargs: Any) -> None:
        super().process(formdata, data, **kwargs)
        raw = formdata.get(self.name) if formdata is not None else None
        if not raw and formdata is not None and f"{self.name}-amount" in formdata:
            amount = (formdata.get(f"{self.name}-amount") or "").strip()
            unit = formdata.get(f"{self.name}-unit") or "Y"
            self.data = f"P{amount}{unit}" if amount else ""
            self.raw_data = [self.data]  # what Optional() looks at


ACTIVITY_STATUSES = {"draft": _l("Draft"), "active": _l("In use"), "retired": _l("No longer in use")}


def _in_reader_language(words: Any, code: str) -> LazyString:
    """A choice's label, worded when the form renders, in the reader's language."""
    return LazyString(lambda: words(code, str(get_locale() or "nb")))


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

# Everything else of the record is edited as one YAML block, in the same shape as policies/
# (lists of processors, purposes, data categories, transfers...). Slug and service never change.
FIXED_KEYS = ("slug", "service")
DETAIL_KEYS: tuple[str, ...] = (
    "legal_bases",  # several bases: the primary (the select above) first
    "art9_conditions",
    "art89_purposes",
    "controller",
    "joint_controllers",
    "representative",
    "processors",
    "purposes",
    "legitimate_interest",
    "lia_reference",
    "data_subjects",
    "data_categories",
    "art10",
    "vulnerable_subjects",
    "children",
    "automated_decisions",
    "source",
    "recipients",
    "transfers",
    "security_measures",
    "disposal",
    "business_process",
    "systems",
    "statutory_registry",  # the act and the appeal body of a statutory health registry
)

NEW_ACTIVITY_DETAILS: dict[str, Any] = {
    "controller": "",
    "processors": [],
    "purposes": [{"nb": "", "en": ""}],
    "data_subjects": [{"nb": "", "en": ""}],
    "data_categories": [{"key": "", "name": {"nb": "", "en": ""}, "special": False}],
    "recipients": [],
    "transfers": [],
    "security_measures": [{"nb": "", "en": ""}],
}


class ActivityForm(FlaskForm):
    version = HiddenField()
    name_nb = StringField(_l("Name (Norwegian)"), validators=[Length(max=300)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=300)])
    description_nb = TextAreaField(_l("Description (Norwegian)"), validators=[Length(max=5000)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Length(max=5000)])
    status = SelectField(_l("Status"), choices=[SelectChoice(s, ACTIVITY_STATUSES[s]) for s in STATUSES])
    legal_basis = SelectField(
        _l("Legal basis (Art. 6(1))"),
        choices=[SelectChoice(k, _in_reader_language(legal_basis_text, k)) for k in LEGAL_BASES],
    )
    national_basis_nb = StringField(
        _l("National legal basis (Norwegian)"), validators=[Optional(), Length(max=5000)]
    )
    national_basis_en = StringField(
        _l("National legal basis (English)"), validators=[Optional(), Length(max=5000)]
    )
    art9_condition = SelectField(
        _l("Art. 9(2) condition"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(k, _in_reader_language(art9_text, k)) for k in ART9_CONDITIONS],
    )
    consent_purpose = StringField(_l("Consent purpose"), validators=[Optional(), Length(max=64)])
    retention_text_nb = TextAreaField(_l("Retention (Norwegian)"), validators=[Length(max=5000)])
    retention_text_en = TextAreaField(_l("Retention (English)"), validators=[Length(max=5000)])
    retention_period = PeriodField(_l("Retention period"), validators=[Optional(), _a_period])
    owner = StringField(_l("Owner"), validators=[Optional(), Length(max=300)])
    review_date = StringField(_l("Review date (YYYY-MM-DD)"), validators=[Optional()])
    dpia_required = BooleanField(_l("DPIA required"))
    dpia_reference = StringField(_l("DPIA reference"), validators=[Optional(), Length(max=300)])
    details = TextAreaField(
        _l(
            "Controller, processors, purposes, data subjects, data categories, recipients, transfers, "
            "security measures and the other lists (YAML, as in policies/)"
        ),
        validators=[Length(max=100_000)],
        render_kw={"rows": 24, "spellcheck": "false", "class": "code"},
    )

    FIRST: tuple[str, ...] = ()

    def visible_fields(self) -> list[Any]:
        """The fields to render, in order: the identifying ones first, hidden ones left out."""
        hidden = {"csrf_token", "version"}
        rest = [f for f in self if f.name not in hidden and f.name not in self.FIRST]
        return [self[name] for name in self.FIRST] + rest


class NewActivityForm(ActivityForm):
    FIRST = ("slug", "service")
    slug = StringField(_l("Slug (a-z, 0-9 and '-')"), validators=[Length(min=1, max=64)])
    service = SelectField(_l("Service"), choices=[])


def activity_filter(args: Mapping[str, str]) -> ActivityFilter:
    """Read the activity list's filters from the query string; a value the list does not know is ignored."""
    legal_basis, status = args.get("legal_basis"), args.get("status")
    return ActivityFilter(
        service=args.get("service") or None,
        controller=args.get("controller") or None,
        legal_basis=legal_basis if legal_basis in LEGAL_BASES else None,
        special_categories={"yes": True, "no": False}.get(args.get("special", "")),
        status=status if status in STATUSES else None,
        q=(args.get("q") or "")[:200] or None,
    )


def _get(record: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def dump_details(record: Mapping[str, Any]) -> str:
    """The record's list and nested fields as the YAML the details box shows."""
    details = {key: record[key] for key in DETAIL_KEYS if key in record}
    return yaml.safe_dump(details, allow_unicode=True, sort_keys=False, width=100)


def form_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return the form's initial values from a record."""
    values = {name: _get(record, path) for name, path in FIELD_PATHS.items()}
    values = {k: ("" if v is None and k != "dpia_required" else v) for k, v in values.items()}
    values["details"] = dump_details(record)
    return values


class DetailsError(ValueError):
    """The details box is not a YAML mapping of the allowed keys."""


def parse_details(text: str) -> dict[str, Any]:
    """Read the details box; raise DetailsError with a message an officer can act on."""
    try:
        parsed = yaml.safe_load(text or "") or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = _("line %(line)s", line=mark.line + 1) if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise DetailsError(
            _("Not valid YAML (%(where)s): %(problem)s", where=where, problem=problem)
        ) from err
    if not isinstance(parsed, dict):
        raise DetailsError(_("Write the details as 'field: value' lines (a YAML mapping)."))
    unknown = sorted(str(k) for k in parsed if k not in DETAIL_KEYS)
    if unknown:
        raise DetailsError(
            _(
                "Unknown field(s): %(names)s. Allowed: %(allowed)s",
                names=", ".join(unknown),
                allowed=", ".join(DETAIL_KEYS),
            )
        )
    return parsed


def apply_form(record: Mapping[str, Any], form: ActivityForm) -> dict[str, Any]:
    """Return a copy of the record with the form's values written in (raises DetailsError)."""
    out = copy.deepcopy(record)
    details = parse_details(form.details.data)
    for key in DETAIL_KEYS:
        if key in details:
            out[key] = details[key]
        else:
            out.pop(key, None)  # removed from the box: back to the schema's default
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
    details = [f"{k}: {_flatten(v)}" for k, v in messages.items() if k in DETAIL_KEYS]
    if details:
        out["details"] = details
    covered = {p[0] for p in FIELD_PATHS.values()} | set(DETAIL_KEYS)
    rest = [f"{k}: {_flatten(v)}" for k, v in messages.items() if k not in covered]
    if rest:
        out["_record"] = rest
    return out


def _flatten(value: Any, prefix: str = "") -> str:
    """Marshmallow's nested messages as one readable line: 'processors[0].role: Not one of ...'."""
    if isinstance(value, dict):
        parts = []
        for key, inner in value.items():
            label = f"[{key}]" if isinstance(key, int) else (f".{key}" if prefix else str(key))
            parts.append(_flatten(inner, f"{prefix}{label}"))
        return "; ".join(parts)
    text = " ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return f"{prefix.lstrip('.')}: {text}" if prefix else text
