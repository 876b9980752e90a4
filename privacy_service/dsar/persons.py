"""A request's subject as one person (issue 21, people.service): the identifiers a request proved are linked
as hers, and her erasure removes her links again, in the same transaction as the erasure.

Linking. Once a request's identity is verified with two or more proved identifiers (e-mail address and
national identity number), they are linked, each with the method that proved it and the verifier as actor.
An unproved identifier is never linked. A refusal (the identifiers already belong to two national identity
numbers) must not undo the verification: the link runs in a savepoint, and the refusal is noted on the
request's internal timeline.

Forgetting. After an approved erasure the person's identifiers go with her data (people.forget). When a hold
or an archive duty kept rows of the request (an outcome with held rows), the identifiers the request itself
searched with stay, so that the rows can still be found and erased once the hold ends; her portal links and
other linked identifiers go. The portals' own user ids of her are read first (portal_ids), for subject.erased.
"""

from __future__ import annotations

from sqlmodel import Session

from privacy_service.audit import Actor
from privacy_service.dsar import lifecycle
from privacy_service.dsar.models import DsarRequest
from privacy_service.errors import Conflict
from privacy_service.people import service as people


def proved_claims(req: DsarRequest) -> list[people.Claim]:
    """The request's proved identifiers as claims, each with the method that proved it."""
    claims = []
    if email := lifecycle.verified_email(req):
        claims.append(people.Claim("email", email, verified_by=req.email_verified_by))
    if national_id := lifecycle.verified_national_id(req):
        claims.append(people.Claim("national_id", national_id, verified_by=req.national_id_verified_by))
    return claims


def link_proved(session: Session, req: DsarRequest, actor: Actor, *, secret: str) -> None:
    """Link the request's proved identifiers as one person's (one alone links nothing). A refusal is noted on
    the internal timeline and leaves the verification standing."""
    claims = proved_claims(req)
    if len(claims) < 2:
        return
    try:
        with session.begin_nested():  # a refused link writes nothing, and the verification stays
            people.link(session, claims, actor=actor, secret=secret)
    except Conflict:
        lifecycle.record(session, req, "person_link_refused", actor, visible=False,
                         details={"kinds": [c.kind for c in claims]})  # fmt: skip
