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
other linked identifiers go. When the retry after the hold (blocked.retry) leaves none of the request's rows
held, the identifiers kept go too. The portals' own user ids of her are read first (portal_ids), for
subject.erased.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

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


def persons_of(session: Session, req: DsarRequest, *, secret: str) -> list[int]:
    """The persons the request's proved identifiers belong to (one, once they were linked)."""
    found = {people.person_of(session, claim, secret=secret) for claim in proved_claims(req)}
    return sorted(p for p in found if p is not None)


def portal_ids(session: Session, person_ids: Sequence[int]) -> dict[str, list[str]]:
    """Each API client's own verified user ids of the persons, by client: a portal only ever gets its own."""
    out: dict[str, set[str]] = defaultdict(set)
    for person_id in person_ids:
        for row in people.identifiers_of(session, person_id):
            if row.kind == "portal" and row.verified_by is not None:
                out[row.client].add(row.value)
    return {client: sorted(ids) for client, ids in out.items()}


def forget_persons(
    session: Session, req: DsarRequest, person_ids: Sequence[int], *, actor: Actor, secret: str
) -> None:
    """Remove the persons' identifiers after the request's erasure; when a hold kept rows, keep those the
    request searched with (the held rows are found by them when the hold ends). Noted on the internal
    timeline."""
    if not person_ids:
        return
    held = any(o.held for o in lifecycle.outcomes_of(session, req))
    own = _own_values(req, secret=secret) if held else set()
    removed: dict[str, int] = defaultdict(int)
    kept: set[str] = set()
    for person_id in person_ids:
        keep = []
        for row in people.identifiers_of(session, person_id):
            if row.verified_by is not None and (row.kind, row.client, row.value) in own:
                keep.append(row.id or 0)
                kept.add(row.kind)
            else:
                removed[row.kind] += 1
        people.forget(session, person_id, keep=keep, actor=actor, reference=req.reference)
    lifecycle.record(session, req, "person_forgotten", actor, visible=False,
                     details={"removed": dict(sorted(removed.items())), "kept": sorted(kept)})  # fmt: skip


def _own_values(req: DsarRequest, *, secret: str) -> set[tuple[str, str, str]]:
    """The request's proved identifiers as people stores them: (kind, client, value)."""
    own = set()
    if email := lifecycle.verified_email(req):
        own.add(("email", "", email.strip().lower()))
    if national_id := lifecycle.verified_national_id(req):
        own.add(("national_id", "", people.national_id_key(national_id, secret)))
    return own
