"""Officer pages for the DPIA register: the list (what needs attention first) and one form per activity."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from privacy_service.db import get_session
from privacy_service.errors import ValidationFailed
from privacy_service.registers import dpias
from privacy_service.registers.forms import place_errors
from privacy_service.security.access import current_actor, page

bp = Blueprint("dpia_officer", __name__, url_prefix="/officer/dpias", template_folder="templates")

STATUS_WORDS = {
    "not_assessed": _l("Not assessed"),
    "screening": _l("Screening under way"),
    "not_required": _l("Not required"),
    "required": _l("Required, not started"),
    "in_progress": _l("Assessment under way"),
    "completed": _l("Completed"),
    "prior_consultation": _l("Prior consultation with Datatilsynet"),
}
RISK_WORDS = {"low": _l("Low"), "medium": _l("Medium"), "high": _l("High")}
TRIGGER_WORDS = {
    "large_scale_special": _l("Special categories on a large scale"),
    "automated_decisions": _l("Automated decisions (Art. 22)"),
    "children": _l("Children among the data subjects"),
}
ATTENTION_WORDS = {
    "triggers_unassessed": _l("The record calls for a DPIA and none is recorded"),
    "screening_indicates": _l("The screening says a DPIA is required"),
    "required_not_started": _l("A DPIA is required and not started"),
    "consultation_open": _l("Waiting for Datatilsynet's answer"),
}


def _checkboxes(label: Any) -> SelectMultipleField:
    return SelectMultipleField(label, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class DpiaForm(FlaskForm):
    status = SelectField(_l("Status"))
    listed_items = _checkboxes(_l("Datatilsynet's list of processing that always requires a DPIA"))
    criteria = _checkboxes(_l("The nine criteria (two or more: a DPIA is required as a rule)"))
    screening_reasons = TextAreaField(
        _l("The screening's reasons"), validators=[Optional(), Length(max=5000)]
    )
    document_reference = StringField(_l("The DPIA document"), validators=[Optional(), Length(max=300)])
    started_on = DateField(_l("Started on"), validators=[Optional()])
    dpo_advice = TextAreaField(_l("The DPO's advice (Art. 35(2))"), validators=[Optional(), Length(max=5000)])
    dpo_advice_on = DateField(_l("Advice given on"), validators=[Optional()])
    residual_risk = SelectField(_l("Residual risk"))
    consultation_on = DateField(_l("Datatilsynet consulted on (Art. 36)"), validators=[Optional()])
    consultation_reference = StringField(
        _l("Datatilsynet's reference"), validators=[Optional(), Length(max=200)]
    )
    consultation_outcome = TextAreaField(
        _l("Datatilsynet's answer"), validators=[Optional(), Length(max=5000)]
    )
    completed_on = DateField(_l("Completed on"), validators=[Optional()])
    next_review_on = DateField(_l("Next review"), validators=[Optional()])


def _lang() -> str:
    return str(get_locale() or "nb")


def _form(view: dpias.DpiaView) -> DpiaForm:
    lang = _lang()
    data = {name: getattr(view, name) for name in ("status", *dpias.ASSESSMENT_FIELDS)}
    data["status"] = view.status if view.status != "not_assessed" else "screening"
    data["residual_risk"] = view.residual_risk or ""
    form = DpiaForm(data={**data, "listed_items": list(view.listed_items), "criteria": list(view.criteria)})
    form.status.choices = [SelectChoice(s, str(STATUS_WORDS[s])) for s in dpias.SAVED_STATUSES]
    form.residual_risk.choices = [SelectChoice("", "—")] + [
        SelectChoice(r, str(RISK_WORDS[r])) for r in dpias.RISKS
    ]
    form.listed_items.choices = [(i, nb if lang == "nb" else en) for i, nb, en in dpias.DATATILSYNET_LIST]
    form.criteria.choices = [(i, nb if lang == "nb" else en) for i, nb, en in dpias.WP248_CRITERIA]
    return form


def _words() -> dict[str, Any]:
    return {
        "status_words": STATUS_WORDS,
        "risk_words": RISK_WORDS,
        "trigger_words": TRIGGER_WORDS,
        "attention_words": ATTENTION_WORDS,
        "lang": _lang(),
    }


@bp.get("/")
@page("registry:read")
def dpia_list() -> str:
    """Every activity with its DPIA status in words, those needing attention first."""
    return render_template(
        "registers/dpia_list.html", items=dpias.list_for_attention(get_session()), **_words()
    )


@bp.route("/<activity>", methods=["GET", "POST"])
@page("registry:write")
def dpia_form(activity: str) -> Any:
    """Screen and assess one activity: Datatilsynet's list, the nine criteria, the DPO's advice, Art. 36."""
    session = get_session()
    view = dpias.get_dpia(session, activity=activity)
    form = _form(view)
    errors: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        data = {name: form[name].data for name in ("status", *dpias.ASSESSMENT_FIELDS)}
        data.update(activity=activity, residual_risk=form.residual_risk.data or None)
        for name in (
            "screening_reasons",
            "dpo_advice",
            "consultation_reference",
            "consultation_outcome",
            "document_reference",
        ):
            data[name] = (data[name] or "").strip() or None
        try:
            dpias.save_dpia(session, data=data, actor=current_actor())
            flash(_("The DPIA is saved."))
            return redirect(url_for("dpia_officer.dpia_list"))
        except ValidationFailed as err:
            session.rollback()
            errors += place_errors(form, err.fields, _rule_text)
    status = 422 if request.method == "POST" else 200
    history = dpias.dpia_history(session, activity=activity)
    return render_template(
        "registers/dpia_form.html", form=form, view=view, errors=errors, history=history, **_words()
    ), status


def _rule_text(message: str) -> str:
    """The rule's message in the reader's language (the service speaks English, as the API does)."""
    return str(RULE_WORDS.get(message, message))


RULE_WORDS = {
    "Say why no DPIA is needed: the screening's reasons.": _l(
        "Say why no DPIA is needed: the screening's reasons."
    ),
    "Processing on Datatilsynet's list always requires a DPIA.": _l(
        "Processing on Datatilsynet's list always requires a DPIA."
    ),
    "A completed DPIA needs the DPO's advice and its date (Art. 35(2)).": _l(
        "A completed DPIA needs the DPO's advice and its date (Art. 35(2))."
    ),
    "A completed DPIA needs the residual risk.": _l("A completed DPIA needs the residual risk."),
    "A high residual risk needs the prior consultation with Datatilsynet (Art. 36(1)).": _l(
        "A high residual risk needs the prior consultation with Datatilsynet (Art. 36(1))."
    ),
    "Prior consultation (Art. 36) is for a residual risk that stays high; give residual risk high.": _l(
        "Prior consultation (Art. 36) is for a residual risk that stays high; give residual risk high."
    ),
}
