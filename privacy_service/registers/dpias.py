"""The DPIA register (GDPR Art. 35/36): the screening, the assessment, the DPO's advice and Art. 36.

One assessment per processing activity, keyed by the activity's slug; an activity nobody assessed has no
row and reads as `not_assessed`. The activities come from ropa's service (registers reads ropa, ropa never
imports registers); the record of processing gets the assessments as plain data from its caller
(`record_assessments`). Every write records one audit event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, inspect, select
from sqlmodel import Session

from privacy_service.audit import Actor, AuditEvent, events_of, record_event
from privacy_service.errors import N_, Code, NotFound, ValidationFailed, said, worded
from privacy_service.kernel import utcnow
from privacy_service.registers.breaches import UnknownActivity
from privacy_service.registers.dpia_criteria import DATATILSYNET_LIST as DATATILSYNET_LIST  # for the pages
from privacy_service.registers.dpia_criteria import WP248_CRITERIA as WP248_CRITERIA
from privacy_service.registers.dpia_models import DpiaAssessment
from privacy_service.ropa import service as ropa_service

STATUSES = (
    "not_assessed",
    "screening",
    "not_required",
    "required",
    "in_progress",
    "completed",
    "prior_consultation",
)
SAVED_STATUSES = STATUSES[1:]  # not_assessed is what an activity without an assessment reads as
RISKS = ("low", "medium", "high")
# statuses under which a DPIA is (or was found to be) needed
REQUIRED_STATUSES = ("required", "in_progress", "completed", "prior_consultation")
UNASSESSED_STATUSES = ("not_assessed", "screening")


class DpiaRuleBroken(ValidationFailed):
    """The assessment breaks a rule of Art. 35/36 (a completed DPIA without the DPO's advice, say)."""

    code = "dpia_rule"


@dataclass(frozen=True)
class DpiaView:
    """An activity's place in the DPIA register, assessed or not."""

    activity: str
    name: Mapping[str, str]
    status: str
    triggers: tuple[str, ...]  # what in the record calls for a DPIA (see `dpia_triggers`)
    listed_items: tuple[str, ...] = ()
    criteria: tuple[str, ...] = ()
    screening_reasons: str | None = None
    dpo_advice: str | None = None
    dpo_advice_on: date | None = None
    residual_risk: str | None = None
    consultation_on: date | None = None
    consultation_reference: str | None = None
    consultation_outcome: str | None = None
    document_reference: str | None = None
    started_on: date | None = None
    completed_on: date | None = None
    next_review_on: date | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    attention: tuple[str, ...] = field(default=())

    @property
    def screening_indicates_dpia(self) -> bool:
        """Whether the screening says a DPIA is needed: an item on Datatilsynet's list, or two criteria."""
        return screening_indicates_dpia(self.listed_items, self.criteria)


ASSESSMENT_FIELDS = (
    "listed_items",
    "criteria",
    "screening_reasons",
    "dpo_advice",
    "dpo_advice_on",
    "residual_risk",
    "consultation_on",
    "consultation_reference",
    "consultation_outcome",
    "document_reference",
    "started_on",
    "completed_on",
    "next_review_on",
)


def screening_indicates_dpia(
    listed_items: tuple[str, ...] | list[str], criteria: tuple[str, ...] | list[str]
) -> bool:
    """Whether a DPIA is required as a rule: an item of Datatilsynet's list applies, or two WP248 criteria."""
    return bool(listed_items) or len(criteria) >= 2


def dpia_triggers(record: Mapping[str, Any]) -> tuple[str, ...]:
    """What in an activity's record calls for a DPIA: large-scale special categories, Art. 22, children.

    The record has no "large scale" field: a statutory health registry (Health Register Act) is large scale by
    its nature, so special categories in one count as large-scale special categories (WP248, criteria 4, 5).
    """
    found = []
    special = any(c.get("special") for c in record.get("data_categories") or [])
    if special and record.get("statutory_registry"):
        found.append("large_scale_special")
    if record.get("automated_decisions"):
        found.append("automated_decisions")  # Art. 22
    if record.get("children"):
        found.append("children")
    return tuple(found)


def _attention(status: str, triggers: tuple[str, ...], row: DpiaAssessment | None) -> tuple[str, ...]:
    """Why an officer should look at the activity now, most pressing first."""
    reasons = []
    if status in UNASSESSED_STATUSES and triggers:
        reasons.append("triggers_unassessed")
    if (
        row is not None
        and status in UNASSESSED_STATUSES
        and screening_indicates_dpia(row.listed_items, row.criteria)
    ):
        reasons.append("screening_indicates")
    if status == "required":
        reasons.append("required_not_started")
    if status == "prior_consultation" and row is not None and not row.consultation_outcome:
        reasons.append("consultation_open")
    return tuple(reasons)


def _view(activity: ropa_service.Activity, row: DpiaAssessment | None) -> DpiaView:
    triggers = dpia_triggers(activity.record)
    status = row.status if row else "not_assessed"
    extra: dict[str, Any] = {}
    if row is not None:
        extra = {name: getattr(row, name) for name in ASSESSMENT_FIELDS}
        extra["listed_items"] = tuple(row.listed_items)
        extra["criteria"] = tuple(row.criteria)
        extra.update(updated_at=row.updated_at, updated_by=row.updated_by)
    return DpiaView(
        activity=activity.slug,
        name=dict(activity.name),
        status=status,
        triggers=triggers,
        attention=_attention(status, triggers, row),
        **extra,
    )


def _rows(session: Session) -> dict[str, DpiaAssessment]:
    return {row.activity: row for row in session.scalars(select(DpiaAssessment))}


def list_dpias(session: Session) -> list[DpiaView]:
    """Every activity in the registry (retired ones left out) with its DPIA status, in registry order."""
    rows = _rows(session)
    activities = ropa_service.activities_for(session, include_retired=False)
    return [_view(a, rows.get(a.slug)) for a in activities]


def list_for_attention(session: Session) -> list[DpiaView]:
    """Every activity, those needing the officer's attention first (then by status and the registry order)."""
    views = list_dpias(session)
    return sorted(views, key=lambda v: (not v.attention, STATUSES.index(v.status) if v.attention else 0))


def _activity(session: Session, slug: str) -> ropa_service.Activity:
    found = ropa_service.activities_for(session, slugs=[slug])
    if not found:
        raise NotFound(
            worded("No processing activity '%(slug)s'.", slug=slug),
            fields={"activity": [N_("No such activity.")]},
        )
    return found[0]


def get_dpia(session: Session, *, activity: str) -> DpiaView:
    """Return one activity's place in the DPIA register (`not_assessed` when nobody assessed it)."""
    found = _activity(session, activity)
    row = session.scalar(select(DpiaAssessment).where(DpiaAssessment.activity == activity))
    return _view(found, row)


def check_rules(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Return what the assessment lacks for its status, by field; empty when it may be saved."""
    status, problems = data.get("status"), {}
    risk = data.get("residual_risk")
    if status == "not_required":
        if not (data.get("screening_reasons") or "").strip():
            problems["screening_reasons"] = [N_("Say why no DPIA is needed: the screening's reasons.")]
        if data.get("listed_items"):  # Art. 35(4): the list names processing that always needs one
            problems["listed_items"] = [N_("Processing on Datatilsynet's list always requires a DPIA.")]
    if status == "completed":
        if not (data.get("dpo_advice") or "").strip() or not data.get("dpo_advice_on"):
            problems["dpo_advice"] = [
                N_("A completed DPIA needs the DPO's advice and its date (Art. 35(2)).")
            ]
        if not risk:
            problems["residual_risk"] = [N_("A completed DPIA needs the residual risk.")]
        elif risk == "high" and not data.get("consultation_on"):
            problems["consultation_on"] = [
                N_("A high residual risk needs the prior consultation with Datatilsynet (Art. 36(1)).")
            ]
    if status == "prior_consultation" and risk != "high":
        problems["residual_risk"] = [
            N_(
                "Prior consultation (Art. 36) is for a residual risk that stays high; "
                "give residual risk high."
            )
        ]
    return problems


def save_dpia(session: Session, *, data: Mapping[str, Any], actor: Actor) -> DpiaView:
    """Create or update the assessment of an activity; one audit event records the change."""
    slug = data["activity"]
    found = ropa_service.activities_for(session, slugs=[slug])
    if not found:
        raise UnknownActivity(
            worded("No processing activity '%(slug)s'.", slug=slug),
            fields={"activity": [N_("No such activity.")]},
        )
    if data.get("status") not in SAVED_STATUSES:
        raise DpiaRuleBroken(
            N_("Unknown status."),
            fields={"status": [worded("Use one of %(choices)s.", choices=", ".join(SAVED_STATUSES))]},
        )
    problems = check_rules(data)
    if problems:
        first = next(iter(problems.values()))[0]
        raise DpiaRuleBroken(
            worded(
                "The assessment cannot be saved as %(status)s: %(first)s",
                status=Code("dpia_status", data["status"]),
                first=said(first),
            ),
            fields=problems,
        )
    row = session.scalar(select(DpiaAssessment).where(DpiaAssessment.activity == slug))
    before = _snapshot(row) if row else None
    if row is None:
        row = DpiaAssessment(activity=slug, status=data["status"])
        session.add(row)
    row.status = data["status"]
    for name in ASSESSMENT_FIELDS:
        value = data.get(name)
        setattr(row, name, list(value or []) if name in ("listed_items", "criteria") else value)
    row.updated_at, row.updated_by = utcnow(), str(actor)
    after = _snapshot(row)
    changed = sorted(k for k in after if before is None or before.get(k) != after[k])
    session.flush()
    record_event(
        session,
        actor=actor,
        action="dpia.created" if before is None else "dpia.updated",
        object_type="dpia_assessment",
        object_id=slug,
        details={"status": row.status, "previous_status": (before or {}).get("status"), "changed": changed},
    )
    return _view(found[0], row)


def _snapshot(row: DpiaAssessment) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in ("status", *ASSESSMENT_FIELDS)}
    return {k: (list(v) if isinstance(v, list | tuple) else v) for k, v in values.items()}


def dpia_history(session: Session, *, activity: str) -> list[AuditEvent]:
    """The audit events of an activity's assessment, newest first."""
    return events_of(session, object_type="dpia_assessment", object_id=activity)


def record_assessments(session: Session) -> dict[str, dict[str, Any]]:
    """The assessments as plain data for the record of processing (Art. 30), keyed by activity slug."""
    return {
        row.activity: {
            "status": row.status,
            "required": row.status in REQUIRED_STATUSES if row.status != "screening" else None,
            "document_reference": row.document_reference,
            "residual_risk": row.residual_risk,
            "prior_consultation": row.consultation_on is not None or row.status == "prior_consultation",
            "consultation_reference": row.consultation_reference,
            "consultation_outcome": row.consultation_outcome,
        }
        for row in _rows(session).values()
    }


# --- the policy check ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DpiaGap:
    """An activity whose record calls for a DPIA that nobody has assessed."""

    activity: str
    name: str
    status: str
    triggers: tuple[str, ...]


TRIGGER_TEXTS = {
    "large_scale_special": "special categories on a large scale (a statutory health registry)",
    "automated_decisions": "automated decisions (Art. 22)",
    "children": "children among the data subjects",
}
STATUS_TEXTS = {"not_assessed": "DPIA not assessed", "screening": "DPIA screening not concluded"}


def assessment_statuses(engine: Engine) -> dict[str, str]:
    """The saved DPIA statuses by activity slug; none when the database has no DPIA register yet."""
    if not inspect(engine).has_table(DpiaAssessment.__tablename__):
        return {}
    with Session(engine) as session:
        return {row.activity: row.status for row in session.scalars(select(DpiaAssessment))}


def dpia_gaps(activities: list[Mapping[str, Any]], statuses: Mapping[str, str]) -> list[DpiaGap]:
    """The activities (as policy records) that call for a DPIA and have none: not assessed, or screening."""
    gaps = []
    for record in activities:
        triggers = dpia_triggers(record)
        status = statuses.get(record["slug"], "not_assessed")
        if triggers and status in UNASSESSED_STATUSES and record.get("status", "active") != "retired":
            name = record.get("name") or {}
            gaps.append(
                DpiaGap(record["slug"], str(name.get("en") or name.get("nb") or ""), status, triggers)
            )
    return gaps


def gap_text(gap: DpiaGap) -> str:
    """One line in plain words for `policies check`."""
    why = "; ".join(TRIGGER_TEXTS[t] for t in gap.triggers)
    return f"{STATUS_TEXTS[gap.status]}: {gap.name} ({gap.activity}): {why}. Record the DPIA (Art. 35)."
