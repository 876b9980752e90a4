"""Officer pages for legitimate-interest assessments: the list, unassessed first, and a form per activity."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from privacy_service.db import get_session
from privacy_service.errors import ValidationFailed
from privacy_service.registers import lias
from privacy_service.registers.forms import place_errors
from privacy_service.security.access import current_actor, page

bp = Blueprint("lia_officer", __name__, url_prefix="/officer/lias", template_folder="templates")

STATUS_WORDS = {
    "not_assessed": _l("Not assessed"),
    "legitimate": _l("Legitimate interest: the processing may rely on it"),
    "not_legitimate": _l("Not a legitimate interest: the processing may not rely on it"),
}
CONCLUSION_WORDS = {
    "legitimate": _l("The interest is legitimate and not overridden"),
    "not_legitimate": _l("The interest does not hold, or the subjects' interests override it"),
}
HOLDER_WORDS = {"controller": _l("The controller"), "third_party": _l("A third party")}
RULE_WORDS = {
    lias.PUBLIC_TASK_RULE: _l(
        "Art. 6(1) second subparagraph: legitimate interests (Art. 6(1)(f)) do not apply to processing by a "
        "public authority in the performance of its tasks; record the task under Art. 6(1)(e) instead."
    ),
    lias.INTEREST_RULE: _l(
        "A legitimate interest must be lawful, clearly articulated and real and present (EDPB 1/2024)."
    ),
    lias.NECESSITY_RULE: _l(
        "Say why the processing is necessary and which less intrusive alternatives were considered."
    ),
    lias.BALANCING_RULE: _l(
        "The balancing needs the subjects' reasonable expectations, the nature of the data and the impact."
    ),
    lias.REVIEW_RULE: _l("The review date must come after the assessment."),
}
_TEXT = [Optional(), Length(max=5000)]


class LiaForm(FlaskForm):
    public_task_processing = BooleanField(
        _l("The processing is part of the authority's tasks (then Art. 6(1)(f) cannot be used)")
    )
    interest = TextAreaField(_l("The interest pursued"), validators=[DataRequired(), Length(max=5000)])
    interest_holder = SelectField(_l("Whose interest"))
    interest_lawful = BooleanField(_l("The interest is lawful"))
    interest_specific = BooleanField(_l("The interest is clearly and precisely articulated"))
    interest_present = BooleanField(_l("The interest is real and present, not speculative"))
    necessity = TextAreaField(_l("Why the processing is necessary for the interest"), validators=_TEXT)
    alternatives = TextAreaField(_l("Less intrusive alternatives considered"), validators=_TEXT)
    reasonable_expectations = TextAreaField(
        _l("The data subjects' reasonable expectations"), validators=_TEXT
    )
    data_nature = TextAreaField(_l("The nature of the data"), validators=_TEXT)
    impact = TextAreaField(_l("The impact on the data subjects"), validators=_TEXT)
    safeguards = TextAreaField(_l("Safeguards"), validators=_TEXT)
    conclusion = SelectField(_l("Conclusion"))
    conclusion_reasons = TextAreaField(_l("Reasons for the conclusion"), validators=_TEXT)
    assessed_by = StringField(_l("Assessed by"), validators=[DataRequired(), Length(max=200)])
    assessed_on = DateField(_l("Assessed on"), validators=[DataRequired()])
    next_review_on = DateField(_l("Next review"), validators=[Optional()])


def _lang() -> str:
    return str(get_locale() or "nb")


def _form(view: lias.LiaView) -> LiaForm:
    data = {name: getattr(view, name) for name in lias.ASSESSMENT_FIELDS}
    if view.status == "not_assessed":
        data.update(assessed_by=current_actor().id, assessed_on=date.today(), interest_holder="controller")
    form = LiaForm(data=data)
    form.interest_holder.choices = [SelectChoice(h, str(HOLDER_WORDS[h])) for h in lias.HOLDERS]
    form.conclusion.choices = [SelectChoice(c, str(CONCLUSION_WORDS[c])) for c in lias.CONCLUSIONS]
    return form


def _words() -> dict[str, Any]:
    return {
        "status_words": STATUS_WORDS,
        "holder_words": HOLDER_WORDS,
        "lang": _lang(),
        "today": date.today(),
    }


@bp.get("/")
@page("registry:read")
def lia_list() -> str:
    """Every activity relying on Art. 6(1)(f) with its assessment in words, the unassessed first."""
    return render_template(
        "registers/lia_list.html", items=lias.list_for_attention(get_session()), **_words()
    )


@bp.route("/<activity>", methods=["GET", "POST"])
@page("registry:write")
def lia_form(activity: str) -> Any:
    """Assess one activity's legitimate interest: the interest, necessity, the balancing, the conclusion."""
    session = get_session()
    view = lias.get_lia(session, activity=activity)
    form = _form(view)
    errors: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        data = {name: form[name].data for name in lias.ASSESSMENT_FIELDS}
        data["activity"] = activity
        for name, value in data.items():
            if isinstance(value, str):
                data[name] = value.strip() or None
        try:
            lias.save_lia(session, data=data, actor=current_actor())
            flash(_("The legitimate-interest assessment is saved."))
            return redirect(url_for("lia_officer.lia_list"))
        except ValidationFailed as err:
            session.rollback()
            errors += place_errors(form, err.fields, lambda m: str(RULE_WORDS.get(m, m)))
    status = 422 if request.method == "POST" else 200
    history = lias.lia_history(session, activity=activity)
    return render_template(
        "registers/lia_form.html", form=form, view=view, errors=errors, history=history, **_words()
    ), status
