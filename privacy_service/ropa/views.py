"""Officer pages for the registry: the activities, their edit forms and versions, and the audit trail."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from marshmallow import ValidationError
from wtforms import SelectChoice

from privacy_service.audit import latest_events, verify_chain
from privacy_service.db import get_session
from privacy_service.errors import Conflict, ValidationFailed
from privacy_service.http import page_message
from privacy_service.kernel import ART9_CONDITIONS, LEGAL_BASES
from privacy_service.ropa import service
from privacy_service.ropa.api import record_dpias, record_lias
from privacy_service.ropa.forms import (
    FIELD_PATHS,
    NEW_ACTIVITY,
    ActivityForm,
    NewActivityForm,
    activity_filter,
    apply_form,
    error_summary,
    errors_to_fields,
    form_values,
)
from privacy_service.ropa.schemas import activity_schema
from privacy_service.security.access import current_actor, has_scope, page

bp = Blueprint("officer", __name__, url_prefix="/officer", template_folder="templates")


def _lang() -> str:
    return str(get_locale() or "nb")


@bp.get("/activities")
@page("registry:read")
def activities() -> str:
    """List activities with filters."""
    filters = activity_filter(request.args)
    session = get_session()
    items, total = service.list_activities(session, filters=filters, per_page=1000)
    return render_template(
        "ropa/list.html",
        items=items,
        total=total,
        filters=filters,
        organisations=service.list_organisations(session),
        services=service.list_services(session),
        legal_bases=LEGAL_BASES,
        statuses=service.STATUSES,
        lang=_lang(),
    )


@bp.get("/activities/<slug>")
@page("registry:read")
def activity(slug: str) -> str:
    """Show one activity with every field."""
    session = get_session()
    record = service.activity_record(service.get_activity(session, slug=slug))
    return render_template(
        "ropa/detail.html",
        a=record,
        dpia=service.dpia_texts(record, record_dpias().get(slug), _lang()),
        lia=service.lia_text(record, record_lias().get(slug), _lang()),
        automated=service.automated_decision_rows(record, _lang()),
        unknowns=service.not_stated_text(record, _lang()),
        words=service.record_words(_lang()),
        organisations=service.list_organisations(session),
        lang=_lang(),
        art9=ART9_CONDITIONS,
        legal_bases=LEGAL_BASES,
    )


def _rule_mode() -> service.RuleMode:
    """Officers change retention rules only with the right to run retention, and then after a dry run."""
    return "propose" if has_scope(service.RULE_SCOPE) else "refuse"


def _rule_change_waits(change_id: int | None) -> str:
    return _(
        "The change to the retention rules waits for a dry run and a confirmation (rule change %(id)s); "
        "until then the rules in force stay.",
        id=change_id,
    )


def _retention_run_needed() -> str:
    return _(
        "This changes what the retention rules delete (a rule, the status or the disposal decision), which "
        "needs the right to run deletion, which officers and administrators have. Nothing was saved."
    )


def _activity_form(form_class: type[ActivityForm], record: dict[str, Any], **extra: Any) -> ActivityForm:
    """The form filled from the record (or the post), one blank row per list, organisations by name."""
    form = form_class(data={**form_values(record), **extra})
    form.add_blank_rows(request.form.get("add") if request.method == "POST" else None)
    form.offer_organisations(service.list_organisations(get_session()), _lang())
    return form


def _check(form: ActivityForm, record: dict[str, Any]) -> dict[str, Any] | None:
    """Run the form's checks and the schema's in one pass; return the loaded record when both pass."""
    valid = form.validate()
    try:
        data = activity_schema.load(apply_form(record, form))
    except ValidationError as err:
        form.record_errors = errors_to_fields(err.messages, form, _paths(form))
        return None
    return data if valid else None


def _failed(form: ActivityForm, fields: dict[str, Any], message: str) -> None:
    """Show a service's refusal on the fields it names, or above the form."""
    get_session().rollback()  # the page is drawn again from this session: leave the failed write
    form.record_errors = errors_to_fields(fields, form, _paths(form)) if fields else [page_message(message)]


def _paths(form: ActivityForm) -> dict[str, tuple[str, ...]]:
    return {**FIELD_PATHS, **{name: (name,) for name in form.FIRST}}


def _render(form: ActivityForm, current: Any) -> Any:
    status = 422 if request.method == "POST" and "add" not in request.form else 200
    return render_template(
        "ropa/edit.html",
        form=form,
        a=current,
        record_errors=getattr(form, "record_errors", []),
        summary=error_summary(form),
        lang=_lang(),
    ), status


@bp.route("/activities/new", methods=["GET", "POST"])
@page("registry:write")
def new_activity() -> Any:
    """Record a new processing activity with every field; it starts as version 1."""
    session = get_session()
    form = _activity_form(NewActivityForm, NEW_ACTIVITY)
    form.service.choices = [SelectChoice(s) for s in service.list_services(session)]
    if request.method != "POST" or "add" in request.form:
        return _render(form, None)
    data = _check(form, {"slug": (form.slug.data or "").strip(), "service": form.service.data})
    if data is not None:
        try:
            created = service.create_activity(session, data=data, actor=current_actor(), rules=_rule_mode())
        except service.RetentionRunNeeded:
            _failed(form, {}, _retention_run_needed())
        except (ValidationFailed, Conflict) as err:  # the slug is taken, or an unknown organisation
            _failed(form, err.fields, err.message)
        else:
            flash(_("Activity recorded as version 1."))
            change = service.pending_for(session, slug=created.slug)
            if change is not None:
                flash(_rule_change_waits(change.id))
            return redirect(url_for("officer.activity", slug=created.slug))
    return _render(form, None)


@bp.route("/activities/<slug>/edit", methods=["GET", "POST"])
@page("registry:write")
def edit_activity(slug: str) -> Any:
    """Edit every field of an activity; every save keeps the prior version."""
    session = get_session()
    current = service.activity_view(session, slug=slug)
    form = _activity_form(ActivityForm, current.record, version=current.version)
    if request.method != "POST" or "add" in request.form:
        return _render(form, current)
    data = _check(form, current.record)
    if data is not None:
        # the version the officer loaded (an int when the post left the hidden field out)
        version = str(form.version.data or "")
        try:
            __, changed, change = service.update_activity(
                session,
                slug=slug,
                data=data,
                actor=current_actor(),
                expected_version=int(version) if version.isdigit() else None,
                rules=_rule_mode(),
            )
        except service.RetentionRunNeeded:
            _failed(form, {}, _retention_run_needed())
        except ValidationFailed as err:
            _failed(form, err.fields, err.message)
        else:
            flash(_("Saved as a new version.") if changed else _("Nothing changed."))
            if change is not None:
                flash(_rule_change_waits(change.id))
            return redirect(url_for("officer.activity", slug=slug))
    return _render(form, current)


@bp.get("/activities/<slug>/versions")
@page("registry:read")
def activity_versions(slug: str) -> str:
    """Show the version history of an activity with what changed in each version."""
    session = get_session()
    current = service.activity_view(session, slug=slug)
    return render_template(
        "ropa/versions.html", a=current, versions=service.list_versions(session, slug=slug), lang=_lang()
    )


@bp.get("/audit")
@page("audit:read")
def audit() -> str:
    """Show the latest audit events and whether the chain is intact."""
    session = get_session()
    return render_template(
        "ropa/audit.html", events=latest_events(session, limit=200), result=verify_chain(session)
    )


# --- public ---------------------------------------------------------------------------------------------
