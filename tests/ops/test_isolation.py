"""Issue 14 against the running deployment: gunicorn `serve` and the `scheduler` on one PostgreSQL, two portal
clients with different scopes, receivers on loopback (allowed by the setting on one instance only), a
redirecting receiver and hanging receivers.

One database, two `serve` instances: the strict one runs with the defaults (https, public hosts only), the
other and the scheduler allow loopback so the tests' receivers can be reached.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import pytest
from deployment import Deployment, call, wait_until
from webhook_support import webhook_receiver

from privacy_service import webhooks

pytestmark = pytest.mark.ops

KARI = "kari.nordmann@example.no"
PER = "per.portal@example.no"  # no consent of his in the demo data (Kari's survey consent is given there)
LOOPBACK = {"PRIVACY_WEBHOOK_ALLOW_HTTP": "1", "PRIVACY_WEBHOOK_ALLOW_PRIVATE": "1"}
HANGING = 8


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _mails(instance: Path) -> list[Path]:
    return sorted((instance / "outbox").glob("*.eml")) if (instance / "outbox").is_dir() else []


def test_each_client_sees_and_changes_only_what_it_may(make_deployment: Callable[..., Deployment]) -> None:
    deployment = make_deployment()
    deployment.demo(people=10)
    portal_a = _bearer(
        deployment.api_key(
            "consent:read", "consent:write", "requests:read", "requests:write", name="portal-a"
        )
    )
    portal_b = _bearer(deployment.api_key("consent:read", "consent:write", "requests:read", name="portal-b"))
    reader = _bearer(deployment.api_key("consent:read", name="status-reader"))
    strict = deployment.serve(workers=2)
    loose = deployment.serve(workers=1, env=LOOPBACK, name="loose")

    # item 2: the strict instance refuses every private target, and a password in the URL
    for url in ("http://127.0.0.1:9/h", "https://localhost/h", "https://169.254.169.254/latest",
                "https://[::1]/h", "https://user:pw@93.184.215.14/h"):  # fmt: skip
        hook = {"url": url, "events": ["consent.changed"]}
        answer = call(strict.url + "/api/v1/webhooks", "POST", body=hook, headers=portal_a)
        assert answer.status == 422, (url, answer.status, answer.body)

    def subscribe(url: str, headers: dict[str, str], events: tuple[str, ...] = ("consent.changed",)) -> int:
        answer = call(loose.url + "/api/v1/webhooks", "POST", body={"url": url, "events": list(events)},
                      headers=headers)  # fmt: skip
        assert answer.status == 201, answer.body
        return int(answer.json()["id"])

    with ExitStack() as stack:
        to_a, to_b, elsewhere = (stack.enter_context(webhook_receiver()) for _ in range(3))
        redirecting = stack.enter_context(webhook_receiver(redirect_to=elsewhere.url))
        hanging = [stack.enter_context(webhook_receiver(hang=30)) for _ in range(HANGING)]
        subscribe(to_a.url, portal_a)
        subscribe(redirecting.url, portal_a)
        subscribe(to_b.url, portal_b)
        for receiver in hanging:
            subscribe(receiver.url, portal_a)
        # item 4: a client holds at most ten subscriptions
        hook = {"url": to_a.url + "?again", "events": ["consent.changed"]}
        capped = call(loose.url + "/api/v1/webhooks", "POST", body=hook, headers=portal_a)
        assert capped.status == 409 and capped.json()["error"]["code"] == "too_many_subscriptions"

        # A records Per's consent: ten webhooks are queued for A, eight of them to hanging receivers; after
        # them a request, with its verification mail
        given = call(f"{strict.url}/api/v1/consents/{PER}/surveys", "PUT", body={"status": "given"},
                     headers=portal_a)  # fmt: skip
        assert given.status == 200 and "withdraw_url" in given.json()
        request = call(strict.url + "/api/v1/requests", "POST",
                       body={"type": "access", "subject": {"email": KARI}}, headers=portal_a)  # fmt: skip
        assert request.status == 201, request.body
        reference = request.json()["reference"]

        deployment.scheduler(env=LOOPBACK)
        # the mail goes out while eight receivers hang (in the one shared loop each held it 5 s a try: 40 s)
        wait_until(lambda: _mails(deployment.instance), timeout=30, what="the verification mail")
        wait_until(lambda: len(to_a.received) == 1, timeout=30, what="portal A's delivery")
        # item 3: B recorded nothing of Per and hears nothing of him
        assert to_b.received == []
        # item 2: the redirect was not followed
        wait_until(lambda: _last_error(deployment, redirecting.url), timeout=30, what="the redirect refused")
        assert _last_error(deployment, redirecting.url) == "HTTP 302: redirects are not followed"
        assert elsewhere.received == []
        # each hanging receiver's failures count against its own circuit (portal A's target), not the lane
        hung = {("portal-a", webhooks.target_of(r.url)) for r in hanging}
        wait_until(lambda: hung <= _failing(deployment), timeout=90, what="a failure on each hanging circuit")
        assert ("portal-a", webhooks.target_of(to_a.url)) not in _failing(deployment)

    # item 1: a read-only key gets no withdrawal link from any read (the fast path answers on PostgreSQL)
    for path in (f"/api/v1/consents/{PER}/surveys", f"/api/v1/subjects/{PER}/processing?activity=surveys"):
        read = call(strict.url + path, headers=reader)
        assert read.status == 200 and b"withdraw" not in read.body, (path, read.body)
    assert call(f"{strict.url}/api/v1/consents/{PER}/surveys", "PUT", body={"status": "withdrawn"},
                headers=reader).status == 403  # fmt: skip
    # another client's consent records, request and subscriptions answer as if they did not exist
    assert call(f"{strict.url}/api/v1/consents/{PER}/surveys/history", headers=portal_b).status == 404
    receipt = given.json()["receipt"]["consentReceiptID"]
    assert call(f"{strict.url}/api/v1/consent-receipts/{receipt}", headers=portal_b).status == 404
    # item 6: B does not see A's request
    assert call(f"{strict.url}/api/v1/requests/{reference}", headers=portal_b).status == 404
    assert reference not in call(strict.url + "/api/v1/requests", headers=portal_b).body.decode()
    theirs = call(strict.url + "/api/v1/webhooks", headers=portal_b).json()
    assert [s["url"] for s in theirs] == [to_b.url]
    a_first = call(strict.url + "/api/v1/webhooks", headers=portal_a).json()[0]["id"]
    assert call(f"{strict.url}/api/v1/webhooks/{a_first}", "DELETE", headers=portal_b).status == 404


def _failing(deployment: Deployment) -> set[tuple[str, str]]:
    with deployment.connect() as conn:
        return set(conn.execute("SELECT client, target FROM webhook_target WHERE failures > 0").fetchall())


def _last_error(deployment: Deployment, url: str) -> str | None:
    with deployment.connect() as conn:
        row = conn.execute(
            "SELECT m.last_error FROM outbox_message m"
            " JOIN webhook_subscription s ON s.id = m.subscription_id WHERE s.url = %s",
            (url,),
        ).fetchone()
    return row[0] if row else None


def test_rules_the_audit_head_and_hostile_bodies_hold_on_the_deployment(
    make_deployment: Callable[..., Deployment],
) -> None:
    deployment = make_deployment(PRIVACY_AUDIT_ANCHOR_KEY="anchor-key-the-dba-does-not-hold")
    deployment.demo(people=10)
    registry = _bearer(deployment.api_key("registry:read", "registry:write", name="registry-editor"))
    web = deployment.serve(workers=2)

    # item 5: a registry key cannot make the scheduler delete a table
    support = call(web.url + "/api/v1/activities/support", headers=registry)
    body = {k: v for k, v in support.json().items() if k not in ("version", "created_at", "updated_at",
                                                                  "updated_by", "rights")}  # fmt: skip
    body["retention"]["rules"][0].update(period="P1D", schedule="* * * * *")
    refused = call(web.url + "/api/v1/activities/support", "PUT", body=body,
                   headers={**registry, "If-Match": support.headers["ETag"]})  # fmt: skip
    assert refused.status == 403 and "retention:run" in refused.json()["error"]["message"]
    again = call(web.url + "/api/v1/activities/support", headers=registry).json()
    assert again["retention"]["rules"][0]["period"] == "P3M"
    # with retention:run a new schedule waits for its dry run and apply, then reaches the running scheduler
    scheduler = deployment.scheduler(env={"PRIVACY_SCHEDULER_RESYNC_SECONDS": "1"})
    runner = _bearer(
        deployment.api_key("registry:read", "registry:write", "retention:run", name="officer-key")
    )
    body["retention"]["rules"][0].update(period="P3M", schedule="45 3 * * *")
    proposed = call(web.url + "/api/v1/activities/support", "PUT", body=body,
                    headers={**runner, "If-Match": support.headers["ETag"]})  # fmt: skip
    assert proposed.status == 202, proposed.body
    change = proposed.json()["pending_rule_change"]["id"]
    changes = f"{web.url}/api/v1/retention/rule-changes/{change}"
    assert call(changes + "/apply", "POST", body={}, headers=runner).status == 409  # no dry run yet
    assert call(changes + "/dry-run", "POST", body={}, headers=runner).status == 200
    assert call(changes + "/apply", "POST", body={}, headers=runner).status == 200
    wait_until(lambda: "changed 1" in scheduler.log.read_text(), timeout=60, what="the scheduler's resync")

    # item 8: a deeply nested body is a 400 in the envelope, with or without a key, and no traceback
    for depth in (1_000, 100_000):
        for headers in ({}, registry):
            deep = call(web.url + "/api/v1/activities", "POST", body=_nested(depth), headers=headers)
            assert deep.status == 400 and deep.json()["error"]["fields"] == {"json": ["Invalid JSON body."]}
    logs = "".join(p.log.read_text() for p in deployment.processes)
    assert "Traceback" not in logs and "RecursionError" not in logs
    # the notice PDF is rendered once per version: a repeat with its ETag is a 304
    pdf = call(web.url + "/privacy/helsedata.pdf?lang=nb")
    assert pdf.status == 200 and pdf.body.startswith(b"%PDF")
    same = call(web.url + "/privacy/helsedata.pdf?lang=nb", headers={"If-None-Match": pdf.headers["ETag"]})
    assert same.status == 304

    # item 7: the audit head is anchored outside the database; cutting the newest events is found
    assert "chain intact" in deployment.cli("audit", "verify")
    with deployment.connect() as conn:
        conn.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change")
        conn.execute("DELETE FROM audit_event WHERE seq > (SELECT max(seq) - 3 FROM audit_event)")
    cut = deployment.cli("audit", "verify", check=False)
    assert "events were removed" in cut, cut


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth
