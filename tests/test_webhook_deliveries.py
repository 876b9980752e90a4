"""Issue 20, item 3: a developer tries a subscription with a test ping, reads its deliveries and sends one
again (privacy_service/webhook_deliveries.py), against a real receiver on loopback: no part is mocked.

Each client acts on its own subscriptions only; another client's answer 404 as if they did not exist, and
every refusal is the JSON error envelope, in bokmål when asked.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from tests_support import bearer, csrf_token
from webhook_support import Receiver, webhook_receiver

from privacy_service import notify, webhooks
from privacy_service.audit import AuditEvent
from privacy_service.db import transaction
from privacy_service.kernel import utcnow

BOKMAL = {"Accept-Language": "nb-NO,nb;q=0.9"}


def _subscribe(
    client: FlaskClient, headers: dict[str, str], url: str, events: tuple[str, ...] = ("consent.changed",)
) -> dict[str, Any]:
    answer = client.post("/api/v1/webhooks", json={"url": url, "events": list(events)}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _consent(client: FlaskClient, headers: dict[str, str], subject: str, status: str = "given") -> None:
    answer = client.put(f"/api/v1/consents/{subject}/surveys", json={"status": status}, headers=headers)
    assert answer.status_code == 200, answer.get_json()


def _deliver(app: Flask, **kwargs: Any) -> dict[str, int]:
    return webhooks.deliver_webhooks(app.extensions["engine"], notify.transport_for(app.config), **kwargs)


def _listing(client: FlaskClient, headers: dict[str, str], sub_id: int, query: str = "") -> dict[str, Any]:
    answer = client.get(f"/api/v1/webhooks/{sub_id}/deliveries{query}", headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _audit(app: Flask, action: str) -> list[AuditEvent]:
    with transaction(app.extensions["engine"]) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _refused(answer: Any, status: int, code: str) -> dict[str, Any]:
    """The error envelope of a refusal, checked for its shape, status and code."""
    body = answer.get_json()
    assert answer.status_code == status, body
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    assert body["error"]["code"] == code, body
    return body["error"]


def test_a_ping_reaches_only_that_subscription_signed_with_its_secret(
    app: Flask, client: FlaskClient, make_key: Any
) -> None:
    portal = bearer(make_key("consent:read", name="portal-a"))
    other = bearer(make_key("consent:read", name="portal-b"))
    with webhook_receiver() as pinged, webhook_receiver() as sibling, webhook_receiver() as elsewhere:
        sub = _subscribe(client, portal, pinged.url)
        _subscribe(client, portal, sibling.url, ("consent.changed", "subject.erased"))
        _subscribe(client, other, elsewhere.url)

        answer = client.post(f"/api/v1/webhooks/{sub['id']}/ping", headers=portal)
        assert answer.status_code == 202, answer.get_json()
        queued = answer.get_json()
        assert (queued["event"], queued["state"], queued["attempts"]) == ("webhook.ping", "pending", 0)
        assert _deliver(app)["delivered"] == 1

        assert sibling.received == [] and elsewhere.received == []
        [got] = pinged.received
    assert got.headers["X-Privacy-Event"] == "webhook.ping"
    assert got.headers["X-Privacy-Delivery"] == str(queued["id"]) == str(got.json["delivery"])
    assert got.json["event"] == "webhook.ping"
    assert got.json["data"] == {"subscription_id": sub["id"], "events": ["consent.changed"]}
    assert notify.verify_signature(sub["secret"], got.body, got.headers["X-Privacy-Signature"])
    [row] = _listing(client, portal, sub["id"])["items"]
    assert (row["id"], row["state"], row["attempts"], row["last_status_code"]) == (
        queued["id"],
        "delivered",
        1,
        204,
    )
    [event] = _audit(app, "webhook.ping")
    assert event.object_id == str(sub["id"])
    assert event.details == {"client": "portal-a", "delivery": queued["id"]}


def test_another_client_gets_404_for_every_path_of_my_subscription_and_an_officer_may_act(
    app: Flask, client: FlaskClient, make_key: Any, login: Any
) -> None:
    portal = bearer(make_key("consent:read", "consent:write", name="owner"))
    stranger = bearer(make_key("consent:read", "consent:write", name="stranger"))
    sub = _subscribe(client, portal, "http://127.0.0.1:9/owner")
    _consent(client, portal, "owner-user-1")
    [delivery] = _listing(client, portal, sub["id"])["items"]
    base = f"/api/v1/webhooks/{sub['id']}"

    ping = _refused(client.post(f"{base}/ping", headers=stranger), 404, "not_found")
    assert ping == _refused(client.post("/api/v1/webhooks/999999/ping", headers=stranger), 404, "not_found")
    assert ping["message"] == "No subscription has this id."  # as if it did not exist
    listing = _refused(client.get(f"{base}/deliveries", headers=stranger), 404, "not_found")
    assert listing["message"] == "No subscription has this id."
    _refused(client.post(f"{base}/deliveries/{delivery['id']}/redeliver", headers=stranger), 404, "not_found")
    bokmal = client.get(f"{base}/deliveries", headers={**stranger, **BOKMAL})
    assert _refused(bokmal, 404, "not_found")["message"] == "Ingen abonnement har denne ID-en."
    assert _audit(app, "webhook.ping") == []

    login("officer")
    seen = client.get(f"{base}/deliveries").get_json()
    assert [d["id"] for d in seen["items"]] == [delivery["id"]]
    officer_ping = client.post(
        f"{base}/ping", headers={"X-CSRFToken": csrf_token(client, "/officer/activities")}
    )
    assert officer_ping.status_code == 202, officer_ping.get_json()
    [event] = _audit(app, "webhook.ping")
    assert event.actor.startswith("user:") and event.details["client"] == "owner"


def test_the_listing_shows_only_the_subscriptions_own_deliveries_newest_first_in_pages(
    app: Flask, client: FlaskClient, make_key: Any
) -> None:
    portal = bearer(make_key("consent:read", "consent:write", name="lister"))
    other = bearer(make_key("consent:read", "consent:write", name="neighbour"))
    with webhook_receiver(fail_first=1) as receiver:
        sub = _subscribe(client, portal, receiver.url)
        neighbour = _subscribe(client, other, receiver.url + "?neighbour")
        for i in range(3):
            _consent(client, portal, f"lister-user-{i}")
        _consent(client, other, "neighbour-user-1")
        page = _listing(client, portal, sub["id"])
        assert page["total"] == 3 and (page["page"], page["per_page"]) == (1, 100)
        ids = [d["id"] for d in page["items"]]
        assert ids == sorted(ids, reverse=True)
        theirs = [d["id"] for d in _listing(client, other, neighbour["id"])["items"]]
        assert len(theirs) == 1 and not set(theirs) & set(ids)

        # the receiver's first answer is 500: the oldest delivery is retried and says why
        assert _deliver(app, limit=1) == {"delivered": 0, "retrying": 1, "failed": 0}
    oldest = _listing(client, portal, sub["id"])["items"][-1]
    assert oldest["id"] == ids[-1] and oldest["state"] == "pending" and oldest["attempts"] == 1
    assert (oldest["last_status_code"], oldest["last_error"]) == (500, "HTTP 500")
    assert oldest["next_attempt_at"] is not None and oldest["delivered_at"] is None
    assert set(oldest) == {
        "id", "event", "created_at", "state", "attempts", "last_status_code", "last_error", "last_attempt_at",
        "next_attempt_at", "delivered_at",
    }  # fmt: skip  # no body, no secret, no URL
    assert sub["secret"] not in json.dumps(page)

    second = _listing(client, portal, sub["id"], "?page=2&per_page=2")
    assert [d["id"] for d in second["items"]] == ids[2:] and second["total"] == 3
    assert _listing(client, portal, sub["id"], "?page=9")["items"] == []


def test_bad_listing_arguments_and_ids_get_the_error_envelope(client: FlaskClient, make_key: Any) -> None:
    portal = bearer(make_key("consent:read", name="careless"))
    sub = _subscribe(client, portal, "http://127.0.0.1:9/careless")
    base = f"/api/v1/webhooks/{sub['id']}"
    small = _refused(client.get(f"{base}/deliveries?per_page=0", headers=portal), 422, "validation_error")
    assert small["fields"] == {"per_page": ["Give a page size from 1 to 1000."]}
    nb = client.get(f"{base}/deliveries?per_page=5000", headers={**portal, **BOKMAL})
    assert _refused(nb, 422, "validation_error")["fields"] == {
        "per_page": ["Oppgi en sidestørrelse fra 1 til 1000."]
    }
    word = _refused(client.get(f"{base}/deliveries?page=first", headers=portal), 422, "validation_error")
    assert list(word["fields"]) == ["page"]
    _refused(client.get(f"{base}/deliveries?page=0", headers=portal), 422, "validation_error")
    _refused(client.get("/api/v1/webhooks/999999/deliveries", headers=portal), 404, "not_found")
    _refused(client.post("/api/v1/webhooks/999999/ping", headers=portal), 404, "not_found")
    _refused(client.post(f"{base}/deliveries/abc/redeliver", headers=portal), 404, "not_found")
    missing = _refused(client.post(f"{base}/deliveries/999999/redeliver", headers=portal), 404, "not_found")
    assert missing["message"] == "This subscription has no delivery with this id."
    assert client.delete(base, headers=portal).status_code == 204
    ended = _refused(client.post(f"{base}/ping", headers=portal), 404, "not_found")
    assert ended["message"] == "No active subscription has this id."
    assert _listing(client, portal, sub["id"])["total"] == 0  # an ended subscription's history stays readable


def test_a_pending_delivery_is_not_queued_twice(app: Flask, client: FlaskClient, make_key: Any) -> None:
    portal = bearer(make_key("consent:read", "consent:write", name="impatient"))
    sub = _subscribe(client, portal, "http://127.0.0.1:9/impatient")
    second = _subscribe(client, portal, "http://127.0.0.1:9/impatient-2", ("subject.erased",))
    _consent(client, portal, "impatient-user")
    [delivery] = _listing(client, portal, sub["id"])["items"]
    path = f"/api/v1/webhooks/{sub['id']}/deliveries/{delivery['id']}/redeliver"
    error = _refused(client.post(path, headers=portal), 409, "delivery_pending")
    assert error["message"] == (
        f"Delivery {delivery['id']} is still waiting to be sent; "
        "send it again once it is delivered or has failed."
    )
    nb = _refused(client.post(path, headers={**portal, **BOKMAL}), 409, "delivery_pending")
    assert nb["message"].startswith(f"Levering {delivery['id']} venter fortsatt")
    # the same delivery named under the client's other subscription is not one of that subscription's
    elsewhere = f"/api/v1/webhooks/{second['id']}/deliveries/{delivery['id']}/redeliver"
    _refused(client.post(elsewhere, headers=portal), 404, "not_found")
    assert _audit(app, "webhook.redeliver") == []


def test_a_failed_delivery_is_sent_again_once_the_receiver_is_up(
    app: Flask, client: FlaskClient, make_key: Any
) -> None:
    """The receiver is down for every one of the 30 attempts (two hours apart, so neither the backoff nor
    the circuit's rest holds them back): the delivery fails. Redelivered, it waits for the circuit's rest like
    any delivery, then reaches the receiver, now up, with the same id and body and a fresh signature."""
    portal = bearer(make_key("consent:read", "consent:write", name="recovering"))
    receiver = Receiver()
    sub = _subscribe(client, portal, receiver.url)
    _consent(client, portal, "recovering-user")
    start = utcnow()
    for attempt in range(notify.MAX_ATTEMPTS):
        counts = _deliver(app, now=start + timedelta(hours=2 * attempt))
    assert counts == {"delivered": 0, "retrying": 0, "failed": 1}
    [failed] = _listing(client, portal, sub["id"])["items"]
    assert (failed["state"], failed["attempts"], failed["last_status_code"]) == ("failed", 30, None)
    assert "ConnectionRefusedError" in failed["last_error"]

    path = f"/api/v1/webhooks/{sub['id']}/deliveries/{failed['id']}/redeliver"
    asked = int(time.time())
    answer = client.post(path, headers=portal)
    assert answer.status_code == 202, answer.get_json()
    assert (answer.get_json()["id"], answer.get_json()["state"]) == (failed["id"], "pending")
    _refused(client.post(path, headers=portal), 409, "delivery_pending")  # queued already

    receiver.start()
    try:
        later = start + timedelta(hours=2 * notify.MAX_ATTEMPTS)
        assert _deliver(app, now=later) == {"delivered": 1, "retrying": 0, "failed": 0}
    finally:
        receiver.stop()
    [got] = receiver.received
    with transaction(app.extensions["engine"]) as session:
        message = session.get(notify.OutboxMessage, failed["id"])
        assert message is not None
        payload = dict(message.payload)
    assert got.json == {**payload, "delivery": failed["id"]}
    assert got.headers["X-Privacy-Delivery"] == str(failed["id"])
    signed_at = int(got.headers["X-Privacy-Signature"].split(",")[0].removeprefix("t="))
    assert signed_at >= asked
    assert notify.verify_signature(sub["secret"], got.body, got.headers["X-Privacy-Signature"])
    [row] = _listing(client, portal, sub["id"])["items"]
    assert (row["state"], row["attempts"], row["last_status_code"], row["last_error"]) == (
        "delivered",
        31,
        204,
        None,
    )
    [event] = _audit(app, "webhook.redeliver")
    assert event.object_id == str(failed["id"])
    assert event.details == {"client": "recovering", "subscription": sub["id"], "was": "failed"}


def test_a_delivered_delivery_sent_again_has_the_same_body_and_a_new_signature(
    app: Flask, client: FlaskClient, make_key: Any
) -> None:
    portal = bearer(make_key("consent:read", "consent:write", name="forgetful"))
    with webhook_receiver() as receiver:
        sub = _subscribe(client, portal, receiver.url)
        _consent(client, portal, "forgetful-user")
        assert _deliver(app)["delivered"] == 1
        [delivery] = _listing(client, portal, sub["id"])["items"]
        time.sleep(1.1)  # so that the new signature's whole-second time differs
        path = f"/api/v1/webhooks/{sub['id']}/deliveries/{delivery['id']}/redeliver"
        assert client.post(path, headers=portal).status_code == 202
        assert _deliver(app)["delivered"] == 1
        first, again = receiver.received
    assert again.body == first.body
    assert again.headers["X-Privacy-Delivery"] == first.headers["X-Privacy-Delivery"] == str(delivery["id"])
    assert again.headers["X-Privacy-Signature"] != first.headers["X-Privacy-Signature"]
    assert notify.verify_signature(sub["secret"], again.body, again.headers["X-Privacy-Signature"])
    [event] = _audit(app, "webhook.redeliver")
    assert event.details["was"] == "delivered"
