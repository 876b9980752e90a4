"""Legitimate-interest assessments (GDPR Art. 6(1)(f)): the three-part test, EDPB guidelines 1/2024.

One assessment per activity that names Art. 6(1)(f) among its legal bases, keyed by the activity's slug; an
activity nobody assessed has no row and reads as `not_assessed`. The activities come from ropa's service
(registers reads ropa, ropa never imports registers); the record of processing gets the assessments as plain
data from its caller (`record_assessments`). Every write records one audit event in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, inspect, select
from sqlmodel import Session

from privacy_service.audit import Actor, AuditEvent, events_of, record_event
from privacy_service.errors import N_, Code, NotFound, ValidationFailed, said, worded
from privacy_service.kernel import record_bases, utcnow
from privacy_service.registers.breaches import UnknownActivity
from privacy_service.registers.lia_models import LiaAssessment
from privacy_service.ropa import service as ropa_service

LEGITIMATE_INTEREST = "6(1)(f)"
CONCLUSIONS = ("legitimate", "not_legitimate")
STATUSES = ("not_assessed", *CONCLUSIONS)
HOLDERS = ("controller", "third_party")
ASSESSMENT_FIELDS = (
    "public_task_processing",
    "interest",
    "interest_holder",
    "interest_lawful",
    "interest_specific",
    "interest_present",
    "necessity",
    "alternatives",
    "reasonable_expectations",
    "data_nature",
    "impact",
    "safeguards",
    "conclusion",
    "conclusion_reasons",
    "assessed_by",
    "assessed_on",
    "next_review_on",
)
BOOLEANS = ("public_task_processing", "interest_lawful", "interest_specific", "interest_present")
PUBLIC_TASK_RULE = (
    "Art. 6(1) second subparagraph: legitimate interests (Art. 6(1)(f)) do not apply to processing by a "
    "public authority in the performance of its tasks; record the task under Art. 6(1)(e) instead."
)
INTEREST_RULE = (
    "A legitimate interest must be lawful, clearly articulated and real and present (EDPB 1/2024)."
)
NECESSITY_RULE = "Say why the processing is necessary and which less intrusive alternatives were considered."
BALANCING_RULE = (
    "The balancing needs the subjects' reasonable expectations, the nature of the data and the impact."
)
REVIEW_RULE = "The review date must come after the assessment."


class LiaRuleBroken(ValidationFailed):
    """The assessment breaks a rule of Art. 6(1)(f) or its second subparagraph."""

    code = "lia_rule"


class NotLegitimateInterest(ValidationFailed):
    """The activity does not name Art. 6(1)(f) among its legal bases: there is no interest to weigh."""

    code = "not_legitimate_interest"


@dataclass(frozen=True)
class LiaView:
    """An activity's legitimate-interest assessment, or its absence."""

    activity: str
    name: Mapping[str, str]
    status: str  # not_assessed | legitimate | not_legitimate
    public_task_processing: bool | None = None
    interest: str | None = None
    interest_holder: str | None = None
    interest_lawful: bool | None = None
    interest_specific: bool | None = None
    interest_present: bool | None = None
    necessity: str | None = None
    alternatives: str | None = None
    reasonable_expectations: str | None = None
    data_nature: str | None = None
    impact: str | None = None
    safeguards: str | None = None
    conclusion: str | None = None
    conclusion_reasons: str | None = None
    assessed_by: str | None = None
    assessed_on: date | None = None
    next_review_on: date | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None

    def review_due(self, today: date) -> bool:
        """Whether the assessment's review date has come."""
        return self.next_review_on is not None and self.next_review_on <= today


def uses_legitimate_interest(record: Mapping[str, Any]) -> bool:
    """Whether an activity's record names Art. 6(1)(f) among its legal bases."""
    return LEGITIMATE_INTEREST in record_bases(record)[0]


def _view(activity: ropa_service.Activity, row: LiaAssessment | None) -> LiaView:
    extra: dict[str, Any] = {}
    if row is not None:
        extra = {name: getattr(row, name) for name in ASSESSMENT_FIELDS}
        extra.update(updated_at=row.updated_at, updated_by=row.updated_by)
    return LiaView(
        activity=activity.slug,
        name=dict(activity.name),
        status=row.conclusion if row else "not_assessed",
        **extra,
    )


def _rows(session: Session) -> dict[str, LiaAssessment]:
    return {row.activity: row for row in session.scalars(select(LiaAssessment))}


def list_lias(session: Session) -> list[LiaView]:
    """Every activity (retired ones left out) relying on Art. 6(1)(f), with its assessment, registry order."""
    rows = _rows(session)
    activities = ropa_service.activities_for(session, include_retired=False)
    return [_view(a, rows.get(a.slug)) for a in activities if LEGITIMATE_INTEREST in a.legal_bases]


def list_for_attention(session: Session) -> list[LiaView]:
    """The same list with the unassessed activities first."""
    return sorted(list_lias(session), key=lambda v: v.status != "not_assessed")


def _activity(
    session: Session, slug: str, missing: type[ValidationFailed | NotFound]
) -> ropa_service.Activity:
    found = ropa_service.activities_for(session, slugs=[slug])
    if not found:
        raise missing(f"No processing activity {slug!r}.", fields={"activity": [N_("No such activity.")]})
    if LEGITIMATE_INTEREST not in found[0].legal_bases:
        raise NotLegitimateInterest(
            worded(
                "The activity '%(slug)s' does not rely on legitimate interests (Art. 6(1)(f)).", slug=slug
            ),
            fields={"activity": [N_("The activity's legal bases do not include Art. 6(1)(f).")]},
        )
    return found[0]


def get_lia(session: Session, *, activity: str) -> LiaView:
    """Return one activity's legitimate-interest assessment (`not_assessed` when nobody assessed it)."""
    found = _activity(session, activity, NotFound)
    row = session.scalar(select(LiaAssessment).where(LiaAssessment.activity == activity))
    return _view(found, row)


def _blank(data: Mapping[str, Any], name: str) -> bool:
    return not (data.get(name) or "").strip()


def check_rules(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Return what the assessment lacks for its conclusion, by field; empty when it may be saved."""
    problems: dict[str, list[str]] = {}
    if data.get("conclusion") != "legitimate":
        return problems  # concluding against the interest needs only the reasons the form asks for
    if data.get("public_task_processing"):
        problems["public_task_processing"] = [PUBLIC_TASK_RULE]
    if _blank(data, "interest") or not all(
        data.get(f"interest_{name}") for name in ("lawful", "specific", "present")
    ):
        problems["interest"] = [INTEREST_RULE]
    if _blank(data, "necessity") or _blank(data, "alternatives"):
        problems["necessity"] = [NECESSITY_RULE]
    if any(_blank(data, n) for n in ("reasonable_expectations", "data_nature", "impact")):
        problems["reasonable_expectations"] = [BALANCING_RULE]
    return problems


def _check_dates(data: Mapping[str, Any]) -> dict[str, list[str]]:
    review, assessed = data.get("next_review_on"), data.get("assessed_on")
    if review is not None and assessed is not None and review <= assessed:
        return {"next_review_on": [REVIEW_RULE]}
    return {}


def save_lia(session: Session, *, data: Mapping[str, Any], actor: Actor) -> LiaView:
    """Create or update the assessment of an activity relying on Art. 6(1)(f); one audit event records it."""
    slug = data["activity"]
    activity = _activity(session, slug, UnknownActivity)
    if data.get("conclusion") not in CONCLUSIONS:
        raise LiaRuleBroken(
            N_("Unknown conclusion."),
            fields={"conclusion": [worded("Use one of %(choices)s.", choices=", ".join(CONCLUSIONS))]},
        )
    problems = {**check_rules(data), **_check_dates(data)}
    if problems:
        first = next(iter(problems.values()))[0]
        raise LiaRuleBroken(
            worded(
                "The assessment cannot be saved with the conclusion '%(conclusion)s': %(first)s",
                conclusion=Code("lia", data["conclusion"]),
                first=said(first),
            ),
            fields=problems,
        )
    row = session.scalar(select(LiaAssessment).where(LiaAssessment.activity == slug))
    before = _snapshot(row) if row else None
    if row is None:
        row = LiaAssessment(
            activity=slug,
            conclusion=data["conclusion"],
            assessed_by=data["assessed_by"],
            assessed_on=data["assessed_on"],
        )
        session.add(row)
    for name in ASSESSMENT_FIELDS:
        setattr(row, name, data.get(name))
    for name in BOOLEANS:
        setattr(row, name, bool(data.get(name)))
    row.interest = data.get("interest") or ""
    row.interest_holder = data.get("interest_holder") or "controller"
    row.updated_at, row.updated_by = utcnow(), str(actor)
    after = _snapshot(row)
    changed = sorted(k for k in after if before is None or before.get(k) != after[k])
    session.flush()
    record_event(
        session,
        actor=actor,
        action="lia.created" if before is None else "lia.updated",
        object_type="lia_assessment",
        object_id=slug,
        details={
            "conclusion": row.conclusion,
            "previous_conclusion": (before or {}).get("conclusion"),
            "changed": changed,
        },
    )
    return _view(activity, row)


def _snapshot(row: LiaAssessment) -> dict[str, Any]:
    return {name: getattr(row, name) for name in ASSESSMENT_FIELDS}


def lia_history(session: Session, *, activity: str) -> list[AuditEvent]:
    """The audit events of an activity's assessment, newest first."""
    return events_of(session, object_type="lia_assessment", object_id=activity)


def record_assessments(session: Session) -> dict[str, dict[str, Any]]:
    """The assessments as plain data for the record of processing (Art. 30), keyed by activity slug."""
    return {
        row.activity: {
            "conclusion": row.conclusion,
            "assessed_on": row.assessed_on.isoformat(),
            "next_review_on": row.next_review_on.isoformat() if row.next_review_on else None,
        }
        for row in _rows(session).values()
    }


# --- the policy check ---------------------------------------------------------------------------------------


def assessed_activities(engine: Engine) -> set[str]:
    """The slugs of the activities with an assessment; none when the database has no LIA register yet."""
    if not inspect(engine).has_table(LiaAssessment.__tablename__):
        return set()
    with Session(engine) as session:
        return set(session.scalars(select(LiaAssessment.activity)))


def lia_gap_texts(activities: list[Mapping[str, Any]], assessed: set[str]) -> list[str]:
    """One line in plain words for `policies check` per activity relying on Art. 6(1)(f) without an LIA."""
    lines = []
    for record in activities:
        if record.get("status", "active") == "retired" or record["slug"] in assessed:
            continue
        if uses_legitimate_interest(record):
            name = record.get("name") or {}
            label = str(name.get("en") or name.get("nb") or "")
            lines.append(
                f"No legitimate-interest assessment: {label} ({record['slug']}) relies on legitimate "
                "interests (Art. 6(1)(f)). Record the three-part test: "
                "the interest, necessity and the balancing."
            )
    return lines
