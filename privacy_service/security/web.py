"""Wiring of the security extensions: login sessions, rate limits, security headers."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from privacy_service.db import get_session
from privacy_service.security.models import User

# The extension object, bound to an app in init_security (the Flask extension pattern; no app at import).
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def init_security(app: Flask, *, csrf: CSRFProtect, login_manager: LoginManager) -> None:
    """Bind login sessions, the rate limiter and the security headers to the app."""
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        user = get_session().get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active else None

    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    app.after_request(_security_headers)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Answers may carry personal data: never store them in shared caches.
    if not request.path.startswith(("/static/", "/api/docs/assets/")) and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response
