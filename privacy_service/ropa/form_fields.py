"""Form fields the activity form is built from: a period as a number and a unit, a date, a group of boxes."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import SelectChoice, SelectMultipleField, StringField
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextInput, html_params

from privacy_service.kernel import PERIOD_RE

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
    # none at all (P0M, refused on the form): shown again as typed, so the officer corrects the number
    return next((("0", unit) for group, unit in zip(match.groups(), "YMWD", strict=True) if group), None)


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


def a_period(form: Any, field: Any) -> None:
    """The period must be a whole number of one unit the record can hold, said in words on the form."""
    match = PERIOD_RE.match(field.data or "")
    if field.data and (not match or not any(int(g or 0) for g in match.groups())):
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


def _a_date(form: Any, field: Any) -> None:
    """A date the record can hold, said in words (a browser without a date picker sends what was typed)."""
    try:
        date.fromisoformat((field.data or "").strip())
    except ValueError:
        raise ValidationError(_("Give a real date as year-month-day, for example 2027-03-31.")) from None


def date_field(label: Any) -> StringField:
    return StringField(label, validators=[Optional(), _a_date], render_kw={"type": "date"})


def checkboxes(label: Any, choices: list[SelectChoice]) -> SelectMultipleField:
    return SelectMultipleField(
        label,
        choices=choices,
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
