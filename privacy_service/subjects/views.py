"""The subject's pages: login through the identity provider, the way back, logout, and Min side (/me).

With no PRIVACY_OIDC_ISSUER every page here answers 404 and no login button is shown. Other blueprints read
the logged-in subject from `flask.g.subject` (set before every request by `load_subject`); they never import
this package.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from privacy_service.db import get_session, keep_changes
from privacy_service.errors import DomainError, NotFound
from privacy_service.http import app_links, send_download
from privacy_service.security.access import current_actor, public
from privacy_service.subjects import labels, service

bp = Blueprint("subjects", __name__, template_folder="templates")

COOKIE = "privacy_subject"  # the subject's session; the officer's is privacy_session
PENDING_COOKIE = "privacy_subject_login"  # one login attempt's state, nonce and PKCE verifier, signed


def _client() -> service.OidcClient | None:
    settings = service.OidcSettings.from_config(current_app.config)
    if settings is None:
        return None
    clients: dict[service.OidcSettings, service.OidcClient] = current_app.extensions.setdefault(
        "subjects.oidc_clients", {}
    )
    if settings not in clients:  # one per settings: the discovery document and the keys are kept
        clients[settings] = service.OidcClient(settings)
    return clients[settings]


def _policy() -> service.SessionPolicy:
    return service.SessionPolicy.from_config(current_app.config)


def _require_client() -> service.OidcClient:
    client = _client()
    if client is None:
        abort(404)
    return client


def current_subject() -> service.Subject | None:
    """Return the subject logged in on this request, if any."""
    return g.get("subject")


@bp.before_app_request
def load_subject() -> None:
    """Put the subject of the request's session cookie, if live, on `g.subject` for every page."""
    g.subject = None
    token = request.cookies.get(COOKIE)
    if token and request.endpoint not in (None, "static") and current_app.config.get("PRIVACY_OIDC_ISSUER"):
        g.subject = service.current_subject(get_session(), token, policy=_policy())


@bp.app_context_processor
def _login_button() -> dict[str, Any]:
    client = _client() if current_app.config.get("PRIVACY_OIDC_ISSUER") else None
    return {
        "subject_login_url": url_for("subjects.login") if client else None,
        "subject_login_provider": labels.PROVIDER_NAMES.get(client.settings.provider, "") if client else "",
        "subject": g.get("subject"),
    }


def _cookie_options() -> dict[str, Any]:
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    }


def _unavailable() -> tuple[str, int]:
    message = _("The identity provider does not answer right now. Try again in a few minutes.")
    return render_template("subjects/refused.html", message=message), 503


@bp.get("/me/login")
@public
def login() -> Any:
    """Send the browser to the identity provider with a fresh state, nonce and PKCE challenge."""
    client = _require_client()
    try:
        pending, url = service.begin_login(client, locale=str(get_locale() or "nb"))
    except service.ProviderUnavailable:
        return _unavailable()
    response = redirect(url)
    sealed = service.seal_pending(pending, secret=current_app.config["SECRET_KEY"])
    response.set_cookie(PENDING_COOKIE, sealed, max_age=600, path="/me/", **_cookie_options())
    return response


@bp.get("/me/callback")
@public
def callback() -> Any:
    """Check the provider's answer and start the subject's session, or show why the login was refused."""
    client = _require_client()
    policy = _policy()
    pending = service.open_pending(request.cookies.get(PENDING_COOKIE), secret=policy.secret)
    try:
        _subject, token = service.complete_login(
            get_session(),
            client=client,
            pending=pending,
            args=request.args,
            policy=policy,
            actor=current_actor(),
        )
    except service.LoginRefused as refused:
        keep_changes()  # the refusal's audit event stays; nothing else was written
        body = render_template("subjects/refused.html", message=labels.refusal_text(refused.reason))
        response: Response = current_app.make_response((body, refused.status))
    except service.ProviderUnavailable:
        response = current_app.make_response(_unavailable())
    else:
        response = redirect(url_for(".me"))
        response.set_cookie(COOKIE, token, path="/", **_cookie_options())  # ends with the browser, or earlier
    response.delete_cookie(PENDING_COOKIE, path="/me/", **_cookie_options())
    return response


@bp.post("/me/logout")
@public
def logout() -> Any:
    """End the subject's session everywhere (the row goes, so every copy of the cookie stops working)."""
    _require_client()
    service.end_session(get_session(), request.cookies.get(COOKIE), policy=_policy())
    g.subject = None
    flash(_("You are logged out."))
    response = redirect(url_for("public.index"))
    response.delete_cookie(COOKIE, path="/", **_cookie_options())
    return response


@bp.get("/me")
@public
def me() -> Any:
    """Min side: who is logged in and how, her requests with their answers, her consents with their history;
    she can give or withdraw a consent and make a new request, verified by the login."""
    client = _require_client()
    subject = current_subject()
    if subject is None:
        return redirect(url_for(".login"))
    lang = str(get_locale() or "nb")
    return render_template(
        "subjects/me.html",
        subject=subject,
        provider_name=labels.PROVIDER_NAMES.get(subject.method, subject.method),
        assurance=labels.assurance_text(subject.acr),
        proof=labels.proof_text,
        providers=labels.PROVIDER_NAMES,
        mine=service.min_side(get_session(), subject, secret=_policy().secret),
        errors=g.pop("me_errors", {}),
        lang=lang,
        client=client,
    )


def _logged_in() -> service.Subject:
    _require_client()
    subject = current_subject()
    if subject is None:
        abort(403)
    return subject


@bp.post("/me/requests")
@public
def make_request() -> Any:
    """A new request from Min side: verified by the login, answered on Min side."""
    subject = _logged_in()
    form = request.form
    try:
        req = service.new_request(
            get_session(),
            subject,
            type=form.get("type", ""),
            activities=form.getlist("activities"),
            email=(form.get("email") or "").strip() or None,
            text=(form.get("text") or "").strip()[:5000] or None,
            lang=str(get_locale() or "nb"),
            links=app_links(),
        )
    except DomainError:
        g.me_errors = {
            "request": [
                _("Check the form: choose what you want to do, and a valid e-mail address if you give one.")
            ]
        }
        return me(), 422
    flash(
        _(
            "Request %(ref)s is registered. We answer by %(due)s.",
            ref=req.reference,
            due=format_date(req.due_on, "long"),
        )
    )
    return redirect(url_for(".me"))


@bp.get("/me/requests/<reference>/<any(letter, export):kind>")
@public
def download(reference: str, kind: str) -> Any:
    """The answer to one of her requests (the reference is no secret: the page checks it is hers)."""
    subject = _logged_in()
    try:
        doc = service.my_document(get_session(), subject, reference=reference, kind=kind)
    except NotFound:
        abort(404)
    return send_download(doc.content, mimetype=doc.media_type, filename=doc.filename)


@bp.post("/me/consents/<int:state_id>/<any(given, withdrawn):status>")
@public
def change_consent(state_id: int, status: str) -> Any:
    """Give or withdraw one of her consents."""
    subject = _logged_in()
    try:
        service.change_my_consent(
            get_session(),
            subject,
            state_id=state_id,
            status=status,
            links=app_links(),
            lang=str(get_locale() or "nb"),
            secret=_policy().secret,
        )
    except NotFound:
        abort(404)
    flash(_("Your consent is withdrawn.") if status == "withdrawn" else _("Your consent is given."))
    return redirect(url_for(".me"))


@bp.post("/me/portals/<int:identifier_id>/remove")
@public
def remove_portal(identifier_id: int) -> Any:
    """Remove a service's link of its user account to her."""
    subject = _logged_in()
    try:
        name = service.remove_my_portal(
            get_session(), subject, identifier_id=identifier_id, secret=_policy().secret
        )
    except NotFound:
        abort(404)
    flash(_("The link to %(service)s is removed.", service=name))
    return redirect(url_for(".me"))
