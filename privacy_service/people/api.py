"""/api/v1/subjects/links: a portal links its own user id to identifiers its login proved."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_smorest import Blueprint

from privacy_service.audit import record_event
from privacy_service.db import end_read, get_session, keep_changes
from privacy_service.errors import Conflict
from privacy_service.idempotency import idempotent
from privacy_service.people import service
from privacy_service.people.schemas import LOGINS, LinkInSchema, LinkOutSchema
from privacy_service.security.access import calling_client, current_actor, require

blp = Blueprint("people", __name__, description="One person, many identifiers: portals link their user ids")
SCOPE = "subjects:link"


def _client() -> str:
    caller = calling_client()
    assert caller is not None  # sessions=False: only a portal's key reaches here
    return caller.id


@blp.route("/subjects/links", methods=["POST"])
@idempotent
@blp.arguments(LinkInSchema)
@blp.response(200, LinkOutSchema)
@require(SCOPE, sessions=False)
def post_subject_link(data: dict[str, Any]) -> dict[str, Any]:
    """Link your user's id to the identifiers her ID-porten or HelseID login in your service proved, so
    that the consent and processing status you read with your id answer for the whole person: a restriction
    or objection recorded under her e-mail address, a consent withdrawn elsewhere. Needs the scope
    subjects:link (you vouch for the login). You learn nothing about identifiers other clients hold."""
    client = _client()
    session = get_session()
    end_read(session)
    login = LOGINS[data["login"]]
    claims = [
        service.Claim("portal", data["portal_id"], client=client, verified_by="portal_verified", login=login)
    ]
    if data["national_id"]:
        claims.append(
            service.Claim("national_id", data["national_id"], verified_by="portal_verified", login=login)
        )
    if data["email"]:
        proved = "portal_verified" if data["email_verified"] else None
        claims.append(
            service.Claim("email", data["email"], verified_by=proved, login=login if proved else None)
        )
    try:
        service.link(session, claims, actor=current_actor(), secret=current_app.config["SECRET_KEY"])
    except Conflict:
        # the refusal is kept although the answer is 409 (link() wrote nothing): an officer looking into
        # it finds which client tried, when and with which kinds, never the values
        record_event(
            session,
            actor=current_actor(),
            action="person.link_refused",
            object_type="person",
            object_id="-",
            details={"reason": "two_national_ids", "kinds": [c.kind for c in claims]},
        )
        keep_changes()
        raise
    return {
        "portal_id": data["portal_id"],
        "identifiers": [{"kind": c.kind, "verified": c.verified_by is not None} for c in claims],
    }


@blp.route("/subjects/links/<string(maxlength=254):portal_id>", methods=["DELETE"])
@blp.response(204)
@require(SCOPE, sessions=False)
def delete_subject_link(portal_id: str) -> None:
    """Remove your own user id's link (she closed her account with you); another client's ids answer 404."""
    client = _client()
    session = get_session()
    end_read(session)
    service.unlink_portal(session, client=client, portal_id=portal_id, actor=current_actor())
