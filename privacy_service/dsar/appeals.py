"""Refusals on statutory health registries: the individual-decision letter section, and the appeals.

A refusal of a right on an activity the registry flags as a statutory health registry (`statutory_registry`,
e.g. NPR and KPR under the Health Register Act § 11) is an individual decision (enkeltvedtak, Public
Administration Act § 2 first paragraph (b)). The letter then says (§§ 24, 25 and 27 third paragraph): the
reasons and the rules the decision rests on, the right to appeal, the appeal body the registry names, the
three-week deadline counted from the day the letter reached the subject (§ 29), that the appeal is sent to the
controller (§ 32), who prepares it and either reverses the decision or sends the case on (§ 33), and the right
to see the case documents (§§ 18–19).

An appeal is registered on the completed request and moves received → prepared → sent_to_appeal_body →
decided (or prepared → decided, when the controller reverses its own decision, § 33 second paragraph). Its
deadlines:
- `appeal_deadline`: three weeks after the letter was sent (the request's completion), moved off weekends and
  public holidays (§ 30, domstolloven § 148). When the letter reached the subject is not known here, so the
  sending date is the conservative start; an appeal received later is registered and flagged late, and the
  officer may still consider it (§ 31).
- `prepare_by`: the law asks for preparation "without undue delay" (§ 33); we assume PREPARE_DAYS (three
  weeks, setting PRIVACY_APPEAL_PREPARE_DAYS) from receipt to reversing or sending the case on.
- `decision_expected_on`: when the appeal body is expected to decide: the date the officer gives when sending
  it on, else DECISION_DAYS (setting PRIVACY_APPEAL_DECISION_DAYS) after sending.
An appeal past its current deadline is overdue and shows on the officer's queue.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from privacy_service.audit import Actor
from privacy_service.catalogue import ByLanguage
from privacy_service.dsar import decisions, lifecycle
from privacy_service.dsar.answer import Answer
from privacy_service.dsar.deadlines import local_date, next_working_day
from privacy_service.dsar.letter import Block
from privacy_service.dsar.models import DsarAppeal, DsarOutcome, DsarRequest
from privacy_service.errors import N_, Code, Conflict, NotFound, ValidationFailed, worded
from privacy_service.kernel import utcnow
from privacy_service.ropa import service as ropa
from privacy_service.wording import localised

APPEAL_WEEKS = 3  # forvaltningsloven § 29
PREPARE_DAYS = 21  # assumption: "without undue delay" (§ 33) as three weeks from receipt to sending on
DECISION_DAYS = 90  # assumption: the appeal body's expected time, unless the officer gives a date
OPEN = ("received", "prepared", "sent_to_appeal_body")
# step → the statuses it may follow
STEPS: dict[str, tuple[str, ...]] = {
    "prepared": ("received",),
    "sent_to_appeal_body": ("prepared",),
    "decided": ("prepared", "sent_to_appeal_body"),
}
EVENTS = {  # the step's timeline event (visible to the subject: EVENT_LABELS words it)
    "received": "appeal_received",
    "prepared": "appeal_prepared",
    "sent_to_appeal_body": "appeal_sent",
    "decided": "appeal_decided",
}

# The letter's words, by id (the subject's language only; article and section in brackets).
TEXTS = ByLanguage("appeal")


class NotAppealable(Conflict):
    """An appeal needs a completed request with a refusal on a statutory health registry."""

    code = "not_appealable"


class AppealStepNotAllowed(Conflict):
    """The step does not follow the appeal's status."""

    code = "appeal_step_not_allowed"


# --- the letter ---------------------------------------------------------------------------------------------


def refused_on_registry(outcome: DsarOutcome, record: dict[str, Any] | None) -> bool:
    """Whether the officer refused the right on a statutory health registry: an individual decision."""
    registry = (record or {}).get("statutory_registry")
    return bool(registry) and outcome.outcome == "refused" and outcome.decision == "refuse"


def letter_blocks(answer: Answer, lang: str) -> list[Block]:
    """The individual-decision section of the letter: reasons, right of appeal, appeal body, three weeks,
    where to send it, the case documents. Empty unless something was refused on a statutory registry."""
    lang = lang if lang in TEXTS else "nb"
    t = TEXTS[lang]
    refused = [o for o in answer.outcomes if refused_on_registry(o, answer.activities.get(o.activity))]
    if not refused:
        return []
    blocks: list[Block] = [("h1", t["head"]), ("p", t["intro"])]
    bodies: list[str] = []
    for o in refused:
        record = answer.activities[o.activity]
        registry = record["statutory_registry"]
        bodies.append(localised(registry["appeal_body"], lang))
        rules = [decisions.ground_text(o.decision_ground, lang), localised(registry["act"], lang)]
        blocks += [
            ("h2", localised(record.get("name"), lang)),
            (
                "pairs",
                [
                    (t["decision"], t["refused"]),
                    (t["rules"], [r for r in rules if r]),
                    (t["reasons"], o.decision_reasons or ""),
                ],
            ),
        ]
    body = t["and"].join(dict.fromkeys(bodies))
    controller = _controller(answer, refused[0], lang)
    blocks += [
        ("h2", t["appeal_head"]),
        ("p", t["appeal"].format(body=body)),
        ("p", t["when"]),
        ("p", t["where"].format(controller=", ".join(controller), body=body)),
        ("p", t["what"].format(reference=answer.request.reference)),
        ("pairs", [(t["body"], body), (t["deadline"], t["deadline_value"]), (t["send_to"], controller)]),
        ("p", t["documents"]),
        ("muted", t["late"]),
    ]
    return blocks


def _controller(answer: Answer, outcome: DsarOutcome, lang: str) -> list[str]:
    """The controller's name and addresses, where the appeal is sent (§ 32)."""
    slug = answer.activities[outcome.activity].get("controller") or ""
    org = answer.organisations.get(slug) or {}
    found = [localised(org.get("name"), lang), org.get("address"), org.get("email")]
    return [str(v) for v in found if v]


# --- registering and advancing ------------------------------------------------------------------------------


def appeal_deadline(req: DsarRequest) -> date:
    """Three weeks after the letter was sent, moved off weekends and public holidays (§§ 29–30)."""
    sent = local_date(req.closed_at or req.updated_at)
    return next_working_day(sent + timedelta(weeks=APPEAL_WEEKS))


def appealable(session: Session, req: DsarRequest) -> list[str]:
    """The activities of the request refused on a statutory health registry (none unless completed)."""
    if req.status != "completed":
        return []
    out = []
    for o in lifecycle.outcomes_of(session, req):
        refused = o.outcome == "refused" and o.decision == "refuse"
        if refused and ropa.activity_view(session, slug=o.activity).statutory_registry:
            out.append(o.activity)
    return out


def activity_names(session: Session, slugs: list[str], lang: str) -> dict[str, str]:
    """The registry's names of the activities, in the reader's language (never their slugs), in one query."""
    if not slugs:
        return {}
    return {a.slug: localised(a.name, lang) for a in ropa.activities_for(session, slugs=slugs)}


def register(
    session: Session,
    req: DsarRequest,
    *,
    received_on: date,
    actor: Actor,
    activities: list[str] | None = None,
    note: str | None = None,
    prepare_days: int = PREPARE_DAYS,
) -> DsarAppeal:
    """Register an appeal against the request's refusals on statutory registries (all of them, or those
    named); one received after the three weeks is registered and flagged late (§ 31)."""
    refused = appealable(session, req)
    if not refused:
        raise NotAppealable(
            worded(
                "Request %(ref)s has no refusal on a statutory health registry to appeal against: only "
                "a completed request with such a refusal (an individual decision) can be appealed.",
                ref=req.reference,
            ),
            fields={"status": [req.status]},
        )
    wanted = list(dict.fromkeys(activities or refused))
    other = [a for a in wanted if a not in refused]
    if other:
        raise NotAppealable(
            N_("Only a refusal on a statutory health registry can be appealed."),
            fields={
                "activities": [
                    worded("'%(activity)s' was not refused on a statutory registry.", activity=a)
                    for a in other
                ]
            },
        )
    today = local_date(utcnow())
    sent = local_date(req.closed_at or req.updated_at)
    if not sent <= received_on <= today:
        raise ValidationFailed(
            N_("The date received is not valid."),
            fields={
                "received_on": [
                    worded("Give a date from %(date)s (the letter) to today.", date=sent.isoformat())
                ]
            },
        )
    deadline = appeal_deadline(req)
    appeal = DsarAppeal(
        request_id=req.id or 0,
        activities=wanted,
        received_on=received_on,
        appeal_deadline=deadline,
        late=received_on > deadline,
        prepare_by=received_on + timedelta(days=prepare_days),
        created_by=str(actor),
    )
    _add_step(appeal, "received", received_on, note, actor)
    session.add(appeal)
    session.flush()
    details = {"appeal": appeal.id, "activities": wanted, "late": appeal.late}
    lifecycle.record(session, req, EVENTS["received"], actor, details=details)
    return appeal


def advance(
    session: Session,
    req: DsarRequest,
    *,
    appeal_id: int,
    step: str,
    actor: Actor,
    on: date | None = None,
    note: str | None = None,
    outcome: str | None = None,
    decision_expected_on: date | None = None,
    decision_days: int = DECISION_DAYS,
) -> DsarAppeal:
    """Take the appeal's next step: prepared, sent to the appeal body (with its expected decision date), or
    decided (with the outcome). Only the appeal body upholds; the controller may reverse its own decision."""
    appeal = get_appeal(session, req, appeal_id=appeal_id, for_update=True)
    if appeal.status not in STEPS.get(step, ()):
        raise AppealStepNotAllowed(
            worded(
                "The appeal is %(status)s; it cannot be %(step)s now.",
                status=Code("appeal_status", appeal.status),
                step=Code("appeal_status", step),
            ),
            fields={"status": [appeal.status]},
        )
    if step == "decided" and appeal.status == "prepared" and outcome == "upheld":
        raise AppealStepNotAllowed(
            N_("Only the appeal body can uphold the decision: send the appeal on, or reverse it yourself."),
            fields={"outcome": [outcome]},
        )
    on = on or local_date(utcnow())
    last = date.fromisoformat(appeal.steps[-1]["on"]) if appeal.steps else appeal.received_on
    if not last <= on <= local_date(utcnow()):
        raise ValidationFailed(
            N_("The date is not valid."),
            fields={
                "date": [worded("Give a date from %(date)s (the last step) to today.", date=last.isoformat())]
            },
        )
    if step == "sent_to_appeal_body":
        appeal.sent_on = on
        appeal.decision_expected_on = decision_expected_on or on + timedelta(days=decision_days)
    elif step == "decided":
        appeal.decided_on, appeal.outcome = on, outcome
    appeal.status = step
    _add_step(appeal, step, on, note, actor)
    details: dict[str, Any] = {"appeal": appeal.id, "step": step, "on": on.isoformat()}
    if outcome:
        details["outcome"] = outcome
    lifecycle.record(session, req, EVENTS[step], actor, details=details)
    return appeal


def _add_step(appeal: DsarAppeal, step: str, on: date, note: str | None, actor: Actor) -> None:
    now = utcnow()
    entry = {"step": step, "on": on.isoformat(), "at": now.isoformat(), "by": str(actor)}
    appeal.steps = [*appeal.steps, {**entry, "note": (note or "").strip() or None}]
    appeal.updated_at = now


# --- reading ------------------------------------------------------------------------------------------------


def get_appeal(session: Session, req: DsarRequest, *, appeal_id: int, for_update: bool = False) -> DsarAppeal:
    """The request's appeal with this id, or NotFound."""
    stmt = select(DsarAppeal).where(DsarAppeal.id == appeal_id, DsarAppeal.request_id == req.id)
    appeal = session.scalar(stmt.with_for_update() if for_update else stmt)
    if appeal is None:
        raise NotFound(
            worded("Request %(ref)s has no appeal %(appeal_id)s.", ref=req.reference, appeal_id=appeal_id)
        )
    return appeal


def appeals_of(session: Session, req: DsarRequest) -> list[DsarAppeal]:
    """The request's appeals, oldest first."""
    stmt = select(DsarAppeal).where(DsarAppeal.request_id == req.id).order_by(DsarAppeal.id)
    return list(session.scalars(stmt))


def due_on(appeal: DsarAppeal) -> date | None:
    """The appeal's current deadline: ours to prepare it, then the appeal body's; none once decided."""
    if appeal.status in ("received", "prepared"):
        return appeal.prepare_by
    return appeal.decision_expected_on if appeal.status == "sent_to_appeal_body" else None


def is_overdue(appeal: DsarAppeal, *, today: date | None = None) -> bool:
    """Past its current deadline."""
    due = due_on(appeal)
    return due is not None and due < (today or local_date(utcnow()))


def _overdue_clause(today: date) -> Any:
    return or_(
        and_(DsarAppeal.status.in_(("received", "prepared")), DsarAppeal.prepare_by < today),
        and_(DsarAppeal.status == "sent_to_appeal_body", DsarAppeal.decision_expected_on < today),
    )


def list_appeals(
    session: Session,
    *,
    overdue: bool | None = None,
    status: str | None = None,
    created_by: str | None = None,
    today: date | None = None,
    limit: int = 500,
) -> list[tuple[DsarAppeal, str]]:
    """Appeals with their request's reference, oldest deadline first; with `created_by`, only on the requests
    that caller submitted."""
    today = today or local_date(utcnow())
    stmt = select(DsarAppeal, DsarRequest.reference).join(
        DsarRequest, DsarRequest.id == DsarAppeal.request_id
    )
    if created_by is not None:
        stmt = stmt.where(DsarRequest.created_by == created_by)
    if status:
        stmt = stmt.where(DsarAppeal.status == status)
    if overdue is not None:
        stmt = stmt.where(_overdue_clause(today) if overdue else ~_overdue_clause(today))
    stmt = stmt.order_by(DsarAppeal.prepare_by, DsarAppeal.id).limit(limit)
    return [(a, ref) for a, ref in session.execute(stmt).all()]


def counts(session: Session, *, today: date | None = None) -> dict[str, int]:
    """For the queue: open appeals, and how many are overdue."""
    today = today or local_date(utcnow())
    open_ = select(func.count()).where(DsarAppeal.status.in_(OPEN))
    late = select(func.count()).where(_overdue_clause(today))
    return {"open": session.scalar(open_) or 0, "overdue": session.scalar(late) or 0}


def view(appeal: DsarAppeal, reference: str, *, today: date | None = None) -> dict[str, Any]:
    """An appeal as the API and the pages show it."""
    return {
        "id": appeal.id,
        "reference": reference,
        "activities": appeal.activities,
        "status": appeal.status,
        "received_on": appeal.received_on,
        "appeal_deadline": appeal.appeal_deadline,
        "late": appeal.late,
        "prepare_by": appeal.prepare_by,
        "sent_on": appeal.sent_on,
        "decision_expected_on": appeal.decision_expected_on,
        "decided_on": appeal.decided_on,
        "outcome": appeal.outcome,
        "due_on": due_on(appeal),
        "overdue": is_overdue(appeal, today=today),
        "steps": appeal.steps,
    }
