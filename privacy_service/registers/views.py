"""Officer pages of the breach register: the list with the 72-hour countdown, and a page per breach with a
form for each step."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from privacy_service.db import get_session
from privacy_service.errors import DomainError
from privacy_service.http import app_instance_path, page_message, send_download
from privacy_service.registers import service
from privacy_service.security.access import current_actor, page

bp = Blueprint("breaches_officer", __name__, url_prefix="/officer/breaches", template_folder="templates")
SCOPE = "breaches:manage"
OSLO = ZoneInfo("Europe/Oslo")  # the officer types local time; it is stored in UTC


def _lang() -> str:
    return "en" if str(get_locale() or "nb") == "en" else "nb"


def _oslo(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=OSLO) if value is not None else None


def _lines(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").replace("\n", ",").split(",") if v.strip()]


class BreachForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(min=3, max=200)])
    description = TextAreaField(_l("What happened"), validators=[DataRequired(), Length(min=3, max=5000)])
    discovered_at = DateTimeLocalField(
        _l("Discovered (Norwegian time)"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M"
    )
    occurred_at = DateTimeLocalField(
        _l("Occurred (Norwegian time, if known)"), validators=[Optional()], format="%Y-%m-%dT%H:%M"
    )
    data_categories = StringField(_l("Categories of personal data (comma-separated)"), [Length(max=2000)])
    subject_categories = StringField(_l("Categories of data subjects (comma-separated)"), [Length(max=2000)])
    approx_subjects = IntegerField(
        _l("Approximate number of data subjects"), [Optional(), NumberRange(min=0)]
    )
    approx_records = IntegerField(_l("Approximate number of records"), [Optional(), NumberRange(min=0)])
    activities = SelectMultipleField(_l("Processing activities concerned"), choices=[])
    consequences = TextAreaField(_l("Likely consequences"), [Length(max=5000)])
    measures = TextAreaField(_l("Measures taken or proposed"), [Length(max=5000)])


class AssessForm(FlaskForm):
    risk_level = SelectField(_l("Risk"), choices=[])
    reasons = TextAreaField(
        _l("Reasons"),
        validators=[DataRequired(), Length(min=3, max=5000)],
        description=_l("For no risk: why Datatilsynet is not notified."),
    )


class AuthorityForm(FlaskForm):
    notified_at = DateTimeLocalField(
        _l("Notified (Norwegian time)"), validators=[DataRequired()], format="%Y-%m-%dT%H:%M"
    )
    authority_reference = StringField(_l("Datatilsynet's reference"), [Optional(), Length(max=100)])
    delay_reasons = TextAreaField(
        _l("Reasons for the delay"),
        [Optional(), Length(max=5000)],
        description=_l("Required when the notification is later than 72 hours after discovery."),
    )


class SubjectsForm(FlaskForm):
    text_nb = TextAreaField(
        _l("Text to the data subjects (bokmål)"), [Optional(), Length(max=5000)], render_kw={"lang": "nb"}
    )
    text_en = TextAreaField(
        _l("Text to the data subjects (English)"), [Optional(), Length(max=5000)], render_kw={"lang": "en"}
    )
    not_required = SelectField(_l("Or: not required, on the ground"), choices=[])
    not_required_reason = TextAreaField(_l("Why it is not required"), [Optional(), Length(max=5000)])


class CloseForm(FlaskForm):
    pass


def _choices(form: FlaskForm, lang: str) -> FlaskForm:
    """Fill the select fields with labels in the officer's language (never the stored values)."""
    if isinstance(form, BreachForm):
        names = service.activity_choices(get_session())
        form.activities.choices = [(slug, str(name.get(lang) or name.get("nb"))) for slug, name in names]
    if isinstance(form, AssessForm):
        form.risk_level.choices = [(r, service.label("risk", r, lang)) for r in service.RISK_LEVELS]
    if isinstance(form, SubjectsForm):
        form.not_required.choices = [("", "—")] + [
            (g, service.label("not_required", g, lang)) for g in service.NOT_REQUIRED_GROUNDS
        ]
    return form


@bp.get("/")
@page(SCOPE)
def breaches() -> Any:
    """Every breach with the time left to notify Datatilsynet, and the form to record a new one."""
    return _list_page(_choices(BreachForm(), _lang()), 200)


def _list_page(form: BreachForm, status: int) -> tuple[str, int]:
    lang = _lang()
    found = service.list_breaches(get_session())
    return render_template(
        "registers/breaches.html",
        breaches=found,
        countdowns={b.reference: service.countdown(b) for b in found},
        form=form,
        label=service.label,
        lang=lang,
    ), status


@bp.post("/")
@page(SCOPE)
def create() -> Any:
    """Record a breach from the form; the page comes back with the messages when it is refused."""
    form = _choices(BreachForm(), _lang())
    if form.validate_on_submit():
        data = {
            **{k: v for k, v in form.data.items() if k != "csrf_token"},
            "discovered_at": _oslo(form.discovered_at.data),
            "occurred_at": _oslo(form.occurred_at.data),
            "data_categories": _lines(form.data_categories.data),
            "subject_categories": _lines(form.subject_categories.data),
        }
        session = get_session()
        try:
            breach = service.create_breach(session, data=data, actor=current_actor())
            flash(_("Breach %(ref)s is recorded.", ref=breach.reference))
            return redirect(url_for("breaches_officer.detail", reference=breach.reference))
        except DomainError as err:
            session.rollback()  # the form is shown again with the messages: nothing is kept
            _field_errors(form, err)
    return _list_page(form, 422)


def _field_errors(form: FlaskForm, err: DomainError) -> None:
    placed = False
    for name, messages in err.fields.items():
        if name in form:
            form[name].errors = list(form[name].errors or []) + [page_message(m) for m in messages]
            placed = True
    if not placed:
        flash(page_message(err.message))


@bp.get("/<reference>")
@page(SCOPE)
def detail(reference: str) -> Any:
    """One breach: what is recorded, where it stands, and the form for each step."""
    return _detail_page(reference, {}, 200)


def _detail_page(reference: str, forms: dict[str, FlaskForm], status: int) -> tuple[str, int]:
    lang = _lang()
    breach = service.get_breach(get_session(), reference=reference)
    return render_template(
        "registers/breach.html",
        breach=breach,
        countdown=service.countdown(breach),
        assess_form=forms.get("assess") or _choices(AssessForm(), lang),
        authority_form=forms.get("authority") or AuthorityForm(),
        subjects_form=forms.get("subjects") or _choices(SubjectsForm(), lang),
        close_form=CloseForm(),
        label=service.label,
        lang=lang,
    ), status


def _step(reference: str, key: str, form: FlaskForm, call: Any) -> Any:
    """Run one step from its form: back to the page with a message when done, or with the errors."""
    if form.validate_on_submit():
        session = get_session()
        try:
            call(session, form)
            return redirect(url_for("breaches_officer.detail", reference=reference))
        except DomainError as err:
            session.rollback()  # nothing of a refused step is kept
            _field_errors(form, err)
    return _detail_page(reference, {key: form}, 422)


@bp.post("/<reference>/assess")
@page(SCOPE)
def assess(reference: str) -> Any:
    """Record the risk assessment."""

    def call(session: Any, form: AssessForm) -> None:
        service.assess_breach(
            session, reference=reference, risk_level=form.risk_level.data or "",
            reasons=form.reasons.data or "", actor=current_actor(),
        )  # fmt: skip
        flash(_("The assessment is recorded."))

    return _step(reference, "assess", _choices(AssessForm(), _lang()), call)


@bp.post("/<reference>/notify-authority")
@page(SCOPE)
def notify_authority(reference: str) -> Any:
    """Record the notification to Datatilsynet."""

    def call(session: Any, form: AuthorityForm) -> None:
        service.notify_authority(
            session, reference=reference, notified_at=_oslo(form.notified_at.data),
            authority_reference=form.authority_reference.data, delay_reasons=form.delay_reasons.data,
            actor=current_actor(),
        )  # fmt: skip
        flash(_("The notification to Datatilsynet is recorded."))

    return _step(reference, "authority", AuthorityForm(), call)


@bp.post("/<reference>/notify-subjects")
@page(SCOPE)
def notify_subjects(reference: str) -> Any:
    """Mail the data subjects, or record why it is not required."""

    def call(session: Any, form: SubjectsForm) -> None:
        texts = {"nb": form.text_nb.data or "", "en": form.text_en.data or ""}
        breach = service.notify_subjects(
            session, reference=reference, actor=current_actor(), instance_path=app_instance_path(),
            texts=None if form.not_required.data else texts, not_required=form.not_required.data or None,
            not_required_reason=form.not_required_reason.data,
        )  # fmt: skip
        if breach.subjects_sent_count is not None:
            flash(_("Mails queued to the data subjects: %(n)s.", n=breach.subjects_sent_count))
        else:
            flash(_("It is recorded why the data subjects are not notified."))

    return _step(reference, "subjects", _choices(SubjectsForm(), _lang()), call)


@bp.post("/<reference>/close")
@page(SCOPE)
def close(reference: str) -> Any:
    """Close the breach."""

    def call(session: Any, form: CloseForm) -> None:
        service.close_breach(session, reference=reference, actor=current_actor())
        flash(_("The breach is closed."))

    return _step(reference, "close", CloseForm(), call)


@bp.get("/<reference>/notification.pdf")
@page(SCOPE)
def notification_pdf(reference: str) -> Response:
    """The notification to Datatilsynet as a PDF in the officer's language."""
    lang = _lang()
    pdf = service.notification_pdf(get_session(), reference=reference, lang=lang)
    return send_download(pdf, mimetype="application/pdf", filename=f"{reference.upper()}-{lang}.pdf")
