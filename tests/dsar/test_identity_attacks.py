"""Identity under attack (issue 13): a stranger who proves only his own address, an unsolicited confirmation,
and guessing the code. Each test failed before only verified identifiers searched and codes were counted in
the database."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests_support import bearer, complete, csrf_token, link_and_code, settle

from privacy_service import notify
from privacy_service.audit import AuditEvent
from privacy_service.datamap import service as datamap
from privacy_service.db import transaction
from privacy_service.dsar import identity, service
from privacy_service.dsar.models import DsarChallenge
from privacy_service.notify import OutboxMessage

KARI_EMAIL, KARI_NID = "kari.nordmann@example.no", "15838512671"
MALLORY = "mallory@example.net"
# The stranger types his own address beside Kari's national identity number (it is not a secret).
STRANGER = {"email": MALLORY, "name": "Mallory", "national_id": KARI_NID}


def _mails(app, to: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "email"))
        return [m.payload for m in rows if m.payload["to"] == to]


def _confirm(client, link: str) -> Any:  # type: ignore[no-untyped-def]
    """Press the button on the confirmation page, as a person would."""
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get(f"/requests/verify/{link}").get_data(as_text=True)
    )
    return client.post(f"/requests/verify/{link}", data={"csrf_token": token.group(1) if token else ""})


def _deliver(app) -> None:  # type: ignore[no-untyped-def]
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))


def _karis_rows(app, demo: Path) -> dict[str, list[dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """Kari's rows, found by both her identifiers, per table."""
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        found = datamap.find_subject_rows(
            session, identity={"email": KARI_EMAIL, "national_id": KARI_NID}, instance_path=demo
        )
    return {f"{t.system}.{t.table}": t.rows for t in found}


@pytest.fixture
def keys(make_key) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    return {
        "portal": bearer(make_key("requests:read", "requests:write")),
        "officer": bearer(make_key("requests:read", "requests:write", "requests:manage")),
    }


RIGHTS = [
    ("access", {}),
    ("portability", {}),
    ("rectification", {"field": "email", "value": MALLORY}),
    ("erasure", {}),
    ("restriction", {}),
    ("objection", {}),
]


@pytest.mark.parametrize(("right", "details"), RIGHTS, ids=[r for r, __ in RIGHTS])
def test_own_address_beside_anothers_national_id_finds_none_of_her_rows(  # type: ignore[no-untyped-def]
    app, client, keys, demo, right, details
) -> None:
    before = _karis_rows(app, demo)
    assert before["helsedata-portal.accounts"], "the demo must hold Kari's account"
    body = {"type": right, "subject": STRANGER, "details": details}
    created = client.post("/api/v1/requests", json=body, headers=keys["portal"])
    assert created.status_code == 201, created.get_json()
    ref = created.get_json()["reference"]
    token, __ = link_and_code(_mails(app, MALLORY)[-1])
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        service.verify_link(session, token=token)  # Mallory proves his own mailbox, nothing more
    _deliver(app)  # the plan
    plan = client.get(f"/api/v1/requests/{ref}", headers=keys["officer"]).get_json()
    assert plan["status"] == "awaiting_decision", plan
    assert all(not o["records"] for o in plan["outcomes"]), [
        (o["activity"], o["records"]) for o in plan["outcomes"]
    ]
    ids = {i["kind"]: i["verified_by"] for i in plan["identifiers"]}
    assert ids == {"email": "email_code", "national_id": None}  # kept, shown unverified, never searching
    assert not any(t.get("matched_by", {}).get("national_id") for o in plan["outcomes"] for t in o["tables"])
    settle(client, ref, keys["officer"])
    assert client.post(f"/api/v1/requests/{ref}/approve", headers=keys["officer"], json={}).status_code == 200
    done = complete(client, ref, keys["officer"])
    assert done.status_code == 200, done.get_json()
    assert _karis_rows(app, demo) == before  # nothing of hers changed, erased, masked or flagged
    package = client.get(f"/api/v1/requests/{ref}/package", headers=keys["officer"])
    with zipfile.ZipFile(io.BytesIO(package.data)) as archive:
        text = " ".join(
            archive.read(n).decode("utf-8", "replace")
            for n in archive.namelist()
            if n.endswith((".json", ".csv"))
        )
    assert "Storgata 1" not in text and KARI_EMAIL not in text and "Kari" not in text


def test_the_public_form_with_anothers_national_id_finds_none_of_her_rows(app, client, keys, demo) -> None:  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/requests/new?lang=en")
    response = client.post(
        "/requests/new?lang=en",
        data={"csrf_token": token, "type": "access", "name": "Mallory", "email": MALLORY,
              "national_id": KARI_NID, "activities": ["accounts", "applications"]},
    )  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)
    ref = re.search(r"DSR-\d{4}-\d{6}", response.get_data(as_text=True))
    assert ref
    link, __ = link_and_code(_mails(app, MALLORY)[-1])
    _confirm(client, link)
    _deliver(app)
    plan = client.get(f"/api/v1/requests/{ref.group(0)}", headers=keys["officer"]).get_json()
    assert [(o["activity"], o["records"]) for o in plan["outcomes"]] == [("accounts", 0), ("applications", 0)]
    officer_view = client.get(f"/api/v1/requests/{ref.group(0)}", headers=keys["officer"]).get_json()
    assert KARI_NID not in str(officer_view)


def test_an_unsolicited_confirmation_does_not_hand_her_answer_to_the_stranger(
    app, client, keys, demo
) -> None:  # type: ignore[no-untyped-def]
    """Mallory submits in Kari's name with her address and keeps the status link; Kari presses "confirm" on
    the mail she did not ask for. The answer goes to Kari's mailbox; Mallory's status page never shows it."""
    body = {"type": "access", "subject": {"email": KARI_EMAIL, "name": "Kari"}, "activities": ["accounts"]}
    created = client.post("/api/v1/requests", json=body, headers=keys["portal"]).get_json()
    status_path = "/requests/status/" + created["status_url"].rsplit("/", 1)[1]
    ref = created["reference"]
    link, __ = link_and_code(_mails(app, KARI_EMAIL)[-1])
    confirm_page = client.get(f"/requests/verify/{link}?lang=en").get_data(as_text=True)
    assert "the answer will be sent to this address" in confirm_page and KARI_EMAIL in confirm_page
    _confirm(client, link)
    _deliver(app)
    settle(client, ref, keys["officer"])
    client.post(f"/api/v1/requests/{ref}/approve", headers=keys["officer"], json={})
    assert complete(client, ref, keys["officer"]).status_code == 200
    page = client.get(status_path + "?lang=en").get_data(as_text=True)
    assert "/requests/download/" not in page  # the submitter holds the status link, not the mailbox
    assert "sent to the confirmed e-mail address" in page
    answered = _mails(app, KARI_EMAIL)[-1]
    assert ref in answered["subject"] and "Storgata" not in answered["text"]
    mine = re.search(r"/requests/mine/[\w.-]+", answered["text"])
    assert mine, answered["text"]
    kari_page = client.get(mine.group(0) + "?lang=en").get_data(as_text=True)
    download = re.search(r'href="(/requests/download/[^"]+)"', kari_page)
    assert download and client.get(download.group(1)).status_code == 200
    assert client.get(mine.group(0)[:-3] + "xyz").status_code == 404  # a forged link opens nothing
    assert _mails(app, MALLORY) == []


def test_the_submitter_who_typed_the_code_sees_the_answer(app, client, keys, demo) -> None:  # type: ignore[no-untyped-def]
    body = {"type": "access", "subject": {"email": KARI_EMAIL, "name": "Kari"}, "activities": ["accounts"]}
    created = client.post("/api/v1/requests", json=body, headers=keys["portal"]).get_json()
    status_path = "/requests/status/" + created["status_url"].rsplit("/", 1)[1]
    __, code = link_and_code(_mails(app, KARI_EMAIL)[-1])
    token = csrf_token(client, status_path)
    client.post(f"{status_path}/code", data={"csrf_token": token, "code": code})
    _deliver(app)
    settle(client, created["reference"], keys["officer"])
    client.post(f"/api/v1/requests/{created['reference']}/approve", headers=keys["officer"], json={})
    complete(client, created["reference"], keys["officer"])
    assert "/requests/download/" in client.get(status_path).get_data(as_text=True)


def test_find_my_request_sends_a_link_only_to_the_verified_address(app, client, keys) -> None:  # type: ignore[no-untyped-def]
    created = client.post("/api/v1/requests", json={"type": "access", "subject": {"email": KARI_EMAIL}},
                          headers=keys["portal"]).get_json()  # fmt: skip
    ref = created["reference"]
    token = csrf_token(client, "/requests/find?lang=en")

    def ask(email: str) -> str:
        response = client.post(
            "/requests/find?lang=en", data={"csrf_token": token, "reference": ref, "email": email}
        )
        assert response.status_code == 200
        return response.get_data(as_text=True)

    before = len(_mails(app, KARI_EMAIL))
    unverified = ask(KARI_EMAIL)  # not confirmed yet: nobody proved the address
    assert len(_mails(app, KARI_EMAIL)) == before
    link, __ = link_and_code(_mails(app, KARI_EMAIL)[-1])
    _confirm(client, link)
    assert ask(MALLORY) == unverified  # the same answer whoever asks
    assert _mails(app, MALLORY) == []
    ask(KARI_EMAIL.upper())
    mail = _mails(app, KARI_EMAIL)[-1]
    assert ref in mail["subject"] and "/requests/mine/" in mail["text"]
    bad = client.post("/requests/find?lang=en", data={"csrf_token": token, "reference": "x", "email": "y"})
    assert bad.status_code == 422 and "DSR-2026-000123" in bad.get_data(as_text=True)


def _submit_for_codes(client, keys) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    created = client.post("/api/v1/requests", json={"type": "access", "subject": {"email": KARI_EMAIL}},
                          headers=keys["portal"]).get_json()  # fmt: skip
    return created["reference"], created["status_url"].rsplit("/", 1)[1]


def _try(app, status_token: str, code: str) -> str:  # type: ignore[no-untyped-def]
    """One code attempt in its own transaction, as a worker would make it: accepted | wrong | <reason>."""
    try:
        with app.app_context(), transaction(app.extensions["engine"]) as session:
            __, ok = service.verify_code(
                session, status_token=status_token, code=code, secret_key=app.config["SECRET_KEY"]
            )
            return "accepted" if ok else "wrong"
    except identity.ChallengeProblem as problem:
        return problem.reason


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.mark.parametrize("engine_name", ["postgresql"])  # concurrent writers: SQLite serialises them all
def test_forty_concurrent_wrong_codes_leave_the_count_exact(app, client, keys, engine_name) -> None:  # type: ignore[no-untyped-def]
    ref, status_token = _submit_for_codes(client, keys)
    __, code = link_and_code(_mails(app, KARI_EMAIL)[-1])
    barrier = threading.Barrier(40)
    results: list[str] = []

    def guess() -> None:
        barrier.wait()
        results.append(_try(app, status_token, _wrong(code)))

    threads = [threading.Thread(target=guess) for __ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("wrong") == identity.MAX_CODE_ATTEMPTS, results
    assert set(results) <= {"wrong", "locked"}
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        [check] = session.scalars(select(DsarChallenge))
        assert check.attempts == identity.MAX_CODE_ATTEMPTS
    assert _try(app, status_token, code) == "locked"  # the right code no longer helps
    assert (
        client.get(f"/api/v1/requests/{ref}", headers=keys["officer"]).get_json()["identity_status"]
        == "pending"
    )


def test_resends_and_new_requests_do_not_reset_the_daily_bound(app, client, keys) -> None:  # type: ignore[no-untyped-def]
    ref, status_token = _submit_for_codes(client, keys)
    __, code = link_and_code(_mails(app, KARI_EMAIL)[-1])
    for __ in range(identity.MAX_CODE_ATTEMPTS):
        assert _try(app, status_token, _wrong(code)) == "wrong"
    with app.app_context(), transaction(app.extensions["engine"]) as session:  # five fresh tries on the check
        service.resend_challenge(
            session,
            reference=ref,
            actor=service.Actor("subject", ref),
            links=service.Links("http://x", app.config["SECRET_KEY"]),
        )
    __, code = link_and_code(_mails(app, KARI_EMAIL)[-1])
    for __ in range(identity.MAX_DAILY_FAILURES - identity.MAX_CODE_ATTEMPTS):
        assert _try(app, status_token, _wrong(code)) == "wrong"
    # a new request from the same address brings no new tries for the day, and neither does its link
    ref2, status_token2 = _submit_for_codes(client, keys)
    link2, code2 = link_and_code(_mails(app, KARI_EMAIL)[-1])
    assert _try(app, status_token2, code2) == "locked_day"
    locked_page = client.get(f"/requests/verify/{link2}?lang=en")
    assert locked_page.status_code == 409 and "only our privacy team" in locked_page.get_data(as_text=True)
    refused = client.post(
        f"/api/v1/requests/{ref2}/verify", headers=keys["officer"], json={"method": "email"}
    )
    assert refused.status_code in (409, 422)
    # only an officer can verify now, naming the document seen
    by_hand = client.post(f"/api/v1/requests/{ref2}/verify", headers=keys["officer"],
                          json={"note": "Passport seen at the desk", "identifiers": ["email"]})  # fmt: skip
    assert by_hand.status_code == 200 and by_hand.get_json()["identity_method"] == "officer"
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        locks = [
            e.details["bound"]
            for e in session.scalars(select(AuditEvent))
            if e.action == "dsar.identity_locked"
        ]
    assert sorted(set(locks)) == ["check", "daily"]  # both bounds audited when they were reached
