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
from privacy_service.kernel import ART9_CONDITIONS, LEGAL_BASES
from privacy_service.ropa import service
from privacy_service.ropa.api import record_dpias, record_lias
from privacy_service.ropa.forms import (
    NEW_ACTIVITY_DETAILS,
    ActivityForm,
    DetailsError,
    NewActivityForm,
    activity_filter,
    apply_form,
    dump_details,
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


def _show_errors(form: ActivityForm, mapped: dict[str, list[str]]) -> list[str]:
    """Put mapped messages on their form fields; return the ones that belong to no field."""
    record_errors: list[str] = []
    for name, messages in mapped.items():
        if name in form:
            form[name].errors = list(form[name].errors or []) + messages
        else:
            record_errors += messages
    return record_errors


@bp.route("/activities/new", methods=["GET", "POST"])
@page("registry:write")
def new_activity() -> Any:
    """Record a new processing activity with every field; it starts as version 1."""
    session = get_session()
    blank = {"status": "draft", "legal_basis": "6(1)(e)", **NEW_ACTIVITY_DETAILS}
    form = NewActivityForm(data={**form_values(blank), "details": dump_details(blank)})
    form.service.choices = [SelectChoice(s) for s in service.list_services(session)]
    record_errors: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        mapped: dict[str, list[str]]
        try:
            record = apply_form({"slug": form.slug.data.strip(), "service": form.service.data}, form)
            data = activity_schema.load(record)
            created = service.create_activity(session, data=data, actor=current_actor(), rules=_rule_mode())
            flash(_("Activity recorded as version 1."))
            change = service.pending_for(session, slug=created.slug)
            if change is not None:
                flash(_rule_change_waits(change.id))
            return redirect(url_for("officer.activity", slug=created.slug))
        except DetailsError as err:
            mapped = {"details": [str(err)]}
        except service.RetentionRunNeeded:
            session.rollback()
            mapped = {"_record": [_retention_run_needed()]}
        except ValidationError as err:
            mapped = errors_to_fields(err.messages)
            mapped.update({k: [str(v) for v in err.messages[k]] for k in ("slug",) if k in err.messages})
        except (ValidationFailed, Conflict) as err:  # the slug is taken, or an unknown organisation
            session.rollback()  # the page is drawn again from this session: leave the failed write
            mapped = errors_to_fields(err.fields)
            mapped.update({k: list(v) for k, v in err.fields.items() if k == "slug"})
            mapped = mapped or {"_record": [err.message]}
        record_errors = _show_errors(form, mapped)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "ropa/edit.html", form=form, a=None, record_errors=record_errors, lang=_lang()
    ), status


@bp.route("/activities/<slug>/edit", methods=["GET", "POST"])
@page("registry:write")
def edit_activity(slug: str) -> Any:
    """Edit every field of an activity; every save keeps the prior version."""
    session = get_session()
    current = service.activity_view(session, slug=slug)
    form = ActivityForm(data={**form_values(current.record), "version": current.version})
    record_errors: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        mapped: dict[str, list[str]]
        try:
            data = activity_schema.load(apply_form(current.record, form))
            # the version the officer loaded (an int when the post left the hidden field out)
            version = str(form.version.data or "")
            expected = int(version) if version.isdigit() else None
            __, changed, change = service.update_activity(
                session,
                slug=slug,
                data=data,
                actor=current_actor(),
                expected_version=expected,
                rules=_rule_mode(),
            )
            flash(_("Saved as a new version.") if changed else _("Nothing changed."))
            if change is not None:
                flash(_rule_change_waits(change.id))
            return redirect(url_for("officer.activity", slug=slug))
        except DetailsError as err:
            mapped = {"details": [str(err)]}
        except ValidationError as err:
            mapped = errors_to_fields(err.messages)
        except service.RetentionRunNeeded:
            session.rollback()
            mapped = {"_record": [_retention_run_needed()]}
        except ValidationFailed as err:
            session.rollback()  # the page is drawn again from this session: leave the failed write
            mapped = errors_to_fields(err.fields) or {"_record": [err.message]}
        record_errors = _show_errors(form, mapped)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "ropa/edit.html", form=form, a=current, record_errors=record_errors, lang=_lang()
    ), status


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
