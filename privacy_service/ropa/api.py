"""/api/v1/activities, /api/v1/organisations and /api/v1/ropa."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from privacy_service.db import get_session
from privacy_service.errors import N_, ValidationFailed
from privacy_service.http import paged, send_download
from privacy_service.idempotency import idempotent
from privacy_service.openapi import answers_etag, if_match, located
from privacy_service.ropa import service
from privacy_service.ropa.schemas import (
    ActivityListArgsSchema,
    ActivityListSchema,
    ActivityOutSchema,
    ActivitySchema,
    ActivityUpdateSchema,
    ActivityWrittenSchema,
    OrganisationOutSchema,
    OrganisationSchema,
    RopaArgsSchema,
    VersionListSchema,
)
from privacy_service.security.access import current_actor, has_scope, require

blp = Blueprint("ropa", __name__, description="The records of processing (GDPR Art. 30)")


def _etag(version: int) -> str:
    return f'W/"v{version}"'


def _expected_version(slug: str) -> int | None:
    """The version the caller read (If-Match), which a change of the registry must name (RFC 9110 §13.1.1).

    No If-Match: 428, once the activity is known to exist (a missing one is a 404 first). `If-Match: *`
    says "whatever the current version is", and is taken as the caller's explicit choice to overwrite.
    """
    header = (request.headers.get("If-Match") or "").strip()
    if not header:
        service.get_activity(get_session(), slug=slug)
        raise service.PreconditionRequired(
            N_(
                "Send If-Match with the ETag of the activity you read (GET /api/v1/activities/{slug}), "
                "so that a change made meanwhile is not overwritten unseen."
            ),
            fields={"If-Match": [N_("Required.")]},
        )
    if header == "*":
        return None
    tag = header.removeprefix("W/").strip('"')
    if not tag.startswith("v") or not tag[1:].isdigit():
        raise ValidationFailed(
            N_('If-Match must be an ETag this API returned, like W/"v3".'),
            fields={"If-Match": [N_("Not an ETag of this API.")]},
        )
    return int(tag[1:])


def _with_etag(record: dict[str, Any], status: int = 200) -> tuple[dict[str, Any], int, dict[str, str]]:
    return record, status, {"ETag": _etag(record["version"])}


def _rule_mode() -> service.RuleMode:
    """Retention rules change only for a caller who may run retention, and then wait for a dry run."""
    return "propose" if has_scope(service.RULE_SCOPE) else "refuse"


def _written(activity: Any, change: Any, status: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The written record; 202 with the pending rule change when the rules wait for a dry run and apply."""
    record = service.activity_record(activity)
    if change is None:
        return _with_etag(record, status)
    return _with_etag({**record, "pending_rule_change": change}, 202)


def answer_cache(app: Any) -> service.AnswerCache:
    """The app's cache of activity answers (one per app, so per worker process)."""
    cache = app.extensions.get("answer_cache")
    if cache is None:
        cache = app.extensions["answer_cache"] = service.AnswerCache()
    return cache


def _answer(answer: service.Answer) -> Response:
    """A kept answer, or 304 when the caller holds it already (the same ETag either way)."""
    if service.etag_matches(answer.etag, request.headers.get("If-None-Match")):
        return current_app.response_class(status=304, headers={"ETag": answer.etag})
    return current_app.response_class(
        answer.body, mimetype="application/json", headers=[("ETag", answer.etag), *answer.headers]
    )


PAGING = ("X-Total-Count", "Link")  # a list's headers (http.paged), kept with its answer


def cached(key_of: Callable[..., Hashable]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Serve a read from the answers kept for the registry's version, and keep the 200s the view makes.

    Outermost on the view: a kept answer skips parsing the arguments and dumping the result. The version is
    read before anything else, so an answer is never kept under a version older than the rows it shows.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            cache, version = answer_cache(current_app), service.registry_version(get_session())
            key = key_of(**kwargs)
            found = cache.get(version, key) if version is not None else None
            if found is not None:
                return _answer(found)
            response = current_app.make_response(view(*args, **kwargs))
            if response.status_code != 200 or version is None:
                return response
            body = response.get_data()
            etag = response.headers.get("ETag") or service.answer_etag(version, body)
            kept = service.Answer(
                body, etag, tuple((k, response.headers[k]) for k in PAGING if k in response.headers)
            )
            cache.put(version, key, kept)
            return _answer(kept)

        return wrapper

    return decorate


@blp.route("/activities")
class Activities(MethodView):
    @answers_etag
    @cached(lambda: service.list_key(request.environ.get("QUERY_STRING", "")))
    @paged
    @blp.arguments(ActivityListArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, ActivityListSchema)
    @require("registry:read")
    def get(self, page: int, per_page: int, **filters: Any) -> Response:
        """List activities, filtered by service, controller, legal basis, special categories, status.

        Strong ETag; If-None-Match answers 304 while the registry has not changed."""
        return current_app.json.response(
            service.activity_page(
                get_session(), filters=service.ActivityFilter(**filters), page=page, per_page=per_page
            )
        )

    @idempotent
    @located("ropa.Activity", "slug", "slug")
    @blp.arguments(ActivitySchema)
    @blp.response(201, ActivityWrittenSchema)
    @blp.alt_response(202, schema=ActivityWrittenSchema, description="Created; its retention rules wait")
    @require("registry:write")
    def post(self, data: dict[str, Any]) -> Any:
        """Create a processing activity (version 1). Retention rules need retention:run and start only once
        a dry run of them is applied: the answer is then 202 with the pending rule change."""
        session = get_session()
        activity = service.create_activity(session, data=data, actor=current_actor(), rules=_rule_mode())
        return _written(activity, service.pending_for(session, slug=activity.slug), 201)


@blp.route("/activities/<slug>")
class Activity(MethodView):
    @answers_etag
    @cached(service.activity_key)
    @blp.response(200, ActivityOutSchema)
    @require("registry:read")
    def get(self, slug: str) -> Any:
        """Return one activity with its current version and the rights that apply.

        Its ETag (W/"v3") is the one PUT takes in If-Match; If-None-Match answers 304."""
        return _with_etag(service.activity_record(service.get_activity(get_session(), slug=slug)))

    @if_match("required")
    @blp.arguments(ActivityUpdateSchema)
    @blp.response(200, ActivityWrittenSchema)
    @blp.alt_response(202, schema=ActivityWrittenSchema, description="Saved; the rule change waits")
    @require("registry:write")
    def put(self, data: dict[str, Any], slug: str) -> Any:
        """Replace an activity's record; the prior version is kept. If-Match is required: the ETag of the
        version read (412 when the activity changed since, 428 without it; `*` overwrites knowingly).

        A change to the retention rules (period, action, anchor, schedule, a rule added or removed, or the
        activity revived) needs retention:run, and waits: the record keeps the rules in force, and the
        answer is 202 with the pending rule change to dry-run and apply under /api/v1/retention/rule-changes.
        """
        data["slug"] = data.get("slug") or slug
        session = get_session()
        activity, _, change = service.update_activity(
            session,
            slug=slug,
            data=data,
            actor=current_actor(),
            expected_version=_expected_version(slug),
            rules=_rule_mode(),
        )
        return _written(activity, change, 200)

    @if_match("required")
    @blp.response(200, ActivityOutSchema)
    @require("registry:write")
    def delete(self, slug: str) -> Any:
        """Retire an activity: it stays readable, with its history. Its retention rules stop, so an activity
        that has any needs retention:run as well. If-Match is required, as for PUT."""
        session = get_session()
        activity = service.retire_activity(
            session,
            slug=slug,
            actor=current_actor(),
            rules=_rule_mode(),
            expected_version=_expected_version(slug),
        )
        return _with_etag(service.activity_record(activity))


@blp.route("/activities/<slug>/versions")
@blp.response(200, VersionListSchema)
@require("registry:read")
def activity_versions(slug: str) -> dict[str, Any]:
    """List every version of an activity, newest first: who changed what and when."""
    return {"slug": slug, "versions": service.list_versions(get_session(), slug=slug)}


@blp.route("/organisations")
@blp.response(200, OrganisationOutSchema(many=True))
@require("registry:read")
@paged
def organisations() -> list[dict[str, Any]]:
    """List the organisations: controllers, processors, sub-processors, the supervisory authority."""
    return list(service.list_organisations(get_session()).values())


@blp.route("/organisations/<slug>", methods=["PUT"])
@blp.arguments(OrganisationSchema)
@blp.response(200, OrganisationOutSchema)
@require("registry:write")
def put_organisation(data: dict[str, Any], slug: str) -> dict[str, Any]:
    """Create or update an organisation (org number mod-11 checked)."""
    if data["slug"] != slug:
        raise ValidationFailed(
            N_("The slug in the body must match the path."), fields={"slug": [N_("Does not match.")]}
        )
    session = get_session()
    service.upsert_organisation(session, data=data, actor=current_actor())
    return service.list_organisations(session)[slug]


@blp.route("/ropa")
@blp.arguments(RopaArgsSchema, location="query", as_kwargs=True)
@blp.response(
    200,
    content_type="application/json",
    description="The record of processing as PDF, CSV, JSON or JSON-LD (W3C DPV)",
)
@require("registry:read")
def ropa(  # noqa: PLR0913
    format: str,  # noqa: A002
    lang: str,
    service: str | None,
    include_retired: bool,
    controller: str | None,
) -> Response:
    """Export the record of processing: all of it, one service's, or one controller's (Art. 30(1))."""
    body, media_type, filename = service_export(format, lang, service, include_retired, controller)
    return send_download(body, mimetype=media_type, filename=filename)


def service_export(
    fmt: str, lang: str, svc: str | None, include_retired: bool, controller: str | None = None
) -> tuple[bytes, str, str]:
    """Render the ROPA for the current request, with the DPIA register's assessments (see record_dpias)."""
    return service.export_ropa(
        get_session(),
        fmt=fmt,
        lang=lang,
        service=svc,
        include_retired=include_retired,
        base_url=current_app.config["PRIVACY_BASE_URL"],
        dpias=record_dpias(),
        lias=record_lias(),
        controller=controller,
        transfer_points=record_transfer_points() if fmt == "jsonld" else None,
    )


def record_dpias() -> dict[str, Any]:
    """The DPIA register's assessments as plain data, from the reader the app factory names (ropa never
    imports the register, DESIGN.md §7); none when the app has no register."""
    reader = current_app.extensions.get("record_dpias")
    return reader(get_session()) if reader is not None else {}


def record_lias() -> dict[str, Any]:
    """The legitimate-interest assessments as plain data, from the reader the app factory names (as
    `record_dpias`); none when the app has no register."""
    reader = current_app.extensions.get("record_lias")
    return reader(get_session()) if reader is not None else {}


def record_transfer_points() -> dict[str, Any]:
    """The transfer assessments' points of Art. 49(1) by activity and transfer, from the reader the app
    factory names (as `record_dpias`); none when the app has no register."""
    reader = current_app.extensions.get("record_transfer_points")
    return reader(get_session()) if reader is not None else {}
