"""kill -9 a real retention run over a large table several times: nothing half-done, no held row lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from privacy_service.audit import Actor
from privacy_service.db import transaction
from privacy_service.retention.holds import set_hold

from .conftest import query

pytestmark = pytest.mark.ops  # kills a real `retention run` process

SUPPORT = "support:helsedata-support.support_enquiries:delete"
SURVEYS = "surveys:helsedata-survey.survey_responses:delete"
ROWS = 120_000


def _fill(instance: Path) -> None:
    """Add ROWS old, answered enquiries and survey answers (all due) to the demo systems."""
    old = datetime(2020, 1, 1)
    for file, sql in (
        (
            "helsedata_support.db",
            "INSERT INTO support_enquiries"
            " (name, email, phone, subject, body, received_at, answered_at, restricted)"
            " VALUES (:n, :e, NULL, 's', 'b', :t, :t, 0)",
        ),
        (
            "helsedata_survey.db",
            "INSERT INTO survey_responses (name, email, answers, consent_given_at, submitted_at, restricted)"
            " VALUES (:n, :e, 'a', :t, :t, 0)",
        ),
    ):
        engine = create_engine(f"sqlite:///{instance / 'demo' / file}")
        with engine.begin() as conn:
            conn.execute(
                text(sql),
                [
                    {"n": f"Person {i}", "e": f"p{i}@example.no", "t": old + timedelta(minutes=i)}
                    for i in range(ROWS)
                ],
            )
        engine.dispose()


def _invariants(instance: Path, held: set[int]) -> tuple[int, int]:
    """Every held row is there. Return the enquiries left and the old survey answers deleted."""
    ids = {r[0] for r in query(instance, "helsedata_support.db", "SELECT id FROM support_enquiries")}
    assert held <= ids, "a held row was deleted"
    old = query(
        instance, "helsedata_survey.db", "SELECT count(*) FROM survey_responses WHERE name LIKE 'Person %'"
    )
    return len(ids), ROWS - old[0][0]


def test_kill_9_mid_run_then_rerun_finishes_the_job(app, demo) -> None:  # type: ignore[no-untyped-def]
    _fill(demo)
    held = {
        r[0]
        for r in query(demo, "helsedata_support.db", "SELECT id FROM support_enquiries WHERE id % 97 = 0")
    }
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        set_hold(
            session,
            data={
                "kind": "legal",
                "scope": "records",
                "system": "helsedata-support",
                "table_name": "support_enquiries",
                "record_keys": [str(i) for i in held],
                "basis": "Complaints under review",
            },
            actor=Actor("user", "dpo"),
        )
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "PRIVACY_INSTANCE_PATH": str(demo),
        "PRIVACY_SECRET_KEY": "test-secret",
    }
    command = [sys.executable, "-m", "privacy_service.cli", "retention", "run", "--batch-size", "500"]
    command += ["--rule", SUPPORT, "--rule", SURVEYS]
    rng = random.Random(9)
    kills = 0
    progress = []
    for _ in range(4):
        before = _invariants(demo, held)
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        while proc.poll() is None and _invariants(demo, held) == before:  # wait until batches are committing
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.15))  # then kill at some instant in the middle of the work
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.communicate()
        progress.append(_invariants(demo, held))
    assert kills >= 2, f"the run finished before it could be killed: {progress}"
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert final.returncode == 0, final.stderr + final.stdout
    left, deleted = _invariants(demo, held)
    not_due = {r[0] for r in query(demo, "helsedata_support.db", "SELECT id FROM support_enquiries")} - held
    assert left == len(held) + len(not_due)
    # besides the held rows, only rows not yet due are left (unanswered, or answered in the last 3 months)
    recent = query(
        demo,
        "helsedata_support.db",
        "SELECT count(*) FROM support_enquiries WHERE answered_at IS NULL OR answered_at > :c",
        c=str(datetime.now() - timedelta(days=89)),
    )[0][0]
    assert len(not_due) <= recent
    assert deleted == ROWS
    statuses = [r[0] for r in query_runs(app)]
    assert statuses.count("interrupted") == kills and statuses[-1] == "completed"


def query_runs(app):  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return list(session.execute(text("SELECT status FROM retention_run ORDER BY id")))
