"""Public withdrawal pages: /consent/withdraw/{token}, with a confirmation step and RFC 8058 one-click."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from privacy_service.consent import service
from privacy_service.db import get_session
from privacy_service.http import app_links
from privacy_service.security.access import link_credential, public

bp = Blueprint("consent_pages", __name__, template_folder="templates")


def _lang() -> str:
    return str(get_locale() or "nb")


def _resolve(token: str) -> tuple[Any, service.Activity | None, str | None]:
    """The state and activity a token names, or the reason it cannot be used."""
    try:
        state, activity = service.withdrawal_target(
            get_session(), secret_key=current_app.config["SECRET_KEY"], token=token
        )
    except service.TokenProblem as problem:
        return None, None, problem.reason
    return state, activity, None


def _problem_page(reason: str) -> tuple[str, int]:
    message = (
        _("This withdrawal link has expired. Use the link in a newer e-mail, or contact us to withdraw.")
        if reason == "expired"
        else _("This withdrawal link is not valid. Check that the whole link was copied, or contact us.")
    )
    status = 410 if reason == "expired" else 404
    return render_template("consent/withdraw.html", step="problem", message=message, lang=_lang()), status


@bp.get("/consent/withdraw/<token>")
@public
def withdraw_page(token: str) -> Any:
    """Ask the subject to confirm; a GET never changes anything (mail scanners open links)."""
    state, activity, problem = _resolve(token)
    if problem:
        return _problem_page(problem)
    step = "already" if state.status == "withdrawn" else "confirm"
    return render_template("consent/withdraw.html", step=step, activity=activity, state=state, lang=_lang())


@bp.post("/consent/withdraw/<token>")
@public
@link_credential
def withdraw(token: str) -> Any:
    """Withdraw: from the confirmation button, or an RFC 8058 one-click POST by the mail provider."""
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    state, activity, problem = _resolve(token)
    if problem:
        if one_click:
            return Response(status=410 if problem == "expired" else 404)
        return _problem_page(problem)
    session = get_session()
    session.rollback()  # end the look-up's read, so the write starts the transaction
    change = service.withdraw_by_link(
        session,
        state=state,
        links=app_links(),
        one_click=one_click,
        lang=_lang(),
    )
    if one_click:
        return Response(status=200)
    return render_template(
        "consent/withdraw.html",
        step="done" if change.changed else "already",
        activity=activity,
        state=change.state,
        erasing=change.changed and activity.on_withdrawal == "erase",
        lang=_lang(),
    )
