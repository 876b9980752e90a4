"""The registry as its readers see it: a typed, read-only view of each activity, and the lookups and lists.

Readers ask for `activity.legal_basis` or `activity.retention.rules`, never `row.data["legal_basis"]`, and
never select ropa's tables themselves. Reads only: the writes and their audit events are in service.py, the
front door, which imports this module and re-exports what readers use; this module imports no other ropa
module but the tables and the code lists, so no circle forms.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, literal_column, or_, select, union_all
from sqlalchemy.orm import defer
from sqlmodel import Session

from privacy_service.errors import NotFound, worded
from privacy_service.kernel import record_bases, record_rights
from privacy_service.ropa.models import Organisation, ProcessingActivity, ServiceNotice
from privacy_service.ropa.rules import DEFAULT_SCHEDULE

Text = Mapping[str, str]  # a text in Norwegian bokmål and English: {"nb": ..., "en": ...}


class ActivityNotFound(NotFound):
    """No activity with that slug."""


# --- the typed view -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Right:
    """A data-subject right as it applies to one activity (kernel.rights_for, from the legal basis)."""

    right: (
        str  # access | rectification | erasure | restriction | objection | portability | consent_withdrawal
    )
    article: str  # "Art. 15" …
    applies: bool
    reason: str  # in English, as the API gives it
    limit: str | None = None  # a ground the officer may invoke against it (e.g. Personal Data Act § 17)
    reason_id: str = ""  # the reason's id in the documents catalogue (rights.reason.<id>)


@dataclass(frozen=True)
class Processor:
    """An organisation that processes the activity's data on the controller's behalf (Art. 28)."""

    organisation: str  # slug
    role: str  # processor | sub_processor
    agreement_ref: Text | str  # {nb, en}, or one plain text from records written before
    task: Text | None = None
    sub_processor_of: str | None = None  # slug of the processor a sub-processor works for

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Processor:
        """The processor a stored record names."""
        return cls(
            organisation=raw["organisation"],
            role=raw["role"],
            agreement_ref=raw.get("agreement_ref") or "",
            task=raw.get("task"),
            sub_processor_of=raw.get("sub_processor_of"),
        )


@dataclass(frozen=True)
class RetentionRule:
    """A machine retention rule: what the runner does to one mapped table, after how long, and when."""

    system: str
    table: str
    period: str  # ISO 8601, counted back from now
    action: str  # delete | anonymise | deposit
    anchor: str | None = None  # None: the table's anchor_column in the data map
    mask_columns: tuple[str, ...] = ()  # what anonymise blanks; empty: the table's mask_columns
    schedule: str = DEFAULT_SCHEDULE  # crontab, Europe/Oslo
    note: str | None = None
    anchor_fallback: str | None = None  # counted from when the anchor (a case closure) is NULL
    keep_columns: tuple[str, ...] = ()  # anonymise: kept as they are (never the key, a timestamp, free text)
    coarsen: tuple[tuple[str, str], ...] = ()  # anonymise: (timestamp column, unit), kept to the month
    reviewed_free_text: tuple[str, ...] = ()  # anonymise: free text an officer read and keeps (see note)

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> RetentionRule:
        """The rule as a stored record writes it."""
        return cls(
            system=raw["system"],
            table=raw["table"],
            period=raw["period"],
            action=raw["action"],
            anchor=raw.get("anchor"),
            mask_columns=tuple(raw.get("mask_columns") or ()),
            schedule=raw.get("schedule") or DEFAULT_SCHEDULE,
            note=raw.get("note"),
            anchor_fallback=raw.get("anchor_fallback"),
            keep_columns=tuple(raw.get("keep_columns") or ()),
            coarsen=tuple(sorted((raw.get("coarsen") or {}).items())),
            reviewed_free_text=tuple(raw.get("reviewed_free_text") or ()),
        )


@dataclass(frozen=True)
class Retention:
    """How long the data is kept: in words for people, and as rules for the runner (Art. 30(1)(f))."""

    text: Text
    period: str | None = None
    rules: tuple[RetentionRule, ...] = ()


@dataclass(frozen=True)
class Activity:
    """A read-only view of one processing activity at its current version."""

    slug: str
    service: str  # the service whose privacy notice lists it
    status: str  # draft | active | retired
    version: int
    name: Text
    controller: str  # organisation slug
    joint_controllers: tuple[str, ...]  # organisation slugs (Art. 26)
    purposes: tuple[Text, ...]  # Art. 30(1)(b), the first one primary
    legal_basis: str  # Art. 6(1) code, e.g. "6(1)(e)"
    art9_condition: str | None  # Art. 9(2) code, when special categories are processed
    legal_bases: tuple[str, ...]  # every Art. 6(1) basis, legal_basis first; the rights follow the strictest
    art9_conditions: tuple[str, ...]  # every Art. 9(2) condition, art9_condition first
    art89_purposes: tuple[str, ...]  # archiving | research | statistics, when it serves only these (PDA § 17)
    national_basis: Text | None  # Art. 6(3), for a legal obligation or public task
    consent_purpose: str | None  # a consent-based activity's purpose: its slug
    on_withdrawal: str | None  # erase | stop: what a consent withdrawal does (consent-based only)
    processors: tuple[Processor, ...]
    recipients: tuple[Text, ...]  # to whom the data is disclosed (Art. 30(1)(d))
    data_categories: tuple[str, ...]  # the category keys the data map maps columns to
    retention: Retention
    disposal_decision: str | None  # Noark 5 M450: Bevares | Kasseres | Vurderes senere
    rights: tuple[Right, ...]
    record: Mapping[str, Any]  # the whole stored record, for exports and letters that print everything
    # the recipients that are third parties (Art. 4(10)): not the controllers, nor processors acting for them
    third_parties: tuple[Text, ...] = ()
    purpose_categories: tuple[str, ...] = ()  # Kantara Consent Receipt v1.1 purpose categories (rules.py)

    @classmethod
    def of(cls, row: ProcessingActivity) -> Activity:
        """The view of a registry row."""
        data = row.data
        retention = data.get("retention") or {}
        bases, conditions = record_bases(data)
        return cls(
            slug=row.slug,
            service=row.service,
            status=row.status,
            version=row.version,
            name=data["name"],
            controller=data["controller"],
            joint_controllers=tuple(data.get("joint_controllers") or ()),
            purposes=tuple(data.get("purposes") or ()),
            legal_basis=data["legal_basis"],
            art9_condition=data.get("art9_condition"),
            legal_bases=bases,
            art9_conditions=conditions,
            art89_purposes=tuple(data.get("art89_purposes") or ()),
            national_basis=data.get("national_basis"),
            consent_purpose=data.get("consent_purpose"),
            on_withdrawal=data.get("on_withdrawal"),
            processors=tuple(Processor.of(p) for p in data.get("processors") or []),
            recipients=tuple(data.get("recipients") or ()),
            data_categories=tuple(c["key"] for c in data.get("data_categories") or []),
            retention=Retention(
                text=retention.get("text") or {},
                period=retention.get("period"),
                rules=tuple(RetentionRule.of(r) for r in retention.get("rules") or []),
            ),
            disposal_decision=(data.get("disposal") or {}).get("decision"),
            rights=tuple(Right(**r) for r in record_rights(data)),
            record=dict(data),
            third_parties=tuple(data.get("third_parties") or ()),
            purpose_categories=tuple(data.get("purpose_categories") or ()),
        )

    @property
    def preserved(self) -> bool:
        """Whether the records are archive-worthy (Noark 5 'Bevares'): only a deposit may remove them."""
        return self.disposal_decision == "Bevares"

    @property
    def statutory_registry(self) -> Mapping[str, Text] | None:
        """The act and the appeal body of a statutory health registry, or None: refusals on such a registry
        are individual decisions that can be appealed."""
        return self.record.get("statutory_registry")

    @property
    def joint_arrangement(self) -> Mapping[str, Any] | None:
        """The arrangement between joint controllers (Art. 26): essence, responsibilities, contact point; None
        when the activity has no joint controllers."""
        return self.record.get("joint_arrangement")

    def right(self, name: str) -> Right:
        """Return the right with this name; every activity lists all seven."""
        return next(r for r in self.rights if r.right == name)


# --- activities ---------------------------------------------------------------------------------------------


@dataclass
class ActivityFilter:
    """What the activity list can be narrowed by."""

    service: str | None = None
    controller: str | None = None
    legal_basis: str | None = None
    special_categories: bool | None = None
    status: str | None = None
    q: str | None = None


def filter_activities(query: Select, filters: ActivityFilter) -> Select:
    """Narrow a query of activities by the filters (listing.activity_page pages the same way)."""
    for column in ("service", "controller", "legal_basis", "special_categories", "status"):
        value = getattr(filters, column)
        if value is not None:
            query = query.where(getattr(ProcessingActivity, column) == value)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        query = query.where(
            or_(
                func.lower(ProcessingActivity.slug).like(like),
                func.lower(ProcessingActivity.name_nb).like(like),
                func.lower(ProcessingActivity.name_en).like(like),
            )
        )
    return query


def _in_order(
    filters: ActivityFilter, *, slugs: Collection[str] | None = None, include_retired: bool = True
) -> Select:
    query = filter_activities(select(ProcessingActivity), filters)
    if slugs is not None:
        query = query.where(ProcessingActivity.slug.in_(list(slugs)))
    if not include_retired:
        query = query.where(ProcessingActivity.status != "retired")
    return query.order_by(ProcessingActivity.service, ProcessingActivity.slug)


def get_activity(session: Session, *, slug: str) -> ProcessingActivity:
    """Return an activity's row (retired ones too)."""
    activity = session.scalar(select(ProcessingActivity).where(ProcessingActivity.slug == slug))
    if activity is None:
        raise ActivityNotFound(worded("No processing activity '%(slug)s'.", slug=slug))
    return activity


def activity_view(session: Session, *, slug: str) -> Activity:
    """Return the typed view of an activity (retired ones too); raise ActivityNotFound."""
    return Activity.of(get_activity(session, slug=slug))


def activities_for(
    session: Session,
    *,
    service: str | None = None,
    status: str | None = None,
    legal_basis: str | None = None,
    slugs: Collection[str] | None = None,
    include_retired: bool = True,
) -> list[Activity]:
    """Return the activities that match, as typed views ordered by service and slug, in one query."""
    filters = ActivityFilter(service=service, status=status, legal_basis=legal_basis)
    rows = session.scalars(_in_order(filters, slugs=slugs, include_retired=include_retired))
    return [Activity.of(row) for row in rows]


def active_activities(session: Session, *, service: str | None = None) -> list[Activity]:
    """Return the active activities (neither drafts nor retired) as typed views."""
    return activities_for(session, service=service, status="active")


def list_activities(
    session: Session, *, filters: ActivityFilter, page: int = 1, per_page: int = 100
) -> tuple[list[ProcessingActivity], int]:
    """Return one page of activity summaries matching the filters, and the total count."""
    query = filter_activities(select(ProcessingActivity), filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    # Lists show summaries: leave the full JSON record in the database.
    rows = session.scalars(
        query.options(defer(ProcessingActivity.data))
        .order_by(ProcessingActivity.service, ProcessingActivity.slug)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total


def activity_summary(activity: ProcessingActivity) -> dict[str, Any]:
    """Return what a list shows of an activity (its record is not loaded)."""
    return {
        "slug": activity.slug,
        "service": activity.service,
        "status": activity.status,
        "name": {"nb": activity.name_nb, "en": activity.name_en},
        "controller": activity.controller,
        "legal_basis": activity.legal_basis,
        "special_categories": activity.special_categories,
        "version": activity.version,
        "updated_at": activity.updated_at,
        "updated_by": activity.updated_by,
    }


def activity_record(activity: ProcessingActivity) -> dict[str, Any]:
    """Return the activity's record with its version metadata and the rights that apply."""
    data = activity.data
    return {
        **data,
        "version": activity.version,
        "created_at": activity.created_at,
        "updated_at": activity.updated_at,
        "updated_by": activity.updated_by,
        "rights": record_rights(data),
    }


# --- organisations, notices and the documents made of them --------------------------------------------------


def list_organisations(session: Session) -> dict[str, dict[str, Any]]:
    """Return every organisation's record keyed by slug."""
    return {o.slug: o.data for o in session.scalars(select(Organisation).order_by(Organisation.slug))}


def get_notice(session: Session, *, service: str) -> dict[str, Any]:
    """Return the notice header of a service."""
    notice = session.scalar(select(ServiceNotice).where(ServiceNotice.service == service))
    if notice is None:
        raise NotFound(worded("No privacy notice for service '%(service)s'.", service=service))
    return notice.data


def list_services(session: Session) -> list[str]:
    """Return the services that publish a privacy notice."""
    return list(session.scalars(select(ServiceNotice.service).order_by(ServiceNotice.service)))


def ropa_document(
    session: Session, *, service: str | None = None, include_retired: bool = True
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Return the organisations and activity records that make up the record of processing."""
    query = _in_order(ActivityFilter(service=service), include_retired=include_retired)
    activities = [activity_record(a) for a in session.scalars(query)]
    return list_organisations(session), activities


@dataclass(frozen=True)
class Notice:
    """What a service's public privacy notice is made of (Art. 13–14)."""

    service: str
    header: dict[str, Any]  # title, intro, contact, controller
    organisations: dict[str, dict[str, Any]]
    activities: list[dict[str, Any]]  # the records of the service's active activities


def notice_document(session: Session, *, service: str) -> Notice:
    """Return a service's notice header with its active activities; raise NotFound without a header."""
    header = get_notice(session, service=service)
    query = _in_order(ActivityFilter(service=service, status="active"))
    activities = [activity_record(a) for a in session.scalars(query)]
    also = header.get("also_lists") or []
    if also:  # one processing described in two notices is one record, shown in both
        query = _in_order(ActivityFilter(status="active"), slugs=also)
        activities += [activity_record(a) for a in session.scalars(query) if a.service != service]
    return Notice(service, header, list_organisations(session), activities)


def notice_version(session: Session, *, service: str) -> str:
    """Return a digest of what the service's notice is made of; raise NotFound without one.

    The notice header, every organisation and the activities it lists (the service's active ones and those it
    also lists from other services), by their content hashes: any change to what the notice shows gives a new
    digest, a write that changes nothing keeps it. Two queries: the header, then everything else.
    """
    header = session.execute(
        select(ServiceNotice.content_hash, ServiceNotice.data).where(ServiceNotice.service == service)
    ).first()
    if header is None:
        raise NotFound(worded("No privacy notice for service '%(service)s'.", service=service))
    listed = ProcessingActivity.service == service
    also = list(header.data.get("also_lists") or [])
    if also:
        listed = or_(listed, ProcessingActivity.slug.in_(also))
    parts = union_all(
        select(literal_column("'o'"), Organisation.slug, Organisation.content_hash),
        select(literal_column("'a'"), ProcessingActivity.slug, ProcessingActivity.content_hash).where(
            listed, ProcessingActivity.status == "active"
        ),
    )
    rows = sorted(tuple(row) for row in session.execute(parts))
    return hashlib.sha256(repr([("n", service, header.content_hash), *rows]).encode()).hexdigest()


def jsonable(record: dict[str, Any]) -> dict[str, Any]:
    """Return a record with its timestamps as ISO-8601 text, as exports expect."""
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in record.items()}
