"""Officer pages: the retention dashboard, run reports (HTML and PDF), holds, deposits with the archive."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from privacy_service.db import get_engine, get_session
from privacy_service.errors import DomainError
from privacy_service.http import (
    app_instance_path,
    confirmation,
    confirmed,
    page_message,
    rows_and_tables,
    send_download,
)
from privacy_service.retention import labels, service
from privacy_service.retention.schemas import IDENTITY_KINDS, KINDS, SCOPES
from privacy_service.security.access import current_actor, current_principal, page

bp = Blueprint("retention_officer", __name__, url_prefix="/officer/retention", template_folder="templates")


@bp.context_processor
def _words() -> dict[str, Any]:
    """Words for the codes the pages show (kinds, scopes, actions, triggers, statuses, schedules)."""
    return {"words": labels}


class HoldForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, labels.HOLD_KINDS[k]) for k in KINDS])
    scope = SelectField(_l("Scope"), choices=[SelectChoice(s, labels.HOLD_SCOPES[s]) for s in SCOPES])
    activity = StringField(_l("Activity (slug)"), validators=[Optional(), Length(max=64)])
    system = StringField(_l("Data system"), validators=[Optional(), Length(max=100)])
    table_name = StringField(_l("Table"), validators=[Optional(), Length(max=100)])
    subject_kind = SelectField(
        _l("Subject identified by"),
        choices=[SelectChoice("", "—")] + [SelectChoice(k, labels.IDENTITY_KINDS[k]) for k in IDENTITY_KINDS],
    )
    subject_value = StringField(_l("Subject identity"), validators=[Optional(), Length(max=254)])
    record_keys = StringField(_l("Record keys (comma-separated)"), validators=[Optional(), Length(max=5000)])
    basis = TextAreaField(
        _l("Internal note (never shown to the subject)"),
        validators=[DataRequired(), Length(min=3, max=1000)],
        description=_l("Why the data must be kept: the law, the case, its number and parties."),
    )
    public_text_nb = TextAreaField(
        _l("Text for the subject's letter (bokmål)"),
        validators=[Optional(), Length(max=1000)],
        render_kw={"lang": "nb"},
        description=_l("Leave empty for the standard text for the kind."),
    )
    public_text_en = TextAreaField(
        _l("Text for the subject's letter (English)"),
        validators=[Optional(), Length(max=1000)],
        render_kw={"lang": "en"},
        description=_l("Leave empty for the standard text for the kind."),
    )
    reference = StringField(_l("Case reference"), validators=[Optional(), Length(max=60)])
    ends_at = DateTimeLocalField(_l("Ends (optional)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")


class ReleaseForm(FlaskForm):
    note = StringField(_l("Why the hold is released"), validators=[DataRequired(), Length(min=3, max=1000)])


class ReceiptForm(FlaskForm):
    archive_reference = StringField(_l("Archive reference"), validators=[DataRequired(), Length(max=200)])
    received_at = DateField(_l("Received on"), validators=[DataRequired()])


class RejectForm(FlaskForm):
    reason = StringField(
        _l("Why the archive rejected it"), validators=[DataRequired(), Length(min=3, max=1000)]
    )


def _lang() -> str:
    return str(get_locale() or "nb")


@bp.get("/")
@page("retention:read")
def dashboard() -> str:
    """Rules, their next run, last result, what is held and why, and what falls due in the next 30 days."""
    session = get_session()
    rules = service.list_rules(session)
    last = service.last_results(session)
    holds = service.list_holds(session, active_only=True)
    slugs = [r.activity for r in rules] + [h.activity for h in holds if h.activity]
    names = service.activity_names(session, slugs, _lang())
    session.close()
    return render_template(
        "retention/dashboard.html",
        rules=rules,
        names=names,
        last=last,
        next_runs=service.next_runs(rules),
        outlook=service.outlook(get_engine(), instance_path=app_instance_path()),
        holds=holds,
        runs=service.list_runs(get_session(), limit=15),
        can_run="retention:run" in (current_principal().scopes if current_principal() else ()),
        lang=_lang(),
    )


@bp.post("/runs")
@page("retention:read")
def start_run() -> Any:
    """Start a dry run (any reader) or a real run (retention:run) from the dashboard."""
    dry_run = request.form.get("dry_run") == "1"
    principal = current_principal()
    if not dry_run and (principal is None or "retention:run" not in principal.scopes):
        abort(403)
    if not dry_run and not confirmed():
        return confirmation(
            title=_("Run retention now?"),
            consequences=_run_consequences(),
            button=_("Run and delete now"),
            back=url_for("retention_officer.dashboard"),
        )
    get_session().close()
    run = service.run_retention(
        get_engine(),
        instance_path=app_instance_path(),
        actor=current_actor(),
        dry_run=dry_run,
        trigger="officer",
    )
    return redirect(url_for("retention_officer.run_report", run_id=run.id))


def _run_consequences() -> list[str]:
    """What a real run would do now, per action, counted as the dashboard counts (the run counts again)."""
    session = get_session()
    actions = {rule.key: rule.action for rule in service.list_rules(session)}
    session.close()
    due: dict[str, list[int]] = {}
    held = failing = 0
    for key, figures in service.outlook(get_engine(), instance_path=app_instance_path()).items():
        if "error" in figures:
            failing += 1
            continue
        held += int(figures["held"])
        if int(figures["due_now"]):
            rows_tables = due.setdefault(actions.get(key, "delete"), [0, 0])
            rows_tables[0] += int(figures["due_now"])
            rows_tables[1] += 1
    texts = {
        "delete": _("Deletes %(rows)s in %(tables)s.", **rows_and_tables(*due.get("delete", (0, 0)))),
        "anonymise": _(
            "Anonymises %(rows)s in %(tables)s.", **rows_and_tables(*due.get("anonymise", (0, 0)))
        ),
        "deposit": _(
            "Deposits %(rows)s from %(tables)s with the National Archives; they are deleted when the "
            "archive's receipt is recorded.",
            **rows_and_tables(*due.get("deposit", (0, 0))),
        ),
    }
    out = [texts[action] for action in ("delete", "anonymise", "deposit") if action in due]
    if not out:
        out.append(_("No rows are due now: the run deletes nothing."))
    else:
        out.append(_("This cannot be undone."))
    if held:
        out.append(
            ngettext("%(num)s due row is held and stays.", "%(num)s due rows are held and stay.", held)
        )
    if failing:
        out.append(
            ngettext(
                "%(num)s rule cannot run: the dashboard says why.",
                "%(num)s rules cannot run: the dashboard says why.",
                failing,
            )
        )
    return out


@bp.get("/runs/<int:run_id>")
@page("retention:read")
def run_report(run_id: int) -> str:
    """One run: what each rule did, what was held and by which hold."""
    session = get_session()
    report = service.run_report(session, run_id=run_id)
    return render_template(
        "retention/run.html",
        names=service.activity_names(session, [r.rule.split(":")[0] for r in report.results], _lang()),
        run=report.run,
        results=report.results,
        holds=report.holds,
        pending=report.pending,
        lang=_lang(),
    )


@bp.get("/runs/<int:run_id>.pdf")
@page("retention:read")
def run_report_pdf(run_id: int) -> Response:
    """The run report as a PDF to file as documentation of deletion."""
    pdf = service.run_report_pdf(get_session(), run_id=run_id, lang=_lang())
    return send_download(pdf, mimetype="application/pdf", filename=f"retention-run-{run_id}.pdf")


@bp.get("/holds")
@page("retention:read")
def holds() -> Any:
    """Every hold, newest first; officers with holds:manage set new ones here."""
    return _holds_page(HoldForm(), 200)


@bp.post("/holds")
@page("holds:manage")
def set_hold() -> Any:
    """Set a hold from the form; the page comes back with the field messages when it is refused."""
    form = HoldForm()
    if form.validate_on_submit():
        data = {k: (v or None) for k, v in form.data.items() if k not in ("csrf_token",)}
        data["public_text"] = {"nb": data.pop("public_text_nb"), "en": data.pop("public_text_en")}
        data["record_keys"] = [k.strip() for k in (form.record_keys.data or "").split(",") if k.strip()]
        if data.get("ends_at"):
            data["ends_at"] = data["ends_at"].replace(tzinfo=service.OSLO)
        session = get_session()
        try:
            hold = service.set_hold(session, data={**data, "source": "officer"}, actor=current_actor())
            flash(_("Hold %(id)s is set.", id=hold.id))
            return redirect(url_for("retention_officer.holds"))
        except DomainError as err:
            session.rollback()  # the form is shown again with the messages: nothing is kept
            for name, messages in err.fields.items():
                if name in form:
                    form[name].errors = list(form[name].errors or []) + [page_message(m) for m in messages]
    return _holds_page(form, 422)


def _holds_page(form: HoldForm, status: int) -> tuple[str, int]:
    principal = current_principal()
    return render_template(
        "retention/holds.html",
        form=form,
        release_form=ReleaseForm(),
        holds=service.list_holds(get_session()),
        is_active=service.is_active,
        public_text=service.public_text,
        can_manage=principal is not None and "holds:manage" in principal.scopes,
        lang=_lang(),
    ), status


@bp.post("/holds/<int:hold_id>/release")
@page("holds:manage")
def release(hold_id: int) -> Any:
    """Release a hold and say how many rows fall due at the next run."""
    form = ReleaseForm()
    if not form.validate_on_submit():
        flash(_("Say why the hold is released."))
        return redirect(url_for("retention_officer.holds"))
    session = get_session()
    if not confirmed():
        return _confirm_release(session, hold_id)
    try:
        hold = service.release_hold(session, hold_id=hold_id, actor=current_actor(), note=form.note.data)
        session.commit()  # the count below reads in sessions of its own: they must see the hold released
    except DomainError as err:
        session.rollback()  # the answer is a redirect: undo the refused release here
        flash(page_message(err.message))
        return redirect(url_for("retention_officer.holds"))
    due = service.rows_due_after_release(get_engine(), hold, instance_path=app_instance_path())
    flash(
        _(
            "Hold %(id)s is released. Rows that fall due at the next run: %(n)s.",
            id=hold_id,
            n=sum(due.values()),
        )
    )
    return redirect(url_for("retention_officer.holds"))


def _confirm_release(session: Any, hold_id: int) -> Any:
    """Before a hold is released: how many rows it keeps from the next run."""
    hold = service.holds_by_id(session, {hold_id}).get(hold_id)
    if hold is None or not service.is_active(hold):
        flash(_("Hold %(id)s is not active.", id=hold_id))
        return redirect(url_for("retention_officer.holds"))
    due = service.rows_due_after_release(get_engine(), hold, instance_path=app_instance_path())
    rows, tables = sum(due.values()), sum(1 for n in due.values() if n)
    consequences = [
        _(
            "The hold stops protecting the data it covers (%(kind)s).",
            kind=labels.label(labels.HOLD_KINDS, hold.kind),
        ),
        _("%(rows)s in %(tables)s are due and are deleted at the next run.", **rows_and_tables(rows, tables))
        if rows
        else _("No rows it protects are due now; they are deleted when their retention ends."),
    ]
    return confirmation(
        title=_("Release hold %(id)s?", id=hold_id),
        consequences=consequences,
        button=_("Release the hold"),
        back=url_for("retention_officer.holds"),
    )


@bp.get("/deposits")
@page("retention:run")
def deposits() -> str:
    """Deposits with the archive: record the receipt (the rows are deleted then) or the rejection."""
    return render_template(
        "retention/deposits.html",
        deposits=service.list_deposits(get_session()),
        receipt_form=ReceiptForm(),
        reject_form=RejectForm(),
        lang=_lang(),
    )


@bp.post("/deposits/<int:deposit_id>/receipt")
@page("retention:run")
def deposit_receipt(deposit_id: int) -> Any:
    """Record the archive's receipt from the form; the deposited rows are deleted."""
    form = ReceiptForm()
    if not form.validate_on_submit():
        flash(_("Give the archive's reference and the date of its receipt."))
        return redirect(url_for("retention_officer.deposits"))
    get_session().close()  # the receipt and the deletion manage their own transactions
    try:
        deposit = service.record_receipt(
            get_engine(),
            deposit_id=deposit_id,
            archive_reference=form.archive_reference.data or "",
            received_at=datetime.combine(form.received_at.data, time(), tzinfo=UTC),  # type: ignore[arg-type]
            actor=current_actor(),
            instance_path=app_instance_path(),
        )
    except DomainError as err:
        flash(page_message(err.message))
        return redirect(url_for("retention_officer.deposits"))
    flash(_("Deposit %(id)s is received. Rows deleted: %(n)s.", id=deposit_id, n=deposit.deleted_rows or 0))
    return redirect(url_for("retention_officer.deposits"))


@bp.post("/deposits/<int:deposit_id>/reject")
@page("retention:run")
def deposit_reject(deposit_id: int) -> Any:
    """Record the archive's rejection from the form; the next run makes a new extract."""
    form = RejectForm()
    if not form.validate_on_submit():
        flash(_("Say why the archive rejected the deposit."))
        return redirect(url_for("retention_officer.deposits"))
    session = get_session()
    try:
        service.reject_deposit(
            session, deposit_id=deposit_id, reason=form.reason.data or "", actor=current_actor()
        )
    except DomainError as err:
        session.rollback()  # the answer is a redirect: undo the refused change here
        flash(page_message(err.message))
        return redirect(url_for("retention_officer.deposits"))
    flash(_("Deposit %(id)s is rejected. The next run makes a new extract.", id=deposit_id))
    return redirect(url_for("retention_officer.deposits"))
