"""Running the service: init, policies check, serve, demo, the scheduler and the outbox."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from privacy_service.cli.common import APP_FACTORY, CLI_ACTOR, fail
from privacy_service.cli.ready import instance_problem
from privacy_service.config import DEFAULT_BASE_URL, Settings
from privacy_service.db import get_engine, transaction
from privacy_service.errors import DomainError

if TYPE_CHECKING:
    from privacy_service.policies import LoadReport


def init_database(app: Flask) -> LoadReport:
    """Upgrade the schema and load policies/; return what the load changed."""
    from privacy_service.migrate import upgrade
    from privacy_service.policies import load_policies

    engine = app.extensions["engine"]
    upgrade(engine)
    with transaction(engine) as session:
        report = load_policies(
            session,
            root=Path(app.config["PRIVACY_POLICIES"]),
            instance_path=app.extensions["instance_path"],
            actor=CLI_ACTOR,
        )
    return report


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Upgrade the database schema and load policies/."""
    try:
        report = init_database(current_app)
    except DomainError as exc:
        fail(exc)
    for kind, c in report.counts.items():
        click.echo(f"{kind}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged")
    if report.rule_changes:
        _print_rule_changes(report.rule_changes)


def _print_rule_changes(slugs: list[str]) -> None:
    """Show what the retention rules the load changed will do, by a dry run of them (docs/retention.md)."""
    from privacy_service.retention import service

    click.echo("retention rules changed (in force now): " + ", ".join(slugs))
    with transaction(get_engine()) as session:
        keys = [r.key for r in service.list_rules(session) if r.activity in slugs]
    if not keys:
        return
    run = service.run_retention(
        get_engine(), instance_path=current_app.extensions["instance_path"], actor=CLI_ACTOR, dry_run=True,
        only=keys, trigger="cli",
    )  # fmt: skip
    with transaction(get_engine()) as session:
        __, results = service.get_run(session, run.id or 0)
    click.echo(f"dry run {run.id} of them, as of now:")
    for r in results:
        what = f"{r.action} {r.acted}, held {r.held}" if not r.error else f"FAILED: {r.error}"
        click.echo(f"  {r.rule}: after {r.period}, due {r.candidates}: {what}")


@click.group("policies")
def policies_group() -> None:
    """Check or load policies/."""


@policies_group.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@with_appcontext
def policies_check(path: Path | None) -> None:
    """Validate policy files without writing anything; name the assessments (DPIA, LIA, transfers) missing."""
    from privacy_service.policies import processor_gap_texts, read_policies, receipt_contact_gap_texts
    from privacy_service.registers import lias, transfers
    from privacy_service.registers.dpias import assessment_statuses, dpia_gaps, gap_text

    try:
        docs = read_policies(path or Path(current_app.config["PRIVACY_POLICIES"]))
    except DomainError as exc:
        fail(exc)
    click.echo(
        f"ok: {len(docs['organisations'])} organisations, {len(docs['activities'])} activities, "
        f"{len(docs['systems'])} systems"
    )
    missing = instance_problem(
        "policies check", Settings(database_url=current_app.config["SQLALCHEMY_DATABASE_URI"])
    )
    if missing:  # the files are fine; the assessments live in the database
        not_checked = "the DPIA, LIA and transfer assessments were not checked"
        click.echo(f"{not_checked}: {missing[0].lower()}{missing[1:]}")
        for line in processor_gap_texts(docs["activities"]):
            click.echo(f"warning: {line}")
        for line in receipt_contact_gap_texts(docs["organisations"], docs["activities"]):
            click.echo(f"warning: {line}")
        return
    # Art. 35(1), (3): large-scale special categories, Art. 22 decisions and children call for a DPIA
    for gap in dpia_gaps(docs["activities"], assessment_statuses(get_engine())):
        click.echo(f"warning: {gap_text(gap)}")
    # Art. 6(1)(f): relying on legitimate interests needs the balancing test, documented (Art. 5(2))
    for line in lias.lia_gap_texts(docs["activities"], lias.assessed_activities(get_engine())):
        click.echo(f"warning: {line}")
    # Art. 28: a processor named in the text belongs in the processors list, with its agreement
    for line in processor_gap_texts(docs["activities"]):
        click.echo(f"warning: {line}")
    # Kantara CR v1.1: a consent receipt gives every controller's address, e-mail and phone
    for line in receipt_contact_gap_texts(docs["organisations"], docs["activities"]):
        click.echo(f"warning: {line}")
    # Chapter V: every transfer needs a tool (Art. 44) and, for Art. 46/47 tools, a transfer impact assessment
    for line in transfers.transfer_gap_texts(docs["activities"], transfers.assessed_transfers(get_engine())):
        click.echo(f"warning: {line}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option(
    "--hot-workers",
    default=2,
    show_default=True,
    type=int,
    help="Workers of a second pool that answers only the consent and processing status reads, so they never "
    "wait behind a PDF or a list (0: no second pool; the main pool answers them too).",
)
@click.option("--hot-port", type=int, help="The second pool's port.  [default: --port + 1]")
@click.option(
    "--main-nice",
    default=5,
    show_default=True,
    type=click.IntRange(0, 19),
    help="How much the main pool yields the processor to the status reads' pool when both want it (the "
    "nice increment of the main pool's processes; 0: the same priority).",
)
def serve_command(  # noqa: PLR0913
    host: str, port: int, workers: int, hot_workers: int, hot_port: int | None, main_nice: int
) -> None:
    """Run the web service under gunicorn: the main pool, and the pool of the status reads beside it."""
    _check_rate_limit_store(workers + max(hot_workers, 0))
    if hot_workers <= 0:
        _exec_gunicorn(host, port, workers)
    hot_port = hot_port or port + 1
    click.echo(
        f"main pool on {host}:{port} ({workers} workers, nice +{main_nice}); status reads on "
        f"{host}:{hot_port} "
        f"({hot_workers} workers): route GET /api/v1/consents/… and /api/v1/subjects/…/processing there "
        "(docs/deployment.md)"
    )
    # A PDF or a page of activities is rendered on the processor; at a lower priority it lets the reads go
    # first, so a portal's read waits neither in a queue nor for the processor (bench/bench_mixed_load.py).
    yield_processor = (lambda: os.nice(main_nice)) if main_nice else None
    pools = [
        subprocess.Popen(_gunicorn_args(host, port, workers), preexec_fn=yield_processor),  # noqa: S603, PLW1509
        subprocess.Popen(  # noqa: S603
            _gunicorn_args(host, hot_port, hot_workers), env={**os.environ, "PRIVACY_HOT_POOL": "1"}
        ),
    ]
    sys.exit(_supervise(pools))


SERVE_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGTTIN, signal.SIGTTOU)


def _supervise(pools: list[subprocess.Popen], signals: tuple[int, ...] = SERVE_SIGNALS) -> int:
    """Pass the stop (and gunicorn's reload and resize) signals on to every process; when one ends, stop the
    others too."""

    def forward(signum: int, _frame: Any) -> None:
        for pool in pools:
            if pool.poll() is None:
                pool.send_signal(signum)

    for signum in signals:
        signal.signal(signum, forward)
    pid, status = os.wait()
    for pool in pools:
        if pool.pid != pid and pool.poll() is None:
            pool.terminate()
    for pool in pools:
        with contextlib.suppress(subprocess.TimeoutExpired):
            pool.wait(timeout=30)
        if pool.poll() is None:
            pool.kill()
    return os.waitstatus_to_exitcode(status)


def _check_rate_limit_store(workers: int) -> None:
    """End the command if the workers would each keep their own rate-limit counts (memory://)."""
    from privacy_service.config import Settings
    from privacy_service.security.ratelimit import refuse_per_process_store

    try:
        refuse_per_process_store(Settings().ratelimit_storage, workers)
    except DomainError as exc:
        fail(exc)


def _gunicorn_args(host: str, port: int, workers: int) -> list[str]:
    args = ["gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers), "--access-logfile", "-"]
    # Consent paths carry subject ids and links carry tokens: the access log redacts them (logs.py,
    # set up with the rest of the gunicorn settings in gunicorn_conf.py).
    args += ["--config", "python:privacy_service.gunicorn_conf"]
    return [sys.executable, "-m", *args, APP_FACTORY]


def _exec_gunicorn(host: str, port: int, workers: int) -> None:
    os.execvp(sys.executable, _gunicorn_args(host, port, workers))  # noqa: S606


DEMO_WORKERS = 2


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

    if not no_serve:
        _check_rate_limit_store(DEMO_WORKERS)  # before the demo data is made, not after
    app = current_app._get_current_object()
    if app.config["PRIVACY_BASE_URL"] == DEFAULT_BASE_URL and not os.environ.get("PRIVACY_BASE_URL"):
        # Links in mails, receipts and the JSON-LD point where the demo serves; the web workers and the
        # scheduler started below inherit it.
        base_url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0', '::') else host}:{port}"  # noqa: S104
        os.environ["PRIVACY_BASE_URL"] = app.config["PRIVACY_BASE_URL"] = base_url
        from privacy_service.dsar.service import Links

        app.extensions["links"] = Links.from_config(app.config)
    # Dates count back from today, so retention periods fall due as they would in real life.
    summary = create_demo_data(
        instance_path=app.extensions["instance_path"], seed=seed, people=people, anchor=date.today()
    )
    try:
        init_database(app)
    except DomainError as exc:
        fail(exc)
    click.echo(f"demo data (seed {seed}): " + ", ".join(f"{t} {n}" for t, n in summary["rows"].items()))
    click.echo("Kari Nordmann: kari.nordmann@example.no (see README)")
    recorded = _record_survey_consents(app, summary["survey_consents"])
    click.echo(f"survey consents recorded from the survey tool: {recorded}")
    with transaction(get_engine()) as session:
        for role in ("admin", "officer", "auditor"):
            password = secrets.token_urlsafe(12)
            ensure_user(session, username=role, password=password, role=role, actor=CLI_ACTOR)
            click.echo(f"log in as {role:8} password {password}")
    sender = app.config["PRIVACY_MAIL_FROM"]
    if app.config.get("PRIVACY_SMTP_URL"):
        click.echo(f"mail is sent through PRIVACY_SMTP_URL from {sender} (PRIVACY_MAIL_FROM)")
    else:
        outbox = Path(app.config["PRIVACY_INSTANCE_PATH"]) / "outbox"
        click.echo(
            f"mail from {sender} (PRIVACY_MAIL_FROM) is written to {outbox} (PRIVACY_SMTP_URL is not set)"
        )
    if not no_serve:
        click.echo(f"serving on {app.config['PRIVACY_BASE_URL']}/officer/ (Ctrl-C stops)")
        sys.stdout.flush()
        # The demo runs the scheduler beside the web server: retention on schedule, and the outbox (mail,
        # webhooks, erasure on withdrawal). Ctrl-C or SIGTERM stops both.
        processes = [
            subprocess.Popen(_gunicorn_args(host, port, DEMO_WORKERS)),  # noqa: S603
            subprocess.Popen([sys.executable, "-m", "privacy_service.cli", "scheduler"]),  # noqa: S603
        ]
        sys.exit(_supervise(processes, (signal.SIGTERM, signal.SIGINT)))


def _record_survey_consents(app: Flask, consents: list[dict]) -> int:
    """Record the survey tool's consents in the consent registry (once: a rerun changes nothing), and mail
    each person her receipt with its withdrawal link, as a portal recording them would have."""
    from privacy_service.consent import service as consent_service

    links = app.extensions["links"]
    changed = 0
    for item in consents:
        with transaction(get_engine()) as session:
            # The receipt mails go to the outbox (instance/outbox without SMTP): the README's withdrawal walk
            # starts from Kari's.
            change = consent_service.change_consent(
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
    # An applied rule change (a new schedule, a new rule, a retired activity) reaches the job store within
    # PRIVACY_SCHEDULER_RESYNC_SECONDS, without a restart; unchanged jobs are left alone.
    while not stop.wait(float(app.config.get("PRIVACY_SCHEDULER_RESYNC_SECONDS") or 60)):
        try:
            counts = sync_jobs(scheduler, app)
        except Exception as exc:  # noqa: BLE001 - the database away: keep the jobs as they are, try again
            click.echo(f"retention jobs not synchronised ({type(exc).__name__}); retrying", err=True)
            continue
        if counts["added"] or counts["changed"] or counts["removed"]:
            click.echo("retention jobs: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    scheduler.shutdown(wait=True)
    click.echo("scheduler stopped")


@click.group("outbox")
def outbox_group() -> None:
    """E-mails, webhooks and follow-up tasks waiting in the outbox."""


@outbox_group.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering until stopped.")
@click.option("--interval", default=5.0, show_default=True, type=float, help="Seconds between rounds.")
@click.option(
    "--lane",
    type=click.Choice(["all", "mail", "webhooks"]),
    default="all",
    show_default=True,
    help="Mail and tasks, webhooks, or both (with --loop, webhooks run in a thread of their own).",
)
@with_appcontext
def outbox_deliver(loop: bool, interval: float, lane: str) -> None:
    """Send what is due (with retry and backoff); print what happened."""
    import threading

    from privacy_service import notify, webhooks

    transport, engine = notify.transport_for(current_app.config), get_engine()
    lanes = {"mail": notify.deliver_due, "webhooks": webhooks.deliver_webhooks}
    chosen = list(lanes) if lane == "all" else [lane]
    if not loop:
        for name in chosen:
            counts = lanes[name](engine, transport)
            click.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        return
    threads = [
        threading.Thread(
            target=_deliver_forever, args=(name, lanes[name], engine, transport, interval), daemon=True
        )
        for name in chosen
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _deliver_forever(name: str, deliver: Any, engine: Any, transport: Any, interval: float) -> None:
    """One lane's loop: deliver, print what happened, wait; a database away is waited out, never an exit."""
    import time

    from sqlalchemy.exc import OperationalError

    while True:
        try:
            counts = deliver(engine, transport)
        except OperationalError as exc:
            click.echo(
                f"{name}: database unavailable ({type(exc.orig).__name__}); retrying in {interval}s", err=True
            )
            counts = {}
        if any(counts.values()):
            click.echo(f"{name}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        time.sleep(interval)
