"""Who may call what: every endpoint declares its rule; an endpoint without one is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from flask_login import current_user

from privacy_service.audit import Actor
from privacy_service.db import get_session
from privacy_service.errors import N_, worded
from privacy_service.security.models import ApiClient
from privacy_service.security.service import ROLE_SCOPES, authenticate_key

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Rule:
    """An endpoint's access rule: public, or a scope an officer role or API key must grant."""

    public: bool = False
    scope: str | None = None
    sessions: bool = True  # officer sessions may call it
    keys: bool = True  # API keys may call it


@dataclass(frozen=True)
class Principal:
    """The caller of a request."""

    actor: Actor
    scopes: frozenset[str]
    via: str  # session | key


class AccessDenied(Exception):
    """The caller may not call this endpoint (401 when anonymous, 403 otherwise)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def public(func: F) -> F:
    """Declare an endpoint open to anyone."""
    func._access = Rule(public=True)  # type: ignore[attr-defined]
    return func


def require(scope: str, *, keys: bool = True, sessions: bool = True) -> Callable[[F], F]:
    """Declare the scope an endpoint needs (officer roles map to scopes, see ROLE_SCOPES)."""

    def mark(func: F) -> F:
        func._access = Rule(scope=scope, keys=keys, sessions=sessions)  # type: ignore[attr-defined]
        return func

    return mark


def page(scope: str) -> Callable[[F], F]:
    """Declare an officer page: session only, needing the scope."""
    return require(scope, keys=False)


def link_credential(func: F) -> F:
    """Declare a public POST whose URL token is the credential, so it needs no CSRF token.

    Used by one-click withdrawal: mail providers POST RFC 8058 one-click requests without any form token,
    and a cross-site attacker cannot forge the request without the unguessable token in the URL.
    """
    func._csrf_exempt = True  # type: ignore[attr-defined]
    return func


def signed_body(func: F) -> F:
    """Declare a public POST whose caller is proved by a signature over its body (an OpenDSR callback from
    a processor, checked by the view's service): no API key, no session, and so no CSRF token either, since a
    cross-site form cannot sign what it sends."""
    func._access = Rule(public=True)  # type: ignore[attr-defined]
    func._csrf_exempt = True  # type: ignore[attr-defined]
    return func


def rule_for(view: Callable[..., Any], method: str) -> Rule | None:
    """Return the rule declared on a view (on the method handler for class-based views)."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(view_class, "get", None)
        return getattr(handler, "_access", None) if handler else None
    return getattr(view, "_access", None)


def current_principal() -> Principal | None:
    """Return the authenticated caller of this request, if any."""
    return g.get("principal")


def calling_client() -> Actor | None:
    """The API client calling (its actor), or None for an officer's session: what a client may see of what
    other clients did is narrower than what an officer may."""
    principal = current_principal()
    return principal.actor if principal is not None and principal.via == "key" else None


def has_scope(scope: str) -> bool:
    """Whether the caller of this request holds the scope (an officer through the role's scopes)."""
    principal = current_principal()
    return principal is not None and scope in principal.scopes


def current_actor() -> Actor:
    """Return the actor of this request for audit events."""
    principal = current_principal()
    return principal.actor if principal else Actor("anonymous", request.remote_addr or "-")


def _authenticate() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        client: ApiClient | None = authenticate_key(get_session(), header.removeprefix("Bearer ").strip())
        if client is None:
            raise AccessDenied(401, N_("The API key is not valid."))
        return Principal(Actor("api_client", client.name), frozenset(client.scopes), "key")
    if header:
        raise AccessDenied(401, N_("Use 'Authorization: Bearer <key>'."))
    if current_user.is_authenticated:
        return Principal(
            Actor("user", current_user.username, current_user.role), ROLE_SCOPES[current_user.role], "session"
        )
    return None


def enforce_access() -> None:
    """Check the current request against its endpoint's declared rule (a before_request hook)."""
    if request.endpoint is None or request.endpoint == "static":
        return
    view = current_app.view_functions[request.endpoint]
    rule = rule_for(view, request.method)
    if request.method == "OPTIONS":
        return
    if rule is None:
        raise AccessDenied(403, N_("This endpoint declares no access rule, so nobody may call it."))
    g.principal = _authenticate()
    if rule.public:
        return
    principal: Principal | None = g.principal
    if principal is None:
        raise AccessDenied(401, N_("Log in or send an API key."))
    if (principal.via == "key" and not rule.keys) or (principal.via == "session" and not rule.sessions):
        raise AccessDenied(403, N_("This endpoint cannot be called this way."))
    if rule.scope not in principal.scopes:
        raise AccessDenied(403, worded("This needs the scope '%(scope)s'.", scope=rule.scope))


def undeclared_endpoints(app: Flask) -> list[str]:
    """Return 'endpoint METHOD' for every route that declares no access rule."""
    missing = []
    for url_rule in app.url_map.iter_rules():
        if url_rule.endpoint == "static":
            continue
        view = app.view_functions[url_rule.endpoint]
        for method in sorted((url_rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if rule_for(view, method) is None:
                missing.append(f"{url_rule.endpoint} {method}")
    return missing
