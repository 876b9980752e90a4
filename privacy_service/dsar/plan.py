"""The plan of a request: per activity, whether the right applies and why, and what the data map finds.

Made when the subject's identity is confirmed (an outbox task, so a data system that is down only delays it)
and again when an officer asks. Erasure's plan is its preview: rows to delete, rows to mask, and rows held,
with the hold and its basis; nothing is touched until an officer approves.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from privacy_service import notify
from privacy_service.audit import Actor
from privacy_service.datamap import service as datamap
from privacy_service.dsar import rules
from privacy_service.dsar.models import DsarOutcome, DsarRequest
from privacy_service.models import utcnow
from privacy_service.retention import holds as holds_service
from privacy_service.retention.holds import TableRef, held_rows, holds_for_table
from privacy_service.retention.models import Hold
from privacy_service.ropa import service as ropa

PLAN_TASK = "dsar.plan"


def identity_of(req: DsarRequest) -> dict[str, str]:
    """How the data map finds the request's subject."""
    found = {"email": req.subject_email, "national_id": req.subject_national_id}
    return {k: v for k, v in found.items() if v}


def _activities(session: Session, req: DsarRequest) -> list[Any]:
    if req.activities:
        return [ropa.get_activity(session, slug=slug) for slug in req.activities]
    items, __ = ropa.list_activities(session, filters=ropa.ActivityFilter(status="active"), per_page=100_000)
    return list(items)


def make_plan(session: Session, req: DsarRequest, *, instance_path: Path, actor: Actor) -> list[DsarOutcome]:
    """Decide per activity and store the outcomes (replacing an earlier plan); the request then waits for an
    officer's decision. Raises DataSystemError when a data system cannot be read (the task retries)."""
    from privacy_service.dsar import service  # the lifecycle (service imports this module's task)

    identity = identity_of(req)
    scope = _activities(session, req)
    slugs = {a.slug for a in scope}
    found = (
        datamap.find_subject_rows(session, identity=identity, instance_path=instance_path, activities=slugs)
        if identity
        else []
    )
    rows_by_activity: dict[str, list[datamap.SubjectRows]] = defaultdict(list)
    for table_rows in found:
        rows_by_activity[table_rows.activity].append(table_rows)
    tables_by_id = {t.id: t for __, t in datamap.mapped_tables(session)}  # read once for every activity
    mapped = {t.activity_slug for t in tables_by_id.values()}
    session.execute(delete(DsarOutcome).where(DsarOutcome.request_id == req.id))
    protect_request_evidence(session, req, actor)
    outcomes = []
    for activity in scope:
        data = activity.data
        decision = rules.decide(req.type, data)
        tables, holds_seen, rows, held = [], {}, 0, 0
        for table_rows in rows_by_activity.get(activity.slug, []):
            holds = [
                h
                for h in holds_for_table(
                    session, TableRef(table_rows.system, table_rows.table, activity.slug)
                )
                if not (h.kind == "request_pending" and h.reference == req.reference)  # its own evidence hold
            ]
            keys = [r[table_rows.key] for r in table_rows.rows]
            protected = held_rows(holds, keys=keys, identity=identity)
            by_hold: dict[str, int] = defaultdict(int)
            for hold in protected.values():
                by_hold[str(hold.id)] += 1
                holds_seen[hold.id] = {"id": hold.id, "kind": hold.kind, "basis": hold.basis}
            tables.append(
                {
                    "system": table_rows.system,
                    "table": table_rows.table,
                    "rows": len(keys),
                    "held": dict(by_hold),
                    "strategy": tables_by_id[table_rows.data_table_id].erasure,
                }
            )
            rows += len(keys)
            held += len(protected)
        is_mapped = activity.slug in mapped
        outcome = DsarOutcome(
            request_id=req.id or 0,
            activity=activity.slug,
            outcome=rules.outcome(decision, mapped=is_mapped, rows=rows, held=held, right=req.type),
            applies=decision.applies,
            legal_ground=decision.article,
            reason=decision.reason,
            records=rows if is_mapped else None,
            held=held,
            details={"tables": tables, "holds": list(holds_seen.values()), "manual": not is_mapped},
        )
        session.add(outcome)
        outcomes.append(outcome)
    summary: dict[str, int] = defaultdict(int)
    for o in outcomes:
        summary[o.outcome] += 1
    if req.status == "in_progress":
        service.move(req, "awaiting_decision")
    service.record(session, req, "planned", actor, details={"outcomes": dict(summary)})
    return outcomes


def protect_request_evidence(session: Session, req: DsarRequest, actor: Actor) -> Hold | None:
    """An open erasure request keeps the subject's data from retention until it is decided."""
    if req.type != "erasure" or not req.subject_email:
        return None
    existing = own_hold(session, req)
    if existing is not None:
        return existing
    return holds_service.set_hold(
        session,
        data={
            "kind": "request_pending",
            "scope": "subject",
            "subject_kind": "email",
            "subject_value": req.subject_email,
            "basis": f"Erasure request {req.reference}: kept as evidence until the request is decided",
            "reference": req.reference,
            "source": "request",
        },
        actor=actor,
    )


def own_hold(session: Session, req: DsarRequest) -> Hold | None:
    return session.scalar(
        select(Hold).where(
            Hold.kind == "request_pending", Hold.reference == req.reference, Hold.released_at.is_(None)
        )
    )


def release_request_evidence(session: Session, req: DsarRequest, actor: Actor) -> None:
    hold = own_hold(session, req)
    if hold is not None:
        holds_service.release_hold(
            session, hold_id=hold.id or 0, actor=actor, note=f"{req.reference} decided"
        )


def outcomes_of(session: Session, req: DsarRequest) -> list[DsarOutcome]:
    return list(
        session.scalars(select(DsarOutcome).where(DsarOutcome.request_id == req.id).order_by(DsarOutcome.id))
    )


def _plan_task(session: Session, payload: dict[str, Any], transport: notify.Transport) -> None:
    from privacy_service.dsar import service

    if transport.instance_path is None:
        raise RuntimeError("the plan task needs the instance path (data systems)")
    req = service.get_request(session, reference=payload["reference"], for_update=True)
    if req.status not in ("in_progress", "awaiting_decision"):
        return  # withdrawn or rejected meanwhile: nothing to plan
    make_plan(session, req, instance_path=transport.instance_path, actor=Actor("system", "planner"))
    req.updated_at = utcnow()


notify.register_task(PLAN_TASK, _plan_task)
