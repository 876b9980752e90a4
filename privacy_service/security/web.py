"""Wiring of the security extensions: login sessions, rate limits, security headers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from privacy_service.db import get_session
from privacy_service.security.models import User
from privacy_service.security.ratelimit import DATABASE_STORE

# Rate limits per endpoint, applied when the app is built: one limiter per app, counting in the app's store
# (by default its database, so every worker and instance on that database counts together).
RATE_LIMITS: dict[str, tuple[str, list[str]]] = {
    "auth.login": ("10 per minute", ["POST"]),
    "consent_pages.withdraw": ("30 per minute", ["POST"]),
    # the request form and the identity checks: enough for a person, too few for a script
    "dsar_pages.new_request": ("5 per minute;30 per hour", ["POST"]),
    "dsar_pages.verify": ("20 per minute", ["POST"]),
    "dsar_pages.enter_code": ("10 per minute", ["POST"]),
    "dsar_pages.resend": ("3 per minute;10 per hour", ["POST"]),
    "dsar_pages.find": ("5 per minute;20 per hour", ["POST"]),
    "subjects.callback": ("20 per minute", ["GET"]),
}

# Limits whose value is a setting: endpoint -> (config key, methods).
CONFIGURED_LIMITS: dict[str, tuple[str, list[str]]] = {
    # anyone may fetch a notice PDF: it is rendered once per version, but a flood of them still costs
    "public.notice_pdf": ("PRIVACY_NOTICE_PDF_RATE_LIMIT", ["GET"]),
}

# Per account, wherever the attempts come from: a guess at one officer's password spread over many addresses
# stalls too. (Someone can lock an officer out for the hour this way; the audit log shows the failed logins.)
ACCOUNT_LIMITS: dict[str, str] = {"auth.login": "30 per hour"}


def _account_key() -> str:
    return "account:" + (request.form.get("username") or "").strip().lower()[:100]


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def init_security(app: Flask, *, csrf: CSRFProtect, login_manager: LoginManager) -> None:
    """Bind login sessions, the rate limiter and the security headers to the app."""
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(session_id: str) -> User | None:
        user_id, _, version = session_id.partition(".")
        user = get_session().get(User, int(user_id)) if user_id.isdigit() and version.isdigit() else None
        if user is None or not user.active or user.session_version != int(version):
            return None  # unknown, deactivated, or logged out since this cookie was issued
        return user

    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.extensions["privacy_limiter"] = Limiter(
        get_remote_address, app=app, default_limits=[], storage_options=_store_options(app)
    )
    app.after_request(_security_headers)


def _store_options(app: Flask) -> dict[str, Any]:
    """The app's engine and secret for the database store (the default); other stores need nothing here."""
    uri = app.config["RATELIMIT_STORAGE_URI"] = app.config.get("RATELIMIT_STORAGE_URI") or DATABASE_STORE
    if urlparse(uri).scheme != urlparse(DATABASE_STORE).scheme:
        return {}
    return {"engine": app.extensions["engine"], "secret": app.config["SECRET_KEY"]}


def apply_rate_limits(app: Flask) -> None:
    """Wrap the endpoints of RATE_LIMITS in their limits (call after the blueprints are registered)."""
    limiter: Limiter = app.extensions["privacy_limiter"]
    for endpoint, (limit, methods) in RATE_LIMITS.items():
        app.view_functions[endpoint] = limiter.limit(limit, methods=methods)(app.view_functions[endpoint])
    for endpoint, (key, methods) in CONFIGURED_LIMITS.items():
        if app.config.get(key):  # empty: no limit
            view = app.view_functions[endpoint]
            app.view_functions[endpoint] = limiter.limit(app.config[key], methods=methods)(view)
    for endpoint, limit in ACCOUNT_LIMITS.items():
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(limit, key_func=_account_key, methods=["POST"])(view)


# Sent on every response (the consent fast path sends the same list).
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def _security_headers(response: Response) -> Response:
    headers = response.headers
    for name, value in SECURITY_HEADERS:
        headers.setdefault(name, value)
    if request.is_secure:
        headers.setdefault(*HSTS)
    # Answers may carry personal data: never store them in shared caches.
    if not request.path.startswith(("/static/", "/api/docs/assets/")) and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response
