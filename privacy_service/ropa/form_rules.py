"""The rows of an activity's machine deletion rules (RetentionRuleSchema): what the retention runner does to
one mapped table, and when, with the column lists as comma-separated text."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, Form, SelectChoice, SelectField, StringField
from wtforms.validators import Length

from privacy_service.ropa.form_fields import PeriodField, a_period
from privacy_service.ropa.rules import DEFAULT_SCHEDULE, RULE_ACTIONS

RULE_ACTION_WORDS = {
    "delete": _l("Delete the rows"),
    "anonymise": _l("Anonymise the rows"),
    "deposit": _l("Deposit with the archive, then delete"),
}


def _clean(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _column(label: Any) -> StringField:
    return StringField(label, validators=[Length(max=100)], render_kw={"spellcheck": "false"})


def _columns(label: Any) -> StringField:
    return StringField(label, validators=[Length(max=2000)], render_kw={"spellcheck": "false"})


class RuleRow(Form):
    """A machine retention rule: what the retention runner does to one mapped table, and when."""

    system = _column(_l("Data system"))
    table = _column(_l("Table"))
    period = PeriodField(_l("Kept for"), validators=[a_period])
    anchor = _column(_l("Counted from the column (empty: the table's own)"))
    anchor_fallback = _column(_l("Counted from this column when that one is empty"))
    action = SelectField(
        _l("Then"),
        choices=[SelectChoice(a, RULE_ACTION_WORDS[a]) for a in RULE_ACTIONS],
        validate_choice=False,
    )
    mask_columns = _columns(_l("Columns to blank when anonymising (separated by commas)"))
    keep_columns = _columns(_l("Columns kept as they are when anonymising (separated by commas)"))
    coarsen = _columns(_l("Times kept only to the month when anonymising (separated by commas)"))
    reviewed_free_text = _columns(_l("Free-text columns an officer reviewed and keeps (separated by commas)"))
    schedule = StringField(
        _l("Runs at (minute hour day month weekday)"),
        validators=[Length(max=100)],
        render_kw={"spellcheck": "false"},
    )
    note = StringField(_l("Note"), validators=[Length(max=2000)])
    remove = BooleanField(_l("Remove"))


def _split(text: Any) -> list[str]:
    return [part.strip() for part in str(text or "").split(",") if part.strip()]


def rule_row(rule: dict[str, Any]) -> dict[str, Any]:
    row = {k: _clean(rule.get(k)) for k in ("system", "table", "period", "anchor", "anchor_fallback", "note")}
    lists = {k: ", ".join(rule.get(k) or []) for k in ("mask_columns", "keep_columns", "reviewed_free_text")}
    return {
        **row,
        **lists,
        "action": rule.get("action") or "delete",
        "coarsen": ", ".join(rule.get("coarsen") or {}),
        "schedule": rule.get("schedule") or DEFAULT_SCHEDULE,
    }


def rule_item(row: dict[str, Any]) -> dict[str, Any]:
    texts = {
        k: _clean(row.get(k)) or None for k in ("system", "table", "period", "anchor", "anchor_fallback")
    }
    return {
        **texts,
        "action": row.get("action") or None,
        "mask_columns": _split(row.get("mask_columns")),
        "keep_columns": _split(row.get("keep_columns")),
        "coarsen": dict.fromkeys(_split(row.get("coarsen")), "month"),
        "reviewed_free_text": _split(row.get("reviewed_free_text")),
        "schedule": _clean(row.get("schedule")) or DEFAULT_SCHEDULE,
        "note": _clean(row.get("note")) or None,
    }
