"""The `privacy-service` command: init, serve, demo, users and API keys, exports, audit."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext

from privacy_service.audit import Actor, verify_chain
from privacy_service.db import get_engine, transaction
from privacy_service.errors import DomainError

CLI_ACTOR = Actor("cli", os.environ.get("USER", "operator"))


def _fail(exc: DomainError) -> None:
    click.echo(f"error: {exc.message}", err=True)
    for name, messages in (exc.fields or {}).items():
        click.echo(f"  {name}: {'; '.join(map(str, messages))}", err=True)
    sys.exit(2)


def init_database(app: Flask) -> dict:
    """Upgrade the schema and load policies/; return what the load changed."""
    from privacy_service.migrate import upgrade
    from privacy_service.policies import load_policies

    engine = app.extensions["engine"]
    upgrade(engine)
    with transaction(engine) as session:
        report = load_policies(
            session,
            root=Path(app.config["PRIVACY_POLICIES"]),
            instance_path=Path(app.config["PRIVACY_INSTANCE_PATH"]),
            actor=CLI_ACTOR,
        )
    return report.counts


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Upgrade the database schema and load policies/."""
    try:
        counts = init_database(current_app)
    except DomainError as exc:
        _fail(exc)
    for kind, c in counts.items():
        click.echo(f"{kind}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged")


@click.group("policies")
def policies_group() -> None:
    """Check or load policies/."""


@policies_group.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@with_appcontext
def policies_check(path: Path | None) -> None:
    """Validate policy files without writing anything."""
    from privacy_service.policies import read_policies

    try:
        docs = read_policies(path or Path(current_app.config["PRIVACY_POLICIES"]))
    except DomainError as exc:
        _fail(exc)
    click.echo(
        f"ok: {len(docs['organisations'])} organisations, {len(docs['activities'])} activities, "
        f"{len(docs['systems'])} systems"
    )


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve_command(host: str, port: int, workers: int) -> None:
    """Run the web service under gunicorn."""
    _exec_gunicorn(host, port, workers)


def _exec_gunicorn(host: str, port: int, workers: int) -> None:
    args = ["gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers), "--access-logfile", "-"]
    # Consent paths carry subject ids and links carry tokens: the access log redacts them (logs.py,
    # set up with the rest of the gunicorn settings in gunicorn_conf.py).
    args += ["--config", "python:privacy_service.gunicorn_conf"]
    os.execvp(sys.executable, [sys.executable, "-m", *args, APP_FACTORY])  # noqa: S606


@click.command("demo")
@click.option(
    "--seed", default=1, show_default=True, type=int, help="Makes the synthetic people reproducible."
)
@click.option("--people", default=200, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the demo and exit.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def demo_command(seed: int, people: int, no_serve: bool, host: str, port: int) -> None:
    """Create synthetic helsedata data systems, load the registry, create demo officers, and serve the app."""
    from privacy_service.datamap.demo import create_demo_data
    from privacy_service.security.service import ensure_user

    app = current_app._get_current_object()
    # Dates count back from today, so retention periods fall due as they would in real life.
    summary = create_demo_data(
        instance_path=Path(app.config["PRIVACY_INSTANCE_PATH"]), seed=seed, people=people, anchor=date.today()
    )
    try:
        init_database(app)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"demo data (seed {seed}): " + ", ".join(f"{t} {n}" for t, n in summary["rows"].items()))
    click.echo("Kari Nordmann: kari.nordmann@example.no (see README)")
    recorded = _record_survey_consents(app, summary["survey_consents"])
    click.echo(f"survey consents recorded from the survey tool: {recorded}")
    with transaction(get_engine()) as session:
        for role in ("admin", "officer", "auditor"):
            password = secrets.token_urlsafe(12)
            ensure_user(session, username=role, password=password, role=role, actor=CLI_ACTOR)
            click.echo(f"log in as {role:8} password {password}")
    if not no_serve:
        click.echo(f"serving on http://{host}:{port}/officer/ (Ctrl-C stops)")
        click.echo(f"mail is written to {Path(app.config['PRIVACY_INSTANCE_PATH']) / 'outbox'} (no SMTP set)")
        sys.stdout.flush()
        # The demo runs the scheduler beside the web server: retention on schedule, and the outbox (mail,
        # webhooks, erasure on withdrawal). Ctrl-C in the terminal reaches the whole process group.
        subprocess.Popen([sys.executable, "-m", "privacy_service.cli", "scheduler"])  # noqa: S603
        _exec_gunicorn(host, port, 2)


def _record_survey_consents(app: Flask, consents: list[dict]) -> int:
    """Record the survey tool's consents in the consent registry (once: a rerun changes nothing)."""
    from privacy_service.consent import service as consent_service

    links = app.extensions["links"]
    changed = 0
    for item in consents:
        with transaction(get_engine()) as session:
            # record_consent, not change_consent: the survey tool collected these and sent its own receipts;
            # an import mails no one and sends no webhooks.
            change = consent_service.record_consent(
                session,
                subject=item["email"],
                purpose="surveys",
                status="given",
                channel="web",
                actor=CLI_ACTOR,
                links=links,
                evidence={
                    "source": "helsedata-survey",
                    "response_id": item["response_id"],
                    "given_at": item["given_at"],
                },
            )
            changed += change.changed
    return changed


@click.group("user")
def user_group() -> None:
    """Officer accounts."""


@user_group.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "officer", "auditor"]))
@click.option("--full-name", default="")
@click.option(
    "--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="PRIVACY_NEW_USER_PASSWORD"
)
@with_appcontext
def user_create(username: str, role: str, full_name: str, password: str) -> None:
    """Create an officer account (the password is asked for, or read from PRIVACY_NEW_USER_PASSWORD)."""
    from privacy_service.security.service import create_user

    try:
        with transaction(get_engine()) as session:
            user = create_user(
                session, username=username, password=password, role=role, full_name=full_name, actor=CLI_ACTOR
            )
            click.echo(f"created {user.role} {user.username}")
    except DomainError as exc:
        _fail(exc)


@click.group("api-key")
def api_key_group() -> None:
    """API clients and their keys."""


@api_key_group.command("create")
@click.option("--name", required=True)
@click.option("--scopes", required=True, help="Comma-separated, e.g. consent:read,consent:write")
@with_appcontext
def api_key_create(name: str, scopes: str) -> None:
    """Create an API client; its key is printed once, alone on the last line."""
    from privacy_service.security.service import create_api_client

    try:
        with transaction(get_engine()) as session:
            client, key = create_api_client(
                session,
                name=name,
                scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                actor=CLI_ACTOR,
            )
            scope_text = ",".join(client.scopes)
    except DomainError as exc:
        _fail(exc)
    click.echo(
        f"API client {name} created with scopes {scope_text}. Store the key now; it is not shown again:"
    )
    click.echo(key)


@api_key_group.command("revoke")
@click.option("--name", required=True)
@with_appcontext
def api_key_revoke(name: str) -> None:
    """Revoke an API client's key."""
    from privacy_service.security.service import revoke_api_client

    try:
        with transaction(get_engine()) as session:
            revoke_api_client(session, name=name, actor=CLI_ACTOR)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"revoked {name}")


@api_key_group.command("rotate")
@click.option("--name", required=True)
@click.option(
    "--grace-hours",
    default=24.0,
    show_default=True,
    type=click.FloatRange(0, 720),
    help="How long the old key keeps working (0: it stops now).",
)
@with_appcontext
def api_key_rotate(name: str, grace_hours: float) -> None:
    """Give an API client a new key; its new key is printed once, alone on the last line."""
    from privacy_service.security.service import rotate_api_client

    try:
        with transaction(get_engine()) as session:
            client, key = rotate_api_client(
                session, name=name, grace=timedelta(hours=grace_hours), actor=CLI_ACTOR
            )
            until = client.previous_key_expires_at
    except DomainError as exc:
        _fail(exc)
    old = f"the old key works until {until:%Y-%m-%d %H:%M} UTC" if until else "the old key no longer works"
    click.echo(f"API client {name} has a new key; {old}. Store the key now; it is not shown again:")
    click.echo(key)


@api_key_group.command("list")
@with_appcontext
def api_key_list() -> None:
    """List the API clients: name, key prefix, scopes, state, last use (never the keys)."""
    from sqlalchemy import select

    from privacy_service.security.models import ApiClient

    with transaction(get_engine()) as session:
        for client in session.scalars(select(ApiClient).order_by(ApiClient.name)):
            state = "active" if client.active else "revoked"
            if client.active and client.previous_key_expires_at:
                state += f", old key until {client.previous_key_expires_at:%Y-%m-%d %H:%M} UTC"
            click.echo(f"{client.name}\t{client.key_prefix}…\t{','.join(client.scopes)}\t{state}")


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
    from privacy_service.ropa.service import export_ropa

    with transaction(get_engine()) as session:
        body, _, _ = export_ropa(
            session, fmt=fmt, lang=lang, service=service, base_url=current_app.config["PRIVACY_BASE_URL"]
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
    """Check the hash chain; name the first bad event; exit 1 if broken."""
    with transaction(get_engine()) as session:
        result = verify_chain(session)
    if result.ok:
        click.echo(f"ok: {result.events} events, chain intact")
    else:
        click.echo(f"BROKEN at event {result.first_bad_seq}: {result.reason}")
        sys.exit(1)


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
@click.option("--batch-size", default=5000, show_default=True, type=click.IntRange(1, 100_000))
@with_appcontext
def retention_run(dry_run: bool, rules: tuple[str, ...], batch_size: int) -> None:
    """Run the retention rules now and print what each did; exit 1 if a rule failed."""
    from privacy_service.retention import service

    try:
        run = service.run_retention(
            get_engine(),
            instance_path=Path(current_app.config["PRIVACY_INSTANCE_PATH"]),
            actor=CLI_ACTOR,
            dry_run=dry_run,
            only=list(rules) or None,
            trigger="cli",
            batch=batch_size,
        )
    except DomainError as exc:
        _fail(exc)
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


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the retention rules on their schedules and deliver the outbox, until stopped (its own process)."""
    import signal
    import threading

    from privacy_service.retention.scheduler import make_scheduler, sync_jobs

    app = current_app._get_current_object()
    scheduler = make_scheduler(app)
    scheduler.start(paused=True)
    counts = sync_jobs(scheduler, app)
    click.echo("retention jobs: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for job in scheduler.get_jobs():
        click.echo(f"  {job.id}: next {job.next_run_time}")
    scheduler.resume()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    scheduler.shutdown(wait=True)
    click.echo("scheduler stopped")


@click.group("outbox")
def outbox_group() -> None:
    """E-mails, webhooks and follow-up tasks waiting in the outbox."""


@outbox_group.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering until stopped.")
@click.option("--interval", default=5.0, show_default=True, type=float, help="Seconds between rounds.")
@with_appcontext
def outbox_deliver(loop: bool, interval: float) -> None:
    """Send what is due (with retry and backoff); print what happened."""
    import time

    from privacy_service import notify

    transport = notify.transport_for(current_app.config)
    from sqlalchemy.exc import OperationalError

    while True:
        try:
            counts = notify.deliver_due(get_engine(), transport)
        except OperationalError as exc:  # the database is away: wait and try again, never exit the loop
            if not loop:
                raise
            click.echo(f"database unavailable ({type(exc.orig).__name__}); retrying in {interval}s", err=True)
            counts = {}
        if any(counts.values()) or not loop:
            click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))
        if not loop:
            return
        time.sleep(interval)


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
    from privacy_service.audit import Actor, record_event
    from privacy_service.dsar import ledger as erasure_ledger

    with transaction(get_engine()) as session:
        result = erasure_ledger.replay(
            session,
            secret_key=current_app.config["SECRET_KEY"],
            instance_path=Path(current_app.config["PRIVACY_INSTANCE_PATH"]),
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


def register_commands(app: Flask) -> None:
    """Attach the commands to the app's CLI group."""
    for command in (
        init_command,
        policies_group,
        serve_command,
        demo_command,
        user_group,
        api_key_group,
        ropa_group,
        audit_group,
        outbox_group,
        retention_group,
        dsar_group,
        scheduler_command,
    ):
        app.cli.add_command(command)


APP_FACTORY = "privacy_service:create_app()"  # found by name, as gunicorn finds it: no import circle


def main() -> None:
    """Entry point of the `privacy-service` command."""
    FlaskGroup(add_default_commands=False, add_version_option=False)(
        prog_name="privacy-service", obj=ScriptInfo(app_import_path=APP_FACTORY)
    )


if __name__ == "__main__":  # `python -m privacy_service.cli …`: how the demo starts its outbox loop
    main()
