"""The repeating rows of the activity form: one small form per row and how a row maps onto a record item.

Every list of the record (processors, purposes, data categories, transfers...) is edited as rows. The form
always shows one blank row more than the record has; "Add row" draws another without saving; a row left blank
or marked "Remove" is left out of the record. A ListSpec says where the list lives in the record and which
row field each item's keys are shown in, so a marshmallow message on `processors[1].role` lands on that field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Form, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length

from privacy_service.ropa.form_rules import RuleRow, rule_item, rule_row
from privacy_service.ropa.rules import PROCESSOR_ROLES, SAFEGUARDS

PROCESSOR_ROLE_WORDS = {"processor": _l("Processor"), "sub_processor": _l("Sub-processor")}
SAFEGUARD_WORDS = {
    "adequacy": _l("Adequacy decision (Art. 45)"),
    "scc": _l("Standard contractual clauses (Art. 46)"),
    "bcr": _l("Binding corporate rules (Art. 47)"),
    "derogation": _l("Derogation for a specific situation (Art. 49)"),
    "none": _l("No safeguard"),
}
EN = {"lang": "en"}  # English text fields say so, for screen readers
NB = {"lang": "nb"}  # and bokmål ones, on an English page


def _nb(label: Any = None) -> StringField:
    return StringField(label or _l("Norwegian"), validators=[Length(max=5000)], render_kw=NB)


def _en(label: Any = None) -> StringField:
    return StringField(label or _l("English"), validators=[Length(max=5000)], render_kw=EN)


def _remove() -> BooleanField:
    return BooleanField(_l("Remove"))


def organisation_picker(label: Any) -> SelectField:
    """A select of the registry's organisations by name; the view fills in the choices."""
    return SelectField(label, choices=[], validate_choice=False)


class TextRow(Form):
    nb = _nb()
    en = _en()
    remove = _remove()


class OrganisationRow(Form):
    organisation = organisation_picker(_l("Organisation"))
    remove = _remove()


class ProcessorRow(Form):
    organisation = organisation_picker(_l("Organisation"))
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(r, PROCESSOR_ROLE_WORDS[r]) for r in PROCESSOR_ROLES],
        validate_choice=False,
    )
    sub_processor_of = organisation_picker(_l("Sub-processor for"))
    agreement_ref_nb = StringField(
        _l("Data processing agreement (reference, Norwegian)"), validators=[Length(max=500)], render_kw=NB
    )
    agreement_ref_en = StringField(
        _l("Data processing agreement (reference, English)"), validators=[Length(max=500)], render_kw=EN
    )
    agreed_on = StringField(_l("Agreement date"), render_kw={"type": "date"})
    task_nb = _nb(_l("Task (Norwegian)"))
    task_en = _en(_l("Task (English)"))
    plain = HiddenField()  # the texts an older record gave as one plain text, not in two languages
    remove = _remove()


class CategoryRow(Form):
    key = HiddenField()  # the code data maps use; a new row's is made from its English name
    name_nb = _nb(_l("Name (Norwegian)"))
    name_en = _en(_l("Name (English)"))
    special = BooleanField(_l("Special category of personal data (Art. 9)"))
    remove = _remove()


class TransferRow(Form):
    country_nb = _nb(_l("Country (Norwegian)"))
    country_en = _en(_l("Country (English)"))
    recipient_nb = _nb(_l("Recipient (Norwegian)"))
    recipient_en = _en(_l("Recipient (English)"))
    safeguard = SelectField(
        _l("Safeguard"),
        choices=[SelectChoice("", _l("Choose…"))] + [SelectChoice(s, SAFEGUARD_WORDS[s]) for s in SAFEGUARDS],
        validate_choice=False,
    )
    country_code = StringField(
        _l("Country code (ISO 3166-1, e.g. US)"),
        validators=[Length(max=3)],
        render_kw={"autocomplete": "off"},
    )
    details_nb = TextAreaField(
        _l("Details (Norwegian)"), validators=[Length(max=5000)], render_kw={"rows": 2, **NB}
    )
    details_en = TextAreaField(
        _l("Details (English)"), validators=[Length(max=5000)], render_kw={"rows": 2, **EN}
    )
    plain = HiddenField()  # the texts an older record gave as one plain text, not in two languages
    remove = _remove()


class ResponsibilityRow(Form):
    organisation = organisation_picker(_l("Organisation"))
    answers_for_nb = _nb(_l("Answers for (Norwegian)"))
    answers_for_en = _en(_l("Answers for (English)"))
    remove = _remove()


class SystemRow(Form):
    name_nb = StringField(_l("System (Norwegian)"), validators=[Length(max=1000)], render_kw=NB)
    name_en = StringField(_l("System (English)"), validators=[Length(max=1000)], render_kw=EN)
    location_nb = StringField(
        _l("Where the data is stored (Norwegian)"), validators=[Length(max=1000)], render_kw=NB
    )
    location_en = StringField(
        _l("Where the data is stored (English)"), validators=[Length(max=1000)], render_kw=EN
    )
    located_in = StringField(
        _l("Country or region of storage (NO, EU, EEA …)"),
        validators=[Length(max=3)],
        render_kw={"autocomplete": "off"},
    )
    plain = HiddenField()  # the texts an older record gave as one plain text, not in two languages
    remove = _remove()


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _pair(item: Any, prefix: str = "") -> dict[str, str]:
    """A {nb, en} text as two row fields; a plain text (kept from older records) shows in both."""
    if isinstance(item, dict):
        return {f"{prefix}nb": _text(item.get("nb")), f"{prefix}en": _text(item.get("en"))}
    return {f"{prefix}nb": _text(item), f"{prefix}en": _text(item)}


def _localised(
    row: dict[str, Any], prefix: str = "", *, optional: bool = False
) -> dict[str, str | None] | None:
    nb, en = _text(row.get(f"{prefix}nb")), _text(row.get(f"{prefix}en"))
    if optional and not nb and not en:
        return None
    return {"nb": nb or None, "en": en or None}  # type: ignore[dict-item]


def _text_item(row: dict[str, Any]) -> Any:
    return _localised(row)


def plain_keys(item: dict[str, Any], keys: tuple[str, ...]) -> str:
    """The keys of the item whose text is one plain text (kept from older records), for a hidden field."""
    return " ".join(key for key in keys if isinstance(item.get(key), str))


def keep_plain(item: dict[str, Any], plain: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    """Give back as one plain text each text that was one and still reads the same in both languages."""
    for key in str(plain or "").split():
        text = item.get(key)
        if key in keys and isinstance(text, dict) and text["nb"] and text["nb"] == text["en"]:
            item[key] = text["nb"]  # still one plain text: the record stays as it was
    return item


def _processor_item(row: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "organisation": row.get("organisation") or None,
        "role": row.get("role") or None,
        "agreement_ref": _localised(row, "agreement_ref_", optional=True),
        "task": _localised(row, "task_", optional=True),
        "sub_processor_of": row.get("sub_processor_of") or None,
    }
    if _text(row.get("agreed_on")):
        item["agreed_on"] = _text(row.get("agreed_on"))
    return keep_plain(item, row.get("plain"), ("agreement_ref",))


def _processor_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "organisation": item.get("organisation") or "",
        "role": item.get("role") or "processor",
        "sub_processor_of": item.get("sub_processor_of") or "",
        **_pair(item.get("agreement_ref"), "agreement_ref_"),
        "agreed_on": _text(item.get("agreed_on")),
        **_pair(item.get("task"), "task_"),
        "plain": plain_keys(item, ("agreement_ref",)),
    }


def category_key(name: str, taken: set[str]) -> str:
    """A new data category's key made from its English name: lower case, '_' between words, unique."""
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:56] or "category"
    base = base if base[0].isalpha() else f"c_{base}"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def _category_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": _text(row.get("key")),
        "name": _localised(row, "name_"),
        "special": bool(row.get("special")),
    }


_TRANSFER_TEXTS = ("country", "recipient", "details")


def _code(row: dict[str, Any], name: str) -> dict[str, str]:
    """A place code typed in a row, upper-cased; left out of the item when blank (the record omits it)."""
    code = _text(row.get(name)).upper()
    return {name: code} if code else {}


def _transfer_item(row: dict[str, Any]) -> dict[str, Any]:
    item = {
        "country": _localised(row, "country_"),
        "recipient": _localised(row, "recipient_"),
        "safeguard": row.get("safeguard") or None,
        "details": _localised(row, "details_", optional=True),
        **_code(row, "country_code"),
    }
    return keep_plain(item, row.get("plain"), _TRANSFER_TEXTS)


def _transfer_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        **_pair(item.get("country"), "country_"),
        **_pair(item.get("recipient"), "recipient_"),
        "safeguard": item.get("safeguard") or "",
        "country_code": item.get("country_code") or "",
        **(
            {"details_nb": "", "details_en": ""}
            if item.get("details") is None
            else _pair(item["details"], "details_")
        ),
        "plain": plain_keys(item, _TRANSFER_TEXTS),
    }


@dataclass(frozen=True)
class ListSpec:
    """One list of the record edited as rows."""

    name: str  # the form field
    path: tuple[str, ...]  # where the list is in the record
    row: type[Form]
    title: Any
    to_row: Callable[[Any], dict[str, Any]]
    to_item: Callable[[dict[str, Any]], Any]
    blank_ignores: tuple[str, ...] = ("remove",)  # fields that hold a value even in a blank row
    # record key inside an item -> the row field its messages are shown on
    fields: dict[str, str] = field(default_factory=dict)


def _responsibility_row(item: dict[str, Any]) -> dict[str, Any]:
    return {"organisation": item.get("organisation") or "", **_pair(item.get("answers_for"), "answers_for_")}


def _responsibility_item(row: dict[str, Any]) -> dict[str, Any]:
    return {"organisation": row.get("organisation") or None, "answers_for": _localised(row, "answers_for_")}


def _category_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": item.get("key") or "",
        **_pair(item.get("name"), "name_"),
        "special": bool(item.get("special")),
    }


_SYSTEM_TEXTS = ("name", "location")


def _system_row(item: dict[str, Any]) -> dict[str, Any]:
    return {
        **_pair(item.get("name"), "name_"),
        **_pair(item.get("location"), "location_"),
        "located_in": item.get("located_in") or "",
        "plain": plain_keys(item, _SYSTEM_TEXTS),
    }


def _system_item(row: dict[str, Any]) -> dict[str, Any]:
    item = {
        "name": _localised(row, "name_", optional=True),
        "location": _localised(row, "location_", optional=True),
        **_code(row, "located_in"),
    }
    return keep_plain(item, row.get("plain"), _SYSTEM_TEXTS)


def _texts(name: str, title: Any) -> ListSpec:
    return ListSpec(name, (name,), TextRow, title, _pair, _text_item)


LISTS: tuple[ListSpec, ...] = (
    ListSpec(
        "joint_controllers",
        ("joint_controllers",),
        OrganisationRow,
        _l("Joint controllers"),
        lambda slug: {"organisation": slug or ""},
        lambda row: row.get("organisation") or None,
    ),
    ListSpec(
        "responsibilities",
        ("joint_arrangement", "responsibilities"),
        ResponsibilityRow,
        _l("What each joint controller answers for"),
        _responsibility_row,
        _responsibility_item,
        fields={"answers_for": "answers_for_nb"},
    ),
    ListSpec(
        "processors",
        ("processors",),
        ProcessorRow,
        _l("Processors"),
        _processor_row,
        _processor_item,
        blank_ignores=("remove", "role", "plain"),
        fields={"task": "task_nb", "agreement_ref": "agreement_ref_nb"},
    ),
    _texts("purposes", _l("Purposes")),
    _texts("data_subjects", _l("Categories of data subjects")),
    ListSpec(
        "data_categories",
        ("data_categories",),
        CategoryRow,
        _l("Categories of personal data"),
        _category_row,
        _category_item,
        blank_ignores=("remove", "key"),
        fields={"name": "name_nb", "key": "name_en"},
    ),
    _texts("recipients", _l("Recipients")),
    _texts("third_parties", _l("Third parties among the recipients (not processors)")),
    ListSpec(
        "transfers",
        ("transfers",),
        TransferRow,
        _l("Transfers to third countries"),
        _transfer_row,
        _transfer_item,
        blank_ignores=("remove", "plain"),
        fields={
            "country": "country_nb",
            "recipient": "recipient_nb",
            "details": "details_nb",
            "country_code": "country_code",
        },
    ),
    ListSpec(
        "retention_rules",
        ("retention", "rules"),
        RuleRow,
        _l("Machine deletion rules"),
        rule_row,
        rule_item,
        blank_ignores=("remove", "action", "schedule"),
    ),
    _texts("security_measures", _l("Security measures")),
    ListSpec(
        "systems",
        ("systems",),
        SystemRow,
        _l("Systems and storage locations"),
        _system_row,
        _system_item,
        blank_ignores=("remove", "plain"),
        fields={"name": "name_nb", "location": "location_nb", "located_in": "located_in"},
    ),
)
SPECS = {spec.name: spec for spec in LISTS}


def row_is_blank(spec: ListSpec, row: dict[str, Any]) -> bool:
    """A row with nothing typed or chosen in it (its defaults aside) is no item."""
    return not any(
        v is True or (isinstance(v, str) and v.strip()) for k, v in row.items() if k not in spec.blank_ignores
    )


def row_field_for(spec: ListSpec, rest: tuple[Any, ...]) -> str | None:
    """The row field a message on an item's sub-path belongs to ('task', 'nb' -> 'task_nb')."""
    if spec.row is OrganisationRow:
        return "organisation"
    if not rest:
        return None
    names = [f.name for f in spec.row()]
    joined = "_".join(str(k) for k in rest)
    for candidate in (joined, spec.fields.get(joined), spec.fields.get(str(rest[0]))):
        if candidate in names:
            return candidate
    return None
