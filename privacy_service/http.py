"""The JSON API conventions: /api/v1, the error envelope, OpenAPI; HTML error pages for the rest."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

from flask import Flask, Response, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import LazyString, force_locale, get_locale, gettext, ngettext
from flask_smorest import Api as SmorestApi
from flask_wtf.csrf import CSRFError
from marshmallow import Schema, ValidationError, fields
from sqlalchemy import exc as sa_exc
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from privacy_service.catalogue import MissingText, words
from privacy_service.db import STALE_CONNECTION
from privacy_service.errors import N_, Code, DomainError, ValidationFailed, Worded, envelope
from privacy_service.kernel import PageArgsSchema
from privacy_service.security.access import AccessDenied
from privacy_service.wording import actor_words

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ErrorBodySchema(Schema):
    code = fields.String(metadata={"description": "Machine-readable error code"})
    message = fields.String(metadata={"description": "What went wrong, for people"})
    fields_ = fields.Dict(data_key="fields", metadata={"description": "Field name → list of messages"})


class ErrorSchema(Schema):
    """The error envelope every API error uses (DESIGN.md §5)."""

    error = fields.Nested(ErrorBodySchema)


def is_api_request() -> bool:
    """Tell whether the current request is for the JSON API."""
    return request.path.startswith("/api/")


def _flatten_webargs(messages: Any) -> dict[str, Any]:
    # webargs nests messages by location ({"json": {...}, "query": {...}}); the envelope wants field names.
    if not isinstance(messages, dict):
        return {"_schema": messages}
    out: dict[str, Any] = {}
    for location, value in messages.items():
        if isinstance(value, dict) and location in ("json", "query", "form", "headers", "files", "view_args"):
            out.update(value)
        else:
            out[location] = value
    return out


# Messages marshmallow formats with values: matched here, worded from the catalogue with the same values.
_FORMATTED = (
    (re.compile(r"^Must be one of: (?P<choices>.+)\.$"), N_("Must be one of: %(choices)s.")),
    (re.compile(r"^Longer than maximum length (?P<max>\d+)\.$"), N_("Longer than maximum length %(max)s.")),
    (re.compile(r"^Shorter than minimum length (?P<min>\d+)\.$"), N_("Shorter than minimum length %(min)s.")),
    (
        re.compile(r"^Length must be between (?P<min>\d+) and (?P<max>\d+)\.$"),
        N_("Length must be between %(min)s and %(max)s."),
    ),
    (re.compile(r"^Must be greater than or equal to (?P<min>\S+)\.$"), N_("Must be at least %(min)s.")),
    (re.compile(r"^Must be less than or equal to (?P<max>\S+)\.$"), N_("Must be at most %(max)s.")),
)
_BOKMAL_TAGS = ("nb", "no", "nn")


def client_language() -> str:
    """The language an API client reads its error messages in: `?lang=`, else bokmål when Accept-Language
    names bokmål (nb, no or nn) before English; English otherwise, as the API has always answered."""
    asked = request.args.get("lang")
    if asked in ("nb", "en"):
        return asked
    if "Accept-Language" not in request.headers:
        return "en"
    best = request.accept_languages.best_match((*_BOKMAL_TAGS, "en"))
    return "nb" if best in _BOKMAL_TAGS else "en"


def _said(text: Worded) -> str:
    """A worded message in the current locale, its values too."""
    lang = str(get_locale() or "en")
    return gettext(text.template, **{name: _value_in(value, lang) for name, value in text.params.items()})


def _value_in(value: Any, lang: str) -> Any:
    """A value of a worded message in `lang`: a code in words, a worded message said again."""
    if isinstance(value, Worded):
        return _said(value)
    if isinstance(value, Code):
        return value.words(lang)
    return value


def _message_in(text: str, lang: str) -> str:
    """One message in the language: a worded message with its values, a catalogue message, or a formatted one
    matched by its pattern; a message the catalogue does not know stays as it is."""
    with force_locale(lang):
        if isinstance(text, Worded):
            return _said(text)
        for pattern, template in _FORMATTED:
            if found := pattern.match(text):
                return gettext(template, **found.groupdict())
        return gettext(text)


def in_client_language(value: Any, lang: str) -> Any:
    """Messages (a text, or lists and mappings of them, as the envelope's fields hold) in the language."""
    if lang == "en":
        return value
    if isinstance(value, str):
        return _message_in(value, lang)
    if isinstance(value, list):
        return [in_client_language(item, lang) for item in value]
    if isinstance(value, dict):
        return {key: in_client_language(item, lang) for key, item in value.items()}
    return value


def json_error(
    status: int, message: str, fields_: dict[str, Any] | None = None, code: str | None = None
) -> Response:
    """Return the error envelope as a response, its messages in the language the client asks for."""
    lang = client_language()
    body = envelope(
        code or _CODES.get(status, "error"),
        in_client_language(message if isinstance(message, str) else str(message), lang),
        in_client_language(fields_, lang),
    )
    response = jsonify(body)
    response.status_code = status
    if lang != "en":
        response.headers["Content-Language"] = lang
    return response


class Api(SmorestApi):
    """flask-smorest with the service's error envelope."""

    ERROR_SCHEMA = ErrorSchema
    # errors, "default" included, are described with examples by openapi.ContractPlugin
    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error: HTTPException) -> Any:
        """Answer an HTTP error as JSON for the API, as a page elsewhere."""
        status = error.code or 500
        # Keep the exception's own headers, e.g. the Allow list a 405 must carry (RFC 9110 §15.5.6).
        extra = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if not is_api_request():
            if status == 429:  # the limiter's description ("30 per 1 minute") says nothing to a person
                message = gettext("You have sent many requests in a short time. Wait a minute and try again.")
            else:
                message = error.description or error.name
            page, _ = html_error(status, message)
            return page, status, extra
        data = getattr(error, "data", None) or {}
        fields_ = _flatten_webargs(data["messages"]) if "messages" in data else data.get("errors")
        if status == 422:
            message = "The request is not valid; see fields."
        elif status == 500:
            message = "Something went wrong on our side; the error has been logged."
        else:
            message = data.get("message") or error.description or error.name
        response = json_error(status, message, fields_)
        for key, value in [*extra, *(data.get("headers") or {}).items()]:
            response.headers[key] = value
        return response


def html_error(status: int, message: str) -> tuple[str, int]:
    """Render the HTML error page."""
    return render_template("error.html", status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    """Map domain errors, access denials and CSRF failures to answers in one place."""

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Any:
        if is_api_request():
            return json_error(exc.status, exc.message, exc.fields, exc.code)
        return html_error(exc.status, page_message(exc.message))

    @app.errorhandler(AccessDenied)
    def _access_denied(exc: AccessDenied) -> Any:
        if is_api_request():
            response = json_error(exc.status, exc.message)
            if exc.status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="privacy-service"'
            return response
        if exc.status == 401:
            lang = request.args.get("lang")
            return redirect(
                url_for(
                    "auth.login",
                    next=request.full_path.rstrip("?") if request.method == "GET" else None,
                    lang=lang if lang in ("nb", "en") else None,  # the login page in the language asked for
                )
            )
        return html_error(exc.status, page_message(exc.message))

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Any:
        message = "The form or request is missing a valid CSRF token; reload the page and try again."
        if is_api_request():
            return json_error(400, message, {"csrf_token": [exc.description]}, "csrf_failed")
        return html_error(400, gettext("The form has expired. Reload the page and try again."))

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.TimeoutError)
    def _database_unavailable(exc: Exception) -> Any:
        # The database is down, restarting or out of connections: say so at once and let the caller retry.
        # A dropped connection invalidates the pool (db.make_engine), so the service recovers by itself: the
        # next request after the server is back gets a fresh connection.
        log.warning("database unavailable on %s %s: %s", request.method, request.url_rule, type(exc).__name__)
        if getattr(exc, "connection_invalidated", False):  # a dropped connection: reads are asked again
            request.environ[STALE_CONNECTION] = True
        message = "The service is briefly unavailable; try again in a few seconds."
        if is_api_request():
            response = json_error(503, message)
        else:
            page = gettext("The service is briefly unavailable; try again in a few seconds.")
            response = app.make_response(html_error(503, page))
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):  # handled by the Api handler
            raise exc
        log.exception("unhandled error on %s %s", request.method, request.url_rule)
        if is_api_request():
            return json_error(500, "Something went wrong on our side; the error has been logged.")
        return html_error(500, gettext("Something went wrong on our side; the error has been logged."))


class Int32Converter(IntegerConverter):
    """`<int:…>` path values within the database's integer ids: a larger number is a 404, not a 500."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


# Far deeper than any body the API takes, and far below the interpreter's recursion limit, which json and
# marshmallow reach at about 1,000 levels.
MAX_JSON_DEPTH = 64
# A string, or an unterminated one up to the end: every quote that starts a match ends with a match, so the
# scan stays linear however the quotes and backslashes are arranged.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Tell whether a JSON text nests arrays and objects more than `limit` levels deep, without parsing it."""
    if body.count(b"[") + body.count(b"{") <= limit:  # most bodies: too few brackets to nest that deep
        return False
    # Decoded as json.loads decodes bytes (UTF-8, -16 or -32), so no other encoding can hide a bracket.
    text = body.decode(json.detect_encoding(body), errors="replace")
    depth = 0
    for char in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):  # brackets outside strings, in order
        depth += 1 if char in "[{" else -1
        if depth > limit:
            return True
    return False


def refuse_deep_json() -> Any:
    """Refuse a JSON body nested too deep before anything parses it (a before_request hook, the first).

    Parsing or validating it would recurse until Python gives up: a 500 and a traceback per request, for
    anyone, before authentication.
    """
    if not request.is_json or not json_too_deep(request.get_data(cache=True)):
        return None
    log.info(
        "refused a JSON body nested deeper than %d levels on %s %s",
        MAX_JSON_DEPTH,
        request.method,
        request.url_rule,
    )
    message = f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels."
    if is_api_request():
        return json_error(400, message, {"json": ["Invalid JSON body."]})
    return html_error(400, gettext("The request could not be read."))


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def refuse_nul_characters() -> Any:
    """Refuse input holding U+0000 (a before_request hook).

    PostgreSQL cannot store it in text or JSON columns, so it would fail deep inside a transaction; no person
    or system has a reason to send it.
    """
    if request.routing_exception is not None:  # a 404 or 405 is answered as such
        return None
    values: list[Any] = [request.path, *request.args.items(multi=True)]
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        values += request.form.items(multi=True)
        if request.is_json:
            values.append(request.get_json(silent=True))
    if not _has_nul(values):
        return None
    message = "Text may not contain the NUL character (U+0000)."
    if is_api_request():
        return json_error(400, message)
    return html_error(400, message)


def require_json_body() -> Response | None:
    """Refuse API writes whose body is not JSON (a before_request hook). A write without a body (an action
    such as a webhook ping) needs none: `curl -X POST` sends no Content-Length at all."""
    if not is_api_request() or request.method not in ("POST", "PUT", "PATCH") or request.routing_exception:
        return None
    if not request.content_length and not request.data:
        return None
    if request.mimetype != "application/json":
        return json_error(415, "Send the body as JSON with 'Content-Type: application/json'.")
    return None


def send_download(content: bytes, *, mimetype: str, filename: str) -> Response:
    """A document as a download that is never cached (answers and reports hold personal data)."""
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def app_links() -> Any:
    """The running app's link builder (base URL and signing key), made once in the app factory."""
    return current_app.extensions["links"]


def app_instance_path() -> Path:
    """The running app's instance folder (data systems, outbox, erasure ledger), set once by the factory."""
    return current_app.extensions["instance_path"]


def confirmed() -> bool:
    """Whether the officer has confirmed an irreversible action on its confirmation page."""
    return request.form.get("confirmed") == "1"


def confirmation(*, title: str, consequences: list[str], button: str, back: str) -> tuple[str, int]:
    """The page an irreversible action shows before it acts: what will happen, in the officer's words, a
    button that posts the same form again with confirmed=1, and a way back that changes nothing."""
    fields = [(k, v) for k, v in request.form.items(multi=True) if k not in ("csrf_token", "confirmed")]
    page = render_template(
        "confirm.html", title=title, consequences=consequences, button=button, back=back, fields=fields
    )
    return page, 200


def rows_and_tables(rows: int, tables: int) -> dict[str, str]:
    """'186 rows' and '4 tables' in the reader's language, for the sentences a confirmation page says."""
    return {
        "rows": ngettext("%(num)s row", "%(num)s rows", rows),
        "tables": ngettext("%(num)s table", "%(num)s tables", tables),
    }


def page_message(text: Any) -> str:
    """A message a service or a schema gave in English (marked N_ for the catalogue), in the page's
    language, with the values a worded message names; one the catalogue does not know stays as it is."""
    if isinstance(text, Worded):
        return _said(text)
    return gettext(str(text))


def lazy_code_words(prefix: str, codes: Sequence[str]) -> dict[str, LazyString]:
    """Words for codes from the documents catalogue (the PDFs say the same), worded when a page or a form
    renders, in its language: for the labels modules and the forms' choices."""
    return {code: LazyString(lambda code=code: code_words(prefix, code)) for code in codes}


def code_words(prefix: str, code: Any) -> str:
    """A code in words from the documents catalogue (`prefix.code`), in the page's language; a code the
    catalogue does not know (a value a newer version wrote) is shown as it is."""
    try:
        return words(f"{prefix}.{code}", str(get_locale() or "nb"))
    except MissingText:
        return "" if code is None else str(code)


def actor_text(actor: Any) -> str:
    """Who did something, in words ("saksbehandleren kari", "API-klienten portal"), in the page's language."""
    return actor_words(actor, str(get_locale() or "nb"))


class Window(NamedTuple):
    """One page of a list the view paged itself (in SQL): the page's items and how many there are in all."""

    items: list[Any]
    total: int


def page_args() -> tuple[int, int]:
    """The `page` and `per_page` of the current list call (422 with the field's message when out of range)."""
    try:
        data = PageArgsSchema().load(request.args)
    except ValidationError as err:
        raise ValidationFailed(N_("The request is not valid; see fields."), fields=err.messages) from err
    return data["page"], data["per_page"]


def _page_url(page: int, per_page: int) -> str:
    """The page's URL as a path and query (RFC 8288 resolves it against the request's URL): the same answer
    whatever host the caller used, so a kept answer can carry it."""
    args = MultiDict(request.args)
    args.pop("limit", None)
    args["page"], args["per_page"] = str(page), str(per_page)
    return f"{quote(request.path)}?{urlencode(list(args.items(multi=True)))}"


def page_links(page: int, per_page: int, total: int) -> str:
    """RFC 8288 `Link` of a list page: first, last, and prev/next where there is one."""
    last = max(1, -(-total // per_page))
    rels = {"first": 1, "last": last}
    if page > 1:
        rels["prev"] = min(page - 1, last)
    if page < last:
        rels["next"] = page + 1
    return ", ".join(f'<{_page_url(p, per_page)}>; rel="{rel}"' for rel, p in rels.items())


def paged(view: Any) -> Any:
    """Page a list the one way every list of the API is paged: `?page=` (from 1) and `?per_page=` (1–1000,
    default 100); the answer carries `X-Total-Count` and a `Link` header with first, prev, next and last.

    The view returns the whole list (sliced here), a `Window` it paged itself, or an {"items", "total"} body
    it paged itself. Put it below `@require` (the caller is refused before the list is read), or above
    a cache that answers with its own Response."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = view(*args, **kwargs)  # first: a caller without access is told so, not about the page
        page, per_page = page_args()
        if isinstance(result, Response):  # a view that made its answer itself (the activities, with ETag)
            if result.status_code != 200:
                return result
            body = result.get_json(silent=True) or {}
            total = int(body.get("total", 0))
            result.headers["X-Total-Count"] = str(total)
            result.headers["Link"] = page_links(page, per_page, total)
            return result
        if isinstance(result, Window):
            body, total = result.items, result.total
        elif isinstance(result, dict):
            body, total = result, int(result["total"])
            page, per_page = result.get("page", page), result.get("per_page", per_page)
        else:
            items = list(result)
            body, total = items[(page - 1) * per_page : page * per_page], len(items)
        headers = {"X-Total-Count": str(total), "Link": page_links(page, per_page, total)}
        return body, 200, headers

    wrapper._paged = True  # type: ignore[attr-defined]
    return wrapper
