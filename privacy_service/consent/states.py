"""Reading consent: the current state (the status reads portal services make on every page view), history,
receipts and counts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import String, and_, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session

from privacy_service.consent import rules
from privacy_service.consent.models import ConsentEvent, ConsentState, StateRow
from privacy_service.errors import N_, NotFound, ValidationFailed, worded
from privacy_service.people import service as people

MAX_QUERY_PAIRS = 1000
STATE_COLUMNS = tuple(getattr(ConsentState, name) for name in StateRow._fields)

# Consents are stored under subject keys (people.subject_key): an e-mail address, or `<client>/<id>` for a
# portal's user id. The functions here take keys; an asked subject becomes one in consent.service.


def _key(subject: str) -> str:
    """A subject key as stored: an e-mail address in its canonical form; a portal's key as it is (a client's
    name may hold capitals and '@')."""
    return subject if "/" in subject else rules.normalise_subject(subject)


def get_state(session: Session, *, subject: str, purpose: str) -> StateRow | None:
    """Return the current state of a subject key and purpose, or None if never recorded."""
    row = session.execute(
        select(*STATE_COLUMNS).where(
            ConsentState.subject == _key(subject),
            ConsentState.purpose == purpose,
            ConsentState.status.is_not(None),
        )
    ).first()
    return StateRow._make(row) if row is not None else None


def latest_state(session: Session, *, subjects: Sequence[str], purpose: str) -> StateRow | None:
    """The newest state of a purpose among several subject keys that are one person (people.subjects_for),
    read as the first one's, named as its client asked (people.shown_subject): a consent given or withdrawn
    under any of her identifiers is hers. None if never recorded under any of them."""
    shown = people.shown_subject(subjects[0])
    if len(subjects) == 1:
        state = get_state(session, subject=subjects[0], purpose=purpose)
        return state._replace(subject=shown) if state is not None else None
    row = session.execute(
        select(*STATE_COLUMNS)
        .where(
            ConsentState.subject.in_(list(subjects)),
            ConsentState.purpose == purpose,
            ConsentState.status.is_not(None),
        )
        .order_by(ConsentState.last_event_id.desc())
        .limit(1)
    ).first()
    return StateRow._make(row)._replace(subject=shown) if row is not None else None


def query_states(
    session: Session,
    pairs: Sequence[tuple[str, str]],
    *,
    subjects_of: dict[str, list[str]] | None = None,
) -> dict[tuple[str, str], StateRow]:
    """Return the states of many (subject, purpose) pairs in one statement, keyed by the canonical pair.

    subjects_of: per asked subject, the subject keys that are the same person (people.subjects_for_many); a
    pair then answers with the newest state among them, read as the asked subject's. Without it each asked
    subject is its own key."""
    if len(pairs) > MAX_QUERY_PAIRS:
        raise ValidationFailed(
            worded("At most %(most)s pairs per query.", most=MAX_QUERY_PAIRS),
            fields={
                "pairs": [
                    worded(
                        "%(given)s given; send at most %(most)s.",
                        given=len(pairs),
                        most=MAX_QUERY_PAIRS,
                    )
                ]
            },
        )
    keys = {(_key(s), p) for s, p in pairs}
    if not keys:
        return {}
    same = subjects_of or {}
    subjects = sorted({alias for s, __ in keys for alias in same.get(s, (s,))})
    purposes = sorted({p for __, p in keys})
    if session.get_bind().dialect.name == "postgresql":
        # Two array parameters: one plan and an index scan, however many pairs (IN lists cost per item).
        wanted = and_(
            ConsentState.subject == any_(bindparam("subjects", subjects, type_=ARRAY(String))),
            ConsentState.purpose == any_(bindparam("purposes", purposes, type_=ARRAY(String))),
        )
    else:
        wanted = and_(ConsentState.subject.in_(subjects), ConsentState.purpose.in_(purposes))
    rows = session.execute(select(*STATE_COLUMNS).where(wanted, ConsentState.status.is_not(None)))
    states = {(s.subject, s.purpose): s for s in map(StateRow._make, rows)}
    out = {}
    for subject, purpose in keys:
        found = [st for alias in same.get(subject, (subject,)) if (st := states.get((alias, purpose)))]
        if found:
            newest = max(found, key=lambda st: st.last_event_id or 0)
            out[(subject, purpose)] = newest._replace(subject=subject)
    return out


def history(session: Session, *, subject: str, purpose: str) -> list[ConsentEvent]:
    """Return every consent event of a subject key and purpose, oldest first."""
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.subject == _key(subject), ConsentEvent.purpose == purpose)
            .order_by(ConsentEvent.id)
        )
    )


def subject_consents(session: Session, *, subject: str) -> list[tuple[ConsentState, list[ConsentEvent]]]:
    """Return every recorded consent of a subject key by purpose, each with its events oldest first, in one
    query (an access request's answer: subject_states and each purpose's history together)."""
    subject = _key(subject)
    rows = session.execute(
        select(ConsentState, ConsentEvent)
        .outerjoin(
            ConsentEvent,
            (ConsentEvent.subject == ConsentState.subject) & (ConsentEvent.purpose == ConsentState.purpose),
        )
        .where(ConsentState.subject == subject, ConsentState.status.is_not(None))
        .order_by(ConsentState.purpose, ConsentEvent.id)
    )
    out: dict[str, tuple[ConsentState, list[ConsentEvent]]] = {}
    for state, event in rows:
        events = out.setdefault(state.purpose, (state, []))[1]
        if event is not None:
            events.append(event)
    return list(out.values())


def state_by_id(session: Session, *, state_id: int) -> ConsentState | None:
    """Return a recorded consent state by its id (withdrawal links name it), or None."""
    state = session.get(ConsentState, state_id)
    return state if state is not None and state.status is not None else None


def recorded_by(session: Session, *, subject: str, purpose: str, actor: str) -> bool:
    """Whether this actor recorded a consent event of the subject key for the purpose."""
    stmt = select(ConsentEvent.id).where(
        ConsentEvent.subject == _key(subject),
        ConsentEvent.purpose == purpose,
        ConsentEvent.actor == actor,
    )
    return session.scalar(stmt.limit(1)) is not None


def get_receipt(session: Session, *, receipt_id: str) -> ConsentEvent:
    """Return the event a receipt id names, or raise NotFound."""
    event = session.scalar(select(ConsentEvent).where(ConsentEvent.receipt_id == receipt_id))
    if event is None:
        raise NotFound(N_("No consent receipt has this id."))
    return event


def subject_states(session: Session, *, subject: str) -> list[ConsentState]:
    """Return every recorded consent of a subject key (for officers and access requests)."""
    return list(
        session.scalars(
            select(ConsentState)
            .where(ConsentState.subject == _key(subject), ConsentState.status.is_not(None))
            .order_by(ConsentState.purpose)
        )
    )


def keys_named(session: Session, *, subject: str) -> list[str]:
    """The subject keys an officer's lookup of a canonical subject finds: an e-mail address is itself; a user
    id is every portal's user whose id reads so (and the id itself, where no client recorded it)."""
    if "@" in subject:
        return [subject]
    found = session.scalars(
        select(ConsentState.subject)
        .distinct()
        .where(ConsentState.subject.endswith(f"/{subject}", autoescape=True))
        .order_by(ConsentState.subject)
    )
    return [subject, *found]


def status_counts(session: Session) -> dict[str, dict[str, int]]:
    """How many subjects currently have each status, per purpose."""
    rows = session.execute(
        select(ConsentState.purpose, ConsentState.status, func.count())
        .where(ConsentState.status.is_not(None))
        .group_by(ConsentState.purpose, ConsentState.status)
    )
    out: dict[str, dict[str, int]] = {}
    for purpose, status, count in rows:
        out.setdefault(purpose, {})[status] = count
    return out
