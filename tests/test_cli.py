"""The privacy-service command: users, API keys, exports."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from pgcluster import free_port
from sqlalchemy import create_engine, text
from tests_support import bearer

from privacy_service.cli.ready import instance_problem
from privacy_service.config import Settings
from privacy_service.migrate import alembic_config, head_revision, upgrade


def test_api_key_create_prints_the_key_alone_on_the_last_line_and_it_works(app, client, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=["api-key", "create", "--name", "helsedata-portal", "--scopes", "registry:read,consent:read"]
    )
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("psk_") and " " not in key
    assert client.get("/api/v1/activities", headers=bearer(key)).status_code == 200
    again = runner.invoke(
        args=["api-key", "create", "--name", "helsedata-portal", "--scopes", "registry:read"]
    )
    assert again.exit_code == 2 and "already exists" in again.output


def test_api_key_create_refuses_unknown_scopes(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["api-key", "create", "--name", "x", "--scopes", "registry:read,everything"])
    assert result.exit_code == 2
    assert "everything" in result.output


def test_user_create_makes_an_officer_who_can_log_in(client, runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=["user", "create", "--username", "dpo", "--role", "officer"],
        input="a-long-password-1\na-long-password-1\n",
    )
    assert result.exit_code == 0, result.output
    from tests_support import csrf_token

    login = client.post(
        "/login", data={"username": "dpo", "password": "a-long-password-1", "csrf_token": csrf_token(client)}
    )
    assert login.status_code == 302


def test_user_create_refuses_a_short_password(runner) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        args=["user", "create", "--username", "dpo", "--role", "officer"], input="short\nshort\n"
    )
    assert result.exit_code == 2 and "12 characters" in result.output


def test_ropa_export_writes_every_format(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for fmt in ("pdf", "csv", "json", "jsonld"):
        out = tmp_path / f"ropa.{fmt}"
        result = runner.invoke(args=["ropa", "export", "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 500
    assert (tmp_path / "ropa.pdf").read_bytes().startswith(b"%PDF")
    rows = list(csv.reader(io.StringIO((tmp_path / "ropa.csv").read_text(encoding="utf-8-sig"))))
    doc = json.loads((tmp_path / "ropa.json").read_text())
    assert len(rows) - 1 == len(doc["activities"]) >= 10


def test_demo_prepares_data_systems_with_kari_and_demo_officers(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app("empty")
    result = app.test_cli_runner().invoke(args=["demo", "--seed", "3", "--people", "20", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "Kari Nordmann" in result.output
    assert sum(line.startswith("log in as") for line in result.output.splitlines()) == 3
    demo = Path(app.config["PRIVACY_INSTANCE_PATH"]) / "demo"
    assert sorted(p.name for p in demo.glob("*.db")) == [
        "helsedata_portal.db",
        "helsedata_support.db",
        "helsedata_survey.db",
        "helsedir_office.db",
    ]
    check = app.test_cli_runner().invoke(args=["policies", "check"])
    assert "4 systems" in check.output


def test_api_key_rotation_keeps_the_old_key_for_the_grace_period_and_revocation_ends_both(
    app, client, runner
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from sqlalchemy import select

    from privacy_service.db import transaction
    from privacy_service.security.models import ApiClient

    path = "/api/v1/activities/accounts"
    created = runner.invoke(args=["api-key", "create", "--name", "portal", "--scopes", "registry:read"])
    old = created.output.strip().splitlines()[-1]
    rotated = runner.invoke(args=["api-key", "rotate", "--name", "portal", "--grace-hours", "1"])
    assert rotated.exit_code == 0, rotated.output
    new = rotated.output.strip().splitlines()[-1]
    assert new.startswith("psk_") and new != old and "old key works until" in rotated.output
    assert client.get(path, headers={"Authorization": f"Bearer {new}"}).status_code == 200
    assert client.get(path, headers={"Authorization": f"Bearer {old}"}).status_code == 200  # in its grace
    listed = runner.invoke(args=["api-key", "list"]).output
    assert "portal" in listed and new not in listed and old not in listed and "old key until" in listed
    # the grace period ends: the old key stops, the new one goes on
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        portal = session.scalars(select(ApiClient).where(ApiClient.name == "portal")).one()
        portal.previous_key_expires_at -= timedelta(hours=2)
    assert client.get(path, headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get(path, headers={"Authorization": f"Bearer {new}"}).status_code == 200
    # rotating with no grace stops the current key at once
    again = runner.invoke(args=["api-key", "rotate", "--name", "portal", "--grace-hours", "0"])
    newest = again.output.strip().splitlines()[-1]
    assert client.get(path, headers={"Authorization": f"Bearer {new}"}).status_code == 401
    assert client.get(path, headers={"Authorization": f"Bearer {newest}"}).status_code == 200
    runner.invoke(args=["api-key", "rotate", "--name", "portal", "--grace-hours", "5"])
    assert runner.invoke(args=["api-key", "revoke", "--name", "portal"]).exit_code == 0
    assert client.get(path, headers={"Authorization": f"Bearer {newest}"}).status_code == 401  # old one too
    events = [e for e in _audit(app) if e.startswith("api_client.")]
    assert events == ["api_client.create", "api_client.rotate", "api_client.rotate", "api_client.rotate",
                      "api_client.revoke"]  # fmt: skip
    assert runner.invoke(args=["api-key", "rotate", "--name", "portal"]).exit_code != 0  # revoked for good


def _audit(app) -> list[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from privacy_service.audit import AuditEvent
    from privacy_service.db import transaction

    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


@pytest.mark.parametrize(
    ("command", "status"),
    [
        (["privacy_service.cli", "serve", "--workers", "2", "--port", "{port}"], 2),
        (["privacy_service.cli", "demo", "--people", "5", "--port", "{port}"], 2),
        # gunicorn started by hand with the service's settings refuses too
        (["gunicorn", "-c", "python:privacy_service.gunicorn_conf", "-w", "2", "-b", "127.0.0.1:{port}"], 1),
    ],
    ids=["serve", "demo", "gunicorn"],
)
def test_several_workers_each_counting_rate_limits_on_their_own_are_refused(
    command: list[str], status: int, tmp_path: Path
) -> None:
    args = [part.format(port=free_port()) for part in command]
    if args[0] == "gunicorn":
        args.append("privacy_service:create_app()")
    env = {**os.environ, "PRIVACY_RATELIMIT_STORAGE": "memory://", "PRIVACY_INSTANCE_PATH": str(tmp_path)}
    if args[1] == "serve":  # serve needs a database made by init (test_commands_before_init_…)
        upgrade(create_engine(f"sqlite:///{tmp_path / 'privacy.db'}"), "head")
    proc = subprocess.Popen(
        [sys.executable, "-m", *args],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group, so that a server that did start is stopped whole below
    )
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
        pytest.fail(f"{args[0]} started serving instead of refusing:\n{output}")
    assert proc.returncode == status, output
    assert "would each count on their own" in output
    assert "database://" in output and "redis://" in output and "--workers 1" in output
    assert not (tmp_path / "demo").exists()  # the demo refused before it made anything


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRIVACY_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("DATABASE_URL", None)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "privacy_service.cli", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["ropa", "export", "--format", "json"],
        ["scheduler"],
        ["serve", "--port", "1"],
        ["user", "create", "someone", "--role", "officer"],
        ["outbox", "deliver"],
        ["dsar", "replay-erasures"],
    ],
    ids=lambda args: args[0],
)
def test_commands_before_init_say_what_to_run_and_create_nothing(args: list[str], tmp_path: Path) -> None:
    done = _cli(tmp_path, *args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "no database yet" in done.stderr and "privacy-service init" in done.stderr
    assert "privacy-service demo" in done.stderr
    assert not (tmp_path / "instance").exists()  # no SQLite file, no secret key


def test_help_and_the_policy_check_work_before_init(tmp_path: Path) -> None:
    assert _cli(tmp_path, "ropa", "--help").returncode == 0
    assert _cli(tmp_path, "ropa", "export", "--help").returncode == 0
    checked = _cli(tmp_path, "policies", "check")
    assert checked.returncode == 0, checked.stderr
    assert "organisations" in checked.stdout and "were not checked: this instance has no database yet" in (
        checked.stdout
    )
    assert not (tmp_path / "instance" / "privacy.db").exists()


def test_a_schema_behind_the_software_says_run_init(tmp_path: Path) -> None:
    database = tmp_path / "instance" / "privacy.db"
    database.parent.mkdir()
    engine = create_engine(f"sqlite:///{database}")
    head = head_revision()
    before = ScriptDirectory.from_config(alembic_config()).get_revision(head).down_revision
    upgrade(engine, str(before))
    done = _cli(tmp_path, "retention", "rules")
    assert done.returncode == 1
    assert f"at revision {before}" in done.stderr and f"needs {head}" in done.stderr
    assert "privacy-service init" in done.stderr and "Traceback" not in done.stderr
    # serve starts on it (a rolling upgrade runs init after; /readyz answers 503 until then)
    settings = Settings(instance_path=database.parent, database_url=None)
    assert instance_problem("serve", settings) is None
    assert instance_problem("retention", settings) is not None

    with engine.begin() as conn:  # a schema from a newer version of the software
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    newer = instance_problem("ropa", settings)
    assert newer is not None and "newer than this version" in newer
    engine.dispose()


def test_an_unreachable_database_is_named_without_its_password() -> None:
    url = f"postgresql://privacy:hunter22@127.0.0.1:{free_port()}/privacy"
    problem = instance_problem("ropa", Settings(database_url=url))
    assert problem is not None and problem.startswith("Cannot reach the database at postgresql")
    assert "hunter22" not in problem and "127.0.0.1" in problem


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.ops
def test_demo_on_another_port_links_there_mails_receipts_and_stops_whole_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PRIVACY_INSTANCE_PATH": str(tmp_path / "instance")}
    for name in ("PRIVACY_BASE_URL", "DATABASE_URL", "PRIVACY_SMTP_URL"):
        env.pop(name, None)
    log = (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "privacy_service.cli", "demo", "--people", "5", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: what is left of it after SIGTERM can be seen (and cleaned)
    )
    outbox = tmp_path / "instance" / "outbox"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(
            "kari.nordmann" in mail.read_text(errors="replace") for mail in outbox.glob("*.eml")
        ):
            assert demo.poll() is None, (tmp_path / "demo.log").read_text()
            time.sleep(0.5)
        printed = (tmp_path / "demo.log").read_text()
        assert f"serving on http://localhost:{port}/officer/" in printed
        assert "mail from personvern@localhost (PRIVACY_MAIL_FROM) is written to" in printed
        kari = next(
            mail for mail in outbox.glob("*.eml") if "kari.nordmann" in mail.read_text(errors="replace")
        )
        message = email.message_from_bytes(kari.read_bytes(), policy=email.policy.default)
        assert message["From"] == "personvern@localhost"
        body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
        assert f"http://localhost:{port}/consent/withdraw/" in body
        assert "localhost:5000" not in body
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
            assert answer.status == 200
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(timeout=60) is not None
        deadline = time.monotonic() + 30
        while _group_alive(demo.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _group_alive(demo.pid), "the scheduler or a web worker outlived the demo"
    finally:
        if _group_alive(demo.pid):
            os.killpg(demo.pid, signal.SIGKILL)
        log.close()
