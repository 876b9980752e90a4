"""Retention's front door: holds, rules, runs and what falls due. The API, the pages, the scheduler's jobs,
the command line and the packages that respect holds (dsar, consent) call this module only.

The helpers below the door (holds, rules, runner, outlook, slots, due, locks, pdf) never import it, so no
circle forms. Writes are flushed with their audit event; the caller commits. A run manages its own
transactions: it commits per rule and per batch, so that a crash leaves every row untouched or fully handled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session

from privacy_service.audit import Actor, verify_chain
from privacy_service.retention.deposits import (
    get_deposit,
    list_deposits,
    record_receipt,
    reject_deposit,
    remake_deposit,
)
from privacy_service.retention.holds import (
    RELEASED_TASK,
    TableRef,
    apply_policy_holds,
    held_keys,
    holds_by_id,
    holds_for_tables,
    is_active,
    list_holds,
    protected_among,
    protected_rows,
    protector,
    public_text,
    release_hold,
    request_hold,
    set_hold,
)
from privacy_service.retention.models import Hold, RetentionDeposit, RetentionRun, RetentionRunRule
from privacy_service.retention.outlook import outlook, rows_due_after_release
from privacy_service.retention.pdf import render_run_pdf
from privacy_service.retention.rules import Rule, list_rules, rule_problems, rules_of
from privacy_service.retention.runner import BATCH, get_run, list_runs, run_retention, runs_query
from privacy_service.retention.slots import OSLO, latest_fire_time, next_fire_time, run_rule_slot
from privacy_service.ropa import service as ropa
from privacy_service.wording import localised

__all__ = [  # what the API, the pages, the jobs, the CLI and other packages use besides the functions below
    "BATCH",
    "RELEASED_TASK",
    "OSLO",
    "Hold",
    "Rule",
    "TableRef",
    "apply_policy_holds",
    "get_deposit",
    "list_deposits",
    "record_receipt",
    "reject_deposit",
    "remake_deposit",
    "get_run",
    "held_keys",
    "holds_by_id",
    "holds_for_tables",
    "is_active",
    "list_holds",
    "list_rules",
    "list_runs",
    "runs_query",
    "outlook",
    "protected_among",
    "protected_rows",
    "protector",
    "public_text",
    "release_hold",
    "request_hold",
    "rows_due_after_release",
    "rule_problems",
    "run_retention",
    "run_rule_slot",
    "set_hold",
]


def next_runs(rules: list[Rule], *, now: datetime | None = None) -> dict[str, datetime | None]:
    """When each rule's schedule fires next (Oslo time), by rule key."""
    now = now or datetime.now(OSLO)
    return {rule.key: next_fire_time(rule.schedule, now) for rule in rules}


def last_results(session: Session) -> dict[str, RetentionRunRule]:
    """What each rule did in the latest run that ran it, by rule key (a proposed rule's dry run aside)."""
    last: dict[str, RetentionRunRule] = {}
    query = (
        select(RetentionRunRule)
        .join(RetentionRun, RetentionRun.id == RetentionRunRule.run_id)
        .where(RetentionRun.trigger != RULE_CHANGE_TRIGGER)
        .order_by(RetentionRunRule.id)
    )
    for result in session.scalars(query):
        last[result.rule] = result
    return last


# --- changes to the rules: a dry run first, then a confirmation (ropa keeps them, rulechanges.py) -----------

RULE_CHANGE_TRIGGER = "rule_change"


def dry_run_rule_change(
    engine: Engine, *, change_id: int, actor: Actor, instance_path: Path
) -> ropa.RuleChange:
    """Dry-run a pending rule change on the activity as it is now and keep what it found with the change:
    per rule, the rows it would delete, anonymise or deposit and the rows holds keep back."""
    with Session(engine) as session:
        change = ropa.pending_change(session, change_id=change_id)
        row = ropa.get_activity(session, slug=change.activity)
        version, rules = row.version, rules_of(session, ropa.proposed_view(row, change))
    run = run_retention(
        engine,
        instance_path=instance_path,
        actor=actor,
        dry_run=True,
        rules=rules,
        trigger=RULE_CHANGE_TRIGGER,
    )
    with Session(engine, expire_on_commit=False) as session, session.begin():
        __, results = get_run(session, run.id or 0)
        figures = [
            {
                "rule": r.rule,
                "action": r.action,
                "period": r.period,
                "candidates": r.candidates,
                "acted": r.acted,
                "held": r.held,
                "error": r.error,
            }
            for r in results
        ]
        change = ropa.pending_change(session, change_id=change_id)
        return ropa.record_dry_run(
            session, change=change, run_id=run.id or 0, version=version, results=figures, actor=actor
        )


def apply_rule_change(session: Session, *, change_id: int, actor: Actor) -> ropa.RuleChange:
    """Put a dry-run rule change into force (the registry refuses one without a dry run on its version)."""
    ropa.apply_rule_change(session, change_id=change_id, actor=actor)
    return ropa.get_rule_change(session, change_id=change_id)


def discard_rule_change(session: Session, *, change_id: int, actor: Actor) -> ropa.RuleChange:
    """Drop a pending rule change; the rules in force stay."""
    return ropa.discard_rule_change(session, change_id=change_id, actor=actor)


def list_rule_changes(
    session: Session, *, status: str | None = None, activity: str | None = None
) -> list[ropa.RuleChange]:
    """Rule changes, newest first."""
    return ropa.list_rule_changes(session, status=status, activity=activity)


def get_rule_change(session: Session, *, change_id: int) -> ropa.RuleChange:
    """One rule change; raise NotFound."""
    return ropa.get_rule_change(session, change_id=change_id)


@dataclass
class RunReport:
    """A run, what it did per rule, and the holds that kept rows back (by id)."""

    run: RetentionRun
    results: list[RetentionRunRule]
    holds: dict[int, Hold]
    pending: list[RetentionDeposit]  # deposits still waiting for the archive's receipt


def run_report(session: Session, *, run_id: int) -> RunReport:
    """Return a run with its per-rule results and the holds they name."""
    run, results = get_run(session, run_id)
    holds = holds_by_id(session, {int(h) for r in results for h in (r.held_by or {})})
    return RunReport(run, results, holds, list_deposits(session, status="pending_receipt"))


def activity_names(session: Session, slugs: list[str], lang: str) -> dict[str, str]:
    """The registry's names of the activities in the reader's language, by slug, in one query."""
    if not slugs:
        return {}
    return {a.slug: localised(a.name, lang) for a in ropa.activities_for(session, slugs=sorted(set(slugs)))}


def run_report_pdf(session: Session, *, run_id: int, lang: str) -> bytes:
    """Return the run report as a PDF to file as documentation of deletion, with the audit chain's state."""
    report = run_report(session, run_id=run_id)
    names = activity_names(session, [r.rule.split(":")[0] for r in report.results], lang)
    return render_run_pdf(
        report.run,
        report.results,
        report.holds,
        verify_chain(session),
        lang=lang,
        pending=report.pending,
        names=names,
    )


def run_scheduled_rule(
    engine: Engine, *, rule_key: str, schedule: str, instance_path: Path, now: datetime | None = None
) -> int | None:
    """Run a rule for the latest slot of its schedule unless that slot has run (the scheduler's rule job);
    return the run id, or None when there was nothing to do."""
    slot = latest_fire_time(schedule, now or datetime.now(OSLO))
    if slot is None:
        return None
    return run_rule_slot(engine, rule_key=rule_key, slot=slot.astimezone(UTC), instance_path=instance_path)
