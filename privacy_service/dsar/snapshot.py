"""What a request's plan and answer read from the registry, the data map and the holds, read once.

The plan used to read each activity, the data map and each table's holds again wherever it needed them (the
profile in issue 18: each activity 8 times, the map 3 times, the holds once per table). A snapshot reads each
once, in one query, and is shared by everything done for a request in one transaction (the plan, then the
answer collected in it, which also takes the outcomes the plan just wrote instead of reading them back). It
is dropped when the transaction ends, and when the session writes a row of the registry (ropa), the data map
or retention (a hold), so a change made in the same transaction is seen.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import event
from sqlmodel import Session

from privacy_service.datamap import service as datamap
from privacy_service.dsar import lifecycle
from privacy_service.dsar.models import DsarOutcome, DsarRequest
from privacy_service.retention import service as retention
from privacy_service.ropa import service as ropa

KEY = "dsar.snapshot"
# the owners of what a snapshot holds: writing any of their rows in the session drops it
_WATCHED = (
    "privacy_service.ropa.",
    "privacy_service.datamap.",
    "privacy_service.retention.",
    "privacy_service.people.",  # a link made in the transaction changes whom a request finds
)


class Snapshot:
    """The registry's activities and organisations, the data map, the holds of tables and the person a
    request resolves to, each read once."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._activities: dict[str, ropa.Activity] = {}
        self._active: list[str] | None = None
        self._tables: list[tuple[Any, Any]] | None = None
        self._organisations: dict[str, dict[str, Any]] | None = None
        self._holds: dict[retention.TableRef, list[retention.Hold]] = {}
        self.planned: dict[int, list[DsarOutcome]] = {}  # request id -> the outcomes its plan wrote here
        self._identities: dict[int, dict[str, list[str]]] = {}

    def activities(self, slugs: Collection[str]) -> list[ropa.Activity]:
        """The named activities (retired ones too) in the order given; raise NotFound for an unknown one."""
        known = self.known(slugs)
        for slug in slugs:
            if slug not in known:
                ropa.activity_view(self._session, slug=slug)  # raises ActivityNotFound, as before
        return [known[slug] for slug in slugs]

    def known(self, slugs: Collection[str]) -> dict[str, ropa.Activity]:
        """The named activities the registry has (retired ones too), by slug; unknown slugs are left out."""
        missing = [s for s in dict.fromkeys(slugs) if s not in self._activities]
        if missing:
            for activity in ropa.activities_for(self._session, slugs=missing):
                self._activities[activity.slug] = activity
        return {s: self._activities[s] for s in slugs if s in self._activities}

    def active(self) -> list[ropa.Activity]:
        """The active activities, as the registry orders them."""
        if self._active is None:
            found = ropa.active_activities(self._session)
            self._activities.update((a.slug, a) for a in found)
            self._active = [a.slug for a in found]
        return [self._activities[s] for s in self._active]

    def tables(self) -> list[tuple[Any, Any]]:
        """The data map: every mapped table with its system, by system and table name."""
        if self._tables is None:
            self._tables = datamap.mapped_tables(self._session)
        return self._tables

    def organisations(self) -> dict[str, dict[str, Any]]:
        """Every organisation's record, by slug."""
        if self._organisations is None:
            self._organisations = ropa.list_organisations(self._session)
        return self._organisations

    def identity(self, req: DsarRequest, *, secret: str) -> dict[str, list[str]]:
        """The identifiers the request searches with (lifecycle.person_identity): the plan and the answer
        collected in its transaction search as one person."""
        key = req.id or 0
        if key not in self._identities:
            self._identities[key] = lifecycle.person_identity(self._session, req, secret=secret)
        return self._identities[key]

    def holds(self, tables: Collection[retention.TableRef]) -> dict[retention.TableRef, list[retention.Hold]]:
        """The active holds that may cover each table's rows; tables not read yet are read in one query."""
        missing = [t for t in dict.fromkeys(tables) if t not in self._holds]
        if missing:
            self._holds.update(retention.holds_for_tables(self._session, missing))
        return {t: self._holds[t] for t in tables}


def snapshot_of(session: Session) -> Snapshot:
    """The session's snapshot for the current transaction, made on first use."""
    found = session.info.get(KEY)
    if found is None:
        found = session.info[KEY] = Snapshot(session)
        if not session.info.get(KEY + ".watched"):
            session.info[KEY + ".watched"] = True
            event.listen(session, "after_transaction_end", _end)
            event.listen(session, "before_flush", _flushing)
    return found


def _end(session: Session, transaction: Any) -> None:
    # the outermost transaction, or a savepoint (it may have rolled back what the snapshot remembers); a
    # flush's own subtransaction keeps it
    if transaction.parent is None or transaction.nested:
        session.info.pop(KEY, None)


def _flushing(session: Session, *args: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(type(obj).__module__.startswith(_WATCHED) for obj in changed):
        session.info.pop(KEY, None)
