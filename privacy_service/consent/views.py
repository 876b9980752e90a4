"""Officer pages for consent: a subject's consents and history, the purposes and notices, deliveries."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from privacy_service.consent import service
from privacy_service.db import get_session
from privacy_service.errors import ValidationFailed
from privacy_service.http import page_message
from privacy_service.security.access import page

bp = Blueprint("consent_officer", __name__, url_prefix="/officer/consents", template_folder="templates")


class LookupForm(FlaskForm):
    subject = StringField(_l("E-mail address or portal id"), validators=[DataRequired(), Length(max=254)])


def _lang() -> str:
    return str(get_locale() or "nb")


@bp.route("/", methods=["GET", "POST"])
@page("consent:read")
def lookup() -> Any:
    """Look up one subject's consents with their history (POSTed: the subject never goes in a URL)."""
    form = LookupForm()
    found: list[dict[str, Any]] | None = None
    error: str | None = None
    if form.validate_on_submit():
        session = get_session()
        try:
            subject = service.check_subject(form.subject.data)
        except ValidationFailed as err:
            error = "; ".join(page_message(m) for ms in err.fields.values() for m in ms)
        else:
            names = {p["activity"].slug: p["activity"].name for p in service.consent_purposes(session)}
            found = [  # a user id: each portal's user whose id reads so, named with the portal
                {
                    "state": state,
                    "name": (names.get(state.purpose) or {}).get(_lang()) or state.purpose,
                    "client": service.key_client(key),
                    "events": service.history(session, subject=key, purpose=state.purpose),
                }
                for key in service.keys_named(session, subject=subject)
                for state in service.subject_states(session, subject=key)
            ]
    return render_template(
        "consent/lookup.html", form=form, found=found, error=error, lang=_lang(), said=_said
    )


def _said(code: str | None) -> str:
    """A channel or DPV status code in the officer's words."""
    return service.code_words(code, _lang())


@bp.get("/purposes")
@page("consent:read")
def purposes() -> str:
    """The consent-based activities with their notice versions and how many consents each has."""
    session = get_session()
    return render_template(
        "consent/purposes.html",
        purposes=service.consent_purposes(session),
        counts=service.status_counts(session),
        lang=_lang(),
    )


@bp.get("/deliveries")
@page("audit:read")
def deliveries() -> str:
    """The webhook and e-mail delivery log: each message's state and every attempt."""
    return render_template("consent/deliveries.html", **service.delivery_log(get_session()), lang=_lang())
