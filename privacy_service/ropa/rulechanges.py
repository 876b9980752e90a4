"""Changes to an activity's machine retention rules: who may make one, and the step before it takes effect.

DESIGN §7: changing a rule's period, action, anchor or schedule needs `retention:run`. The rules that count
are the live ones, those the runner would run from the record: none for a retired activity, and no
non-deposit rule where the disposal decision is Bevares (retention.rules says the same, as a problem).
Retiring, un-retiring or changing the disposal decision can therefore change the live rules too.

A write that changes the live rules is refused without `retention:run` (mode "refuse"). With it (mode
"propose") the rest of the write is stored at once, the record keeps the rules in force, and the new rules
wait in a RuleChange until a dry run (made by retention, reported here) has shown what they will do and a
caller with `retention:run` applies them. An operator's policy load (mode "apply") writes them at once.
Nothing new ever becomes live without the dry run: a proposal can only make the record's live rules fewer
(a retirement stops its rules at once; it deletes nothing). Below the front door (service.py), which applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.errors import N_, Code, Conflict, DomainError, NotFound, worded
from privacy_service.kernel import utcnow
from privacy_service.ropa.models import ProcessingActivity, RuleChange
from privacy_service.ropa.records import Activity, RetentionRule

RuleMode = Literal["refuse", "propose", "apply"]
RULE_SCOPE = "retention:run"


class RetentionRunNeeded(DomainError):
    """The write changes what the retention runner would delete, and the caller may not run retention."""

    code = "forbidden"
    status = 403


class DryRunNeeded(Conflict):
    """A rule change is applied only after a dry run of it on the activity as it is now."""

    code = "dry_run_needed"


class RuleChangeClosed(Conflict):
    """The rule change was applied, discarded or replaced by a newer one."""

    code = "rule_change_closed"


def _canonical(rule: RetentionRule) -> tuple[Any, ...]:
    # everything that decides which rows go and when; the note is only words
    return (rule.system, rule.table, rule.action, rule.period, rule.anchor or "", rule.anchor_fallback or "",
            rule.schedule, tuple(sorted(rule.mask_columns)), tuple(sorted(rule.keep_columns)), rule.coarsen,
            tuple(sorted(rule.reviewed_free_text)))  # fmt: skip


def _rules(data: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return list(((data or {}).get("retention") or {}).get("rules") or [])


def live_rules(data: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The rules the runner would run from this record (none when there is no record or it is retired)."""
    if data is None or data.get("status") == "retired":
        return []
    preserved = (data.get("disposal") or {}).get("decision") == "Bevares"
    return [r for r in _rules(data) if not preserved or r.get("action") == "deposit"]


def _signature(rules: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(_canonical(RetentionRule.of(r)) for r in rules)


def rules_differ(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> bool:
    """Whether two rule lists delete, anonymise or deposit differently (order and notes aside)."""
    return _signature(before) != _signature(after)


def with_rules(data: Mapping[str, Any], rules: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A copy of the record with these retention rules."""
    return {**data, "retention": {**(data.get("retention") or {}), "rules": [dict(r) for r in rules]}}


@dataclass(frozen=True)
class RuleSplit:
    """What a write stores now, and the rules that wait for a dry run (None when none wait)."""

    record: dict[str, Any]
    proposed: list[dict[str, Any]] | None
    changed: bool  # the write changes the live rules


def split_rules(before: Mapping[str, Any] | None, after: dict[str, Any], *, mode: RuleMode) -> RuleSplit:
    """Decide what a write may store of its rules; raise RetentionRunNeeded when it may not change them."""
    old_live = live_rules(before)
    if not rules_differ(old_live, live_rules(after)):
        return RuleSplit(after, None, False)
    if mode == "refuse":
        raise RetentionRunNeeded(
            worded(
                "Changing retention rules (period, action, anchor, schedule, or adding, removing, retiring "
                "or reviving a rule) needs the scope '%(scope)s'; the activity was not changed. Send the "
                "record with its rules as they are to change anything else.",
                scope=RULE_SCOPE,
            ),
            fields={"retention.rules": [worded("Needs the scope '%(scope)s'.", scope=RULE_SCOPE)]},
        )
    if mode == "apply" or after.get("status") == "retired":
        return RuleSplit(after, None, True)
    # the record keeps the rules in force (under this write's status and disposal, only fewer can be live)
    return RuleSplit(with_rules(after, old_live), _rules(after), True)


# --- the pending changes ------------------------------------------------------------------------------------


def _event(session: Session, change: RuleChange, action: str, actor: Actor, **details: Any) -> None:
    record_event(
        session,
        actor=actor,
        action=f"rule_change.{action}",
        object_type="rule_change",
        object_id=str(change.id),
        details={"activity": change.activity, **details},
    )


def _keys(slug: str, rules: Sequence[Mapping[str, Any]]) -> list[str]:
    return [f"{slug}:{r['system']}.{r['table']}:{r['action']}" for r in rules]


def propose(
    session: Session,
    *,
    activity: ProcessingActivity,
    rules: list[dict[str, Any]],
    actor: Actor,
) -> RuleChange:
    """Keep new rules for an activity as a pending change; a newer proposal replaces an older one."""
    pending = list(
        session.scalars(
            select(RuleChange).where(RuleChange.activity == activity.slug, RuleChange.status == "pending")
        )
    )
    for change in pending:
        if change.rules == rules:
            return change  # the same proposal again: keep it, and its dry run
    for change in pending:
        change.status, change.decided_at, change.decided_by = "superseded", utcnow(), str(actor)
        _event(session, change, "supersede", actor)
    change = RuleChange(
        activity=activity.slug, rules=rules, before=live_rules(activity.data), proposed_by=str(actor)
    )
    session.add(change)
    session.flush()
    _event(session, change, "propose", actor, version=activity.version, rules=_keys(activity.slug, rules))
    return change


def record_at_once(
    session: Session,
    *,
    slug: str,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    actor: Actor,
    why: str,
) -> None:
    """Record live rules changed at once: by an operator's policy load ("load"), or stopped by a retirement
    ("retire")."""
    record_event(
        session,
        actor=actor,
        action=f"rule_change.{why}",
        object_type="activity",
        object_id=slug,
        details={"before": _keys(slug, before), "after": _keys(slug, after)},
    )


def get_rule_change(session: Session, *, change_id: int) -> RuleChange:
    """Return one rule change; raise NotFound."""
    change = session.get(RuleChange, change_id)
    if change is None:
        raise NotFound(N_("No rule change has this id."))
    return change


def pending_change(session: Session, *, change_id: int) -> RuleChange:
    """Return a rule change that is still pending; raise NotFound or RuleChangeClosed."""
    change = get_rule_change(session, change_id=change_id)
    if change.status != "pending":
        raise RuleChangeClosed(
            worded(
                "The rule change is %(status)s; only a pending change can be used.",
                status=Code("rule_change_status", change.status),
            )
        )
    return change


def list_rule_changes(session: Session, *, status: str | None = None, activity: str | None = None) -> list:
    """Rule changes, newest first, narrowed by status and activity."""
    query = select(RuleChange).order_by(RuleChange.id.desc())
    if status:
        query = query.where(RuleChange.status == status)
    if activity:
        query = query.where(RuleChange.activity == activity)
    return list(session.scalars(query.limit(200)))


def pending_for(session: Session, *, slug: str) -> RuleChange | None:
    """The activity's pending rule change, if any."""
    return session.scalar(
        select(RuleChange).where(RuleChange.activity == slug, RuleChange.status == "pending")
    )


def proposed_view(row: ProcessingActivity, change: RuleChange) -> Activity:
    """The activity as it would be with the change applied (for the dry run)."""
    preview = ProcessingActivity(
        slug=row.slug,
        service=row.service,
        status=row.status,
        version=row.version,
        data=with_rules(row.data, change.rules),
        content_hash="",
    )
    return Activity.of(preview)


def record_dry_run(
    session: Session,
    *,
    change: RuleChange,
    run_id: int,
    version: int,
    results: list[dict[str, Any]],
    actor: Actor,
) -> RuleChange:
    """Keep what a dry run of the change showed, per rule: rows it would act on, rows held back, errors."""
    change.dry_run_id, change.dry_run_version, change.dry_run_result = run_id, version, results
    change.dry_run_at, change.dry_run_by = utcnow(), str(actor)
    session.flush()
    _event(session, change, "dry_run", actor, run=run_id, version=version, results=results)
    return change


def check_dry_run(change: RuleChange, activity: ProcessingActivity) -> None:
    """Refuse to apply without a clean dry run made on the activity's current version."""
    if change.dry_run_id is None or change.dry_run_version != activity.version:
        raise DryRunNeeded(
            N_("Make a dry run of this rule change first (POST …/dry-run): none has been made.")
            if change.dry_run_id is None
            else worded(
                "Make a dry run of this rule change first (POST …/dry-run): the activity changed "
                "(version %(version)s) since the dry run.",
                version=activity.version,
            )
        )
    failed = [r for r in change.dry_run_result if r.get("error")]
    if failed:
        raise DryRunNeeded(
            worded(
                "The dry run failed for %(rule)s: %(error)s Propose a rule that can run.",
                rule=failed[0]["rule"],
                error=failed[0]["error"],
            )
        )


def close(session: Session, change: RuleChange, *, status: str, actor: Actor, **details: Any) -> RuleChange:
    """Mark a change applied or discarded, with its audit event."""
    change.status, change.decided_at, change.decided_by = status, utcnow(), str(actor)
    session.flush()
    _event(session, change, {"applied": "apply", "discarded": "discard"}[status], actor, **details)
    return change
