"""One rule on its table: the holds that stop it, what they protect, and the table opened at a cutoff.

Holds always win over delete and anonymise. Archive-law holds are the exception for `deposit` rules only:
depositing with the National Archives is how the Archives Act's preservation duty ends, so an archive-law
hold does not stop it (a legal, request or other hold still does).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from privacy_service.datamap.expiry import DueTable, Protection, open_due_table
from privacy_service.retention.holds import TableRef, holds_for_table
from privacy_service.retention.models import Hold
from privacy_service.retention.rules import Rule, cutoff


def rule_holds(session: Session, rule: Rule) -> list[Hold]:
    """The active holds on the rule's table that stop the rule."""
    holds = holds_for_table(session, TableRef(rule.system, rule.table, rule.activity))
    if rule.action == "deposit":
        holds = [h for h in holds if h.kind != "archive_law"]
    return holds


def protection(holds: list[Hold], identity_kinds: set[str]) -> tuple[Protection, dict[int, Protection]]:
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
def open_rule_table(
    session: Session,
    rule: Rule,
    *,
    cutoff: datetime,
    instance_path: Path,
    others: tuple[tuple[Rule, datetime], ...] = (),
) -> Iterator[DueTable]:
    """Open the rule's table with the rows past `cutoff` as its due rows.

    `others` are the other rules on the same table with their cutoffs: a row is due only when every rule
    is due for it, so the longest period wins (DESIGN §3).
    """
    with open_due_table(
        session,
        system=rule.system,
        table=rule.table,
        anchor=rule.anchor or "",
        cutoff=cutoff,
        action=rule.action,
        mask_columns=rule.mask_columns,
        instance_path=instance_path,
        fallback=rule.anchor_fallback,
        also=tuple((r.anchor or "", r.anchor_fallback, c) for r, c in others),
        keep=(*rule.keep_columns, *rule.reviewed_free_text),
        coarsen=tuple(c for c, __ in rule.coarsen),
        reviewed=rule.reviewed_free_text,
    ) as due:
        yield due


@contextmanager
def open_group(
    session: Session, group: list[Rule], *, when: datetime, instance_path: Path
) -> Iterator[DueTable]:
    """Open the table of a group of rules (group_rules) with the rows every rule finds due at `when`."""
    first, *others = group
    with open_rule_table(
        session,
        first,
        cutoff=cutoff(when, first.period),
        instance_path=instance_path,
        others=tuple((r, cutoff(when, r.period)) for r in others),
    ) as due:
        yield due


def move_group(due: DueTable, group: list[Rule], *, when: datetime) -> None:
    """Count the opened group's due rows at another moment."""
    due.cutoff = cutoff(when, group[0].period)
    due.also = tuple((r.anchor or "", r.anchor_fallback, cutoff(when, r.period)) for r in group[1:])
