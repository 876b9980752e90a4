"""Idempotency-Key on the calls that create (issue 20, item 2): a portal that lost an answer sends the same
call again and gets the first answer, never a second request, consent, breach or activity."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from tests_support import bearer, minimal_activity

from privacy_service.consent.models import ConsentEvent
from privacy_service.db import transaction
from privacy_service.dsar.models import DsarRequest
from privacy_service.idempotency import IdempotencyRecord, purge_job
from privacy_service.kernel import utcnow
from privacy_service.notify import OutboxMessage
from privacy_service.registers.models import Breach

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann"}
KEY = "6b1f5c0e-7d1a-4c39-9a1e-2f0c9b7a1d01"


def _count(app: Any, model: Any) -> int:
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def portal(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:read", "requests:write"))


def _submit(client: Any, headers: dict[str, str], key: str | None = KEY, **body: Any) -> Any:
    body = {"type": "access", "subject": KARI, **body}
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/requests", json=body, headers={**headers, **extra})


def test_a_request_sent_twice_with_one_key_is_made_once(app, client, portal) -> None:  # type: ignore[no-untyped-def]
    first = _submit(client, portal)
    again = _submit(client, portal)
    assert first.status_code == again.status_code == 201, again.get_json()
    assert again.get_json() == first.get_json() and again.get_data() == first.get_data()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert _count(app, DsarRequest) == 1
    assert _count(app, OutboxMessage) == _outbox_after_one(app)  # one confirmation mail, not two


def _outbox_after_one(app: Any) -> int:
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        kinds = session.scalars(select(OutboxMessage.kind)).all()
    assert kinds.count("email") == 1
    return len(kinds)


def test_without_a_key_each_call_makes_its_own(app, client, portal) -> None:  # type: ignore[no-untyped-def]
    assert _submit(client, portal, key=None).status_code == 201
    assert _submit(client, portal, key=None).status_code == 201
    assert _count(app, DsarRequest) == 2


def test_the_key_with_another_body_is_refused_and_makes_nothing(app, client, portal) -> None:  # type: ignore[no-untyped-def]
    assert _submit(client, portal).status_code == 201
    other = _submit(client, portal, type="erasure")
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert "Idempotency-Key" in other.get_json()["error"]["fields"]
    assert _count(app, DsarRequest) == 1


def test_a_key_belongs_to_its_caller(app, client, portal, make_key) -> None:  # type: ignore[no-untyped-def]
    other = bearer(make_key("requests:read", "requests:write", name="another-portal"))
    mine, theirs = _submit(client, portal), _submit(client, other)
    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["reference"] != theirs.get_json()["reference"]
    assert "Idempotent-Replayed" not in theirs.headers  # never another client's answer
    assert _count(app, DsarRequest) == 2


def test_a_refused_call_leaves_the_key_free_for_the_mended_one(app, client, portal) -> None:  # type: ignore[no-untyped-def]
    refused = _submit(client, portal, type="telepathy")
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "validation_error"
    mended = _submit(client, portal, type="telepathy")
    assert mended.status_code == 422  # not a replay of the refusal: the call is checked again
    assert _count(app, IdempotencyRecord) == 0
    assert _submit(client, portal).status_code == 201
    assert _count(app, DsarRequest) == 1


@pytest.mark.parametrize("key", ["", "a" * 256, "has space", "æøå"])
def test_a_key_that_is_not_one_is_refused(app, client, portal, key) -> None:  # type: ignore[no-untyped-def]
    headers = {**portal, "Idempotency-Key": key}
    answer = client.post("/api/v1/requests", json={"type": "access", "subject": KARI}, headers=headers)
    assert answer.status_code == 422 and answer.get_json()["error"]["fields"]["Idempotency-Key"]
    assert _count(app, DsarRequest) == 0


def test_a_key_is_forgotten_after_a_day(app, client, portal) -> None:  # type: ignore[no-untyped-def]
    assert _submit(client, portal).status_code == 201
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    again = _submit(client, portal)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert _count(app, DsarRequest) == 2
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=25)))
    purge_job(app)
    assert _count(app, IdempotencyRecord) == 0


def test_a_consent_and_a_breach_and_an_activity_are_made_once(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    writer = bearer(make_key("consent:write", "breaches:manage", "registry:write", "registry:read"))
    keyed = {**writer, "Idempotency-Key": KEY}
    path = "/api/v1/consents/kari.nordmann@example.no/surveys"
    given = client.put(path, json={"status": "given"}, headers=keyed)
    again = client.put(path, json={"status": "given"}, headers=keyed)
    assert given.status_code == again.status_code == 200 and again.get_json() == given.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"  # the first answer, receipt and all
    withdrawn = client.put(path, json={"status": "withdrawn"}, headers={**writer, "Idempotency-Key": "w-1"})
    assert withdrawn.status_code == 200
    assert (
        client.put(path, json={"status": "withdrawn"}, headers={**writer, "Idempotency-Key": "w-1"}).headers[
            "Idempotent-Replayed"
        ]
        == "true"
    )
    assert _count(app, ConsentEvent) == 2
    breach = {
        "title": "Brev sendt til feil mottaker",
        "description": "Et vedtaksbrev ble sendt til feil adresse.",
        "discovered_at": (utcnow() - timedelta(hours=1)).isoformat(),
        "activities": ["applications"],
    }
    made = client.post("/api/v1/breaches", json=breach, headers={**writer, "Idempotency-Key": "breach-1"})
    assert made.status_code == 201, made.get_json()
    twice = client.post("/api/v1/breaches", json=breach, headers={**writer, "Idempotency-Key": "breach-1"})
    assert twice.status_code == 201 and twice.get_json()["reference"] == made.get_json()["reference"]
    assert _count(app, Breach) == 1
    record = minimal_activity(slug="made-once")
    created = client.post("/api/v1/activities", json=record, headers={**writer, "Idempotency-Key": "act-1"})
    repeated = client.post("/api/v1/activities", json=record, headers={**writer, "Idempotency-Key": "act-1"})
    assert created.status_code == repeated.status_code == 201, repeated.get_json()
    assert repeated.headers["ETag"] == created.headers["ETag"] == 'W/"v1"'


def test_two_calls_at_once_with_one_key_make_one_request(app, portal) -> None:  # type: ignore[no-untyped-def]
    answers: list[Any] = []
    start = threading.Barrier(4)

    def call() -> None:
        start.wait()
        answers.append(_submit(app.test_client(), portal))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 4 and _count(app, DsarRequest) == 1
    made = {a.get_json()["reference"] for a in answers if a.status_code == 201}
    assert len(made) == 1
    if app.extensions["engine"].dialect.name == "postgresql":
        # the others wait on the key's unique index, then replay the first answer
        assert [a.status_code for a in answers] == [201] * 4
    else:  # SQLite has one writer: a call that cannot wait is told to try again, never given a second request
        assert {a.status_code for a in answers} <= {201, 409, 503}
