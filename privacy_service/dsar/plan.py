"""The plan of a request: per activity, whether the right applies and why, and what the data map finds.

Made when the subject's identity is confirmed (an outbox task, so a data system that is down only delays it)
and again when an officer asks. Erasure's plan is its preview: rows to delete, rows to mask, and rows held,
with the hold and its basis; nothing is touched until an officer approves.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session

from privacy_service.audit import Actor
from privacy_service.consent import service as consent
from privacy_service.datamap import service as datamap
from privacy_service.dsar import decisions, lifecycle, rules
from privacy_service.dsar.models import DsarOutcome, DsarRequest
from privacy_service.dsar.snapshot import Snapshot, snapshot_of
from privacy_service.errors import N_, ValidationFailed, worded
from privacy_service.retention import service as retention
from privacy_service.retention.service import Hold
from privacy_service.ropa import service as ropa

LINKED = "linked:"  # a plan line's identifier that came through the person's verified links (labels.LINKED)


def check_scope(session: Session, data: dict[str, Any]) -> None:
    """The activities must be in the registry; a rectification must name a data item the data map knows."""
    activities = list(dict.fromkeys(data.get("activities") or []))
    snap = snapshot_of(session)
    known = snap.known(activities)
    unknown = [slug for slug in activities if slug not in known]
    if unknown:
        raise ValidationFailed(
            N_("Unknown activity."),
            fields={
                "activities": [worded("No processing activity '%(activity)s'.", activity=s) for s in unknown]
            },
        )
    field = (data.get("details") or {}).get("field")
    if data["type"] == "rectification" and field:
        tables = [t for __, t in snap.tables() if not activities or t.activity_slug in activities]
        known = sorted({c for t in tables for c in t.columns})
        if field not in known:
            raise ValidationFailed(
                N_("Unknown field to correct."),
                fields={
                    "details": {
                        "field": [
                            worded("Not a data item we hold; one of: %(known)s.", known=", ".join(known))
                        ]
                    }
                },
            )


def _activities(snap: Snapshot, req: DsarRequest) -> list[ropa.Activity]:
    """The activities the request names, in its order, or every active one."""
    return snap.activities(req.activities) if req.activities else snap.active()


def make_plan(
    session: Session,
    req: DsarRequest,
    *,
    instance_path: Path,
    actor: Actor,
    secret: str,
    snapshot: Snapshot | None = None,
) -> list[DsarOutcome]:
    """Decide per activity and store the outcomes (replacing an earlier plan); the request then waits for an
    officer's decision. Raises DataSystemError when a data system cannot be read (the task retries). The
    registry, the data map and the holds are read once (`snapshot`, else the transaction's). The data map is
    searched with the request's proved identifiers and the verified ones of the person they resolve to
    (`secret`: the instance secret her national identity number is keyed under)."""
    snap = snapshot or snapshot_of(session)
    identity = snap.identity(req, secret=secret)
    scope = _activities(snap, req)
    found = (
        datamap.find_subject_rows(
            session,
            identity=identity,
            instance_path=instance_path,
            activities={a.slug for a in scope},
            tables=snap.tables(),
        )
        if identity
        else []
    )
    rows_by_activity: dict[str, list[datamap.SubjectRows]] = defaultdict(list)
    for table_rows in found:
        rows_by_activity[table_rows.activity].append(table_rows)
    tables_by_id = {t.id: t for __, t in snap.tables()}
    mapped = {t.activity_slug for t in tables_by_id.values()}
    consented = _consented(session, identity) if req.type == "consent_withdrawal" else set()
    earlier = _take_outcomes(session, req)
    protect_request_evidence(session, req, actor)
    holds = snap.holds([_ref(t) for t in found])  # every table's holds in one query
    outcomes = []
    for activity in scope:
        found_here = rows_by_activity.get(activity.slug, [])
        tables = [_table_line(req, t, identity, tables_by_id, holds[_ref(t)]) for t in found_here]
        outcome = _outcome(
            req, activity, tables, mapped=activity.slug in mapped, consented=activity.slug in consented
        )
        decisions.propose(outcome, req, activity, actor=actor)
        decisions.carry_over(outcome, earlier.get(activity.slug))
        outcomes.append(outcome)
    session.add_all(outcomes)  # flushed as one multi-row INSERT
    snap.planned[req.id or 0] = outcomes  # an answer collected in this transaction takes them as they are
    summary: dict[str, int] = defaultdict(int)
    for o in outcomes:
        summary[o.outcome] += 1
    if req.status == "in_progress":
        lifecycle.move(req, "awaiting_decision")
    lifecycle.record(session, req, "planned", actor, details={"outcomes": dict(summary)})
    return outcomes


def _take_outcomes(session: Session, req: DsarRequest) -> dict[str, DsarOutcome]:
    """Delete the earlier plan's outcomes and return them by activity, read by the same statement
    (DELETE … RETURNING) and detached: decisions and searches by hand carry over."""
    stmt = delete(DsarOutcome).where(DsarOutcome.request_id == req.id).returning(DsarOutcome)
    earlier = sorted(session.scalars(stmt), key=lambda o: o.id or 0)
    for old in earlier:
        session.expunge(old)
    return {o.activity: o for o in earlier}


def _consented(session: Session, identity: dict[str, list[str]]) -> set[str]:
    """The purposes the person has a consent given to, under any of her verified subjects: a withdrawal of
    consent has something to act on there even where the data map finds no rows."""
    return {
        state.purpose
        for key in lifecycle.answering_subjects(identity)
        for state in consent.subject_states(session, subject=key)
        if state.status == "given"
    }


def _ref(table_rows: datamap.SubjectRows) -> retention.TableRef:
    return retention.TableRef(table_rows.system, table_rows.table, table_rows.activity)


def _table_line(
    req: DsarRequest,
    table_rows: datamap.SubjectRows,
    identity: dict[str, list[str]],
    tables_by_id: dict[Any, Any],
    holds: list[Hold],
) -> tuple[dict[str, Any], dict[str, Hold]]:
    """One table's line of the preview (rows, held rows per hold, erasure strategy) and the rows held."""
    keys = [r[table_rows.key] for r in table_rows.rows]
    protected = retention.protected_among(
        holds,
        keys=keys,
        identity=identity,
        ignore_reference=req.reference,  # its own evidence hold
    )
    by_hold: dict[str, int] = defaultdict(int)
    for hold in protected.values():
        by_hold[str(hold.id)] += 1
    line = {
        "system": table_rows.system,
        "table": table_rows.table,
        "rows": len(keys),
        "matched_by": matched_by(table_rows, own=lifecycle.identity_of(req)),
        "held": dict(by_hold),
        "strategy": tables_by_id[table_rows.data_table_id].erasure,
    }
    return line, protected


def matched_by(table_rows: datamap.SubjectRows, *, own: dict[str, str]) -> dict[str, int]:
    """Which identifier found how many of a table's rows: a kind the request proved itself (`email`), or one
    the person's verified links brought (`linked:email`, `linked:portal:<client>`). Only proved ones
    search."""
    out: dict[str, int] = {}
    for kind, rows in table_rows.matched.items():
        later = table_rows.matched_later.get(kind, 0)
        by_own = rows - later if kind in own else 0  # a kind's first value is the request's own, if any
        if by_own:
            out[kind] = by_own
        if rows - by_own:
            out[f"{LINKED}{kind}"] = rows - by_own
    return out


def _outcome(
    req: DsarRequest,
    activity: ropa.Activity,
    tables: list[tuple[dict[str, Any], dict[str, Hold]]],
    *,
    mapped: bool,
    consented: bool = False,
) -> DsarOutcome:
    """The planned outcome of one activity, from the legal decision and the rows the data map found (and,
    for a withdrawal of consent, whether she has a consent given to it)."""
    decision = rules.decide(req.type, activity)
    holds_seen = {
        hold.id: {"id": hold.id, "kind": hold.kind, "basis": hold.basis, "public_text": hold.public_text}
        for __, protected in tables
        for hold in protected.values()
    }
    rows = sum(line["rows"] for line, __ in tables)
    held = sum(len(protected) for __, protected in tables)
    return DsarOutcome(
        request_id=req.id or 0,
        activity=activity.slug,
        outcome=rules.outcome(
            decision, mapped=mapped, rows=rows, held=held, right=req.type, consented=consented
        ),
        applies=decision.applies,
        legal_ground=decision.article,
        reason=decision.reason,
        records=rows if mapped else None,
        held=held,
        details={
            "tables": [line for line, __ in tables],
            "holds": list(holds_seen.values()),
            "manual": not mapped,
        },
    )


def protect_request_evidence(session: Session, req: DsarRequest, actor: Actor) -> Hold | None:
    """An open erasure request keeps the subject's data from retention until it is decided."""
    if req.type != "erasure" or not lifecycle.verified_email(req):
        return None
    existing = own_hold(session, req)
    if existing is not None:
        return existing
    return retention.set_hold(
        session,
        data={
            "kind": "request_pending",
            "scope": "subject",
            "subject_kind": "email",
            "subject_value": lifecycle.verified_email(req),
            "basis": f"Erasure request {req.reference}: kept as evidence until the request is decided",
            "reference": req.reference,
            "source": "request",
        },
        actor=actor,
    )


def own_hold(session: Session, req: DsarRequest) -> Hold | None:
    """The request's own evidence hold, while it is active."""
    return retention.request_hold(session, reference=req.reference)


def release_request_evidence(session: Session, req: DsarRequest, actor: Actor) -> None:
    """Release the request's evidence hold once the request is decided."""
    hold = own_hold(session, req)
    if hold is not None:
        retention.release_hold(session, hold_id=hold.id or 0, actor=actor, note=f"{req.reference} decided")
