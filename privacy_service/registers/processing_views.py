"""Officer pages of the processor records (GDPR Art. 30(2)): the list with the form to record one, a page per
record to change it, and the record of processing as a PDF."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from privacy_service.db import get_session
from privacy_service.errors import DomainError
from privacy_service.http import page_message, send_download
from privacy_service.registers import service
from privacy_service.security.access import current_actor, page

bp = Blueprint(
    "processor_records_officer",
    __name__,
    url_prefix="/officer/processor-records",
    template_folder="templates",
)
READ, WRITE = "registry:read", "registry:write"


def _lang() -> str:
    return "en" if str(get_locale() or "nb") == "en" else "nb"


class ProcessorRecordForm(FlaskForm):
    processor = SelectField(_l("Processor (one of us)"), choices=[])
    controllers = SelectMultipleField(_l("Controllers on whose behalf we process"), choices=[])
    agreement_ref = StringField(
        _l("Data processing agreement (reference; empty if not stated)"), [Optional(), Length(max=500)]
    )
    agreement_date = DateField(_l("Agreement concluded"), [Optional()])
    category_nb = TextAreaField(
        _l("Categories of processing (bokmål)"),
        [DataRequired(), Length(max=5000)],
        render_kw={"lang": "nb"},  # bokmål text: on an English page screen readers speak it as bokmål
        description=_l("One line per controller: the organisation's short name, a colon, then the text."),
    )
    category_en = TextAreaField(  # English text: screen readers speak it as English
        _l("Categories of processing (English)"), [DataRequired(), Length(max=5000)], render_kw={"lang": "en"}
    )
    sub_processors = TextAreaField(
        _l("Sub-processors"),
        [Optional(), Length(max=5000)],
        description=_l(
            "One line each: the organisation's short name, a colon, then the agreement reference."
        ),
    )
    transfers = TextAreaField(
        _l("Transfers to third countries"),
        [Optional(), Length(max=5000)],
        description=_l(
            "One line each: country; recipient; the safeguard as one of the codes adequacy (adequacy "
            "decision), scc (standard contractual clauses), bcr (binding corporate rules), derogation "
            "(Art. 49) or none."
        ),
    )
    security_nb = TextAreaField(
        _l("Security measures (bokmål)"), [DataRequired(), Length(max=5000)], render_kw={"lang": "nb"}
    )
    security_en = TextAreaField(
        _l("Security measures (English)"), [DataRequired(), Length(max=5000)], render_kw={"lang": "en"}
    )
    dpo_name = StringField(_l("The processor's data protection officer"), [Optional(), Length(max=200)])
    dpo_email = StringField(_l("Email of the data protection officer"), [Optional(), Email()])
    status = SelectField(_l("Status"), choices=[])
    started_on = DateField(_l("Started"), [Optional()])
    ended_on = DateField(_l("Ended"), [Optional()])


def _choices(form: ProcessorRecordForm, lang: str) -> ProcessorRecordForm:
    """Fill the select fields with names and labels in the officer's language (never the stored values)."""
    orgs = [(slug, f"{name.get(lang) or name.get('nb')} ({slug})") for slug, name in
            service.organisation_choices(get_session())]  # fmt: skip
    form.processor.choices = orgs
    form.controllers.choices = orgs
    form.status.choices = [
        (s, service.label("processor_status", s, lang)) for s in service.PROCESSOR_STATUSES
    ]
    return form


def _pairs(value: str | None, sep: str = ":") -> list[list[str]]:
    return [[p.strip() for p in line.split(sep)] for line in (value or "").splitlines() if line.strip()]


def _categories(form: ProcessorRecordForm) -> list[dict[str, Any]]:
    slugs = list(form.controllers.data or [])
    nb, en = _by_slug(form.category_nb.data, slugs), _by_slug(form.category_en.data, slugs)
    single = len(slugs) == 1
    out = []
    for slug in slugs:
        text_nb = nb.get(slug) or ((form.category_nb.data or "").strip() if single and not nb else "")
        text_en = en.get(slug) or ((form.category_en.data or "").strip() if single and not en else "")
        out.append({"controller": slug, "description": {"nb": text_nb, "en": text_en}})
    return out


def _by_slug(value: str | None, slugs: list[str]) -> dict[str, str]:
    return {p[0]: ":".join(p[1:]).strip() for p in _pairs(value) if len(p) > 1 and p[0] in slugs}


def _data(form: ProcessorRecordForm) -> dict[str, Any]:
    """The record as the API takes it, from the form's fields."""
    dpo = {"name": form.dpo_name.data or None, "email": form.dpo_email.data} if form.dpo_email.data else None
    return {
        "processor": form.processor.data, "controllers": list(form.controllers.data or []),
        "agreement_ref": form.agreement_ref.data or None, "agreement_date": _iso(form.agreement_date.data),
        "categories": _categories(form),
        "sub_processors": [{"organisation": p[0], "agreement_ref": ":".join(p[1:])} for p in
                           _pairs(form.sub_processors.data)],
        "transfers": [dict(zip(("country", "recipient", "safeguard"), p, strict=False)) for p in
                      _pairs(form.transfers.data, ";")],
        "security_measures": {"nb": form.security_nb.data, "en": form.security_en.data},
        "dpo": dpo, "status": form.status.data, "started_on": _iso(form.started_on.data),
        "ended_on": _iso(form.ended_on.data),
    }  # fmt: skip


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _fill(form: ProcessorRecordForm, record: service.ProcessorRecord) -> ProcessorRecordForm:
    """Put a stored record into the form for changing it."""
    form.processor.data, form.controllers.data = record.processor, list(record.controllers)
    form.agreement_ref.data, form.agreement_date.data = record.agreement_ref, record.agreement_date
    form.category_nb.data = "\n".join(
        f"{c['controller']}: {c['description']['nb']}" for c in record.categories
    )
    form.category_en.data = "\n".join(
        f"{c['controller']}: {c['description']['en']}" for c in record.categories
    )
    form.sub_processors.data = "\n".join(
        f"{s['organisation']}: {s['agreement_ref']}" for s in record.sub_processors
    )
    form.transfers.data = "\n".join(
        f"{t['country']}; {t['recipient']}; {t['safeguard']}" for t in record.transfers
    )
    form.security_nb.data = record.security_measures.get("nb")
    form.security_en.data = record.security_measures.get("en")
    form.dpo_name.data = (record.dpo or {}).get("name")
    form.dpo_email.data = (record.dpo or {}).get("email")
    form.status.data, form.started_on.data, form.ended_on.data = (
        record.status,
        record.started_on,
        record.ended_on,
    )
    return form


_FORM_FIELD = {
    "categories": "category_nb", "security_measures": "security_nb", "dpo": "dpo_email",
    "sub_processors": "sub_processors", "transfers": "transfers",
}  # fmt: skip


def _field_errors(form: FlaskForm, err: DomainError) -> None:
    for name, messages in err.fields.items():
        target = _FORM_FIELD.get(name, name)
        text = [
            page_message(m) for m in (messages if isinstance(messages, list) else [_("Check this field.")])
        ]
        if target in form:
            form[target].errors = list(form[target].errors or []) + text
        else:
            flash(page_message(err.message))


def _save(form: ProcessorRecordForm, record_id: int | None) -> Any:
    session = get_session()
    try:
        data = service.load_processor_record(_data(form))
        if record_id is None:
            record = service.create_processor_record(session, data=data, actor=current_actor())
        else:
            record = service.update_processor_record(
                session, record_id=record_id, data=data, actor=current_actor()
            )
        flash(_("The processor record is saved."))
        return redirect(url_for("processor_records_officer.detail", record_id=record.id))
    except DomainError as err:
        session.rollback()  # the form is shown again with the messages: nothing is kept
        _field_errors(form, err)
        return None


@bp.get("/")
@page(READ)
def records() -> Any:
    """Every processor record, and the form to record a new one."""
    return _list_page(_choices(ProcessorRecordForm(), _lang()), 200)


def _list_page(form: ProcessorRecordForm, status: int) -> tuple[str, int]:
    lang = _lang()
    return render_template(
        "registers/processing_records.html",
        records=service.list_processor_records(get_session()),
        names=dict(service.organisation_choices(get_session())),
        form=form, label=service.label, lang=lang,
    ), status  # fmt: skip


@bp.post("/")
@page(WRITE)
def create() -> Any:
    """Record a processing carried out as a processor; the page comes back with the messages when refused."""
    form = _choices(ProcessorRecordForm(), _lang())
    if form.validate_on_submit():
        done = _save(form, None)
        if done is not None:
            return done
    return _list_page(form, 422)


@bp.get("/<int:record_id>")
@page(READ)
def detail(record_id: int) -> Any:
    """One processor record with the form to change it."""
    record = service.get_processor_record(get_session(), record_id=record_id)
    return _detail_page(record_id, _fill(_choices(ProcessorRecordForm(formdata=None), _lang()), record), 200)


def _detail_page(record_id: int, form: ProcessorRecordForm, status: int) -> tuple[str, int]:
    lang = _lang()
    return render_template(
        "registers/processing_record.html",
        record=service.get_processor_record(get_session(), record_id=record_id),
        names=dict(service.organisation_choices(get_session())),
        form=form, label=service.label, lang=lang,
    ), status  # fmt: skip


@bp.post("/<int:record_id>")
@page(WRITE)
def update(record_id: int) -> Any:
    """Change a processor record from the form."""
    service.get_processor_record(get_session(), record_id=record_id)
    form = _choices(ProcessorRecordForm(), _lang())
    if form.validate_on_submit():
        done = _save(form, record_id)
        if done is not None:
            return done
    return _detail_page(record_id, form, 422)


@bp.get("/protocol.pdf")
@page(READ)
def protocol_pdf() -> Response:
    """The record of processing carried out as a processor as a PDF in the officer's language."""
    lang = _lang()
    pdf = service.processor_protocol_pdf(get_session(), processor=None, lang=lang)
    return send_download(pdf, mimetype="application/pdf", filename=f"art30-2-{lang}.pdf")
