"""Issue 14, items 2-4 and 8: webhooks reached anywhere (SSRF), told every client about every subject with
the address in clear, and could starve the outbox. Before the fix: loopback, metadata and private URLs were
subscribed (201), redirects were followed, every subscription of every client got every event, and
`subject.erased` carried the e-mail address; subscriptions were unlimited and a webhook was sent in the same
loop as the verification mails.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tests_support import bearer, settle
from webhook_support import webhook_receiver

from privacy_service import notify, webhooks
from privacy_service.audit import AuditEvent
from privacy_service.db import transaction
from privacy_service.kernel import utcnow

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
STRICT = {"PRIVACY_WEBHOOK_ALLOW_PRIVATE": False, "PRIVACY_WEBHOOK_ALLOW_HTTP": False}


def _subscribe(client, headers, url: str, events: tuple[str, ...] = ("consent.changed",)):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/webhooks", json={"url": url, "events": list(events)}, headers=headers)


def _key(app, *scopes: str, name: str) -> str:  # type: ignore[no-untyped-def]
    """A key on an app made here (make_key serves the default app)."""
    from privacy_service.audit import Actor
    from privacy_service.security.service import create_api_client

    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return create_api_client(session, name=name, scopes=list(scopes), actor=Actor("cli", "tests"))[1]


def _messages(app, event: str) -> list[Any]:  # type: ignore[no-untyped-def]
    with transaction(app.extensions["engine"]) as session:
        found = session.scalars(select(notify.OutboxMessage).where(notify.OutboxMessage.event == event))
        return [(m.subscription_id, dict(m.payload), m.attempts, m.status) for m in found]


# --- item 2: where a webhook may go -------------------------------------------------------------------------

REFUSED = [
    "https://127.0.0.1/hook",
    "https://localhost/hook",  # a name that resolves to loopback
    "https://127.1/hook",
    "https://0x7f000001/hook",
    "https://2130706433/hook",
    "https://0177.0.0.1/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://169.254.169.254/latest/meta-data",  # the cloud metadata service
    "https://10.0.0.7/hook",
    "https://192.168.1.1/hook",
    "https://172.16.0.1/hook",
    "https://100.64.0.1/hook",  # shared address space
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://[fe80::1]/hook",
    "https://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
    "https://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
    "https://[fc00::1]/hook",
    "https://no-such-host.invalid/hook",
    "http://93.184.215.14/hook",  # public, but plain http
    "https://user:secret@93.184.215.14/hook",  # a password in the URL
    "ftp://93.184.215.14/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_a_webhook_to_a_private_unsafe_or_unreadable_target_is_refused(make_app, url: str) -> None:  # type: ignore[no-untyped-def]
    app = make_app(**STRICT)
    client = app.test_client()
    answer = _subscribe(client, bearer(_key(app, "consent:read", name="portal")), url)
    assert answer.status_code == 422, (url, answer.get_json())
    assert answer.get_json()["error"]["fields"]["url"]
    with transaction(app.extensions["engine"]) as session:
        assert session.scalars(select(webhooks.WebhookSubscription)).all() == []
        trail = json.dumps([e.details for e in session.scalars(select(AuditEvent))])
    assert "secret" not in trail  # a refused password is never written anywhere


def test_a_public_https_target_is_accepted_and_the_audit_trail_names_only_its_host(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(**STRICT)
    client = app.test_client()
    answer = _subscribe(
        client, bearer(_key(app, "consent:read", name="portal")), "https://93.184.215.14:8443/h?x=1"
    )
    assert answer.status_code == 201, answer.get_json()
    with transaction(app.extensions["engine"]) as session:
        [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "webhook.subscribe"))
    assert event.details["target"] == "https://93.184.215.14:8443" and "/h" not in json.dumps(event.details)


def test_the_target_is_checked_again_when_delivering(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    """A subscription made while loopback was allowed (or a name that resolved elsewhere then, DNS
    rebinding) is refused at the connection, and the receiver hears nothing."""
    portal = bearer(make_key("consent:read", "consent:write"))
    with webhook_receiver() as receiver:
        assert _subscribe(client, portal, receiver.url).status_code == 201
        client.put("/api/v1/consents/portal-user-1/surveys", json={"status": "given"}, headers=portal)
        strict = notify.Transport(smtp_url=None, outbox_dir=app.instance_path, webhook_allow_http=True)
        counts = webhooks.deliver_webhooks(app.extensions["engine"], strict)
        assert counts == {"delivered": 0, "retrying": 1, "failed": 0}
        assert receiver.received == []
    [(_, _, attempts, status)] = _messages(app, "consent.changed")
    assert attempts == 1 and status == "pending"
    log = client.get("/api/v1/deliveries", headers=bearer(make_key("audit:read"))).get_json()
    assert "not on the public internet" in log[0]["last_error"]


def test_a_redirect_is_not_followed(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    portal = bearer(make_key("consent:read", "consent:write"))
    with webhook_receiver() as elsewhere, webhook_receiver(redirect_to=elsewhere.url) as redirecting:
        assert _subscribe(client, portal, redirecting.url).status_code == 201
        client.put("/api/v1/consents/portal-user-2/surveys", json={"status": "given"}, headers=portal)
        transport = notify.transport_for(app.config)
        assert webhooks.deliver_webhooks(app.extensions["engine"], transport)["retrying"] == 1
        assert elsewhere.received == []
    log = client.get("/api/v1/deliveries", headers=bearer(make_key("audit:read"))).get_json()
    assert log[0]["last_error"] == "HTTP 302: redirects are not followed"


# --- item 3: who hears of what ------------------------------------------------------------------------------


def test_consent_changed_goes_only_to_the_clients_that_recorded_that_consent(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    portal_a = bearer(make_key("consent:read", "consent:write", name="portal-a"))
    portal_b = bearer(make_key("consent:read", "consent:write", name="portal-b"))
    snooper = bearer(make_key("consent:read", name="snooper"))
    subs = {
        name: _subscribe(client, headers, f"http://127.0.0.1:9/{name}").get_json()["id"]
        for name, headers in (("a", portal_a), ("b", portal_b), ("snooper", snooper))
    }
    client.put(f"/api/v1/consents/{KARI['email']}/surveys", json={"status": "given"}, headers=portal_a)
    client.put("/api/v1/consents/ola@example.no/surveys", json={"status": "given"}, headers=portal_b)
    # Kari withdraws through portal B: A recorded her consent, so A hears of it; B recorded this change
    client.put(f"/api/v1/consents/{KARI['email']}/surveys", json={"status": "withdrawn"}, headers=portal_b)

    heard: dict[int, list[str]] = {}
    for sub_id, payload, _, _ in _messages(app, "consent.changed"):
        heard.setdefault(sub_id, []).append(f"{payload['data']['subject']} {payload['data']['status']}")
    assert heard == {
        subs["a"]: [f"{KARI['email']} given", f"{KARI['email']} withdrawn"],
        subs["b"]: ["ola@example.no given", f"{KARI['email']} withdrawn"],
    }  # the snooper, which recorded nothing, hears nothing


def test_subject_erased_names_her_by_each_clients_own_pseudonym(app, client, make_key, demo) -> None:  # type: ignore[no-untyped-def]
    scopes = ("requests:read", "requests:write", "requests:write:verified", "requests:manage", "consent:read")
    submitter = bearer(make_key(*scopes, name="portal-submitter"))
    recorder = bearer(make_key("consent:read", "consent:write", name="portal-recorder"))
    snooper = bearer(make_key("consent:read", name="snooper"))
    secrets = {
        name: _subscribe(client, headers, f"http://127.0.0.1:9/{name}", ("subject.erased",)).get_json()
        for name, headers in (("submitter", submitter), ("recorder", recorder), ("snooper", snooper))
    }
    client.put(f"/api/v1/consents/{KARI['email']}/surveys", json={"status": "given"}, headers=recorder)
    body = {"type": "erasure", "subject": KARI, "verified_by": "ID-porten", "activities": ["accounts"]}
    ref = client.post("/api/v1/requests", headers=submitter, json=body).get_json()["reference"]
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))  # the plan
    settle(client, ref, submitter)
    assert client.post(f"/api/v1/requests/{ref}/approve", headers=submitter, json={}).status_code == 200

    got = {sub_id: payload["data"] for sub_id, payload, _, _ in _messages(app, "subject.erased")}
    submitter_sub, recorder_sub = secrets["submitter"], secrets["recorder"]
    assert set(got) == {submitter_sub["id"], recorder_sub["id"]}  # not the snooper
    assert got[submitter_sub["id"]] == {
        "activities": ["accounts"],
        "reference": ref,  # its own request
        "subject_pseudonym": webhooks.pseudonym(submitter_sub["secret"], KARI["email"]),
    }
    assert got[recorder_sub["id"]] == {
        "activities": ["accounts"],
        "subject_pseudonym": webhooks.pseudonym(recorder_sub["secret"], KARI["email"].upper()),
    }
    assert got[submitter_sub["id"]]["subject_pseudonym"] != got[recorder_sub["id"]]["subject_pseudonym"]
    assert KARI["email"] not in json.dumps(got) and KARI["national_id"] not in json.dumps(got)


# --- item 4: a lane of their own ----------------------------------------------------------------------------


def test_a_client_holds_a_bounded_number_of_subscriptions(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(PRIVACY_WEBHOOK_MAX_SUBSCRIPTIONS=3)
    client = app.test_client()
    portal = bearer(_key(app, "consent:read", name="greedy"))
    made = [_subscribe(client, portal, f"http://127.0.0.1:9/{i}") for i in range(4)]
    assert [r.status_code for r in made] == [201, 201, 201, 409]
    assert made[3].get_json()["error"]["code"] == "too_many_subscriptions"
    other = bearer(_key(app, "consent:read", name="other"))
    assert _subscribe(client, other, "http://127.0.0.1:9/other").status_code == 201  # per client
    client.delete(f"/api/v1/webhooks/{made[0].get_json()['id']}", headers=portal)
    assert _subscribe(client, portal, "http://127.0.0.1:9/again").status_code == 201


def test_mail_and_tasks_never_wait_behind_webhooks(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    """Twenty hanging receivers: the mail lane sends the receipt mail without touching a webhook."""
    portal = bearer(make_key("consent:read", "consent:write"))
    for i in range(10):
        _subscribe(client, portal, f"http://127.0.0.1:9/hang-{i}")
    client.put(f"/api/v1/consents/{KARI['email']}/surveys", json={"status": "given"}, headers=portal)
    counts = notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    assert counts["delivered"] == 1  # the receipt mail
    hooks = _messages(app, "consent.changed")
    assert len(hooks) == 10 and all(attempts == 0 and status == "pending" for _, _, attempts, status in hooks)


def test_a_hanging_receiver_neither_holds_up_others_nor_is_called_while_its_circuit_is_open(  # type: ignore[no-untyped-def]
    app, client, make_key
) -> None:
    portal = bearer(make_key("consent:read", "consent:write", name="portal-a"))
    quick = bearer(make_key("consent:read", "consent:write", name="portal-b"))
    engine = app.extensions["engine"]
    transport = notify.Transport(
        smtp_url=None,
        outbox_dir=app.instance_path,
        http_timeout=0.3,
        webhook_allow_http=True,
        webhook_allow_private=True,
        webhook_concurrency=2,
    )
    with webhook_receiver(hang=5) as hanging, webhook_receiver() as healthy:
        _subscribe(client, portal, hanging.url)
        _subscribe(client, quick, healthy.url)
        for i in range(webhooks.FAILURES_TO_OPEN + 3):
            client.put(f"/api/v1/consents/hung-{i}/surveys", json={"status": "given"}, headers=portal)
        client.put("/api/v1/consents/quick-1/surveys", json={"status": "given"}, headers=quick)
        now = utcnow()
        first = webhooks.deliver_webhooks(engine, transport, now=now)
        # the healthy receiver got its event in the same round; the hanging one was tried one at a time
        # until its circuit opened
        assert len(healthy.received) == 1
        assert first == {"delivered": 1, "retrying": webhooks.FAILURES_TO_OPEN, "failed": 0}
        with transaction(engine) as session:
            target = session.get(webhooks.WebhookTarget, ("portal-a", webhooks.target_of(hanging.url)))
            attempts = sum(m.attempts for m in session.scalars(select(notify.OutboxMessage)))
        assert target is not None and target.failures == webhooks.FAILURES_TO_OPEN
        assert target.open_until is not None and attempts == 1 + webhooks.FAILURES_TO_OPEN
        # while it rests nothing goes to it, however due its messages are; after the cool-down one is tried,
        # and as it still hangs the circuit opens again at once
        resting = webhooks.deliver_webhooks(engine, transport, now=target.open_until - timedelta(seconds=1))
        assert resting == {"delivered": 0, "retrying": 0, "failed": 0}
        retried = webhooks.deliver_webhooks(engine, transport, now=target.open_until + timedelta(minutes=1))
        assert retried == {"delivered": 0, "retrying": 1, "failed": 0}


def _fast_transport(app, **overrides: Any) -> notify.Transport:  # type: ignore[no-untyped-def]
    settings: dict[str, Any] = {
        "http_timeout": 0.3,
        "webhook_allow_http": True,
        "webhook_allow_private": True,
        "webhook_concurrency": 2,
        **overrides,
    }
    return notify.Transport(smtp_url=None, outbox_dir=app.instance_path, **settings)


def test_another_client_cannot_open_my_circuit_by_failing_at_my_host(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    """The attacker subscribes to the victim's host and its deliveries fail there (here: the host's first
    answers are 500); the attacker's circuit opens, the victim's deliveries to the same host still go."""
    attacker = bearer(make_key("consent:read", "consent:write", name="attacker"))
    victim = bearer(make_key("consent:read", "consent:write", name="victim"))
    engine = app.extensions["engine"]
    with webhook_receiver(fail_first=webhooks.FAILURES_TO_OPEN) as host:
        _subscribe(client, attacker, host.url + "?not-yours")
        for i in range(webhooks.FAILURES_TO_OPEN + 1):
            client.put(f"/api/v1/consents/a-{i}/surveys", json={"status": "given"}, headers=attacker)
        _subscribe(client, victim, host.url)
        client.put("/api/v1/consents/v-1/surveys", json={"status": "given"}, headers=victim)
        counts = webhooks.deliver_webhooks(engine, _fast_transport(app, webhook_concurrency=1))
        assert counts["retrying"] == webhooks.FAILURES_TO_OPEN and counts["delivered"] == 1
        assert [r.json["data"]["subject"] for r in host.received] == ["v-1"]
    with transaction(engine) as session:
        circuits = {(t.client, t.failures, t.open_until is not None) for t in session.scalars(
            select(webhooks.WebhookTarget))}  # fmt: skip
    assert circuits == {("attacker", webhooks.FAILURES_TO_OPEN, True), ("victim", 0, False)}


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_deadline(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    """Each byte comes before the socket timeout, so only the whole-exchange deadline (twice the timeout)
    ends it; without it the lane's thread was held for the 40 s the drip lasts."""
    portal = bearer(make_key("consent:read", "consent:write"))
    with webhook_receiver(drip=0.2) as dripping:
        _subscribe(client, portal, dripping.url)
        client.put("/api/v1/consents/drip-1/surveys", json={"status": "given"}, headers=portal)
        counts = webhooks.deliver_webhooks(app.extensions["engine"], _fast_transport(app))
    assert counts == {"delivered": 0, "retrying": 1, "failed": 0}
    with transaction(app.extensions["engine"]) as session:
        [attempt] = session.scalars(select(notify.DeliveryAttempt))
    assert not attempt.ok and attempt.duration_ms < 5000, attempt.duration_ms
