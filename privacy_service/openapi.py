"""What the OpenAPI description says beyond the schemas (issue 20, item 1): who may call each operation and
with which scope, every error it can answer with the error envelope, and the headers of the HTTP contract.

An apispec plugin reads each operation's access rule (security.access.rule_for, the same rule that is
enforced), so the description cannot claim a scope the code does not ask for. It adds:

- `components.securitySchemes`: `apiKey` (HTTP bearer, the API key) and `officerSession` (the session
  cookie of an officer logged in on the pages), and per operation the schemes it accepts; public operations
  say `security: []`;
- the scope in the operation's description and as `x-required-scope`;
- error responses with the envelope: 401 and 403 where a caller is needed, 404 where the path names
  something, 422 where there is input, 429 (with Retry-After) where a rate limit applies, 500;
- headers: `Idempotency-Key` on the calls that take one, `If-Match` where it is asked for, `ETag` on the
  answers that carry one, `Location` on 201, and the rate-limit headers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from apispec import APISpec, BasePlugin
from flask import Flask, Response, current_app, url_for

from privacy_service.security.access import rule_for
from privacy_service.security.web import ACCOUNT_LIMITS, CONFIGURED_LIMITS, RATE_LIMITS

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERRORS = {
    "401": "No API key or session, or one that is not valid (`unauthorized`)",
    "403": "The key or the officer's role lacks the scope (`forbidden`)",
    "404": "Nothing by that name (`not_found`, or a code that says what, such as `unknown_purpose`)",
    "412": "If-Match names a version that is no longer current",
    "422": "The input is not valid; `fields` names each problem (`validation_error`)",
    "428": "If-Match is required here (`precondition_required`)",
    "429": "Too many calls; wait the seconds Retry-After says (`rate_limited`)",
    "500": "Something went wrong on our side; the error has been logged (`internal_error`)",
}
# Flask-Limiter's headers, on the endpoints that have a limit (security/web.py)
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": "Calls allowed in the window",
    "X-RateLimit-Remaining": "Calls left in the window",
    "X-RateLimit-Reset": "When the window starts again (Unix time)",
}
WRITES = ("post", "put", "patch", "delete")
# every list is paged the same way (http.paged)
PAGE_PARAMETERS = [
    {
        "in": "query",
        "name": "page",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1},
        "description": "The page, from 1",
    },
    {
        "in": "query",
        "name": "per_page",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
        "description": "Items per page",
    },
]
PAGE_HEADERS = {
    "X-Total-Count": {"description": "How many items the list has in all", "schema": {"type": "integer"}},
    "Link": {
        "description": 'The pages: `<url>; rel="first"`, `rel="prev"`, `rel="next"` (absent on the last '
        'page) and `rel="last"` (RFC 8288). Follow `next` until there is none.',
        "schema": {"type": "string"},
    },
}


class ContractPlugin(BasePlugin):
    """Adds security, error responses and the HTTP contract's headers to every operation."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def init_spec(self, spec: APISpec) -> None:
        """Declare the security schemes and the headers operations share."""
        super().init_spec(spec)
        spec.components.security_scheme(
            "apiKey",
            {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key (`privacy-service api-key create`): "
                "`Authorization: Bearer <key>`. Each operation names the scope the key must hold.",
            },
        )
        spec.components.security_scheme(
            "officerSession",
            {
                "type": "apiKey",
                "in": "cookie",
                "name": "session",
                "description": "The session of an officer logged in on the pages (`/login`); writes also "
                "need the `X-CSRFToken` header. The officer's role gives the scopes.",
            },
        )

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        """Complete each operation of the path from its access rule and its view."""
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        view = self.app.view_functions.get(rule.endpoint)
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operation["responses"] = {str(code): r for code, r in operation.get("responses", {}).items()}
            handler = getattr(getattr(view, "view_class", None), method, None) or view
            access = rule_for(view, method.upper()) if view is not None else None
            self._security(operation, access)
            limited = _limited(self.app, rule.endpoint, method)
            self._errors(operation, method, access, has_path_parameters=bool(rule.arguments), limited=limited)
            self._headers(operation, handler, limited=limited)

    @staticmethod
    def _security(operation: dict[str, Any], access: Any) -> None:
        if access is None:
            return
        if access.public:
            operation["security"] = []
            return
        schemes = [{"apiKey": []}] if access.keys else []
        schemes += [{"officerSession": []}] if access.sessions else []
        operation["security"] = schemes
        operation["x-required-scope"] = access.scope
        said = f"Scope: `{access.scope}`" + ("" if access.keys else " (an officer's session only)") + "."
        description = operation.get("description", "")
        if "Scope: `" not in description:
            operation["description"] = f"{description}\n\n{said}".strip()

    @staticmethod
    def _errors(
        operation: dict[str, Any], method: str, access: Any, *, has_path_parameters: bool, limited: bool
    ) -> None:
        responses = operation.setdefault("responses", {})
        codes = ["500", *(["429"] if limited else [])]
        if access is not None and not access.public:
            codes += ["401", "403"]
        if has_path_parameters:
            codes.append("404")
        if method in WRITES or operation.get("parameters"):
            codes.append("422")
        for code in codes:
            responses.setdefault(code, _error(code))
        if limited:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "description": "Seconds to wait before calling again",
                "schema": {"type": "integer"},
            }

    @staticmethod
    def _headers(operation: dict[str, Any], handler: Any, *, limited: bool) -> None:
        parameters = operation.setdefault("parameters", [])
        paged = getattr(handler, "_paged", False)
        if paged:
            named = {(p.get("in"), p.get("name")) for p in parameters}
            parameters.extend(p for p in PAGE_PARAMETERS if ("query", p["name"]) not in named)
        if getattr(handler, "_idempotent", False):
            parameters.append(
                {
                    "in": "header",
                    "name": "Idempotency-Key",
                    "required": False,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^[!-~]+$"},
                    "description": "A unique key (a UUID) for this call: the same call sent again with the "
                    "same key gets the first answer (`Idempotent-Replayed: true`), not a second object. "
                    "Kept 24 hours per caller; the same key with another body is 422 "
                    "`idempotency_key_reused`.",
                    "example": "6b1f5c0e-7d1a-4c39-9a1e-2f0c9b7a1d01",
                }
            )
        if_match = getattr(handler, "_if_match", None)
        if if_match is not None:
            parameters.append(
                {
                    "in": "header",
                    "name": "If-Match",
                    "required": if_match == "required",
                    "schema": {"type": "string"},
                    "description": "The ETag of the version you read (from GET), or `*`. "
                    + (
                        "Required: 428 without it, 412 when the version changed since."
                        if if_match == "required"
                        else "Optional: 412 when it changed since."
                    ),
                    "example": 'W/"v3"',
                }
            )
            operation["responses"].setdefault("412", _error("412"))
            if if_match == "required":
                operation["responses"].setdefault("428", _error("428"))
        for code, response in operation.get("responses", {}).items():
            if not code.startswith("2"):
                continue
            headers = response.setdefault("headers", {})
            if limited:
                headers.update({name: {"description": text, "schema": {"type": "integer"}} for name, text in
                                RATE_LIMIT_HEADERS.items()})  # fmt: skip
            if paged and code == "200":
                headers.update(PAGE_HEADERS)
            if code == "201" and getattr(handler, "_location", False):
                headers["Location"] = {
                    "description": "The URL of what was made",
                    "schema": {"type": "string"},
                }
            if getattr(handler, "_etag", False) or if_match is not None:
                headers["ETag"] = {
                    "description": "The version of what the answer shows; send it in If-Match to change it",
                    "schema": {"type": "string"},
                }
            if getattr(handler, "_idempotent", False):
                headers["Idempotent-Replayed"] = {
                    "description": "`true` when this is the first answer to the same Idempotency-Key",
                    "schema": {"type": "string", "enum": ["true"]},
                }


def _limited(app: Flask, endpoint: str, method: str) -> bool:
    """Whether a rate limit applies to the endpoint and method (security/web.py names them)."""
    named = RATE_LIMITS.get(endpoint) or CONFIGURED_LIMITS.get(endpoint)
    if endpoint in CONFIGURED_LIMITS and not app.config.get(CONFIGURED_LIMITS[endpoint][0]):
        return False
    return bool(named and method.upper() in named[1]) or (endpoint in ACCOUNT_LIMITS and method == "post")


def located(endpoint: str, param: str, field: str) -> Callable[[Any], Any]:
    """Answer a 201 with `Location`: the URL of `endpoint` for the body's `field` (below @idempotent, so a
    replayed answer carries it too)."""

    def decorate(view: Any) -> Any:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            response = current_app.make_response(view(*args, **kwargs))
            body = response.get_json(silent=True) if response.status_code == 201 else None
            if isinstance(body, dict) and body.get(field) is not None:
                response.headers["Location"] = url_for(endpoint, **{param: body[field]})
            return response

        wrapper._location = True  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _error(code: str) -> dict[str, Any]:
    return {"description": ERRORS[code], "content": {"application/json": {"schema": ERROR_REF}}}


def answers_etag(view: Any) -> Any:
    """Mark a view whose answers carry an ETag, for the description."""
    view._etag = True
    return view


def if_match(kind: str) -> Any:
    """Mark a view as taking If-Match (`required` or `optional`), for the description."""

    def mark(view: Any) -> Any:
        view._if_match = kind
        return view

    return mark
