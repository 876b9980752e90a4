"""Retention rules as the runner sees them, and calendar arithmetic on ISO-8601 periods.

A row is due when its anchor is at or before `now − period`, counted in calendar units (years and months
first, clamped to the month's last day, then weeks and days). Counting back from now, never forward from the
anchor, means a row is never removed before its full period has passed: a row anchored on 31 January with
P1M is due from 1 March at midnight, not on 28 February.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlmodel import Session

from privacy_service.datamap import service as datamap
from privacy_service.errors import ValidationFailed
from privacy_service.kernel import PERIOD_RE
from privacy_service.ropa import service as ropa


def parse_period(period: str) -> relativedelta:
    """Return the calendar length of an ISO-8601 period (years, months, weeks, days)."""
    match = PERIOD_RE.match(period or "")
    if not match:
        raise ValidationFailed(
            f"Not an ISO-8601 period: {period!r}.",
            fields={"period": ["Use a period such as P7D, P2M or P25Y."]},
        )
    years, months, weeks, days = (int(g or 0) for g in match.groups())
    return relativedelta(years=years, months=months, weeks=weeks, days=days)


def cutoff(now: datetime, period: str) -> datetime:
    """The latest anchor due at `now` (calendar arithmetic: month ends clamped, leap days handled)."""
    return now - parse_period(period)


@dataclass(frozen=True)
class Rule:
    """One retention rule of one activity on one mapped table."""

    activity: str
    index: int  # position in the activity's retention.rules
    system: str
    table: str
    anchor: str | None
    period: str
    action: str  # delete | anonymise | deposit
    schedule: str
    mask_columns: tuple[str, ...] = ()
    note: str | None = None
    activity_status: str = "active"
    problems: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        """A stable name: activity, table and action (one rule per action and table)."""
        return f"{self.activity}:{self.system}.{self.table}:{self.action}"


def _tables(session: Session) -> dict[tuple[str, str], Any]:
    return {(s.name, t.table_name): t for s, t in datamap.mapped_tables(session)}


def list_rules(session: Session) -> list[Rule]:
    """Every rule of every activity that is not retired, checked against the data map."""
    tables = _tables(session)
    rules: list[Rule] = []
    # one query: the rule list is read on every run and page view
    for activity in ropa.activities_for(session, include_retired=False):
        for index, rule in enumerate(activity.retention.rules):
            rules.append(_rule(activity, index, rule, tables))
    return rules


def rules_of(session: Session, activity: ropa.Activity) -> list[Rule]:
    """The rules of one activity view (a proposed rule change's, for its dry run), checked the same way."""
    tables = _tables(session)
    return [_rule(activity, index, rule, tables) for index, rule in enumerate(activity.retention.rules)]


def _rule(
    activity: ropa.Activity, index: int, rule: ropa.RetentionRule, tables: dict[tuple[str, str], Any]
) -> Rule:
    table = tables.get((rule.system, rule.table))
    problems: list[str] = []
    if activity.preserved and rule.action != "deposit":
        # DESIGN §4: an archive preservation duty ranks above any retention period.
        problems.append(
            "The disposal decision is Bevares (preserve): only a deposit rule may remove these rows."
        )
    if table is None:
        problems.append(f"The data map has no table {rule.system}.{rule.table}.")
    elif table.activity_slug != activity.slug:
        problems.append(f"Table {rule.system}.{rule.table} belongs to activity {table.activity_slug!r}.")
    anchor = rule.anchor or (table.anchor_column if table is not None else None)
    if not anchor:
        problems.append("No anchor column: name one in the rule or in systems.yaml (anchor_column).")
    masks = tuple(rule.mask_columns or (table.mask_columns if table is not None else []) or [])
    if rule.action == "anonymise" and not masks:
        problems.append("An anonymise rule needs the columns to blank (mask_columns).")
    return Rule(
        activity=activity.slug,
        index=index,
        system=rule.system,
        table=rule.table,
        anchor=anchor,
        period=rule.period,
        action=rule.action,
        schedule=rule.schedule,
        mask_columns=masks,
        note=rule.note,
        activity_status=activity.status,
        problems=tuple(problems),
    )


def rule_problems(session: Session) -> dict[str, list[str]]:
    """Rules that cannot run as written, by activity (policies check and load report these)."""
    out: dict[str, list[str]] = {}
    for rule in list_rules(session):
        for problem in rule.problems:
            out.setdefault(rule.activity, []).append(f"retention rule {rule.index + 1}: {problem}")
    return out
