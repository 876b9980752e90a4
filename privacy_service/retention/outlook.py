"""What falls due: per rule, the rows due now, due soon and held (the dashboard), and the rows a released hold
leaves due at the next run. Both only count; neither touches data."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, and_, not_
from sqlmodel import Session

from privacy_service.datamap.expiry import unheld
from privacy_service.datamap.service import DataSystemError
from privacy_service.kernel import utcnow
from privacy_service.retention.deposits import waiting_keys
from privacy_service.retention.due import move_group, open_group, protection, rule_holds
from privacy_service.retention.models import Hold
from privacy_service.retention.rules import Rule, group_rules, list_rules


def rows_due_after_release(engine: Engine, hold: Hold, *, instance_path: Path) -> dict[str, int]:
    """Per rule (the rules on one table as one), the due rows the released hold protected that no other
    active hold protects. Asked before the release, it says what releasing would let the next run delete."""
    out: dict[str, int] = {}
    with Session(engine) as session:
        for group in group_rules(list_rules(session)):
            rule = group[0]
            if any(r.problems for r in group) or not _covers(hold, rule):
                continue
            others = [h for h in rule_holds(session, rule) if h.id != hold.id]
            try:
                with open_group(session, group, when=utcnow(), instance_path=instance_path) as due:
                    kinds = set(due.mapping.identity)
                    mine, __ = protection([hold], kinds)
                    rest, __ = protection(others, kinds)
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


def outlook(
    engine: Engine, *, instance_path: Path, days: int = 30, now: datetime | None = None
) -> dict[str, dict[str, int | str]]:
    """Per rule (the rules on one table as one): rows due now, rows falling due in the next `days`, and rows
    held now (for the dashboard). Rows in a deposit that waits for the archive's receipt count as held."""
    now = now or utcnow()
    out: dict[str, dict[str, int | str]] = {}
    with Session(engine) as session:
        for group in group_rules(list_rules(session)):
            rule = group[0]
            if problems := [p for r in group for p in r.problems]:
                out[rule.key] = {"error": " ".join(problems)}
                continue
            holds = rule_holds(session, rule)
            waiting = waiting_keys(session, system=rule.system, table=rule.table)
            by_then = now + timedelta(days=days)
            try:
                with open_group(session, group, when=by_then, instance_path=instance_path) as soon:
                    held, __ = protection(holds, set(soon.mapping.identity))
                    held.keys += waiting  # as the runner does: the deposit holds them until the receipt
                    due_by_then = soon.count(unheld(soon, held))
                    move_group(soon, group, when=now)
                    due_now = soon.count(unheld(soon, held))
                    held_now = soon.count(and_(soon.due(), soon.held(held))) if holds or waiting else 0
                out[rule.key] = {"due_now": due_now, "due_soon": due_by_then - due_now, "held": held_now}
            except DataSystemError as exc:
                out[rule.key] = {"error": exc.message}
    return out
