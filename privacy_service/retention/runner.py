"""The retention runner: every rule, set-based, holds subtracted in SQL, bounded transactions, recorded runs.

A run records per rule: candidates (due rows), acted on, held (and by which hold), failures and time.
A dry run counts the same way and touches nothing. Each batch commits on its own in the data system, so a run
killed at any instant leaves every row untouched or fully handled, and the next run finishes the job.
Which holds stop a rule is due.py's to say (an archive-law hold does not stop a deposit). A deposit rule only
writes an extract (deposits.py): its rows stay, untouchable by every rule, until the archive's receipt.

On PostgreSQL each rule runs under an advisory lock, so two schedulers never run one rule at the same time;
SQLite deployments run one scheduler.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, and_, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.datamap.expiry import DueTable, unheld
from privacy_service.datamap.service import DataSystemError
from privacy_service.errors import N_, NotFound, worded
from privacy_service.kernel import utcnow
from privacy_service.retention import BATCH, deposits, locks
from privacy_service.retention.due import open_group, protection, rule_holds
from privacy_service.retention.models import Hold, RetentionRun, RetentionRunRule
from privacy_service.retention.rules import Rule, cutoff, group_rules, list_rules


def run_retention(
    engine: Engine,
    *,
    instance_path: Path,
    actor: Actor,
    dry_run: bool = False,
    only: list[str] | None = None,
    trigger: str = "cli",
    now: datetime | None = None,
    scheduled_for: datetime | None = None,
    batch: int = BATCH,
    rules: list[Rule] | None = None,
) -> RetentionRun:
    """Run the retention rules (all, or those whose key is in `only`) and return the recorded run.

    `rules` replaces the registry's rules with given ones, for the dry run of a proposed rule change only.
    """
    if rules is not None and not dry_run:
        raise ValueError("Rules that are not the registry's can only be dry-run.")
    with locks.RunLock(engine) as lock:
        run = RetentionRun(
            dry_run=dry_run,
            trigger=trigger,
            started_by=str(actor),
            as_of=now or utcnow(),
            scheduled_for=scheduled_for,
            rule_filter=list(only or []),
        )
        rules = _start(engine, lock, run, actor=actor, only=only, given=rules)
        if not dry_run:  # a receipt whose deletion was cut short
            deposits.finish_received(engine, actor=actor, instance_path=instance_path)
        failures = _run_rules(
            engine, run, rules, actor=actor, instance_path=instance_path, batch=batch, lock=lock
        )
        return _finish(engine, run, actor=actor, failures=failures)


def _start(
    engine: Engine,
    lock: locks.RunLock,
    run: RetentionRun,
    *,
    actor: Actor,
    only: list[str] | None,
    given: list[Rule] | None = None,
) -> list[Rule]:
    """Record the run as running (under its lock) and return the rules it runs."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if not run.dry_run:
            _mark_interrupted(engine, session)
        named = {key.split(":", 1)[0] for key in only} if only is not None else None  # rule keys: activity:…
        known = list_rules(session, activities=named) if given is None else given
        rules = [r for r in known if only is None or r.key in only]
        if only is not None and len({r.key for r in rules}) != len(set(only)):
            unknown = sorted(set(only) - {r.key for r in rules})
            raise NotFound(worded("No retention rule %(unknown)s.", unknown=", ".join(unknown)))
        session.add(run)
        session.flush()
        lock.acquire(run.id or 0)  # before the record commits: a 'running' run without its lock is dead
        record_event(
            session,
            actor=actor,
            action="retention.run.start",
            object_type="retention_run",
            object_id=str(run.id),
            details={"dry_run": run.dry_run, "rules": len(rules), "trigger": run.trigger},
        )
    return rules


def _finish(engine: Engine, run: RetentionRun, *, actor: Actor, failures: int) -> RetentionRun:
    """Record how the run ended: failed if a rule failed, else completed."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        stored = session.get(RetentionRun, run.id)
        assert stored is not None
        stored.status = "failed" if failures else "completed"
        stored.finished_at = utcnow()
        record_event(
            session,
            actor=actor,
            action="retention.run.finish",
            object_type="retention_run",
            object_id=str(run.id),
            details={"status": stored.status, "failed_rules": failures},
        )
    return stored


def _mark_interrupted(engine: Engine, session: Session) -> int:
    """Mark runs left 'running' by a killed process as interrupted.

    On PostgreSQL a live run holds an advisory lock on its id, so only runs whose lock is free are marked;
    SQLite deployments have one runner, so every 'running' run is stale when a new one starts.
    """
    running = list(session.scalars(select(RetentionRun.id).where(RetentionRun.status == "running")))
    stale = locks.unlocked_runs(engine, running)
    if stale:
        # still running: a run that finished between the look and the lock keeps its own status
        session.execute(
            update(RetentionRun)
            .where(RetentionRun.id.in_(stale), RetentionRun.status == "running")
            .values(status="interrupted", finished_at=utcnow())
        )
    return len(stale)


def _run_rules(
    engine: Engine,
    run: RetentionRun,
    rules: list[Rule],
    *,
    actor: Actor,
    instance_path: Path,
    batch: int,
    lock: locks.RunLock,
) -> int:
    """Run the rules of each table as one, under its lock, and record what they did; return how many failed.

    The rules on one table share a key (activity, table, action) and one result: a row is acted on only
    when every rule on its table is due for it.
    """
    failures = 0
    for group in group_rules(rules):
        rule = group[0]
        with locks.try_lock(engine, locks.RULE, rule.key, on=lock.conn) as locked:
            if not locked:
                result = _result(run, group, error=N_("Skipped: another process is running this rule."))
            else:
                result = _run_rule(engine, run, group, actor=actor, instance_path=instance_path, batch=batch)
        failures += result.error is not None
        with Session(engine, expire_on_commit=False) as session, session.begin():
            session.add(result)
            session.flush()
            record_event(
                session,
                actor=actor,
                action="retention.rule.dry_run" if run.dry_run else "retention.rule",
                object_type="retention_run",
                object_id=str(run.id),
                details={
                    "rule": rule.key,
                    "candidates": result.candidates,
                    "acted": result.acted,
                    "held": result.held,
                    "held_by": result.held_by,
                    "failed": result.failed,
                    "error": result.error,
                },
            )
    return failures


def _result(run: RetentionRun, group: list[Rule], *, error: str | None = None) -> RetentionRunRule:
    # the report shows the longest period's cutoff (the earliest), and every period of the table's rules
    longest = min(group, key=lambda r: cutoff(run.as_of, r.period))
    return RetentionRunRule(
        run_id=run.id or 0,
        rule=longest.key,
        activity=longest.activity,
        action=longest.action,
        period="+".join(r.period for r in group)[:20],
        cutoff=cutoff(run.as_of, longest.period),
        error=error,
    )


def _run_rule(
    engine: Engine, run: RetentionRun, group: list[Rule], *, actor: Actor, instance_path: Path, batch: int
) -> RetentionRunRule:
    result = _result(run, group)
    rule = group[0]
    started = time.perf_counter()
    try:
        problems = [p for r in group for p in r.problems]
        if problems or len({r.action for r in group}) > 1:
            raise DataSystemError(" ".join(problems) or "The rules on this table name different actions.")
        with Session(engine) as session:
            # holds count at the moment of acting, whatever date the periods count from
            holds = rule_holds(session, rule)
            waiting = deposits.waiting_keys(session, system=rule.system, table=rule.table)
            with open_group(session, group, when=run.as_of, instance_path=instance_path) as due:
                _count_and_act(
                    due, holds, result, run, instance_path=instance_path, batch=batch, waiting=waiting
                )
                if due.action == "deposit" and not run.dry_run:
                    _deposit(engine, due, holds, result, run, rule, actor=actor, instance_path=instance_path)
    except DataSystemError as exc:
        result.error, result.failed = (
            exc.message[:1000],
            max(result.candidates - result.acted - result.held, 0),
        )
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _count_and_act(
    due: DueTable,
    holds: list[Hold],
    result: RetentionRunRule,
    run: RetentionRun,
    *,
    instance_path: Path,
    batch: int,
    waiting: list[str] | None = None,
) -> None:
    held, each = protection(holds, set(due.mapping.identity))
    held.keys += waiting or []  # deposited, awaiting the archive's receipt: held by the deposit
    parts = [due.held(held), *(due.held(p) for p in each.values())] if holds or waiting else []

    def count(where: ColumnElement[bool]) -> int:
        """One scan: the rows matching `where`, the held ones, and each hold's share (for the report)."""
        total, counts = due.counts(where, parts)
        result.held = counts[0] if counts else 0
        result.held_by = {str(hold_id): n for hold_id, n in zip(each, counts[1:], strict=True) if n}
        return total

    if run.dry_run or held.everything or due.action == "deposit":
        result.candidates = count(due.due())
        result.acted = result.candidates - result.held if run.dry_run else 0
        return  # an activity or table hold touches nothing; a deposit is made by _deposit
    try:
        result.acted = due.act_all(unheld(due, held), batch)
    except DataSystemError:
        result.candidates = count(due.due())  # what is still due: the report's failed rows
        raise
    # After acting, what is still due is what the holds kept: count only that (found by the held keys),
    # instead of a scan of the whole table before acting; the batches' row counts give the rest.
    result.candidates = result.acted + (count(and_(due.due(), parts[0])) if parts else 0)


def _deposit(
    engine: Engine,
    due: DueTable,
    holds: list[Hold],
    result: RetentionRunRule,
    run: RetentionRun,
    rule: Rule,
    *,
    actor: Actor,
    instance_path: Path,
) -> None:
    """Write the extract of the due, unheld rows not already deposited; the rows stay until the receipt."""
    with Session(engine) as session:
        waiting = deposits.waiting_keys(session, system=rule.system, table=rule.table)
    held, __ = protection(holds, set(due.mapping.identity))
    if held.everything:
        return
    held.keys += waiting
    deposit = deposits.make_deposit(
        engine, due, unheld(due, held), activity=rule.activity, rule=rule.key, run_id=run.id,
        instance_path=instance_path, actor=actor,
    )  # fmt: skip
    if deposit is not None:
        result.acted, result.deposit_path = deposit.rows, deposit.path


def get_run(session: Session, run_id: int) -> tuple[RetentionRun, list[RetentionRunRule]]:
    """A run with its per-rule results."""
    run = session.get(RetentionRun, run_id)
    if run is None:
        raise NotFound(N_("No retention run has this id."))
    results = list(
        session.scalars(
            select(RetentionRunRule).where(RetentionRunRule.run_id == run_id).order_by(RetentionRunRule.id)
        )
    )
    return run, results


def runs_query() -> Select[Any]:
    """Every run, the newest first."""
    return select(RetentionRun).order_by(RetentionRun.id.desc())


def list_runs(session: Session, *, limit: int = 50) -> list[RetentionRun]:
    """The newest runs first."""
    return list(session.scalars(runs_query().limit(limit)))
