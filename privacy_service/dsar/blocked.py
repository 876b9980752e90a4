"""Erasures a hold blocked, and their retry once the hold is released (Art. 17(1) once Art. 17(3) no
longer applies).

An erasure outcome that kept rows under a hold names the hold per table (`details["erased"][i]["held"]`,
hold id → rows); one whose every row was held was never run ("refused" by the hold) and names the holds
the plan found (`details["holds"]`). Releasing a hold queues the retention task RELEASED_TASK; its handler
here erases, through the same data-map path and the same hold check as the first erasure, the rows of every
erasure that hold blocked and that are now free, updates the held counts and the holds named, and records
the retry on the request's timeline (with its audit event). `details["retries"]` keeps each retry: when,
for which hold, erased, still held.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from privacy_service.audit import Actor
from privacy_service.datamap.actions import erase_subject_rows
from privacy_service.dsar import lifecycle, persons, recipients
from privacy_service.dsar.models import DsarOutcome, DsarRequest
from privacy_service.kernel import utcnow
from privacy_service.retention import service as retention

RETRIER = Actor("system", "erasure-retry")
STATES = ("waiting", "queued", "retried")  # hold still active | hold gone, retry not (yet) done | done


def hold_ids(outcome: DsarOutcome) -> set[int]:
    """The holds that kept rows of this erasure, as it last ran (or, when every row was held and nothing ran,
    as the plan found them)."""
    if "erased" in outcome.details:
        return {int(i) for t in outcome.details["erased"] for i, n in (t.get("held") or {}).items() if n}
    return {int(h["id"]) for h in outcome.details.get("holds", []) if h.get("id") is not None}


def _erasures(session: Session, *, lock: bool = False) -> list[tuple[DsarRequest, DsarOutcome]]:
    """Erasure outcomes that a hold blocked, now or before a retry (`lock`: for the retry, which changes
    them; two workers never retry the same outcome at once on PostgreSQL)."""
    stmt = (
        select(DsarRequest, DsarOutcome)
        .join(DsarOutcome, DsarOutcome.request_id == DsarRequest.id)
        .where(DsarRequest.type == "erasure", DsarRequest.decided_at.is_not(None))
        .order_by(DsarRequest.id, DsarOutcome.id)
    )
    if lock:  # only what still holds rows can be retried; lock just those outcomes
        stmt = stmt.where(DsarOutcome.held > 0).with_for_update(of=DsarOutcome)
    rows = session.execute(stmt).all()
    # the right applied and the officer upheld it: only a hold stood in the way (all rows held: "refused")
    return [
        (req, o)
        for req, o in rows
        if o.applies and o.decision != "refuse" and (o.held or o.details.get("retries"))
    ]


def retry_after_release(session: Session, *, hold_id: int, instance_path: Path, secret: str) -> list[str]:
    """Erase what the released hold kept in every erasure it blocked; return the references retried."""
    done = []
    for req, outcome in _erasures(session, lock=True):
        if outcome.held and hold_id in hold_ids(outcome):
            retry(session, req, outcome, hold_id=hold_id, instance_path=instance_path, secret=secret)
            done.append(req.reference)
    return done


def retry_unblocked(session: Session, *, instance_path: Path, secret: str) -> list[str]:
    """Retry the blocked erasures none of whose holds is active any more, whatever ended them: a hold that
    ran out at its end time queues no task, and a hold released before the request was approved found nothing
    to retry then (the daily job)."""
    pairs = _erasures(session, lock=True)
    holds = retention.holds_by_id(session, {i for __, o in pairs for i in hold_ids(o)})
    done = []
    for req, outcome in pairs:
        named = [holds[i] for i in sorted(hold_ids(outcome)) if i in holds]
        if outcome.held and named and not any(retention.is_active(h) for h in named):
            retry(session, req, outcome, hold_id=named[0].id or 0, instance_path=instance_path, secret=secret)
            done.append(req.reference)
    return done


def retry(
    session: Session,
    req: DsarRequest,
    outcome: DsarOutcome,
    *,
    hold_id: int,
    instance_path: Path,
    secret: str,
) -> None:
    """Erase the outcome's rows that no active hold keeps now, and record it (timeline and audit); the rows
    are found as the first erasure found them, by every verified identifier of the person. Once none of the
    request's rows is held, the identifiers kept to find them are forgotten."""
    identity = lifecycle.person_identity(session, req, secret=secret)
    before = (outcome.records or 0) if "erased" in outcome.details else 0  # a plan's count is rows found
    results = erase_subject_rows(
        session,
        identity=identity,
        instance_path=instance_path,
        activity=outcome.activity,
        protect=retention.protector(session, identity=identity, ignore_reference=req.reference),
    )
    erased = sum(r.erased for r in results)
    held = sum(n for r in results for n in r.held.values())
    still = {i for r in results for i in r.held}
    holds = [h for h in outcome.details.get("holds", []) if h.get("id") in still]
    at = utcnow()
    retries = [*outcome.details.get("retries", []),
               {"at": at.isoformat(), "hold": hold_id, "erased": erased, "held": held}]  # fmt: skip
    outcome.details = {
        **outcome.details,
        "erased": [
            {"table": f"{r.system}.{r.table}", "strategy": r.strategy, "erased": r.erased, "held": r.held}
            for r in results
        ],  # fmt: skip
        "holds": holds,
        "retries": retries,
    }
    outcome.records, outcome.held = before + erased, held
    outcome.outcome, outcome.updated_at = "partial" if held else "done", at
    if erased:
        recipients.tell(session, req, outcome)  # Art. 19: the recipients hear of the further erasure
    details = {"activity": outcome.activity, "hold": hold_id, "erased": erased, "held": held}
    lifecycle.record(session, req, "erasure_retried", RETRIER, details=details)
    if not any(o.held for o in lifecycle.outcomes_of(session, req)):
        # nothing of hers is held any more: the identifiers kept to find the held rows go too (persons.py)
        found = persons.persons_of(session, req, secret=secret)
        persons.forget_persons(session, req, found, actor=RETRIER, secret=secret)


def blocked_erasures(session: Session) -> list[dict[str, Any]]:
    """The erasures a hold blocked, with the holds (kind and public text, never a subject identifier) and
    the state of their retry, oldest request first."""
    pairs = _erasures(session)
    ids = {i for __, o in pairs for i in hold_ids(o)}
    ids |= {r["hold"] for __, o in pairs for r in o.details.get("retries", [])}
    holds = retention.holds_by_id(session, ids)
    out = []
    for req, outcome in pairs:
        named = [holds[i] for i in sorted(hold_ids(outcome)) if i in holds]
        if not outcome.held:
            state = "retried"
        elif any(retention.is_active(h) for h in named):
            state = "waiting"
        else:
            state = "queued"
        retries = outcome.details.get("retries", [])
        out.append(
            {
                "reference": req.reference,
                "activity": outcome.activity,
                "held": outcome.held,
                "erased": (outcome.records or 0) if "erased" in outcome.details else 0,
                "state": state,
                "retried_at": retries[-1]["at"] if retries else None,
                "holds": [
                    {
                        "id": h.id,
                        "kind": h.kind,
                        "active": retention.is_active(h),
                        "released_at": h.released_at,
                        "public_text": {
                            lang: retention.public_text(h.kind, h.public_text, lang) for lang in ("nb", "en")
                        },  # fmt: skip
                    }
                    for h in named
                ],
            }
        )
    return out
