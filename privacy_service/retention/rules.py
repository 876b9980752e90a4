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
from privacy_service.errors import N_, ValidationFailed, worded
from privacy_service.kernel import PERIOD_RE
from privacy_service.ropa import service as ropa


def parse_period(period: str) -> relativedelta:
    """Return the calendar length of an ISO-8601 period (years, months, weeks, days)."""
    match = PERIOD_RE.match(period or "")
    if not match:
        raise ValidationFailed(
            worded("Not an ISO-8601 period: '%(period)s'.", period=period),
            fields={"period": [N_("Use a period such as P7D, P2M or P25Y.")]},
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
    anchor_fallback: str | None = None
    keep_columns: tuple[str, ...] = ()
    coarsen: tuple[tuple[str, str], ...] = ()
    reviewed_free_text: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """A stable name: activity, table and action; the rules on one table share it and run as one."""
        return f"{self.activity}:{self.system}.{self.table}:{self.action}"


def group_rules(rules: list[Rule]) -> list[list[Rule]]:
    """The rules by table, in first-seen order: the rules on one table are one decision (DESIGN §3)."""
    groups: dict[tuple[str, str], list[Rule]] = {}
    for rule in rules:
        groups.setdefault((rule.system, rule.table), []).append(rule)
    return list(groups.values())


def anonymise_problems(
    rule: ropa.RetentionRule, *, key: str, mapped: set[str], identity: frozenset[str] = frozenset()
) -> list[str]:
    """What an anonymise rule keeps that could single a person out (Recital 26; WP29 opinion 05/2014).

    Known without the data system: the key column, a column named as a timestamp (see is_timestamp_name)
    or a column the data map maps to a data category is never kept as it is. The runner checks the rest
    against the table itself (every column named; no timestamp or free-text type kept).
    """
    where = f"table {rule.system}.{rule.table}"
    out = []
    if key in identity:
        # the key finds a person through the data map: the row stays linkable whatever is blanked
        out.append(f"The key {key!r} of {where} identifies a person in the data map: delete instead.")
    for column in (*rule.keep_columns, *rule.reviewed_free_text):
        if column == key:
            out.append(f"An anonymise rule keeps the key column {column!r} of {where}: delete instead.")
        elif is_timestamp_name(column):
            out.append(
                f"An anonymise rule keeps the exact timestamp {column!r} of {where}: coarsen or drop it."
            )
        elif column in mapped and column not in rule.reviewed_free_text:
            out.append(f"An anonymise rule keeps {column!r} of {where}, personal data in the data map.")
    for column, __ in rule.coarsen:
        if column == key or not is_timestamp_name(column):
            out.append(f"Only a timestamp can be coarsened; {column!r} of {where} is not one.")
    return out


def table_problems(rules: list[tuple[str, int, ropa.RetentionRule]]) -> list[tuple[str, int, str]]:
    """Rules on one table that cannot be one decision: (activity, rule index, problem) for each.

    The rules on a table run as one decision (a row goes when every rule is due), so they must agree on
    what happens: the same action, and for anonymise the same columns kept, coarsened and blanked. Two
    rules with the same anchor, fallback and period say the same thing twice. The data map gives a table
    one key column, so rules cannot name different keys for it.
    """
    out: list[tuple[str, int, str]] = []
    seen: dict[tuple[str, str], tuple[str, int, ropa.RetentionRule]] = {}
    for slug, index, rule in rules:
        first = seen.setdefault((rule.system, rule.table), (slug, index, rule))
        other_slug, other_index, other = first
        if first[2] is rule:
            continue
        where = f"{rule.system}.{rule.table} (and activity '{other_slug}' rule {other_index + 1})"
        if rule.action != other.action:
            out.append((slug, index, f"Rules on {where} conflict: {rule.action} and {other.action}."))
        elif _columns(rule) != _columns(other):
            out.append((slug, index, f"Anonymise rules on {where} keep different columns."))
        elif (rule.anchor, rule.anchor_fallback, rule.period) == (
            other.anchor,
            other.anchor_fallback,
            other.period,
        ):
            out.append((slug, index, f"Rules on {where} collide: the same anchor and period twice."))
    return out


def _columns(rule: ropa.RetentionRule) -> tuple[object, ...]:
    return (
        sorted(rule.mask_columns),
        sorted(rule.keep_columns),
        rule.coarsen,
        sorted(rule.reviewed_free_text),
    )


TIMESTAMP_SUFFIXES = ("_at", "_on", "_date", "_time", "_timestamp")


def is_timestamp_name(column: str) -> bool:
    """A column the data map's naming convention marks as a point in time (`*_at`, `*_date`, …)."""
    return column.lower().endswith(TIMESTAMP_SUFFIXES) or column.lower() in ("date", "time", "timestamp")


def _tables(session: Session) -> dict[tuple[str, str], Any]:
    return {(s.name, t.table_name): t for s, t in datamap.mapped_tables(session)}


def list_rules(session: Session, *, activities: set[str] | None = None) -> list[Rule]:
    """Every rule of every activity that is not retired (or of the `activities` named), checked against the
    data map."""
    tables = _tables(session)
    rules: list[Rule] = []
    # one query: the rule list is read on every run and page view
    for activity in ropa.activities_for(session, include_retired=False, slugs=activities):
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
    if rule.action == "anonymise" and table is not None:
        problems += anonymise_problems(
            rule, key=table.key_column, mapped=set(table.columns), identity=frozenset(table.identity.values())
        )
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
        anchor_fallback=rule.anchor_fallback,
        keep_columns=rule.keep_columns,
        coarsen=rule.coarsen,
        reviewed_free_text=rule.reviewed_free_text,
    )


def rule_problems(session: Session) -> dict[str, list[str]]:
    """Rules that cannot run as written, by activity (policies check and load report these)."""
    out: dict[str, list[str]] = {}
    for rule in list_rules(session):
        for problem in rule.problems:
            out.setdefault(rule.activity, []).append(f"retention rule {rule.index + 1}: {problem}")
    return out
