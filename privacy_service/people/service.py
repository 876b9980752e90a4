"""The person behind an identifier: link identifiers proved to be one person's, resolve an identifier to all
of hers, and forget her after an erasure. No Flask here; the instance secret is passed in.

Rules (docs/people.md):
- An identifier is a kind (`email`, `national_id`, `portal`), a value and, for `portal`, the API client that
  holds it: two portals' user ids never meet, whatever their text.
- A national identity number is stored only as its keyed hash (HMAC-SHA256 under the instance secret): it can
  be matched, never read back, and the API never returns it.
- Only verified identifiers find a person or are found through her. A verified identifier belongs to one
  person at most; linking identifiers of two people merges them, unless each has her own national identity
  number (then the link is refused: one of the claims is wrong).
- An identifier resolves only as its own kind: an e-mail address is global, a portal id is the asking
  client's. So a portal cannot reach another portal's user by guessing her id.
- Consents and processing flags are stored under a subject key (subject_key): an e-mail address as itself, a
  portal's user id as `<client>/<id>`. A subject never holds '/', so two portals' ids never share a record,
  whatever their text, and nothing a client sends can name another's.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.errors import N_, Conflict, NotFound
from privacy_service.kernel import utcnow
from privacy_service.people.models import Person, PersonIdentifier

__all__ = [
    "ANSWERING_KINDS",
    "KINDS",
    "SUBJECTS_SQL",
    "Claim",
    "Linked",
    "forget",
    "identifiers_of",
    "key_client",
    "link",
    "lookup",
    "national_id_key",
    "person_of",
    "portals_of",
    "shown_subject",
    "subject_key",
    "subjects_for",
    "subjects_for_many",
    "unlink_portal",
    "verified_identity",
]

KINDS = ("email", "national_id", "portal")
# the kinds consent states and processing flags are recorded under (a national identity number never is)
ANSWERING_KINDS = ("email", "portal")

# The subject keys (subject_key) of the person an asked identifier resolves to, for the hot path's
# statements: the asked subject's own, and those of every verified e-mail address and portal id of her person.
# Parameters: :s (the asked subject, canonical), :kind (`email` or `portal`: lookup()), :c (the asking
# client's name, "" for an e-mail).
SUBJECTS_SQL = (
    "SELECT CASE WHEN :kind = 'portal' THEN CAST(:c AS VARCHAR) || '/' || CAST(:s AS VARCHAR)"
    " ELSE CAST(:s AS VARCHAR) END AS v"
    " UNION SELECT CASE WHEN o.kind = 'portal' THEN o.client || '/' || o.value ELSE o.value END"
    " FROM person_identifier m JOIN person_identifier o ON o.person_id = m.person_id"
    " WHERE m.kind = :kind AND m.client = :c AND m.value = :s AND m.verified_by IS NOT NULL"
    " AND o.kind IN ('email', 'portal') AND o.verified_by IS NOT NULL"
)


def subject_key(subject: str, client: str | None) -> str:
    """The key a consent or a flag of an asked (canonical) subject is stored under: an e-mail address is
    itself; anything else is the asking client's own user id, `<client>/<id>` (an officer, who is no
    client, names such a subject by its key's own text only where no client recorded it)."""
    kind, owner = lookup(subject, client)
    return f"{owner}/{subject}" if kind == "portal" and owner else subject


def shown_subject(key: str) -> str:
    """The subject a stored key is shown as to its client: the id without the client's name."""
    return key.rpartition("/")[2]


def key_client(key: str) -> str | None:
    """The client whose user id a stored key is, or None (an e-mail address; a subject no client recorded).
    A client's name may hold '/' and '@'; a subject never holds '/', so the id is what follows the last."""
    owner, slash, __ = key.rpartition("/")
    return owner if slash else None


@dataclass(frozen=True)
class Claim:
    """One identifier to link: its kind and value (a national identity number in clear: it is hashed here),
    the client for a portal id, and how it was proved (None: not proved)."""

    kind: str
    value: str
    client: str = ""
    verified_by: str | None = None
    login: str | None = None


@dataclass(frozen=True)
class Linked:
    """The outcome of a link: the person, and the identifiers added or proved by it."""

    person_id: int
    added: tuple[str, ...]  # the kinds
    merged: int  # how many other persons were merged into this one


def national_id_key(pid: str, secret: str) -> str:
    """The keyed hash (HMAC-SHA256) of a national identity number under the instance secret; Min side's
    sessions key the same number the same way."""
    key = hashlib.sha256(b"privacy-service subject pid\x00" + secret.encode()).digest()
    return hmac.new(key, pid.replace(" ", "").encode(), hashlib.sha256).hexdigest()


def lookup(subject: str, client: str | None) -> tuple[str, str]:
    """(kind, client) under which an asked consent subject resolves: an e-mail address is global, anything
    else is the asking client's own user id (an officer, who is no client, resolves only e-mail addresses)."""
    if "@" in subject:
        return "email", ""
    return "portal", client or ""


def _stored(claim: Claim, secret: str) -> tuple[str, str, str]:
    if claim.kind == "national_id":
        return "national_id", "", national_id_key(claim.value, secret)
    if claim.kind == "email":
        return "email", "", claim.value.strip().lower()
    if claim.kind == "portal":
        return "portal", claim.client, claim.value.strip()
    raise ValueError(f"unknown identifier kind {claim.kind!r}")


def _verified_rows(session: Session, keys: Iterable[tuple[str, str, str]]) -> list[PersonIdentifier]:
    grouped: dict[tuple[str, str], set[str]] = defaultdict(set)
    for kind, client, value in keys:
        grouped[(kind, client)].add(value)
    conditions = [  # one IN list per kind and client: a thousand asked subjects make two conditions
        and_(PersonIdentifier.kind == k, PersonIdentifier.client == c, PersonIdentifier.value.in_(sorted(v)))
        for (k, c), v in grouped.items()
    ]
    if not conditions:
        return []
    stmt = select(PersonIdentifier).where(or_(*conditions), PersonIdentifier.verified_by.is_not(None))
    return list(session.scalars(stmt))


def _national_ids(session: Session, person_ids: Iterable[int]) -> dict[int, set[str]]:
    rows = session.execute(
        select(PersonIdentifier.person_id, PersonIdentifier.value).where(
            PersonIdentifier.person_id.in_(sorted(set(person_ids))),
            PersonIdentifier.kind == "national_id",
            PersonIdentifier.verified_by.is_not(None),
        )
    )
    out: dict[int, set[str]] = defaultdict(set)
    for person_id, value in rows:
        out[person_id].add(value)
    return out


def link(session: Session, claims: Sequence[Claim], *, actor: Actor, secret: str) -> Linked:
    """Link identifiers as one person's, in the caller's transaction with its audit event.

    Verified claims already linked to people bring those people together (merged into the oldest); a claim
    not yet known is added to her. Raises Conflict when the verified claims would join two different national
    identity numbers, and writes nothing then. Two links of the same new identifier at once: the one that
    loses the unique index tries again (in a savepoint), and then finds the other's person and joins it."""
    for attempt in (1, 2):
        try:
            with session.begin_nested():
                return _link(session, claims, actor=actor, secret=secret)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _link(session: Session, claims: Sequence[Claim], *, actor: Actor, secret: str) -> Linked:
    stored = [(_stored(c, secret), c) for c in claims]
    verified_keys = [key for key, c in stored if c.verified_by]
    found = _verified_rows(session, verified_keys)
    persons = sorted({row.person_id for row in found})
    claimed_nid = {key[2] for key, c in stored if c.verified_by and key[0] == "national_id"}
    held_nids = _national_ids(session, persons)
    every_nid = claimed_nid.union(*held_nids.values()) if held_nids else claimed_nid
    if len(every_nid) > 1:
        raise Conflict(
            N_(
                "These identifiers are already linked to different people; nothing was linked. "
                "Ask the person to log in again, or an officer to look into it."
            )
        )
    if persons:
        person_id, others = persons[0], persons[1:]
        if others:  # the claims show that these are one person: move her identifiers to the oldest record
            session.execute(
                update(PersonIdentifier)
                .where(PersonIdentifier.person_id.in_(others))
                .values(person_id=person_id)
            )
            session.execute(delete(Person).where(Person.id.in_(others)))  # type: ignore[union-attr]
    else:
        person = Person()
        session.add(person)
        session.flush()
        assert person.id is not None
        person_id, others = person.id, []
    have = {
        (row.kind, row.client, row.value, row.verified_by is not None): row
        for row in session.scalars(select(PersonIdentifier).where(PersonIdentifier.person_id == person_id))
    }
    now, added = utcnow(), []
    for (kind, client, value), claim in stored:
        if (kind, client, value, True) in have:
            continue
        unverified = have.get((kind, client, value, False))
        if unverified is not None and claim.verified_by:
            unverified.verified_by, unverified.verified_at, unverified.login = (
                claim.verified_by,
                now,
                claim.login,
            )
            added.append(kind)
        elif unverified is None:
            row = PersonIdentifier(
                person_id=person_id,
                kind=kind,
                client=client,
                value=value,
                verified_by=claim.verified_by,
                verified_at=now if claim.verified_by else None,
                login=claim.login,
                linked_by=str(actor),
                linked_at=now,
            )
            session.add(row)
            have[(kind, client, value, row.verified_by is not None)] = row
            added.append(kind)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="person.linked",
        object_type="person",
        object_id=str(person_id),
        details={
            "added": sorted(added),
            "merged": len(others),
            "verified": sorted({c.kind for c in claims if c.verified_by}),
        },
    )
    return Linked(person_id=person_id, added=tuple(sorted(added)), merged=len(others))


def unlink_portal(session: Session, *, client: str, portal_id: str, actor: Actor) -> int:
    """Remove a portal's link of its own user id (its user closed her account there); return the person's id.
    Another client's links are not its to remove: NotFound, as an id never linked."""
    row = session.scalar(
        select(PersonIdentifier).where(
            PersonIdentifier.kind == "portal",
            PersonIdentifier.client == client,
            PersonIdentifier.value == portal_id.strip(),
        )
    )
    if row is None:
        raise NotFound(N_("This portal id is not linked."))
    person_id = row.person_id
    session.delete(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="person.unlinked",
        object_type="person",
        object_id=str(person_id),
        details={"kind": "portal"},
    )
    return person_id


def person_of(session: Session, claim: Claim, *, secret: str) -> int | None:
    """The person a verified identifier belongs to, or None."""
    rows = _verified_rows(session, [_stored(claim, secret)])
    return rows[0].person_id if rows else None


def identifiers_of(session: Session, person_id: int) -> list[PersonIdentifier]:
    """Every identifier of a person, verified or not (Min side shows them), by kind and time of linking."""
    stmt = (
        select(PersonIdentifier)
        .where(PersonIdentifier.person_id == person_id)
        .order_by(PersonIdentifier.kind, PersonIdentifier.linked_at, PersonIdentifier.id)
    )
    return list(session.scalars(stmt))


def subjects_for(session: Session, subject: str, *, client: str | None) -> list[str]:
    """The subject keys (subject_key) that answer for an asked subject: its own first, then those of every
    verified e-mail address and portal id of the person it resolves to (for the asking client: lookup())."""
    return subjects_for_many(session, [subject], client=client)[subject]


def subjects_for_many(
    session: Session, subjects: Sequence[str], *, client: str | None
) -> dict[str, list[str]]:
    """subjects_for of many asked subjects in two statements (consents:query)."""
    asked = list(dict.fromkeys(subjects))
    out = {s: [subject_key(s, client)] for s in asked}
    keys = {(*lookup(s, client), s): s for s in asked}
    found = _verified_rows(session, keys)
    if not found:
        return out
    by_person: dict[int, list[str]] = defaultdict(list)
    for row in found:
        by_person[row.person_id].append(keys[(row.kind, row.client, row.value)])
    rows = session.execute(
        select(
            PersonIdentifier.person_id, PersonIdentifier.kind, PersonIdentifier.client, PersonIdentifier.value
        )
        .where(
            PersonIdentifier.person_id.in_(sorted(by_person)),
            PersonIdentifier.kind.in_(ANSWERING_KINDS),
            PersonIdentifier.verified_by.is_not(None),
        )
        .order_by(PersonIdentifier.id)
    )
    for person_id, kind, owner, value in rows:
        key = f"{owner}/{value}" if kind == "portal" else value
        for subject in by_person[person_id]:
            if key not in out[subject]:
                out[subject].append(key)
    return out


def portals_of(session: Session, subject: str, *, client: str | None) -> dict[str, list[str]]:
    """The portals with a verified link to the person an asked subject resolves to, each with its own user
    ids of her (for telling each portal in its own id, never another's); empty when it resolves to no one."""
    found = _verified_rows(session, [(*lookup(subject, client), subject)])
    if not found:
        return {}
    rows = session.execute(
        select(PersonIdentifier.client, PersonIdentifier.value)
        .where(
            PersonIdentifier.person_id == found[0].person_id,
            PersonIdentifier.kind == "portal",
            PersonIdentifier.verified_by.is_not(None),
        )
        .order_by(PersonIdentifier.id)
    )
    out: dict[str, list[str]] = defaultdict(list)
    for name, value in rows:
        out[name].append(value)
    return dict(out)


def verified_identity(session: Session, identity: dict[str, str], *, secret: str) -> dict[str, list[str]]:
    """Every verified identifier of the person a request's proved identifiers resolve to, by kind: `email`
    (addresses), `portal:<client>` (that portal's user ids). The request's own identifiers come first; a
    national identity number is known here only as its hash, so the request's own is the one that searches.
    One statement, whatever the number of identifiers (a request's plan and answer read it)."""
    out: dict[str, list[str]] = {kind: [value] for kind, value in identity.items()}
    keys = [_stored(Claim(kind, value), secret) for kind, value in identity.items() if kind in KINDS]
    if not keys:
        return out
    asked, found = aliased(PersonIdentifier), aliased(PersonIdentifier)
    stmt = (
        select(found.kind, found.client, found.value)
        .join(asked, asked.person_id == found.person_id)
        .where(
            or_(*(and_(asked.kind == k, asked.client == c, asked.value == v) for k, c, v in keys)),
            asked.verified_by.is_not(None),
            found.verified_by.is_not(None),
            found.kind.in_(ANSWERING_KINDS),
        )
        .order_by(found.kind, found.linked_at, found.id)
    )
    for kind, client, value in session.execute(stmt):
        values = out.setdefault("email" if kind == "email" else f"portal:{client}", [])
        if value not in values:
            values.append(value)
    return out


def forget(
    session: Session, person_id: int, *, keep: Iterable[int] = (), actor: Actor, reference: str
) -> int:
    """Remove a person's identifiers after her erasure, except those a hold keeps (`keep`, their ids), and the
    person with the last of them; return how many were removed."""
    kept = set(keep)
    ids = [
        i
        for i in session.scalars(select(PersonIdentifier.id).where(PersonIdentifier.person_id == person_id))
        if i not in kept
    ]
    if ids:
        session.execute(delete(PersonIdentifier).where(PersonIdentifier.id.in_(ids)))  # type: ignore[union-attr]
    if not kept:
        session.execute(delete(Person).where(Person.id == person_id))  # type: ignore[arg-type]
    session.flush()
    record_event(
        session,
        actor=actor,
        action="person.forgotten",
        object_type="person",
        object_id=str(person_id),
        details={"removed": len(ids), "kept": len(kept), "reference": reference},
    )
    return len(ids)
