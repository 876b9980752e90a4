"""After erasure: the ledger of keyed hashes, the replay after a restore from backup, and revoked links."""

from __future__ import annotations

import json
import re
import shutil
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from tests_support import bearer, settle

from privacy_service import notify, webhooks
from privacy_service.audit import Actor
from privacy_service.db import transaction
from privacy_service.dsar import ledger
from privacy_service.dsar.models import DsarChallenge
from privacy_service.retention.holds import set_hold

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
FILES = ("helsedata_portal.db", "helsedata_support.db", "helsedata_survey.db")


@pytest.fixture
def engine_name() -> str:
    return "sqlite"


def _count(demo, file: str, sql: str) -> int:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{demo / 'demo' / file}")
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def _kari_rows(demo) -> dict[str, int]:  # type: ignore[no-untyped-def]
    where = "lower(email) = 'kari.nordmann@example.no'"
    return {
        "accounts": _count(demo, "helsedata_portal.db", f"SELECT count(*) FROM accounts WHERE {where}"),
        "applications": _count(
            demo, "helsedata_portal.db", f"SELECT count(*) FROM applications WHERE {where}"
        ),
        "support": _count(
            demo, "helsedata_support.db", f"SELECT count(*) FROM support_enquiries WHERE {where}"
        ),
        "surveys": _count(
            demo, "helsedata_survey.db", f"SELECT count(*) FROM survey_responses WHERE {where}"
        ),
    }


def _totals(demo) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {
        "accounts": _count(demo, "helsedata_portal.db", "SELECT count(*) FROM accounts"),
        "support": _count(demo, "helsedata_support.db", "SELECT count(*) FROM support_enquiries"),
        "surveys": _count(demo, "helsedata_survey.db", "SELECT count(*) FROM survey_responses"),
    }


def test_an_erasure_is_replayed_after_a_restore_and_held_rows_stay(
    app, client, runner, make_key, demo
) -> None:  # type: ignore[no-untyped-def]
    key = bearer(
        make_key(
            "requests:read", "requests:write", "requests:write:verified", "requests:manage", "consent:read"
        )
    )
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["subject.erased"]}
    subscribed = client.post("/api/v1/webhooks", headers=key, json=hook)
    assert subscribed.status_code == 201, subscribed.get_json()
    pending = client.post("/api/v1/requests", headers=key, json={"type": "access", "subject": KARI})
    assert pending.get_json()["status"] == "awaiting_identity"  # an open confirmation link of hers
    backup = demo / "backup"
    backup.mkdir()
    for file in FILES:
        shutil.copy(demo / "demo" / file, backup / file)
    before = _kari_rows(demo)
    assert before["accounts"] == 1 and before["support"] >= 1 and before["surveys"] >= 1

    scope = ["accounts", "support", "surveys", "applications"]
    body = {"type": "erasure", "subject": KARI, "verified_by": "ID-porten", "activities": scope}
    ref = client.post("/api/v1/requests", headers=key, json=body).get_json()["reference"]
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    settle(client, ref, key)
    assert client.post(f"/api/v1/requests/{ref}/approve", headers=key, json={}).status_code == 200
    erased = _kari_rows(demo)
    assert erased == {"accounts": 0, "applications": 1, "support": 0, "surveys": 0}
    after_erasure = _totals(demo)

    text_of_ledger = ledger.ledger_path(demo).read_text()
    [entry] = [json.loads(line) for line in text_of_ledger.splitlines()]
    assert (
        entry["reference"] == ref and len(entry["hashes"]) == 2 and "applications" not in entry["activities"]
    )
    assert (
        "kari" not in text_of_ledger.lower() and KARI["national_id"] not in text_of_ledger
    )  # non-identifying
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        events = [m for m in session.scalars(select(notify.OutboxMessage)) if m.event == "subject.erased"]
        open_links = session.scalars(select(DsarChallenge).where(DsarChallenge.used_at.is_(None))).all()
    [erased_event] = events  # the portal that submitted her request ends her sessions
    secret = subscribed.get_json()["secret"]
    assert erased_event.payload["data"]["reference"] == ref
    assert erased_event.payload["data"]["subject_pseudonym"] == webhooks.pseudonym(secret, KARI["email"])
    assert KARI["email"] not in json.dumps(erased_event.payload)
    assert open_links == []  # her other request's confirmation link no longer works

    for file in FILES:  # the restore from the backup brings her rows back
        shutil.copy(backup / file, demo / "demo" / file)
    assert _kari_rows(demo) == before
    with (
        app.app_context(),
        transaction(app.extensions["engine"]) as session,
    ):  # a new case holds one support row
        [support_id] = _support_ids(demo)
        set_hold(session, data={"kind": "legal", "scope": "records", "system": "helsedata-support",
                                "table_name": "support_enquiries", "record_keys": [str(support_id)],
                                "basis": "Complaint 26/77"}, actor=Actor("user", "dpo"))  # fmt: skip

    dry = runner.invoke(args=["dsar", "replay-erasures", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would erase" in dry.output and _kari_rows(demo) == before  # a dry run changes nothing
    real = runner.invoke(args=["dsar", "replay-erasures"])
    assert real.exit_code == 0, real.output
    assert re.search(r"helsedata-support\.support_enquiries: found \d+, held 1", real.output), real.output
    again = _kari_rows(demo)
    assert again["accounts"] == 0 and again["surveys"] == 0 and again["applications"] == 1
    assert again["support"] == 1  # the held row stays
    totals = _totals(demo)
    assert totals["accounts"] == after_erasure["accounts"] and totals["surveys"] == after_erasure["surveys"]
    assert totals["support"] == after_erasure["support"] + 1  # nobody else's rows were touched


def _support_ids(demo) -> list[Any]:  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{demo / 'demo' / 'helsedata_support.db'}")
    try:
        with engine.connect() as conn:
            sql = "SELECT id FROM support_enquiries WHERE lower(email) = 'kari.nordmann@example.no' LIMIT 1"
            return list(conn.execute(text(sql)).scalars())
    finally:
        engine.dispose()


def test_hashes_ignore_case_and_spacing_and_depend_on_the_key() -> None:
    one = ledger.identity_hash("k1", "email", " Kari.Nordmann@Example.no ")
    assert one == ledger.identity_hash("k1", "email", "kari.nordmann@example.no")
    assert one != ledger.identity_hash("k2", "email", "kari.nordmann@example.no")
    assert ledger.identity_hash("k1", "national_id", "158385 12671") == ledger.identity_hash(
        "k1", "national_id", "15838512671"
    )
