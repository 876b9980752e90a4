"""The activity form's messages: marshmallow's paths mapped onto the form's fields, in the reader's words.

The schema's messages are English and name record paths (`processors[1].role: Missing data...`). An officer
reads them on the field they belong to, worded in their language, and once more in the summary at the top.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from privacy_service.http import page_message
from privacy_service.ropa.form_rows import LISTS, row_field_for

# The schema's own messages, worded for the form. A message not listed reads as "check this value".
_WORDS = {
    "Missing data for required field.": _l("Fill this in."),
    "Field may not be null.": _l("Fill this in."),
    "Not a valid string.": _l("Fill this in."),
    "Give a text.": _l("Fill this in."),
    # the form's own length checks speak first: here it is the empty field
    "Must not be empty, and at most 5000 characters.": _l("Fill this in."),
    "Must not be empty, and at most 300 characters.": _l("Fill this in."),
    "Give the text in both Norwegian (nb) and English (en).": _l(
        "Give the text in both Norwegian and English."
    ),
    "Give at least one.": _l("Give at least one."),
    "Not a valid date.": _l("Give a real date as year-month-day, for example 2027-03-31."),
    "Use an ISO-8601 period such as P30D, P2M or P25Y.": _l(
        "Give the period as a whole number of days, weeks, months or years (at most 99,999)."
    ),
    "Use lower-case letters, digits and '-' (at most 64 characters).": _l(
        "Use lower-case letters a–z, digits and hyphens (at most 64 characters)."
    ),
    "Already in use.": _l("Already in use."),
    "A sub-processor must name the processor it works for.": _l(
        "A sub-processor must name the processor it works for."
    ),
    "A decision authorised by law (22(2)(b)) must name the law.": _l(
        "A decision authorised by law must name the law."
    ),
    "Special categories of data are processed: name the Art. 9(2) condition.": _l(
        "Special categories of data are processed: choose the Art. 9(2) condition."
    ),
    "A consent-based activity must name its consent purpose.": _l(
        "An activity based on consent must name its consent purpose."
    ),
    "The consent purpose of a consent-based activity is its slug.": _l(
        "The consent purpose of an activity based on consent is the activity's short name."
    ),
    "Only a consent-based activity has a withdrawal action.": _l(
        "Only an activity based on consent says what a withdrawal does."
    ),
    "Art. 6(3): a legal obligation or public task needs its national legal basis.": _l(
        "A legal obligation or a public task needs its national legal basis (Art. 6(3))."
    ),
    "Each data category key must be unique within the activity.": _l(
        "Two categories of personal data have the same name; give each its own."
    ),
    "Joint controllers need their arrangement (Art. 26): give its essence.": _l(
        "Joint controllers need their arrangement (Art. 26): give its essence."
    ),
    "Only an activity with joint_controllers has a joint arrangement.": _l(
        "Only an activity with joint controllers has a joint arrangement."
    ),
    "Only an activity with automated_decisions describes one.": _l(
        "Tick automated decisions, or leave the description of the decision empty."
    ),
    "Art. 22(4): an automated decision on special categories needs 9(2)(a) or 9(2)(g).": _l(
        "An automated decision on special categories needs explicit consent or a substantial public "
        "interest (Art. 22(4))."
    ),
    "Only an anonymise rule keeps columns.": _l("Only an anonymising rule keeps columns."),
    "Say in note who reviewed the free text, and when.": _l(
        "Say in the note who reviewed the free text, and when."
    ),
    "String does not match expected pattern.": _l(
        "Use letters, digits and underscores only, starting with a letter (the name in the database)."
    ),
}
_CHOOSE = _l("Choose one from the list.")
_EMPTY = {"Missing data for required field.", "Field may not be null.", "Not a valid string.", "Give a text."}
_NOT_A_CHOICE = ("Unknown ", "Not one of", "Use lower-case")
_PROCESSOR_N = re.compile(r"^Processor (\d+):")
_LONG = re.compile(r"^(?:Length must be between \d+ and|Longer than maximum length|Keep it to) (\d+)")
_ORGANISATION = re.compile(r"unknown organisation|neither the controller|not listed as a processor", re.I)


def field_words(message: str, field: Any = None) -> str:
    """One schema or service message in the reader's words, fitted to the field it is shown on."""
    if isinstance(field, SelectField) and (message in _EMPTY or message.startswith(_NOT_A_CHOICE)):
        return str(_CHOOSE)
    if message in _WORDS:
        return str(_WORDS[message])
    if message.startswith(_NOT_A_CHOICE[:2]):
        return str(_CHOOSE)
    if _ORGANISATION.search(message):
        return _("Choose an organisation the activity names.")
    if message.startswith("Not a crontab schedule"):
        return _(
            "Give the time as five fields: minute, hour, day, month and weekday, for example 30 2 * * *."
        )
    long = _LONG.match(message)
    if long:
        return _("Fill this in, in at most %(count)s characters.", count=long.group(1))
    said = page_message(message)  # a message the catalogue has, with the values it names
    if said != message or str(get_locale() or "en") == "en":
        return said
    return _("This value cannot be saved; check it.")


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    if isinstance(value, dict):
        return [leaf for key, inner in value.items() for leaf in _leaves(inner, (*path, key))]
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return [leaf for inner in value for leaf in _leaves(inner, path)]
    return [
        (path, m if isinstance(m, str) else str(m)) for m in (value if isinstance(value, list) else [value])
    ]


def _list_target(form: Any, path: tuple[Any, ...]) -> Any:
    """The field a message on a list (or on one of its items) belongs to."""
    for spec in LISTS:
        n = len(spec.path)
        if tuple(path[:n]) != spec.path:
            continue
        rows = form[spec.name]
        rest = path[n:]
        if rest and isinstance(rest[0], int):
            mapped = getattr(form, "row_map", {}).get(spec.name, [])
            index = mapped[rest[0]] if rest[0] < len(mapped) else None
            if index is not None:
                entry = rows.entries[index].form
                return entry[row_field_for(spec, rest[1:]) or next(iter(entry)).short_name]
        first = rows.entries[0].form if rows.entries else None
        return next(iter(first)) if first is not None else rows
    return None


def errors_to_fields(
    messages: Mapping[str, Any], form: Any, paths: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """Put marshmallow messages (nested by record path) on the form's fields; return those no field shows."""
    by_path = {path: name for name, path in paths.items()}
    unplaced: list[str] = []
    for path, message in _leaves(dict(messages)):
        path = tuple(k for k in path if k != "_schema")
        numbered = _PROCESSOR_N.match(message) if path == ("processors",) else None
        if numbered:  # service.check_references numbers the processor from 1
            path = ("processors", int(numbered.group(1)) - 1, "organisation")
        target = _list_target(form, path)
        if target is None:
            for cut in range(len(path), 0, -1):
                name = by_path.get(path[:cut]) or by_path.get((*path[:cut], "nb"))
                if name:
                    target = form[name]
                    break
        if target is None:
            target = next((form[name] for name, p in paths.items() if p[: len(path)] == path and path), None)
        if target is None or not hasattr(target, "errors"):
            unplaced.append(field_words(message))
            continue
        text = field_words(message, target)
        if not isinstance(target.errors, list):
            target.errors = list(target.errors or [])
        if text not in target.errors and not target.errors:  # a field's own check said it first
            target.errors.append(text)
    return unplaced


def error_summary(form: Any) -> list[tuple[str, str, str]]:
    """Every field with a message, in the form's order: (field id, label, message)."""
    out: list[tuple[str, str, str]] = []
    for field in form:
        if field.short_name == "csrf_token":
            continue
        spec = next((s for s in LISTS if s.name == field.short_name), None)
        if spec is None:
            out += [
                (field.id, str(field.label.text), str(m)) for m in field.errors or [] if isinstance(m, str)
            ]
            continue
        for number, entry in enumerate(field.entries, start=1):
            for sub in entry.form:
                label = f"{spec.title} {number}: {sub.label.text}"
                out += [(sub.id, label, str(m)) for m in sub.errors or [] if isinstance(m, str)]
    return out
