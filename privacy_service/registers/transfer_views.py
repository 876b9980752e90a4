"""Officer pages for transfers to third countries: every transfer with its tool and assessment, and a form."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from privacy_service.db import get_session
from privacy_service.errors import ValidationFailed
from privacy_service.registers import transfers
from privacy_service.registers.forms import place_errors
from privacy_service.security.access import current_actor, page

bp = Blueprint("transfer_officer", __name__, url_prefix="/officer/transfers", template_folder="templates")

TOOL_WORDS = {
    "adequacy": _l("Adequacy decision (Art. 45)"),
    "scc": _l("Standard contractual clauses (Art. 46(2)(c))"),
    "bcr": _l("Binding corporate rules (Art. 47)"),
    "derogation": _l("Derogation for a specific situation (Art. 49(1))"),
    "none": _l("No transfer tool"),
}
POINT_WORDS = {
    "a": _l("Art. 49(1)(a): explicit consent after being told of the risks"),
    "b": _l("Art. 49(1)(b): necessary for a contract with the data subject"),
    "c": _l("Art. 49(1)(c): necessary for a contract in the data subject's interest"),
    "d": _l("Art. 49(1)(d): important reasons of public interest"),
    "e": _l("Art. 49(1)(e): legal claims"),
    "f": _l("Art. 49(1)(f): vital interests when the data subject cannot consent"),
    "g": _l("Art. 49(1)(g): a public register"),
}
TIA_WORDS = {
    "adequate": _l("The protection is essentially equivalent"),
    "not_adequate": _l("The protection is not essentially equivalent"),
    "not_required": _l("No transfer impact assessment needed (adequacy decision)"),
}
RULE_WORDS = {
    transfers.NONE_RULE: _l("A transfer with no Chapter V tool can never be assessed adequate (Art. 44)."),
    transfers.NOT_REQUIRED_RULE: _l(
        "Only a transfer under an adequacy decision (Art. 45) needs no transfer impact assessment."
    ),
    transfers.POINT_RULE: _l("A derogation needs the point of Art. 49(1), (a) to (g), it relies on."),
    transfers.POINT_ONLY_RULE: _l(
        "A point of Art. 49(1) is only for a transfer that relies on a derogation."
    ),
    transfers.TIA_RULE: _l(
        "Standard contractual clauses and BCR (Art. 46, 47) need a transfer impact assessment and its "
        "conclusion."
    ),
    transfers.LAWS_RULE: _l(
        "The transfer impact assessment needs the laws and practices of the third country."
    ),
}
_TEXT = [Optional(), Length(max=5000)]


class TransferForm(FlaskForm):
    derogation_point = SelectField(_l("The point of Art. 49(1) the derogation relies on"))
    third_country_laws = TextAreaField(_l("The third country's laws and practices"), validators=_TEXT)
    supplementary_measures = TextAreaField(_l("Supplementary measures"), validators=_TEXT)
    tia_conclusion = SelectField(_l("The transfer impact assessment's conclusion"))
    assessed_by = StringField(_l("Assessed by"), validators=[DataRequired(), Length(max=200)])
    assessed_on = DateField(_l("Assessed on"), validators=[DataRequired()])
    next_review_on = DateField(_l("Next review"), validators=[Optional()])


def _lang() -> str:
    return str(get_locale() or "nb")


def _words() -> dict[str, Any]:
    return {"tool_words": TOOL_WORDS, "point_words": POINT_WORDS, "tia_words": TIA_WORDS, "lang": _lang()}


def _form(view: transfers.TransferView) -> TransferForm:
    data = {name: getattr(view, name) for name in transfers.ASSESSMENT_FIELDS}
    data.update(derogation_point=view.derogation_point or "", tia_conclusion=view.tia_conclusion or "")
    if not view.assessed:
        data.update(assessed_by=current_actor().id, assessed_on=date.today())
    form = TransferForm(data=data)
    form.derogation_point.choices = [SelectChoice("", "—")] + [
        SelectChoice(p, str(POINT_WORDS[p])) for p in transfers.DEROGATION_POINTS
    ]
    form.tia_conclusion.choices = [SelectChoice("", "—")] + [
        SelectChoice(c, str(TIA_WORDS[c])) for c in transfers.TIA_CONCLUSIONS
    ]
    return form


@bp.get("/")
@page("registry:read")
def transfer_list() -> str:
    """Every transfer in the record with its Chapter V tool and assessment in words, needing work first."""
    items = transfers.list_for_attention(get_session())
    return render_template("registers/transfer_list.html", items=items, **_words())


@bp.route("/<activity>/<transfer_key>", methods=["GET", "POST"])
@page("registry:write")
def transfer_form(activity: str, transfer_key: str) -> Any:
    """Assess one transfer: the derogation's point, the third country's laws, measures and the conclusion."""
    session = get_session()
    try:
        view = transfers.get_transfer(session, activity=activity, key=transfer_key)
    except transfers.UnknownTransfer:
        abort(404)
    form = _form(view)
    errors: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        data = {name: form[name].data for name in transfers.ASSESSMENT_FIELDS}
        data.update(activity=activity, transfer=transfer_key)
        for name, value in data.items():
            if isinstance(value, str):
                data[name] = value.strip() or None
        try:
            transfers.save_assessment(session, data=data, actor=current_actor())
            flash(_("The transfer assessment is saved."))
            return redirect(url_for("transfer_officer.transfer_list"))
        except ValidationFailed as err:
            session.rollback()
            errors += place_errors(form, err.fields, lambda m: str(RULE_WORDS.get(m, m)))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "registers/transfer_form.html", form=form, view=view, errors=errors, **_words()
    ), status
