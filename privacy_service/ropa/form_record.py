"""How the activity form maps onto the activity record and back: which field holds which part of the record,
which parts mean "none" when left empty, and how rows become list items. The form is the ActivityForm of
forms.py, which imports this module (so it is typed Any here)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from privacy_service.ropa.form_rows import LISTS, category_key, keep_plain, row_is_blank

# Texts in bokmål and English edited as two fields (<stem>_nb, <stem>_en), which a record written before
# may hold as one plain text: field stem -> path in the record.
TEXT_PAIRS: dict[str, tuple[str, ...]] = {
    "owner": ("owner",),
    "arrangement_ref": ("joint_arrangement", "agreement_ref"),
    "lia_reference": ("lia_reference",),
    "retention_legal_basis": ("retention", "legal_basis"),
    "disposal_authority": ("disposal", "authority"),
}

# form field -> path in the record (the marshmallow field it is validated as)
FIELD_PATHS: dict[str, tuple[str, ...]] = {
    "name_nb": ("name", "nb"),
    "name_en": ("name", "en"),
    "description_nb": ("description", "nb"),
    "description_en": ("description", "en"),
    "status": ("status",),
    "business_process": ("business_process",),
    "review_date": ("review_date",),
    "controller": ("controller",),
    "representative": ("representative",),
    "arrangement_essence_nb": ("joint_arrangement", "essence", "nb"),
    "arrangement_essence_en": ("joint_arrangement", "essence", "en"),
    "arrangement_contact": ("joint_arrangement", "contact_point"),
    "arrangement_agreed_on": ("joint_arrangement", "agreed_on"),
    "legal_basis": ("legal_basis",),
    "national_basis_nb": ("national_basis", "nb"),
    "national_basis_en": ("national_basis", "en"),
    "legitimate_interest_nb": ("legitimate_interest", "nb"),
    "legitimate_interest_en": ("legitimate_interest", "en"),
    "consent_purpose": ("consent_purpose",),
    "on_withdrawal": ("on_withdrawal",),
    "art9_condition": ("art9_condition",),
    "art10": ("art10",),
    "vulnerable_subjects": ("vulnerable_subjects",),
    "children": ("children",),
    "source_nb": ("source", "nb"),
    "source_en": ("source", "en"),
    "retention_text_nb": ("retention", "text", "nb"),
    "retention_text_en": ("retention", "text", "en"),
    "retention_period": ("retention", "period"),
    "retention_trigger_nb": ("retention", "trigger", "nb"),
    "retention_trigger_en": ("retention", "trigger", "en"),
    "disposal_decision": ("disposal", "decision"),
    "disposal_period": ("disposal", "preservation_period"),
    "dpia_required": ("dpia", "required"),
    "dpia_reference": ("dpia", "reference"),
    "dpia_outcome": ("dpia", "outcome"),
    "dpia_prior_consultation": ("dpia", "prior_consultation"),
    "automated_decisions": ("automated_decisions",),
    "automated_ground": ("automated_decision", "ground"),
    "automated_authority_nb": ("automated_decision", "authority", "nb"),
    "automated_authority_en": ("automated_decision", "authority", "en"),
    "automated_logic_nb": ("automated_decision", "logic", "nb"),
    "automated_logic_en": ("automated_decision", "logic", "en"),
    "automated_significance_nb": ("automated_decision", "significance", "nb"),
    "automated_significance_en": ("automated_decision", "significance", "en"),
    "registry_act_nb": ("statutory_registry", "act", "nb"),
    "registry_act_en": ("statutory_registry", "act", "en"),
    "registry_appeal_nb": ("statutory_registry", "appeal_body", "nb"),
    "registry_appeal_en": ("statutory_registry", "appeal_body", "en"),
    **{f"{stem}_{lang}": (*path, lang) for stem, path in TEXT_PAIRS.items() for lang in ("nb", "en")},
}
FLAGS = {
    "art10",
    "vulnerable_subjects",
    "children",
    "dpia_required",
    "dpia_prior_consultation",
    "automated_decisions",
}
# Parts of the record that mean "none" when every field of them is left empty, the innermost first.
OPTIONAL_GROUPS: tuple[tuple[str, ...], ...] = (
    *TEXT_PAIRS.values(),
    ("automated_decision", "authority"),
    ("retention", "trigger"),
    ("national_basis",),
    ("legitimate_interest",),
    ("source",),
    ("disposal",),
    ("statutory_registry",),
    ("automated_decision",),
    ("joint_arrangement",),
)
# field -> (the record's list, the single field that is its first entry)
CHECKBOX_LISTS = {
    "other_legal_bases": ("legal_bases", "legal_basis"),
    "other_art9_conditions": ("art9_conditions", "art9_condition"),
    "art89_purposes": ("art89_purposes", None),
    "purpose_categories": ("purpose_categories", None),
    "not_stated": ("not_stated", None),
}

NEW_ACTIVITY: dict[str, Any] = {"status": "draft", "legal_basis": "6(1)(e)", "controller": ""}


def _get(record: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def form_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return the form's initial values from a record."""
    values = {name: _get(record, path) for name, path in FIELD_PATHS.items()}
    values = {k: (bool(v) if k in FLAGS else "" if v is None else v) for k, v in values.items()}
    plain = {stem: _get(record, path) for stem, path in TEXT_PAIRS.items()}
    plain = {stem: text for stem, text in plain.items() if isinstance(text, str)}
    for stem, text in plain.items():  # one plain text shows in both fields
        values[f"{stem}_nb"] = values[f"{stem}_en"] = text
    values["plain"] = " ".join(plain)
    for spec in LISTS:
        values[spec.name] = [spec.to_row(item) for item in _get(record, spec.path) or []]
    for name, (many, one) in CHECKBOX_LISTS.items():
        listed = list(record.get(many) or [])
        values[name] = listed[1:] if one and listed and listed[0] == record.get(one) else listed
    return values


def _put(record: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target = record
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value


def _blank(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_blank(v) for v in value.values())
    return value in (None, "", [], False)


def _write_rows(out: dict[str, Any], form: Any) -> dict[str, list[int]]:
    """Write each list from its rows; return which row each item came from (to show messages on)."""
    row_map: dict[str, list[int]] = {}
    for spec in LISTS:
        items, rows = [], []
        for index, entry in enumerate(form[spec.name].entries):
            if entry.form.remove.data or row_is_blank(spec, entry.data):
                continue
            items.append(spec.to_item(entry.data))
            rows.append(index)
        if spec.name == "data_categories":
            taken = {str(item["key"]) for item in items if item["key"]}
            for item in items:
                if not item["key"]:
                    item["key"] = category_key(
                        (item["name"] or {}).get("en") or (item["name"] or {}).get("nb") or "", taken
                    )
                    taken.add(item["key"])
        if items or _get(out, spec.path) is not None:
            _put(out, spec.path, items)
        row_map[spec.name] = rows
    return row_map


def _keep_plain_texts(out: dict[str, Any], plain: Any) -> None:
    """Texts that were one plain text and still read the same in both fields stay one plain text."""
    for stem in str(plain or "").split():
        path = TEXT_PAIRS.get(stem)
        parent = _get(out, path[:-1]) if path and len(path) > 1 else out
        if path and isinstance(parent, dict):
            parent[path[-1]] = keep_plain({"text": parent.get(path[-1])}, "text", ("text",))["text"]


def apply_form(record: Mapping[str, Any], form: Any) -> dict[str, Any]:
    """Return a copy of the record with the form's values written in; form.row_map keeps which row each
    item of a list came from."""
    out = copy.deepcopy(record)
    for name, path in FIELD_PATHS.items():
        value = form[name].data
        if isinstance(value, str):
            value = value.strip() or None
        _put(out, path, bool(value) if name in FLAGS else value)
    form.row_map = _write_rows(out, form)
    _keep_plain_texts(out, form.plain.data)
    for name, (many, one) in CHECKBOX_LISTS.items():
        before = list(out.get(many) or [])  # keep the record's order; newly ticked ones follow
        chosen = sorted(form[name].data or [], key=lambda c: before.index(c) if c in before else len(before))
        if one:
            chosen = [out.get(one)] + [c for c in chosen if c != out.get(one)] if out.get(one) else chosen
            out[one] = chosen[0] if chosen else None
        if len(chosen) > (1 if one else 0):
            out[many] = chosen
        else:
            out.pop(many, None)
    for group in OPTIONAL_GROUPS:
        parent = _get(out, group[:-1]) if len(group) > 1 else out
        if isinstance(parent, dict) and _blank(parent.get(group[-1])):
            parent[group[-1]] = None
    return out
