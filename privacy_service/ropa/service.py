"""The registry, the front door: organisations, notices and processing activities with their versions, the
record of processing in its formats, and the public notice as PDF. The API, the pages, the command line, the
policy loader and the packages that read the registry call this module only.

Every write here is one transaction with its audit event (the caller commits). Readers get typed, read-only
views (`Activity`, from records.py) instead of the stored record's dict; records.py, texts.py, export.py and
pdf/ sit below this door and never import it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.errors import N_, Conflict, DomainError, NotFound, ValidationFailed, worded
from privacy_service.kernel import utcnow
from privacy_service.ropa import export, pdf, rulechanges
from privacy_service.ropa.answer_cache import (
    Answer,
    AnswerCache,
    activity_key,
    answer_etag,
    etag_matches,
    list_key,
)
from privacy_service.ropa.listing import activity_page, registry_version
from privacy_service.ropa.models import (
    ActivityVersion,
    Organisation,
    ProcessingActivity,
    RuleChange,
    ServiceNotice,
)
from privacy_service.ropa.notice_cache import RenderCache, notice_etag
from privacy_service.ropa.pdf.labels import RECORD_LABELS
from privacy_service.ropa.records import (
    Activity,
    ActivityFilter,
    ActivityNotFound,
    Notice,
    Processor,
    Retention,
    RetentionRule,
    Right,
    active_activities,
    activities_for,
    activity_record,
    activity_summary,
    activity_view,
    get_activity,
    get_notice,
    jsonable,
    list_activities,
    list_organisations,
    list_services,
    notice_document,
    notice_version,
    ropa_document,
)
from privacy_service.ropa.rulechanges import (
    RULE_SCOPE,
    DryRunNeeded,
    RetentionRunNeeded,
    RuleChangeClosed,
    RuleMode,
    get_rule_change,
    list_rule_changes,
    live_rules,
    pending_change,
    pending_for,
    proposed_view,
    record_dry_run,
    rules_differ,
)
from privacy_service.ropa.rules import DEFAULT_PURPOSE_CATEGORY, KANTARA_PURPOSE_CATEGORIES, STATUSES
from privacy_service.ropa.texts import (
    SAFEGUARD_TEXTS,
    art9_text,
    automated_decision_rows,
    dpia_texts,
    lia_text,
    not_stated_text,
    reason_texts,
    retention_rule_words,
    right_reason_text,
    transfer_text,
)
from privacy_service.wording import org_number_text, period_text

__all__ = [  # what readers, the API, the pages and the command line use besides the writes below
    "DEFAULT_PURPOSE_CATEGORY",
    "KANTARA_PURPOSE_CATEGORIES",
    "RULE_SCOPE",
    "STATUSES",
    "DryRunNeeded",
    "RetentionRunNeeded",
    "RuleChange",
    "RuleChangeClosed",
    "RuleMode",
    "get_rule_change",
    "list_rule_changes",
    "live_rules",
    "pending_change",
    "pending_for",
    "proposed_view",
    "record_dry_run",
    "rules_differ",
    "Activity",
    "ActivityFilter",
    "Answer",
    "AnswerCache",
    "activity_key",
    "answer_etag",
    "etag_matches",
    "list_key",
    "ActivityNotFound",
    "Notice",
    "Processor",
    "RenderCache",
    "Retention",
    "RetentionRule",
    "Right",
    "activities_for",
    "active_activities",
    "activity_page",
    "activity_record",
    "activity_summary",
    "activity_view",
    "get_activity",
    "get_notice",
    "jsonable",
    "list_activities",
    "list_organisations",
    "list_services",
    "notice_document",
    "notice_etag",
    "notice_version",
    "retention_rule_words",
    "safeguard_text",
    "art9_text",
    "automated_decision_rows",
    "dpia_texts",
    "not_stated_text",
    "record_words",
    "transfer_text",
    "org_number_text",
    "period_text",
    "lia_text",
    "right_reason_text",
    "registry_version",
    "PreconditionRequired",
    "ropa_document",
]


class VersionConflict(Conflict):
    """The activity changed since the caller read it."""

    code = "version_conflict"
    status = 412


class PreconditionRequired(DomainError):
    """A change to the registry without If-Match: it could overwrite a change the caller has not seen."""

    code = "precondition_required"
    status = 428


def content_hash(data: dict[str, Any]) -> str:
    """Return a stable hash of a record, so an unchanged policy file writes nothing."""
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


# --- organisations ------------------------------------------------------------------------------------------


def upsert_organisation(session: Session, *, data: dict[str, Any], actor: Actor) -> str:
    """Create or update an organisation from validated data; return created, updated or unchanged."""
    digest = content_hash(data)
    org = session.scalar(select(Organisation).where(Organisation.slug == data["slug"]))
    if org is not None and org.content_hash == digest:
        return "unchanged"
    outcome = "updated" if org else "created"
    if org is None:
        org = Organisation(slug=data["slug"])
        session.add(org)
    org.name_nb, org.name_en = data["name"]["nb"], data["name"]["en"]
    org.org_number, org.role, org.data, org.content_hash = data["org_number"], data["role"], data, digest
    org.updated_at, org.updated_by = utcnow(), str(actor)
    session.flush()
    record_event(
        session,
        actor=actor,
        action=f"organisation.{outcome.removesuffix('d')}",
        object_type="organisation",
        object_id=org.slug,
        details={"org_number": org.org_number},
    )
    return outcome


def upsert_notice(session: Session, *, service: str, data: dict[str, Any], actor: Actor) -> str:
    """Create or update the header of a service's privacy notice."""
    digest = content_hash(data)
    notice = session.scalar(select(ServiceNotice).where(ServiceNotice.service == service))
    if notice is not None and notice.content_hash == digest:
        return "unchanged"
    outcome = "updated" if notice else "created"
    if notice is None:
        notice = ServiceNotice(service=service)
        session.add(notice)
    notice.data, notice.content_hash, notice.updated_at = data, digest, utcnow()
    session.flush()
    record_event(session, actor=actor, action="notice.update", object_type="notice", object_id=service)
    return outcome


# --- activities ---------------------------------------------------------------------------------------------


def check_references(session: Session, data: dict[str, Any]) -> None:
    """Check that the organisations an activity names exist and play a fitting role."""
    orgs = {o.slug: o.role for o in session.scalars(select(Organisation))}
    errors: dict[str, list[str]] = {}
    if data["controller"] not in orgs:
        errors["controller"] = [f"Unknown organisation {data['controller']!r}."]
    missing = [s for s in data.get("joint_controllers") or [] if s not in orgs]
    if missing:
        errors["joint_controllers"] = [f"Unknown organisation {s!r}." for s in missing]
    named = {p["organisation"] for p in data.get("processors") or []}
    for i, p in enumerate(data.get("processors") or []):
        if p["organisation"] not in orgs:
            errors.setdefault("processors", []).append(
                f"Processor {i + 1}: unknown organisation {p['organisation']!r}."
            )
        if p.get("sub_processor_of") and p["sub_processor_of"] not in named:
            errors.setdefault("processors", []).append(
                f"Processor {i + 1}: sub-processor of {p['sub_processor_of']!r}, "
                "which is not listed as a processor."
            )
    strays = _arrangement_strays(data)
    if strays:  # Art. 26(1): the arrangement is between the joint controllers, and names no one else
        errors["joint_arrangement"] = [
            f"{s!r} is neither the controller nor one of the joint controllers." for s in strays
        ]
    if data["legal_basis"] == "6(1)(a)" and data.get("consent_purpose") != data["slug"]:
        errors["consent_purpose"] = [N_("The consent purpose of a consent-based activity is its slug.")]
    if errors:
        raise ValidationFailed(N_("The activity refers to something that does not fit."), fields=errors)


def _arrangement_strays(data: dict[str, Any]) -> list[str]:
    arrangement = data.get("joint_arrangement") or {}
    parties = {data["controller"], *(data.get("joint_controllers") or [])}
    named = [r["organisation"] for r in arrangement.get("responsibilities") or []]
    named += [arrangement["contact_point"]] if arrangement.get("contact_point") else []
    return sorted({s for s in named if s not in parties})


def _apply(activity: ProcessingActivity, data: dict[str, Any], digest: str, actor: Actor) -> None:
    activity.service, activity.status = data["service"], data["status"]
    activity.name_nb, activity.name_en = data["name"]["nb"], data["name"]["en"]
    activity.controller, activity.legal_basis = data["controller"], data["legal_basis"]
    activity.special_categories = any(c.get("special") for c in data["data_categories"])
    activity.data, activity.content_hash = data, digest
    activity.updated_at, activity.updated_by = utcnow(), str(actor)


def _keep_version(session: Session, activity: ProcessingActivity, *, change: str, actor: Actor) -> None:
    session.add(
        ActivityVersion(
            activity_id=activity.id,
            version=activity.version,
            status=activity.status,
            data=activity.data,
            change=change,
            changed_at=activity.updated_at,
            changed_by=activity.updated_by,
        )
    )
    session.flush()
    record_event(
        session,
        actor=actor,
        action=f"activity.{change}",
        object_type="activity",
        object_id=activity.slug,
        details={"version": activity.version, "status": activity.status, "hash": activity.content_hash},
    )


def create_activity(
    session: Session,
    *,
    data: dict[str, Any],
    actor: Actor,
    change: str = "create",
    rules: RuleMode = "refuse",
) -> ProcessingActivity:
    """Create an activity from validated data, as version 1; its retention rules as `rules` allows
    (rulechanges.py: refused, proposed for a dry run, or applied by a policy load)."""
    if session.scalar(select(ProcessingActivity.id).where(ProcessingActivity.slug == data["slug"])):
        raise Conflict(
            worded("An activity '%(slug)s' already exists.", slug=data["slug"]),
            fields={"slug": [N_("Already in use.")]},
        )
    check_references(session, data)
    split = rulechanges.split_rules(None, data, mode=rules)
    activity = ProcessingActivity(slug=data["slug"], version=1)
    _apply(activity, split.record, content_hash(split.record), actor)
    session.add(activity)
    session.flush()
    _keep_version(session, activity, change=change, actor=actor)
    _after_rules(session, activity, split, before=None, actor=actor, mode=rules)
    return activity


def _after_rules(
    session: Session,
    activity: ProcessingActivity,
    split: rulechanges.RuleSplit,
    *,
    before: dict[str, Any] | None,
    actor: Actor,
    mode: RuleMode,
) -> RuleChange | None:
    """Keep proposed rules as a pending change, or record that a policy load or a retirement changed them at
    once."""
    if split.proposed is not None:
        return rulechanges.propose(session, activity=activity, rules=split.proposed, actor=actor)
    if split.changed:  # a policy load, or a retirement: in force at once
        rulechanges.record_at_once(
            session,
            slug=activity.slug,
            before=rulechanges.live_rules(before),
            after=rulechanges.live_rules(activity.data),
            actor=actor,
            why="retire" if activity.status == "retired" and mode != "apply" else "load",
        )
    return None


def update_activity(
    session: Session,
    *,
    slug: str,
    data: dict[str, Any],
    actor: Actor,
    expected_version: int | None = None,
    change: str = "update",
    rules: RuleMode = "refuse",
) -> tuple[ProcessingActivity, bool, RuleChange | None]:
    """Replace an activity's record and keep the prior version; return it, whether the record changed, and
    the rule change the write left pending (its rules as `rules` allows, see rulechanges.py)."""
    activity = get_activity(session, slug=slug)
    if expected_version is not None and expected_version != activity.version:
        raise VersionConflict(
            worded(
                "The activity is at version %(version)s, not %(expected_version)s; reload and try again.",
                version=activity.version,
                expected_version=expected_version,
            )
        )
    if data["slug"] != slug:
        raise ValidationFailed(
            N_("The slug of an activity cannot change."), fields={"slug": [N_("Cannot change.")]}
        )
    before = activity.data
    split = rulechanges.split_rules(before, data, mode=rules)
    changed = _write(session, activity, split.record, actor=actor, change=change)
    return activity, changed, _after_rules(session, activity, split, before=before, actor=actor, mode=rules)


def _write(
    session: Session, activity: ProcessingActivity, data: dict[str, Any], *, actor: Actor, change: str
) -> bool:
    """Store a new version of the record unless it is unchanged; return whether it changed."""
    digest = content_hash(data)
    if digest == activity.content_hash:
        return False
    check_references(session, data)
    activity.version += 1
    _apply(activity, data, digest, actor)
    session.flush()
    kept = "retire" if data["status"] == "retired" and change == "update" else change
    _keep_version(session, activity, change=kept, actor=actor)
    return True


def apply_activity(session: Session, *, data: dict[str, Any], actor: Actor) -> str:
    """Create or update an activity from a policy file (an operator's action: its rules apply at once, and
    the change is recorded); return created, updated or unchanged."""
    exists = session.scalar(select(ProcessingActivity.id).where(ProcessingActivity.slug == data["slug"]))
    if not exists:
        create_activity(session, data=data, actor=actor, change="policy_load", rules="apply")
        return "created"
    _, changed, __ = update_activity(
        session, slug=data["slug"], data=data, actor=actor, change="policy_load", rules="apply"
    )
    return "updated" if changed else "unchanged"


def retire_activity(
    session: Session,
    *,
    slug: str,
    actor: Actor,
    rules: RuleMode = "refuse",
    expected_version: int | None = None,
) -> ProcessingActivity:
    """Retire an activity: it stays readable with its history, and is marked retired. Its retention rules
    stop at once, which needs `retention:run` when it has any (mode "propose" or "apply")."""
    activity = get_activity(session, slug=slug)
    if activity.status == "retired":
        raise Conflict(worded("The activity '%(slug)s' is already retired.", slug=slug))
    activity, _, __ = update_activity(
        session,
        slug=slug,
        data={**activity.data, "status": "retired"},
        actor=actor,
        expected_version=expected_version,
        change="retire",
        rules=rules,
    )
    return activity


# --- retention rule changes waiting for their dry run (rulechanges.py) ---------------------------------


def apply_rule_change(session: Session, *, change_id: int, actor: Actor) -> ProcessingActivity:
    """Put a pending rule change into the activity's record after its dry run; the runner uses it from now."""
    change = rulechanges.pending_change(session, change_id=change_id)
    activity = get_activity(session, slug=change.activity)
    rulechanges.check_dry_run(change, activity)
    _write(session, activity, rulechanges.with_rules(activity.data, change.rules), actor=actor,
           change="rule_change")  # fmt: skip
    rulechanges.close(session, change, status="applied", actor=actor, version=activity.version,
                      dry_run=change.dry_run_id)  # fmt: skip
    return activity


def discard_rule_change(session: Session, *, change_id: int, actor: Actor) -> RuleChange:
    """Drop a pending rule change; the rules in force stay."""
    change = rulechanges.pending_change(session, change_id=change_id)
    return rulechanges.close(session, change, status="discarded", actor=actor)


def diff_records(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the top-level fields that differ between two versions of a record."""
    before = before or {}
    keys = sorted(set(before) | set(after))
    return [
        {"field": k, "before": before.get(k), "after": after.get(k)}
        for k in keys
        if before.get(k) != after.get(k)
    ]


def list_versions(session: Session, *, slug: str) -> list[dict[str, Any]]:
    """Return every kept version of an activity, newest first, each with what changed."""
    activity = get_activity(session, slug=slug)
    versions = session.scalars(
        select(ActivityVersion)
        .where(ActivityVersion.activity_id == activity.id)
        .order_by(ActivityVersion.version)
    ).all()
    out, previous = [], None
    for v in versions:
        out.append(
            {
                "version": v.version,
                "status": v.status,
                "change": v.change,
                "changed_at": v.changed_at,
                "changed_by": v.changed_by,
                "changes": diff_records(previous, v.data),
                "data": v.data,
            }
        )
        previous = v.data
    return list(reversed(out))


# --- the record of processing and the public notice, rendered -------------------------------------------

EXPORT_TYPES = {
    "pdf": ("application/pdf", "pdf"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "jsonld": ("application/ld+json", "jsonld"),
}


def export_ropa(
    session: Session,
    *,
    fmt: str,
    lang: str = "en",
    service: str | None = None,
    include_retired: bool = True,
    base_url: str = "http://localhost:5000",
    dpias: Mapping[str, Mapping[str, Any]] | None = None,
    lias: Mapping[str, Mapping[str, Any]] | None = None,
    controller: str | None = None,
    transfer_points: Mapping[str, Mapping[int, str]] | None = None,
) -> tuple[bytes, str, str]:
    """Render the record of processing; return the bytes, the media type and a file name.

    `dpias`: the DPIA register's assessments by activity slug, read by the caller (ropa never imports the
    register); without them the PDF and CSV say "not assessed" where the record itself says nothing.
    `lias`: the legitimate-interest assessments by activity slug, read by the caller in the same way.
    `controller`: one controller's record (Art. 30(1)): the activities it is (joint) controller of.
    `transfer_points`: the transfer register's points of Art. 49(1) by activity slug and transfer index, read
    by the caller in the same way (the JSON-LD names a derogation's eu-gdpr:A49-1-x by it)."""
    if fmt not in EXPORT_TYPES:
        raise ValidationFailed(
            worded("Unknown format '%(format)s'.", format=fmt),
            fields={"format": [N_("Use pdf, csv, json or jsonld.")]},
        )
    organisations, records = ropa_document(session, service=service, include_retired=include_retired)
    if controller is not None:
        if controller not in organisations:
            raise ValidationFailed(
                worded("Unknown organisation '%(controller)s'.", controller=controller),
                fields={"controller": [N_("No such organisation.")]},
            )
        records = [r for r in records if controller in (r["controller"], *(r.get("joint_controllers") or []))]
    now = utcnow()
    body = _render(
        fmt,
        organisations,
        [jsonable(r) for r in records],
        now,
        lang=lang,
        base_url=base_url,
        dpias=dpias,
        lias=lias,
        controller=controller,
        transfer_points=transfer_points,
    )
    media_type, ext = EXPORT_TYPES[fmt]
    stem = "-".join(["ropa", *(v for v in (controller, service) if v)])
    return body, media_type, f"{stem}-{now:%Y%m%d}.{ext}"


def _render(
    fmt: str,
    organisations: dict[str, dict[str, Any]],
    activities: list[dict[str, Any]],
    generated_at: datetime,
    *,
    lang: str,
    base_url: str,
    dpias: Mapping[str, Mapping[str, Any]] | None = None,
    lias: Mapping[str, Mapping[str, Any]] | None = None,
    controller: str | None = None,
    transfer_points: Mapping[str, Mapping[int, str]] | None = None,
) -> bytes:
    if fmt == "pdf":
        return pdf.render_ropa_pdf(
            organisations=organisations,
            activities=activities,
            controller=controller,
            generated_at=generated_at,
            lang=lang,
            dpias=dpias,
            lias=lias,
        )
    if fmt == "csv":
        return export.export_csv(
            organisations=organisations, activities=activities, lang=lang, dpias=dpias, lias=lias
        )
    if fmt == "json":
        return export.export_json(
            organisations=organisations, activities=activities, generated_at=generated_at
        )
    return export.export_jsonld(
        organisations=organisations,
        activities=activities,
        generated_at=generated_at,
        base_url=base_url,
        transfer_points=transfer_points,
    )


def render_notice(notice: Notice, *, lang: str) -> bytes:
    """Render a service's public privacy notice as a PDF for data subjects, in nb or en."""
    return pdf.render_notice_pdf(
        notice=notice.header,
        organisations=notice.organisations,
        activities=[jsonable(a) for a in notice.activities],
        generated_at=utcnow(),
        lang=lang,
    )


def notice_pdf(session: Session, *, service: str, lang: str, version: str, cache: RenderCache) -> bytes:
    """Return a service's notice PDF at a registry version, rendered only if this process has not yet."""

    def render() -> bytes:
        doc = notice_document(session, service=service)
        if not doc.activities:
            raise NotFound(worded("The service '%(service)s' publishes no activities yet.", service=service))
        return render_notice(doc, lang=lang)

    return cache.get((service, lang, version), render)


def record_words(lang: str) -> dict[str, Any]:
    """Words for the record's codes (roles, statuses, rights and their reasons) in the language, as the record
    PDF prints them; the officer's record page uses the same."""
    words = dict(RECORD_LABELS.get(lang, RECORD_LABELS["en"]))
    words["reasons"] = reason_texts(lang)
    return words


def safeguard_text(safeguard: str | None, lang: str) -> str:
    """A transfer's Chapter V tool in words ("standard personvernbestemmelser (art. 46)"), never its code."""
    texts = SAFEGUARD_TEXTS.get(safeguard or "")
    return (texts.get(lang) or texts.get("en") or "") if texts else (safeguard or "")
