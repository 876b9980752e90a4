"""A retention run as a PDF an officer can file as documentation of deletion (nb or en)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from privacy_service.catalogue import ByLanguage, MissingText, words
from privacy_service.documents import build_pdf, data_table, key_value_table, para
from privacy_service.kernel import utcnow
from privacy_service.wording import actor_words, format_datetime, period_text

LABELS = ByLanguage("retention_run")


def render_run_pdf(
    run: Any,
    results: list[Any],
    holds: dict[int, Any],
    chain: Any,
    *,
    lang: str = "nb",
    generated_at: datetime | None = None,
    pending: list[Any] | None = None,
    names: dict[str, str] | None = None,
) -> bytes:
    """Render a run with its per-rule results, the holds that kept rows, and the audit chain's state; rules
    are named by their activity's name (`names`, by slug) and table, and a dry run says what it would do."""
    L = LABELS.get(lang, LABELS["nb"])  # noqa: N806
    title = L["title"].format(id=run.id)
    story: list[Flowable] = [para(title, "title")]
    if run.dry_run:
        story.append(para(L["dry"], "subtitle"))
    story += [
        Spacer(1, 4 * mm),
        _run_table(run, L, lang),
        para(L["rules"], "h1"),
        _rules_table(results, L, lang, names or {}, dry=run.dry_run),
    ]
    story += _held_back(results, holds, L, names or {}, lang)
    errors = [f"{_rule_name(r.rule, names or {})}: {r.error}" for r in results if r.error]
    story += [para(L["errors"], "h1"), *([para(e) for e in errors] or [para(L["none"])])]
    deposits = [
        f"{_rule_name(r.rule, names or {})}: {r.acted} → {r.deposit_path}" for r in results if r.deposit_path
    ]
    if deposits:
        story += [para(L["deposits"], "h1"), *[para(d) for d in deposits]]
    if pending:
        rows = [
            L["pending_row"].format(
                id=d.id,
                table=f"{d.system}.{d.table_name}",
                rows=d.rows,
                at=format_datetime(d.created_at, lang),
            )
            for d in pending
        ]
        story += [para(L["pending"], "h1"), *[para(r) for r in rows]]
    chain_text = (
        L["chain_ok"].format(n=chain.events)
        if chain.ok
        else L["chain_bad"].format(seq=chain.first_bad_seq, reason=chain.reason)
    )
    story += [para(L["chain"], "h1"), para(chain_text), Spacer(1, 6 * mm)]
    story.append(para(format_datetime(generated_at or utcnow(), lang), "muted"))
    return build_pdf(story, title=title, author="privacy-service", lang=lang, footer=title)


def _run_table(run: Any, labels: dict[str, Any], lang: str) -> Flowable:
    return key_value_table(
        [
            labels["run"],
            (labels["started"], format_datetime(run.started_at, lang)),
            (labels["finished"], format_datetime(run.finished_at, lang) or "—"),
            (labels["by"], actor_words(run.started_by, lang)),
            (labels["trigger"], _word("retention.trigger", run.trigger, lang)),
            (labels["status"], _word("retention.run_status", run.status, lang)),
            (labels["as_of"], format_datetime(run.as_of, lang)),
        ]
    )


def _word(prefix: str, code: str, lang: str) -> str:
    """The words for a code (as the retention pages say it), or the code when a newer version wrote it."""
    try:
        return words(f"{prefix}.{code}", lang)
    except MissingText:
        return code


def _rule_name(key: str, names: dict[str, str]) -> str:
    """A rule by its activity's name and its table ("Brukerstøtte (helsedata-support.support_enquiries)")."""
    return " ".join(_rule_lines(key, names))


def _rule_lines(key: str, names: dict[str, str]) -> list[str]:
    """A rule's cell: its activity's name, then its table on a line of its own."""
    activity, __, rest = key.partition(":")
    table = rest.rpartition(":")[0] or rest
    return [names.get(activity, activity), f"({table})"] if table else [names.get(activity, activity)]


def _rules_table(
    results: list[Any], labels: dict[str, Any], lang: str, names: dict[str, str], *, dry: bool
) -> Flowable:
    actions = labels["dry_actions"] if dry else labels["actions"]
    rows = [
        [
            "\n".join(_rule_lines(r.rule, names)),  # the name, and the table on a line of its own
            actions.get(r.action, r.action),
            period_text(r.period, lang),
            format_datetime(r.cutoff, lang),
            r.candidates,
            r.acted,
            r.held,
            r.failed,
            f"{r.seconds:.2f}",
        ]
        for r in results
    ]
    widths = [42 * mm, 21 * mm, 19 * mm, 24 * mm, 18 * mm, 15 * mm, 12 * mm, 12 * mm, 11 * mm]
    columns = list(labels["cols"])
    if dry:
        columns[5] = labels["dry_done"]
    return data_table(columns, rows, widths=widths)


def _held_back(
    results: list[Any], holds: dict[int, Any], labels: dict[str, Any], names: dict[str, str], lang: str
) -> list[Flowable]:
    """The heading and table of the rows each hold kept, per rule."""
    rows = [
        [
            f"#{hold_id}",
            _word("retention.hold_kind", getattr(holds.get(int(hold_id)), "kind", "?"), lang),
            getattr(holds.get(int(hold_id)), "basis", "?"),
            _rule_name(r.rule, names),
            n,
        ]
        for r in results
        for hold_id, n in (r.held_by or {}).items()
    ]
    if not rows:
        return [para(labels["holds"], "h1"), para(labels["none"])]
    widths = [14 * mm, 22 * mm, 70 * mm, 50 * mm, 14 * mm]
    return [para(labels["holds"], "h1"), data_table(labels["hold_cols"], rows, widths=widths)]
