"""The retention runner: every rule, set-based, holds subtracted in SQL, bounded transactions, recorded runs.

A run records per rule: candidates (due rows), acted on, held (and by which hold), failures and time.
A dry run counts the same way and touches nothing. Each batch commits on its own in the data system, so a run
killed at any instant leaves every row untouched or fully handled, and the next run finishes the job.

Holds always win over delete and anonymise. Archive-law holds are the exception for `deposit` rules only:
depositing with the National Archives is how the Archives Act's preservation duty ends, so an archive-law
hold does not stop it (a legal, request or other hold still does).

On PostgreSQL each rule runs under an advisory lock, so two schedulers never run one rule at the same time;
SQLite deployments run one scheduler.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, and_, not_, select, text, update
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.datamap.expiry import DueTable, Protection, open_due_table, unheld
from privacy_service.datamap.service import DataSystemError
from privacy_service.errors import NotFound
from privacy_service.models import utcnow
from privacy_service.retention.holds import TableRef, holds_for_table
from privacy_service.retention.models import Hold, RetentionRun, RetentionRunRule
from privacy_service.retention.rules import Rule, cutoff, list_rules

BATCH = 10_000
LOCK_NAMESPACE = 7262002


def _protection(holds: list[Hold], identity_kinds: set[str]) -> tuple[Protection, dict[int, Protection]]:
    """The combined protection of the holds, and each hold's own (for the report)."""
    total, each = Protection(), {}
    for hold in holds:
        own = Protection()
        if hold.scope in ("activity", "table"):
            own.everything = True
        elif hold.scope == "records":
            own.keys = list(hold.record_keys)
        elif hold.subject_kind in identity_kinds and hold.subject_value:
            own.subjects = [(hold.subject_kind, hold.subject_value)]
        else:
            continue  # a subject hold on an identity this table cannot match protects none of its rows
        each[hold.id or 0] = own
        total.everything |= own.everything
        total.keys += own.keys
        total.subjects += own.subjects
    return total, each


@contextmanager
def _rule_lock(engine: Engine, rule: Rule) -> Iterator[bool]:
    """Hold a PostgreSQL advisory lock for the rule while it runs; yield False if another process has it."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    args = {"key": _lock_key(LOCK_NAMESPACE, zlib.crc32(rule.key.encode()))}
    with engine.connect() as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), args)
        if not got.scalar_one():
            yield False
            return
        try:
            yield True
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), args)
            conn.commit()


def _lock_key(namespace: int, value: int) -> int:
    """One bigint advisory-lock key: the namespace in the high 32 bits, the value in the low 32."""
    return (namespace << 32) | (value & 0xFFFFFFFF)


def _run_rule(
    engine: Engine, run: RetentionRun, rule: Rule, *, instance_path: Path, batch: int
) -> RetentionRunRule:
    as_of = run.as_of
    result = RetentionRunRule(
        run_id=run.id or 0,
        rule=rule.key,
        activity=rule.activity,
        action=rule.action,
        period=rule.period,
        cutoff=cutoff(as_of, rule.period),
    )
    started = time.perf_counter()
    try:
        if rule.problems:
            raise DataSystemError(" ".join(rule.problems))
        with Session(engine) as session:
            # holds count at the moment of acting, whatever date the periods count from
            holds = holds_for_table(session, TableRef(rule.system, rule.table, rule.activity))
            if rule.action == "deposit":
                holds = [h for h in holds if h.kind != "archive_law"]
            with open_due_table(
                session,
                system=rule.system,
                table=rule.table,
                anchor=rule.anchor or "",
                cutoff=result.cutoff,
                action=rule.action,
                mask_columns=rule.mask_columns,
                instance_path=instance_path,
            ) as due:
                _count_and_act(due, holds, result, run, instance_path=instance_path, batch=batch)
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
) -> None:
    protection, each = _protection(holds, set(due.mapping.identity))
    # One scan counts the due rows, the held ones, and each hold's share (for the report).
    parts = [due.held(protection), *(due.held(p) for p in each.values())] if holds else []
    result.candidates, held = due.counts(due.due(), parts)
    result.held = held[0] if held else 0
    result.held_by = {str(hold_id): n for hold_id, n in zip(each, held[1:], strict=True) if n}
    if run.dry_run:
        result.acted = result.candidates - result.held
        return
    if protection.everything:
        return  # an activity or table hold: nothing here may be touched
    deposit_dir = (
        instance_path / "deposits" / f"run-{run.id}" / due.system.name if due.action == "deposit" else None
    )
    result.acted = due.act_all(unheld(due, protection), batch, deposit_dir)
    if deposit_dir is not None and result.acted:
        result.deposit_path = str(deposit_dir)
        _write_manifest(deposit_dir, due, run, result)


def _write_manifest(folder: Path, due: DueTable, run: RetentionRun, result: RetentionRunRule) -> None:
    """Describe one table's deposit files for the archive: columns, and per file its rows and SHA-256."""
    table = due.mapping.table_name
    files = []
    for path in sorted(folder.glob(f"{table}-*.jsonl")):
        digest, rows = hashlib.sha256(), 0
        with open(path, "rb") as fh:
            for line in fh:
                digest.update(line)
                rows += 1
        files.append({"name": path.name, "rows": rows, "sha256": digest.hexdigest()})
    manifest = {
        "format": "privacy-service deposit 1 (JSON Lines, one object per row; see docs/retention.md)",
        "run": run.id,
        "rule": result.rule,
        "activity": result.activity,
        "system": due.system.name,
        "table": table,
        "key_column": due.mapping.key_column,
        "anchor_column": due.anchor,
        "cutoff": result.cutoff.isoformat(),
        "columns": [{"name": c.name, "type": str(c.type)} for c in due.table.columns],
        "rows": sum(f["rows"] for f in files),
        "files": files,
    }
    path = folder / f"{table}-manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


RUN_NAMESPACE = 7262003


def _mark_interrupted(engine: Engine, session: Session) -> int:
    """Mark runs left 'running' by a killed process as interrupted.

    On PostgreSQL a live run holds an advisory lock on its id, so only runs whose lock is free are marked;
    SQLite deployments have one runner, so every 'running' run is stale when a new one starts.
    """
    running = list(session.scalars(select(RetentionRun.id).where(RetentionRun.status == "running")))
    stale = running
    if engine.dialect.name == "postgresql" and running:
        stale = []
        with engine.connect() as conn:
            for run_id in running:
                args = {"key": _lock_key(RUN_NAMESPACE, run_id)}
                if conn.execute(text("SELECT pg_try_advisory_lock(:key)"), args).scalar_one():
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), args)
                    stale.append(run_id)
            conn.commit()
    if stale:
        # still running: a run that finished between the look and the lock keeps its own status
        session.execute(
            update(RetentionRun)
            .where(RetentionRun.id.in_(stale), RetentionRun.status == "running")
            .values(status="interrupted", finished_at=utcnow())
        )
    return len(stale)


class _RunLock:
    """The run's own advisory lock (PostgreSQL), taken before its record commits and held until it ends,
    so another process never takes a live run for a dead one."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.conn, self.args = engine, None, {}

    def __enter__(self) -> _RunLock:
        if self.engine.dialect.name == "postgresql":
            self.conn = self.engine.connect()
        return self

    def acquire(self, run_id: int) -> None:
        if self.conn is not None:
            self.args = {"key": _lock_key(RUN_NAMESPACE, run_id)}
            self.conn.execute(text("SELECT pg_advisory_lock(:key)"), self.args)
            self.conn.commit()

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            try:
                if self.args:
                    self.conn.execute(text("SELECT pg_advisory_unlock(:key)"), self.args)
                    self.conn.commit()
            finally:
                self.conn.close()


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
) -> RetentionRun:
    """Run the retention rules (all, or those whose key is in `only`) and return the recorded run."""
    with _RunLock(engine) as lock:
        return _run(engine, lock, instance_path=instance_path, actor=actor, dry_run=dry_run, only=only,
                    trigger=trigger, now=now, scheduled_for=scheduled_for, batch=batch)  # fmt: skip


def _run(
    engine: Engine,
    lock: _RunLock,
    *,
    instance_path: Path,
    actor: Actor,
    dry_run: bool,
    only: list[str] | None,
    trigger: str,
    now: datetime | None,
    scheduled_for: datetime | None,
    batch: int,
) -> RetentionRun:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if not dry_run:
            _mark_interrupted(engine, session)
        rules = [r for r in list_rules(session) if only is None or r.key in only]
        if only is not None and len(rules) != len(set(only)):
            unknown = sorted(set(only) - {r.key for r in rules})
            raise NotFound(f"No retention rule {', '.join(unknown)}.")
        run = RetentionRun(
            dry_run=dry_run,
            trigger=trigger,
            started_by=str(actor),
            as_of=now or utcnow(),
            scheduled_for=scheduled_for,
            rule_filter=list(only or []),
        )
        session.add(run)
        session.flush()
        lock.acquire(run.id or 0)  # before the record commits: a 'running' run without its lock is dead
        record_event(
            session,
            actor=actor,
            action="retention.run.start",
            object_type="retention_run",
            object_id=str(run.id),
            details={"dry_run": dry_run, "rules": len(rules), "trigger": trigger},
        )
    failures = _run_rules(engine, run, rules, actor=actor, instance_path=instance_path, batch=batch)
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
        run = stored
    return run


def _run_rules(
    engine: Engine, run: RetentionRun, rules: list[Rule], *, actor: Actor, instance_path: Path, batch: int
) -> int:
    failures = 0
    dry_run = run.dry_run
    for rule in rules:
        with _rule_lock(engine, rule) as locked:
            if not locked:
                result = RetentionRunRule(
                    run_id=run.id or 0,
                    rule=rule.key,
                    activity=rule.activity,
                    action=rule.action,
                    period=rule.period,
                    cutoff=cutoff(run.as_of, rule.period),
                    error="Skipped: another process is running this rule.",
                )
            else:
                result = _run_rule(engine, run, rule, instance_path=instance_path, batch=batch)
        failures += result.error is not None
        with Session(engine, expire_on_commit=False) as session, session.begin():
            session.add(result)
            session.flush()
            record_event(
                session,
                actor=actor,
                action="retention.rule.dry_run" if dry_run else "retention.rule",
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


def get_run(session: Session, run_id: int) -> tuple[RetentionRun, list[RetentionRunRule]]:
    """A run with its per-rule results."""
    run = session.get(RetentionRun, run_id)
    if run is None:
        raise NotFound("No retention run has this id.")
    results = list(
        session.scalars(
            select(RetentionRunRule).where(RetentionRunRule.run_id == run_id).order_by(RetentionRunRule.id)
        )
    )
    return run, results


def list_runs(session: Session, *, limit: int = 50) -> list[RetentionRun]:
    """The newest runs first."""
    return list(session.scalars(select(RetentionRun).order_by(RetentionRun.id.desc()).limit(limit)))


def rows_due_after_release(engine: Engine, hold: Hold, *, instance_path: Path) -> dict[str, int]:
    """Per rule, the due rows the released hold protected that no other active hold protects."""
    out: dict[str, int] = {}
    with Session(engine) as session:
        for rule in list_rules(session):
            if rule.problems or not _covers(hold, rule):
                continue
            others = holds_for_table(session, TableRef(rule.system, rule.table, rule.activity))
            if rule.action == "deposit":
                others = [h for h in others if h.kind != "archive_law"]
            try:
                with open_due_table(
                    session,
                    system=rule.system,
                    table=rule.table,
                    anchor=rule.anchor or "",
                    cutoff=cutoff(utcnow(), rule.period),
                    action=rule.action,
                    mask_columns=rule.mask_columns,
                    instance_path=instance_path,
                ) as due:
                    kinds = set(due.mapping.identity)
                    mine, __ = _protection([hold], kinds)
                    rest, __ = _protection(others, kinds)
                    out[rule.key] = due.count(and_(due.due(), due.held(mine), not_(due.held(rest))))
            except DataSystemError:
                continue  # the dashboard shows the rule's problem; the release itself has happened
    return out


def _covers(hold: Hold, rule: Rule) -> bool:
    if hold.scope == "activity":
        return hold.activity == rule.activity
    if hold.scope in ("table", "records"):
        return (hold.system, hold.table_name) == (rule.system, rule.table)
    return hold.activity in (None, rule.activity)


def outlook(engine: Engine, *, instance_path: Path, days: int = 30) -> dict[str, dict[str, int | str]]:
    """Per rule: rows due now, rows falling due in the next `days`, and rows held now (for the dashboard)."""
    now = utcnow()
    out: dict[str, dict[str, int | str]] = {}
    with Session(engine) as session:
        for rule in list_rules(session):
            if rule.problems:
                out[rule.key] = {"error": " ".join(rule.problems)}
                continue
            holds = holds_for_table(session, TableRef(rule.system, rule.table, rule.activity))
            if rule.action == "deposit":
                holds = [h for h in holds if h.kind != "archive_law"]
            try:
                with open_due_table(
                    session,
                    system=rule.system,
                    table=rule.table,
                    anchor=rule.anchor or "",
                    cutoff=cutoff(now + timedelta(days=days), rule.period),
                    action=rule.action,
                    mask_columns=rule.mask_columns,
                    instance_path=instance_path,
                ) as soon:
                    protection, __ = _protection(holds, set(soon.mapping.identity))
                    by_then = soon.count(unheld(soon, protection))
                    soon.cutoff = cutoff(now, rule.period)
                    due_now = soon.count(unheld(soon, protection))
                    held = soon.count(and_(soon.due(), soon.held(protection))) if holds else 0
                out[rule.key] = {"due_now": due_now, "due_soon": by_then - due_now, "held": held}
            except DataSystemError as exc:
                out[rule.key] = {"error": exc.message}
    return out
