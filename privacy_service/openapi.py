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
import re
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
    "default": "Any other error, with the envelope: 400 a body that is not JSON, 409 a change the current "
    "state does not allow (`conflict`, or a code that says what), 404 something the body names, 415, 503",
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

    def install(self, api: Any) -> None:
        """Add the plugin to a flask-smorest Api's spec, before any blueprint is registered."""
        api.spec.plugins.append(self)
        self.init_spec(api.spec)
        api.ma_plugin.converter.add_attribute_function(nullable_enum)

    def init_spec(self, spec: APISpec) -> None:
        """Declare the security schemes and the headers operations share."""
        super().init_spec(spec)
        self.spec = spec
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
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("query", "path") and "schema" in parameter:
                    parameter["schema"] = _never_null(parameter["schema"])
            handler = getattr(getattr(view, "view_class", None), method, None) or view
            access = rule_for(view, method.upper()) if view is not None else None
            self._security(operation, access)
            limited = _limited(self.app, rule.endpoint, method)
            self._errors(operation, method, access, has_path_parameters=bool(rule.arguments), limited=limited)
            self._headers(operation, handler, limited=limited)
            self._examples(operation)
            operation.setdefault("operationId", _operation_id(view, method))

    def _examples(self, operation: dict[str, Any]) -> None:
        """An example for every JSON body the operation takes or answers, Kari's where it can be."""
        schemas = self.spec.components.schemas
        bodies = [operation.get("requestBody", {})] + [
            r for code, r in operation["responses"].items() if code.startswith("2")
        ]
        for body in bodies:
            content = body.get("content", {}).get("application/json")
            if content and "schema" in content and "example" not in content:
                content["example"] = example_of(content["schema"], schemas)
        for code, (error, message, fields) in ERROR_EXAMPLES.items():
            response = operation["responses"].get(code)
            if not isinstance(response, dict) or response.get("description") != ERRORS[code]:
                continue  # a view that describes its own error gives its own example
            content = response.get("content", {}).get("application/json")
            if content is not None:
                said = (
                    message % {"scope": operation.get("x-required-scope", "")} if code == "403" else message
                )
                content.setdefault("example", {"error": {"code": error, "message": said, "fields": fields}})

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
        codes = ["500", "default", *(["429"] if limited else [])]
        if access is not None and not access.public:
            codes += ["401", "403"]
        if has_path_parameters:
            codes.append("404")
        if method in WRITES or operation.get("parameters"):
            codes.append("422")
        for code in codes:
            if isinstance(responses.get(code), str):  # flask-smorest's shared 422, without the field example
                del responses[code]
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


def nullable_enum(converter: Any, field: Any, ret: dict[str, Any], **_: Any) -> dict[str, Any]:
    """Say a field that takes one of some values or null as `anyOf: [{enum}, {type: null}]`, which a
    generator reads as "this enum, or None", instead of OpenAPI 3.1's `type: [string, null]` with a null in
    the enum, which openapi-python-client splits into three types (a marshmallow converter attribute
    function: it rewrites the property in place)."""
    kind = ret.get("type")
    if isinstance(kind, list) and "null" in kind and "enum" in ret:
        values = [v for v in ret.pop("enum") if v is not None]
        ret.pop("type")
        ret["anyOf"] = [{"type": next(k for k in kind if k != "null"), "enum": values}, {"type": "null"}]
    return {}


def _never_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query or path parameter is text or absent, never null: its schema without the null."""
    schema = {k: v for k, v in schema.items() if not (k == "default" and v is None)}
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        if len(options) == 1:
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            return {**options[0], **rest}
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        others = [k for k in kind if k != "null"]
        schema["type"] = others[0] if len(others) == 1 else others
    if "enum" in schema:
        schema["enum"] = [v for v in schema["enum"] if v is not None]
    return schema


def _operation_id(view: Any, method: str) -> str:
    """The name a generated client gives the operation: the view function's (`get_request`), or the method
    and the resource class's in snake case (`put_consent`)."""
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return str(view.__name__)
    return f"{method}_{re.sub(r'(?<!^)(?=[A-Z])', '_', view_class.__name__).lower()}"


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


# What a field holds, by its name, in the examples: Kari Nordmann (the README's documented demo person, whose
# identity number is a synthetic test number), her survey consent and her access request.
HEX64 = "9f2c4e1a7b3d5f60" * 4
NAMED_EXAMPLES: dict[str, Any] = {
    "action": "consent.given",
    "activity": "surveys",
    "activities": "surveys",
    "controllers": "helsedirektoratet",
    "joint_controllers": "helsedirektoratet",
    "keep_columns": "submitted_at",
    "mask_columns": "free_text",
    "reviewed_free_text": "free_text",
    "actor": "api_client:helsedata-portal",
    "address": "Vitaminveien 4, 0485 Oslo",
    "agreement_ref": "DBA-2024-07",
    "anchor": "completed_at",
    "anchor_fallback": "created_at",
    "article": "Art. 15",
    "authority": "Arkivverket",
    "basis": "Arkivloven § 6; Noark 5 bevaringsvedtak: bevares",
    "by": "officer:dpo",
    "client": "helsedata-portal",
    "code": "not_found",
    "column": "free_text",
    "consent_purpose": "surveys",
    "contact_point": "helsedirektoratet",
    "controller": "helsedirektoratet",
    "country": "US",
    "draft": HEX64,
    "email": "kari.nordmann@example.no",
    "error": "connection refused",
    "event": "consent.changed",
    "field": "email",
    "hash": HEX64,
    "key": "helsedirektoratet",
    "language": "nb",
    "message": "No request has this reference.",
    "name": "Kari Nordmann",
    "national_id": "15838512671",
    "nb": "Spørreundersøkelser om helsedata.no",
    "en": "Surveys about helsedata.no",
    "notice_sha256": HEX64,
    "notice_version": "2024-05",
    "object_id": "DSR-2026-000123",
    "object_type": "request",
    "org_number": "983544622",
    "organisation": "helsedirektoratet",
    "period": "P3Y",
    "phone": "+47 912 34 567",
    "preservation_period": "P10Y",
    "prev_hash": HEX64,
    "processor": "nettskjema",
    "purpose": "surveys",
    "receipt_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "reference": "DSR-2026-000123",
    "secret": "whsec_3q2+7w==",
    "service": "helsedata",
    "sha256": HEX64,
    "slug": "surveys",
    "sub_processor_of": "nettskjema",
    "subject": "kari.nordmann@example.no",
    "subject_value": "kari.nordmann@example.no",
    "system": "survey-tool",
    "table": "survey_responses",
    "table_name": "survey_responses",
    "text_sha256": HEX64,
    "transfer": "3fa2b1c4d5e6",
    "url": "https://portal.example.no/hooks/privacy",
    "status_url": "https://personvern.example.no/requests/status/…",
    "withdraw_url": "https://personvern.example.no/consent/withdraw/…",
    "website": "https://www.helsedirektoratet.no",
    "version": "2024-05",
    # the registers' texts
    "title": "Application sent to the wrong recipient",
    "description": "An application with health data was e-mailed to the wrong research institution.",
    "data_categories": "health data",
    "subject_categories": "applicants",
    "consequences": "The recipient could read one applicant's project description and health information.",
    "measures": "The recipient confirmed deletion; addresses are now picked from the register.",
    "recipient": "Nettskjema (University of Oslo)",
    "details": "Standard contractual clauses, module 2",
    "note": "Called the applicant to confirm the request.",
    "reason": "The applicant asked us to wait for the archive's answer.",
    "reasons": "The answer needs records from the National Archives, which take more than a month.",
    "interest": "Keeping the service secure and finding misuse",
    "owner": "Avdeling for helseregistre",
    "business_process": "Søknadsbehandling",
    "representative": "None (the controller is in the EEA)",
    "location": "Oslo, Norway",
    "public_text_standard": "Kept under the Archives Act",
    "kind": "archive_law",
    "scope": "activity",
    "source": "policies/holds.yaml",
    "rule": "applications.applications",
    "schedule": "30 2 * * *",
    "trigger": "schedule",
    "right": "erasure",
    "step": "received",
    "state": "waiting",
    "change": "updated",
    "ground": "art_15_4",
    "ground_text": "Art. 15(4): the rights and freedoms of others",
    "limit": "Personal Data Act § 17",
    "outcome": "upheld",
    "safeguard": "scc",
    "tool": "scc",
    "events": "consent.changed",
}
FORMATS = {
    "date-time": "2026-12-07T09:30:00Z",
    "date": "2026-12-07",
    "email": "kari.nordmann@example.no",
    "uri": "https://portal.example.no/hooks/privacy",
    "url": "https://portal.example.no/hooks/privacy",
    "uuid": "0f8fad5b-d9cb-469f-a165-70867728950e",
}
# the references of the registers other than requests
REFERENCES = {"Breach": "AVVIK-2026-0007", "Hold": "ARK-2024-113", "Dpia": "DPIA-2025-02"}
ERROR_EXAMPLES = {
    "401": ("unauthorized", "No valid API key or session.", {}),
    "403": ("forbidden", "This needs the scope '%(scope)s'.", {}),
    "404": ("not_found", "Nothing by that name was found.", {}),
    "412": ("version_conflict", "The activity changed since you read it: read it again.", {}),
    "422": (
        "validation_error",
        "The request is not valid; see fields.",
        {"type": ["Must be one of: access, erasure."]},
    ),
    "428": ("precondition_required", "Send If-Match with the ETag you read.", {}),
    "429": ("rate_limited", "Too many calls; try again in 60 seconds.", {}),
    "500": ("internal_error", "Something went wrong on our side; the error has been logged.", {}),
    "default": ("conflict", "The request has status «completed»; it cannot be changed.", {}),
}


def example_of(schema: dict[str, Any], schemas: dict[str, Any], *, name: str = "", within: str = "") -> Any:
    """An example value for a JSON schema: a field's own `example`, then the value its name stands for, then
    one its type, format, enum or bounds allow. `schemas` resolves `$ref`s; `within` is the schema's name."""
    return _example(schema, schemas, name=name, within=within, seen=())


def _example(
    schema: dict[str, Any], schemas: dict[str, Any], *, name: str, within: str, seen: tuple[str, ...]
) -> Any:
    if "$ref" in schema:
        ref = schema["$ref"].rsplit("/", 1)[-1]
        if ref in seen:  # a schema that holds itself: stop there
            return {}
        return _example(schemas.get(ref, {}), schemas, name=name, within=ref, seen=(*seen, ref))
    for key in ("example", "default"):
        if schema.get(key) is not None and not isinstance(schema.get(key), dict | list):
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    for either in ("anyOf", "oneOf", "allOf"):
        if either in schema:
            options = [o for o in schema[either] if o.get("type") != "null"]
            return _example(options[0], schemas, name=name, within=within, seen=seen)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        return {
            field: _example(sub, schemas, name=field, within=within, seen=seen)
            for field, sub in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [_example(schema.get("items", {}), schemas, name=name, within=within, seen=seen)]
    if kind in ("integer", "number"):
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return False
    return _text_example(schema, name=name, within=within)


def _text_example(schema: dict[str, Any], *, name: str, within: str) -> str:
    if name == "reference":
        return next(
            (ref for prefix, ref in REFERENCES.items() if within.startswith(prefix)), "DSR-2026-000123"
        )
    if schema.get("format") in FORMATS:
        return FORMATS[schema["format"]]
    if name in NAMED_EXAMPLES:
        return str(NAMED_EXAMPLES[name])
    listed = re.fullmatch(r"`?([a-z_]+)`? \|.*", schema.get("description", ""))
    if listed:  # a description that lists the values: "unverified | pending | verified"
        return listed.group(1)
    if name.endswith(("_by", "_to")):
        return "officer:dpo"
    if name.endswith("_at"):
        return FORMATS["date-time"]
    if name.endswith(("_on", "_date")):
        return FORMATS["date"]
    if name.endswith(("_ref", "_reference")):
        return "2026/1234"
    return "Text"
