"""The person behind a login (issue 21): link her proved identifiers when she logs in, list them for Min side,
and say which consent subjects are hers. Below the front door: only service.py imports this module.

Rules (docs/people.md, DESIGN.md §7): only verified identifiers find her consents; an unverified address is
shown as unverified and nothing recorded under it is shown or changed. A portal's user id is a consent subject
of hers only for what that portal recorded under it: two portals' user ids may be the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.dsar import service as dsar
from privacy_service.errors import N_, Conflict, NotFound
from privacy_service.people import service as people

__all__ = [
    "MyEmail",
    "MyIdentifiers",
    "MyPortal",
    "MySubjects",
    "identifiers",
    "link_at_login",
    "remove_portal",
    "subjects",
]


@dataclass(frozen=True)
class MyEmail:
    """One of her e-mail addresses: how and when it was proved (None: not proved), and the portal that proved
    it when that portal linked it."""

    address: str
    verified_by: str | None
    verified_at: datetime | None
    portal: str | None = None


@dataclass(frozen=True)
class MyPortal:
    """A portal (an API client, by name) that linked its own user id to her, since when, and the login it
    vouched for (idporten | helseid)."""

    id: int  # the link's row: Min side's remove button names it
    client: str
    since: datetime
    login: str | None


@dataclass(frozen=True)
class MyIdentifiers:
    """What the person store knows of her besides her number (the page shows the session's, masked): her
    addresses and the portals."""

    emails: list[MyEmail] = field(default_factory=list)
    portals: list[MyPortal] = field(default_factory=list)


@dataclass(frozen=True)
class MySubjects:
    """The consent subject keys that are hers (people.subject_key): her verified addresses, and her verified
    portal ids, each with the client whose user id it is."""

    emails: frozenset[str]
    portals: dict[str, str]  # subject key: the client

    def owns(self, state: Any) -> bool:
        """Whether a consent state is hers: under one of her proved addresses or portal ids. Another portal's
        user whose id reads the same is stored under another key."""
        return state.subject in self.emails or state.subject in self.portals

    def all(self) -> list[str]:
        """Every subject key, addresses first."""
        return [*sorted(self.emails), *sorted(self.portals)]


def link_at_login(session: Session, *, pid: str, method: str, secret: str, actor: Actor) -> int | None:
    """Make sure the person who logged in exists: link her number (proved by the login) and the addresses
    proved on her requests, each with how the request proved it (requests verified before issue 21 linked
    nothing); return her person's id. Nothing is written when she is already known with all of them.

    If the store holds these identifiers for two people with different numbers, link nothing (people.link
    refuses; the savepoint leaves none of its writes), record the refusal and return None: she still logs
    in."""
    claims = [people.Claim("national_id", pid, verified_by=method)]
    seen: set[str] = set()
    for req in reversed(dsar.requests_of_person(session, national_id=pid)):  # oldest proof first
        address = (req.subject_email or "").strip().lower()
        if address and req.email_verified_by and address not in seen:
            seen.add(address)
            claims.append(people.Claim("email", address, verified_by=req.email_verified_by))
    person_id = _person(session, pid, secret)
    if person_id is not None:  # most logins: she is known with all of it (a request links what it proved)
        have = {(r.kind, r.value) for r in people.identifiers_of(session, person_id) if r.verified_by}
        if all(("email", c.value) in have for c in claims[1:]):
            return person_id
    try:
        with session.begin_nested():
            linked = people.link(session, claims, actor=actor, secret=secret)
    except Conflict:
        record_event(
            session,
            actor=actor,
            action="subject.link_refused",
            object_type="person",
            object_id="-",
            details={"reason": "two_national_ids", "emails": len(seen)},
        )
        return None
    return linked.person_id


def _person(session: Session, pid: str, secret: str) -> int | None:
    return people.person_of(session, people.Claim("national_id", pid), secret=secret)


def identifiers(session: Session, *, pid: str, secret: str) -> MyIdentifiers:
    """Her identifiers as Min side shows them (no number: the store has only its hash)."""
    person_id = _person(session, pid, secret)
    if person_id is None:
        return MyIdentifiers()
    emails, portals = [], []
    for row in people.identifiers_of(session, person_id):
        if row.kind == "email":
            # a portal is named only when it proved the address as it linked it (one `now`), not when someone
            # else proved it later
            kind, _, name = row.linked_by.partition(":")
            by_portal = kind == "api_client" and row.verified_at == row.linked_at
            emails.append(MyEmail(row.value, row.verified_by, row.verified_at, name if by_portal else None))
        elif row.kind == "portal":
            assert row.id is not None
            portals.append(MyPortal(row.id, row.client, row.linked_at, row.login))
    return MyIdentifiers(emails, portals)


def subjects(session: Session, *, pid: str, secret: str, requests: list[Any]) -> MySubjects:
    """The consent subjects that are hers: the addresses proved on her requests, and every verified address
    and portal id of her person (people.subjects_for's kinds; never an unverified one)."""
    emails = set(dsar.verified_emails(requests))
    portals: dict[str, str] = {}
    person_id = _person(session, pid, secret)
    for row in people.identifiers_of(session, person_id) if person_id is not None else []:
        if row.verified_by is None or row.kind not in people.ANSWERING_KINDS:
            continue
        if row.kind == "email":
            emails.add(row.value)
        else:
            portals[people.subject_key(row.value, row.client)] = row.client
    return MySubjects(frozenset(emails), portals)


def remove_portal(session: Session, *, pid: str, secret: str, identifier_id: int, actor: Actor) -> str:
    """Remove a portal's link of its user account to her (people.unlink_portal, with its audit event); return
    the portal's name. Only her own person's links: anything else is NotFound, as a link that never was."""
    person_id = _person(session, pid, secret)
    rows = people.identifiers_of(session, person_id) if person_id is not None else []
    row = next((r for r in rows if r.id == identifier_id and r.kind == "portal"), None)
    if row is None:
        raise NotFound(N_("You have no such link."))
    people.unlink_portal(session, client=row.client, portal_id=row.value, actor=actor)
    return row.client
