"""Withdrawal as easy as consent: signed links, one-click, erasure, holds, mails, webhooks."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import TimestampSigner
from smtp_support import smtp_sink
from sqlalchemy import create_engine, text
from tests_support import bearer
from webhook_support import webhook_receiver

from privacy_service import notify, webhooks
from privacy_service.audit import Actor
from privacy_service.consent.tokens import make_token
from privacy_service.datamap.demo import create_demo_data
from privacy_service.db import transaction
from privacy_service.kernel import utcnow
from privacy_service.retention.holds import set_hold

KARI = "kari.nordmann@example.no"


@pytest.fixture
def demo(app) -> Path:  # type: ignore[no-untyped-def]
    """The demo data systems in the app's instance folder (Kari has a survey response)."""
    instance = Path(app.config["PRIVACY_INSTANCE_PATH"])
    create_demo_data(instance_path=instance, seed=3, people=20, anchor=date(2026, 11, 1))
    return instance


@pytest.fixture
def sink() -> Any:
    with smtp_sink() as server:
        yield server


def _deliver(app, sink=None, now=None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    config = dict(app.config)
    if sink is not None:
        config["PRIVACY_SMTP_URL"] = sink.url
    return webhooks.deliver_all(app.extensions["engine"], notify.transport_for(config), now=now)


def _survey_rows(instance: Path, email: str) -> int:
    engine = create_engine(f"sqlite:///{instance / 'demo' / 'helsedata_survey.db'}")
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT count(*) FROM survey_responses WHERE lower(email) = :e"), {"e": email}
            ).scalar_one()
    finally:
        engine.dispose()


def _give(client, make_key, subject: str = KARI, purpose: str = "surveys", key=None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    key = key or bearer(make_key("consent:read", "consent:write"))
    response = client.put(
        f"/api/v1/consents/{subject}/{purpose}", json={"status": "given", "channel": "web"}, headers=key
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _link_path(withdraw_url: str) -> str:
    return "/consent/" + withdraw_url.split("/consent/", 1)[1]


def test_the_receipt_mail_carries_a_one_click_withdrawal_link(  # type: ignore[no-untyped-def]
    app, client, make_key, sink, monkeypatch
) -> None:
    # The answer's link and the mail's are signed a moment apart, with a timestamp in whole seconds: one
    # clock for both, so that a second ticking over in between (a loaded machine) does not tell them apart.
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now)
    body = _give(client, make_key)
    assert _deliver(app, sink)["delivered"] == 1
    (mail,) = sink.messages
    assert mail["To"] == KARI
    assert mail["List-Unsubscribe"] == f"<{body['withdraw_url']}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text_body = mail.get_body(preferencelist=("plain",)).get_content()
    assert body["receipt"]["consentReceiptID"] in text_body and body["withdraw_url"] in text_body


def test_a_get_on_the_link_changes_nothing(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    path = _link_path(_give(client, make_key)["withdraw_url"])
    for _ in range(3):  # a mail scanner may open it many times
        page = client.get(path + "?lang=en")
        assert page.status_code == 200 and "Withdraw my consent" in page.get_data(as_text=True)
    status = client.get(f"/api/v1/consents/{KARI}/surveys", headers=bearer(make_key("consent:read")))
    assert status.get_json()["status"] == "given"


def test_withdrawing_from_the_page_erases_the_survey_answers_and_tells_the_subject(
    app, client, make_key, demo, sink
) -> None:  # type: ignore[no-untyped-def]
    assert _survey_rows(demo, KARI) == 1
    path = _link_path(_give(client, make_key)["withdraw_url"])
    done = client.post(path + "?lang=en", data={})  # the button; the link itself is the credential
    assert done.status_code == 200 and "Your consent is withdrawn" in done.get_data(as_text=True)
    assert _survey_rows(demo, KARI) == 1  # nothing erased before the change committed and the task ran
    counts = _deliver(app, sink)
    assert counts["failed"] == 0 and _survey_rows(demo, KARI) == 0
    _deliver(app, sink)  # the confirmation queued by the task
    subjects = [m["Subject"] for m in sink.messages]
    assert "Samtykket ditt er trukket tilbake" in subjects or "Your consent has been withdrawn" in subjects
    confirmation = next(m for m in sink.messages if "List-Unsubscribe" not in m)
    body = confirmation.get_body(preferencelist=("plain",)).get_content()
    assert "erased one record" in body or "slettet én registrering" in body
    auditor = bearer(make_key("audit:read"))
    erase = client.get("/api/v1/audit?action=consent.withdrawal.erase", headers=auditor).get_json()["items"]
    assert erase[0]["details"]["tables"][0]["erased"] == 1 and KARI not in str(erase)


NOTE = "Tvist om brukerstøtte, sak 26/1234 — bevis sikres"  # an officers' note: never in a mail to her
STANDARD = {
    "nb": "De trengs for et rettskrav eller en rettssak (personvernforordningen art. 17 nr. 3 bokstav e).",
    "en": "They are needed for a legal claim or case (Art. 17(3)(e)).",
}
OWN = {"nb": "Svarene dine tas vare på fordi de trengs i en rettssak.",
       "en": "Your answers are kept because they are needed in a court case."}  # fmt: skip


@pytest.mark.parametrize("own_text", [False, True], ids=["standard-text", "own-text"])
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_a_hold_keeps_the_rows_and_the_mail_says_why_in_words_for_her(  # type: ignore[no-untyped-def]
    app, client, make_key, demo, sink, lang: str, own_text: bool
) -> None:
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        hold = set_hold(
            session,
            data={
                "kind": "legal",
                "scope": "subject",
                "activity": "surveys",
                "subject_kind": "email",
                "subject_value": KARI,
                "basis": NOTE,
                "public_text": OWN if own_text else None,
            },
            actor=Actor("user", "dpo"),
        )
    key = bearer(make_key("consent:read", "consent:write"))
    _give(client, make_key, key=key)
    withdrawn = client.put(f"/api/v1/consents/{KARI}/surveys", headers=key,
                           json={"status": "withdrawn", "channel": "web", "language": lang})  # fmt: skip
    assert withdrawn.status_code == 200, withdrawn.get_json()
    _deliver(app, sink)
    _deliver(app, sink)
    assert _survey_rows(demo, KARI) == 1
    confirmation = next(m for m in sink.messages if "List-Unsubscribe" not in m)
    text_body = " ".join(confirmation.get_body(preferencelist=("plain",)).get_content().split())
    assert NOTE not in text_body and "26/1234" not in text_body
    assert ("Én registrering er beholdt" if lang == "nb" else "One record was kept") in text_body
    assert (OWN if own_text else STANDARD)[lang] in text_body
    auditor = bearer(make_key("audit:read"))
    erase = client.get("/api/v1/audit?action=consent.withdrawal.erase", headers=auditor).get_json()["items"]
    assert erase[0]["details"]["holds"] == [hold.id]


def test_one_click_withdraws_without_a_form_token_and_a_replay_is_harmless(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    portal = bearer(make_key("consent:read", "consent:write"))
    path = _link_path(_give(client, make_key, purpose="newsletter", key=portal)["withdraw_url"])
    for _ in range(2):
        response = client.post(path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
    history = client.get(f"/api/v1/consents/{KARI}/newsletter/history", headers=portal)
    events = history.get_json()["events"]
    assert [e["status"] for e in events] == ["given", "withdrawn"]
    assert events[1]["actor"] == "subject" and events[1]["receipt_id"] is None  # hers, not the portal's


def test_a_tampered_or_expired_link_is_refused(app, client, make_key, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    body = _give(client, make_key)
    path = _link_path(body["withdraw_url"])
    tampered = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert client.get(tampered + "?lang=en").status_code == 404
    assert client.post(tampered, data={"List-Unsubscribe": "One-Click"}).status_code == 404
    import itsdangerous.timed

    long_ago = (utcnow() - timedelta(days=500)).timestamp()
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: long_ago)
    old = make_token(app.config["SECRET_KEY"], state_id=body["event_id"], purpose="surveys")
    monkeypatch.undo()
    page = client.get(f"/consent/withdraw/{old}?lang=en")
    assert page.status_code == 410 and "expired" in page.get_data(as_text=True)
    status = client.get(f"/api/v1/consents/{KARI}/surveys", headers=bearer(make_key("consent:read")))
    assert status.get_json()["status"] == "given"


def test_webhooks_are_signed_and_retried_until_the_receiver_accepts(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    portal = bearer(make_key("consent:read", "consent:write"))
    with webhook_receiver(fail_first=2) as receiver:
        sub = client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["consent.changed"]}, headers=portal
        )
        assert sub.status_code == 201, sub.get_json()
        secret = sub.get_json()["secret"]
        assert "secret" not in client.get("/api/v1/webhooks", headers=portal).get_json()[0]
        client.put("/api/v1/consents/portal-user-9/surveys", json={"status": "given"}, headers=portal)
        now = utcnow()
        assert _deliver(app, now=now)["retrying"] == 1
        assert _deliver(app, now=now)["retrying"] == 0  # not due again yet: backoff
        assert _deliver(app, now=now + timedelta(seconds=11))["retrying"] == 1
        assert _deliver(app, now=now + timedelta(seconds=40))["delivered"] == 1
        (got,) = receiver.received
    assert notify.verify_signature(secret, got.body, got.headers["X-Privacy-Signature"])
    assert not notify.verify_signature("wrong", got.body, got.headers["X-Privacy-Signature"])
    assert got.json["event"] == "consent.changed" and got.json["data"]["subject"] == "portal-user-9"
    assert got.headers["X-Privacy-Delivery"] == str(got.json["delivery"])
    log = client.get("/api/v1/deliveries", headers=bearer(make_key("audit:read"))).get_json()
    webhook = next(d for d in log if d["kind"] == "webhook")
    assert webhook["status"] == "delivered" and [a["ok"] for a in webhook["log"]] == [False, False, True]


def test_a_receiver_that_is_down_gets_the_event_once_it_is_back(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    portal = bearer(make_key("consent:read", "consent:write"))
    with webhook_receiver() as receiver:
        client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["consent.changed"]}, headers=portal
        )
        receiver.stop()
        client.put("/api/v1/consents/portal-user-10/surveys", json={"status": "given"}, headers=portal)
        now = utcnow()
        assert _deliver(app, now=now)["retrying"] == 1
        receiver.start()
        assert _deliver(app, now=now + timedelta(minutes=5))["delivered"] == 1
        assert len(receiver.received) == 1


def test_a_rolled_back_change_queues_nothing(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    portal = bearer(make_key("consent:read", "consent:write"))
    with webhook_receiver() as receiver:
        client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["consent.changed"]}, headers=portal
        )
        bad = client.put(
            "/api/v1/consents/x/surveys", json={"status": "given", "notice_version": "9"}, headers=portal
        )
        assert bad.status_code == 422
        assert _deliver(app) == {"delivered": 0, "retrying": 0, "failed": 0}


def test_officers_see_consents_purposes_and_deliveries(app, client, make_key, login) -> None:  # type: ignore[no-untyped-def]
    _give(client, make_key)
    login("auditor")
    from tests_support import csrf_token

    token = csrf_token(client, "/officer/consents/")
    page = client.post("/officer/consents/?lang=en", data={"subject": KARI.upper(), "csrf_token": token})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "dpv:ConsentGiven" in html and "surveys" in html
    purposes = client.get("/officer/consents/purposes?lang=en").get_data(as_text=True)
    row = r"surveys.*?</td>\s*<td>In use</td><td>The data is erased</td>\s*<td>1</td>"
    assert re.search(row, purposes, re.S)
    deliveries = client.get("/officer/consents/deliveries?lang=en").get_data(as_text=True)
    assert "consent.receipt" in deliveries


@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)  # SKIP LOCKED: several dispatchers
def test_two_dispatchers_never_send_a_message_twice(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    import threading

    portal = bearer(make_key("consent:read", "consent:write"))
    with webhook_receiver() as receiver:
        client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["consent.changed"]}, headers=portal
        )
        for i in range(30):
            client.put(f"/api/v1/consents/user-{i}/surveys", json={"status": "given"}, headers=portal)
        results: list[dict[str, int]] = []
        threads = [threading.Thread(target=lambda: results.append(_deliver(app))) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(r["delivered"] for r in results) == 30
        deliveries = [r.headers["X-Privacy-Delivery"] for r in receiver.received]
    assert len(deliveries) == len(set(deliveries)) == 30


def test_a_task_that_breaks_is_retried_and_does_not_stall_the_outbox(
    app, client, make_key, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.db import transaction as tx

    def broken(session, payload, transport):  # type: ignore[no-untyped-def]
        raise ValueError("a bug")

    monkeypatch.setitem(notify.TASKS, "test.broken", broken)
    with app.app_context(), tx(app.extensions["engine"]) as session:
        notify.enqueue_task(session, task="test.broken", payload={})
    _give(client, make_key, subject="someone@example.no")  # a receipt mail queued after the broken task
    counts = _deliver(app)
    assert counts == {"delivered": 1, "retrying": 1, "failed": 0}
