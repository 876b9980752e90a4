"""Concurrent writers never lose a consent event, and the state always equals the latest event."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest
from sqlalchemy import select

from privacy_service.audit import Actor, verify_chain
from privacy_service.consent import service
from privacy_service.consent.models import ConsentEvent, ConsentState
from privacy_service.db import make_engine, transaction

LINKS = service.Links(base_url="http://localhost:5000", secret_key="test")
SUBJECTS = ["race-1@example.no", "race-2@example.no"]


def _write(engine: Any, seed: int, writes: int, changed: list[int], errors: list[BaseException]) -> None:
    rng = random.Random(seed)
    try:
        for _ in range(writes):
            with transaction(engine) as session:
                change = service.record_consent(
                    session,
                    subject=rng.choice(SUBJECTS),
                    purpose="surveys",
                    status=rng.choice(["given", "withdrawn"]),
                    channel="api",
                    actor=Actor("api_client", f"writer-{seed}"),
                    links=LINKS,
                )
                if change.changed:
                    changed.append(change.event.id)
    except BaseException as err:  # noqa: BLE001 - reported by the test
        errors.append(err)


def _check_invariants(engine: Any, changed_ids: list[int]) -> None:
    with transaction(engine) as session:
        events = list(session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)))
        assert sorted(changed_ids) == [e.id for e in events], "an event was lost, or one was written twice"
        for subject in SUBJECTS:
            mine = [e for e in events if e.subject == subject]
            state = session.scalar(select(ConsentState).where(ConsentState.subject == subject))
            if not mine:
                continue
            assert state is not None
            assert (state.last_event_id, state.status) == (mine[-1].id, mine[-1].status)
            # serialised writers: a change never repeats the status before it
            assert all(a.status != b.status for a, b in zip(mine, mine[1:], strict=False))
        assert verify_chain(session).ok


def test_threads_never_lose_an_event(app) -> None:  # type: ignore[no-untyped-def]
    engine = app.extensions["engine"]
    changed: list[int] = []
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_write, args=(engine, i, 25, changed, errors)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert changed, "no write changed anything"
    _check_invariants(engine, changed)


WRITER = textwrap.dedent(
    """
    import sys, random
    from privacy_service.audit import Actor
    from privacy_service.consent import service
    from privacy_service.db import make_engine, transaction

    url, seed, writes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    engine = make_engine(url)
    links = service.Links(base_url="http://localhost:5000", secret_key="test")
    rng = random.Random(seed)
    for _ in range(writes):
        with transaction(engine) as session:
            change = service.record_consent(
                session, subject=rng.choice(["race-1@example.no", "race-2@example.no"]), purpose="surveys",
                status=rng.choice(["given", "withdrawn"]), channel="api", actor=Actor("api_client", "proc"),
                links=links,
            )
            if change.changed:
                print(change.event.id, flush=True)
    """
)


@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)  # SQLite runs one writer process
def test_two_processes_on_postgresql_never_lose_an_event(app) -> None:  # type: ignore[no-untyped-def]
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(seed), "60"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed in (1, 2)
    ]
    changed: list[int] = []
    for proc in procs:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()
        changed += [int(line) for line in out.split()]
    engine = make_engine(url)
    try:
        _check_invariants(engine, changed)
    finally:
        engine.dispose()
