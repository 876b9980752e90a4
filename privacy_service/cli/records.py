"""The records: the registry's export, the audit trail, retention and the erasure ledger."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from privacy_service.audit import Actor
from privacy_service.audit_anchor import anchor_settings, verify_anchored
from privacy_service.cli.common import CLI_ACTOR, fail
from privacy_service.db import get_engine, transaction
from privacy_service.errors import DomainError
from privacy_service.retention import BATCH


@click.group("ropa")
def ropa_group() -> None:
    """The record of processing."""


@ropa_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["pdf", "csv", "json", "jsonld"]), default="json")
@click.option("--lang", type=click.Choice(["nb", "en"]), default="en")
@click.option("--service", default=None)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@with_appcontext
def ropa_export(fmt: str, lang: str, service: str | None, output: Path | None) -> None:
    """Export the record of processing (to a file, or to standard output)."""
    from privacy_service.registers import lias, transfers
    from privacy_service.registers.dpias import record_assessments
    from privacy_service.ropa.service import export_ropa

    with transaction(get_engine()) as session:
        body, _, _ = export_ropa(
            session,
            fmt=fmt,
            lang=lang,
            service=service,
            base_url=current_app.config["PRIVACY_BASE_URL"],
            dpias=record_assessments(session),
            lias=lias.record_assessments(session),
            transfer_points=transfers.record_derogation_points(session),
        )
    if output:
        output.write_bytes(body)
        click.echo(f"wrote {output} ({len(body)} bytes)", err=True)
    else:
        sys.stdout.buffer.write(body)


@click.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check the hash chain and its anchor; name the first bad event; anchor the head; exit 1 if broken."""
    path, key = anchor_settings(current_app.config)
    with transaction(get_engine()) as session:
        result = verify_anchored(session, path=path, key=key)
    anchor = result.anchor
    assert anchor is not None
    for warning in anchor.warnings:
        click.echo(f"warning: {warning}", err=True)
    if anchor.anchored_seq is not None:
        click.echo(
            f"anchor: newest valid anchor is event {anchor.anchored_seq} of {anchor.anchored_at} ({path})"
        )
    else:
        click.echo(f"anchor: none yet in {path}")
    if not result.ok:
        where = f"event {result.first_bad_seq}" if result.first_bad_seq is not None else "the anchor file"
        click.echo(f"BROKEN at {where}: {result.reason}")
        sys.exit(1)
    if anchor.written_seq is None:
        click.echo("not anchored: the anchor file could not be written (see the warning)")
    else:
        click.echo(f"anchored event {anchor.written_seq}" + ("" if anchor.keyed else " (not keyed)"))
    click.echo(f"ok: {result.events} events, chain intact")


@click.group("retention")
def retention_group() -> None:
    """Retention rules and runs."""


@retention_group.command("rules")
@with_appcontext
def retention_rules() -> None:
    """List the retention rules with their schedule, and anything that stops one from running."""
    from privacy_service.retention import service

    with transaction(get_engine()) as session:
        for rule in service.list_rules(session):
            state = "; ".join(rule.problems) or "ok"
            what = f"{rule.action} after {rule.period} from {rule.anchor}"
            click.echo(f"{rule.key}  {what}  [{rule.schedule}]  {state}")


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Count what would happen; change nothing.")
@click.option("--rule", "rules", multiple=True, help="Run only this rule (its key); repeatable.")
@click.option("--batch-size", default=BATCH, show_default=True, type=click.IntRange(1, 100_000))
@with_appcontext
def retention_run(dry_run: bool, rules: tuple[str, ...], batch_size: int) -> None:
    """Run the retention rules now and print what each did; exit 1 if a rule failed."""
    from privacy_service.retention import service

    try:
        run = service.run_retention(
            get_engine(),
            instance_path=current_app.extensions["instance_path"],
            actor=CLI_ACTOR,
            dry_run=dry_run,
            only=list(rules) or None,
            trigger="cli",
            batch=batch_size,
        )
    except DomainError as exc:
        fail(exc)
    with transaction(get_engine()) as session:
        __, results = service.get_run(session, run.id or 0)
    click.echo(f"run {run.id} ({'dry run' if dry_run else 'run'}): {run.status}")
    for r in results:
        held = (
            f", held {r.held}" + (f" (holds {', '.join(r.held_by)})" if r.held_by else "") if r.held else ""
        )
        line = f"  {r.rule}: candidates {r.candidates}, {r.action} {r.acted}{held}, {r.seconds:.2f}s"
        click.echo(line + (f"  FAILED: {r.error}" if r.error else ""))
    if run.status == "failed":
        sys.exit(1)


@click.group("dsar")
def dsar_group() -> None:
    """Data-subject requests."""


@dsar_group.command("replay-erasures")
@click.option("--ledger", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The ledger file (default: instance/ledger/erasures.jsonl).")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Count what would be erased again; change nothing.")
@with_appcontext
def dsar_replay(ledger: Path | None, dry_run: bool) -> None:
    """After a restore from backup, erase again every row the erasure ledger names (held rows stay)."""
    from privacy_service.audit import record_event
    from privacy_service.dsar import ledger as erasure_ledger

    with transaction(get_engine()) as session:
        result = erasure_ledger.replay(
            session,
            secret_key=current_app.config["SECRET_KEY"],
            instance_path=current_app.extensions["instance_path"],
            ledger=ledger,
            dry_run=dry_run,
        )
        if not dry_run:
            record_event(session, actor=Actor("cli", "replay-erasures"), action="dsar.erasures.replayed",
                         object_type="erasure_ledger", object_id="replay",
                         details={"entries": result.entries, "tables": result.tables})  # fmt: skip
    for table in result.tables:
        click.echo(f"{table['table']}: found {table['found']}, held {table['held']}, "
                   f"{'would erase' if dry_run else 'erased'} {table['erased']}")  # fmt: skip
    click.echo(
        f"{result.entries} ledger entries; {'would erase' if dry_run else 'erased'} {result.erased} rows"
    )
