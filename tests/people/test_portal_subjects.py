"""A portal's user id is its own (migration 0034): two portals whose user ids read the same ("u-1") are two
subjects. Neither reads, changes, hears of or erases the other's consent, in the Flask view and the hot path
alike; an officer finds both, each named with its portal."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from language import foreign_lines
from sqlalchemy import select
from tests_support import bearer, csrf_token, hot_and_flask

from privacy_service import notify, webhooks
from privacy_service.consent import service as consent
from privacy_service.consent.effects import subject_identity
from privacy_service.consent.models import ConsentEvent, ConsentState
from privacy_service.db import transaction


@pytest.fixture
def portals(app, make_key) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {
        name: bearer(make_key("consent:read", "consent:write", name=name))
        for name in ("portal-a", "portal-b", "ops@Portal/c")  # a name may hold '@', capitals and '/'
    }


def _put(client, key: dict[str, str], status: str, subject: str = "u-1") -> Any:  # type: ignore[no-untyped-def]
    answer = client.put(f"/api/v1/consents/{subject}/surveys", json={"status": status}, headers=key)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_another_portal_neither_reads_nor_changes_a_portals_user_with_the_same_id(
    app, client, portals
) -> None:  # type: ignore[no-untyped-def]
    a, b = portals["portal-a"], portals["portal-b"]
    given = _put(client, a, "given")
    assert given["subject"] == "u-1" and given["receipt"]["piiPrincipalId"] == "u-1"
    # b's "u-1" is b's own user: nothing is recorded for that one
    assert hot_and_flask(app, "/api/v1/consents/u-1/surveys", b).status_code == 404
    processing = hot_and_flask(app, "/api/v1/subjects/u-1/processing?activity=surveys", b).get_json()
    assert processing["status"] == "no_consent"
    query = client.post("/api/v1/consents:query", json={"pairs": [{"subject": "u-1", "purpose": "surveys"}]},
                        headers=b)  # fmt: skip
    assert query.get_json()["items"][0]["status"] is None
    assert client.get("/api/v1/consents/u-1/surveys/history", headers=b).status_code == 404
    receipt = client.get(f"/api/v1/consent-receipts/{given['receipt']['consentReceiptID']}", headers=b)
    assert receipt.status_code == 404
    # b withdraws its own user's consent: a's user still consents
    withdrawn = _put(client, b, "withdrawn")
    assert withdrawn["changed"] is True and withdrawn["subject"] == "u-1"
    read = hot_and_flask(app, "/api/v1/consents/u-1/surveys", a).get_json()
    assert read["status"] == "given" and read["event_id"] == given["event_id"]
    assert (
        hot_and_flask(app, "/api/v1/subjects/u-1/processing?activity=surveys", a).get_json()["status"]
        == "allowed"
    )
    assert hot_and_flask(app, "/api/v1/subjects/u-1/processing?activity=surveys", b).get_json()["status"] == (
        "consent_withdrawn"
    )
    # If-Match: b's tag is not a's, so b cannot pass a's check either
    stale = client.put("/api/v1/consents/u-1/surveys", json={"status": "withdrawn"},
                       headers={**a, "If-Match": f'"e{withdrawn["event_id"]}"'})  # fmt: skip
    assert stale.status_code == 412
    history = client.get("/api/v1/consents/u-1/surveys/history", headers=a).get_json()
    assert [e["status"] for e in history["events"]] == ["given"] and history["subject"] == "u-1"


def test_a_portal_hears_only_of_its_own_users_change_under_its_own_id(app, client, portals) -> None:  # type: ignore[no-untyped-def]
    for name in ("portal-a", "portal-b"):
        hook = {"url": "https://93.184.215.14/hook", "events": ["consent.changed"]}
        assert client.post("/api/v1/webhooks", json=hook, headers=portals[name]).status_code == 201
    _put(client, portals["portal-a"], "given")
    _put(client, portals["portal-b"], "withdrawn")
    with transaction(app.extensions["engine"]) as session:
        sent = session.execute(
            select(webhooks.WebhookSubscription.client, notify.OutboxMessage.payload)
            .join(webhooks.WebhookSubscription)
            .where(notify.OutboxMessage.event == "consent.changed")
            .order_by(notify.OutboxMessage.id)
        )
        told = [(name, dict(payload)["data"]) for name, payload in sent]
    assert [(client_name, d["subject"], d["status"]) for client_name, d in told] == [
        ("portal-a", "u-1", "given"),
        ("portal-b", "u-1", "withdrawn"),
    ]
    assert "/" not in json.dumps([d for __, d in told])


def test_each_portals_user_is_stored_under_its_own_key_and_erased_only_in_its_own_columns(  # type: ignore[no-untyped-def]
    app, client, portals
) -> None:
    for name in portals:
        _put(client, portals[name], "given")
    _put(client, portals["portal-a"], "given", subject="Kari.Nordmann@Example.no")
    with transaction(app.extensions["engine"]) as session:
        keys = sorted(session.scalars(select(ConsentState.subject)))
        events = sorted(session.scalars(select(ConsentEvent.subject)))
    assert (
        keys
        == events
        == sorted(["portal-a/u-1", "portal-b/u-1", "ops@Portal/c/u-1", "kari.nordmann@example.no"])
    )
    read = hot_and_flask(app, "/api/v1/consents/u-1/surveys", portals["ops@Portal/c"]).get_json()
    assert read["subject"] == "u-1" and read["status"] == "given"
    # a withdrawal's erasure finds the user in that portal's own user id columns only (the data map's
    # `portal:<client>`), never in a column another portal's ids could match
    assert subject_identity("portal-a/u-1") == {"portal:portal-a": "u-1"}
    assert subject_identity("kari.nordmann@example.no") == {"email": "kari.nordmann@example.no"}
    assert subject_identity("ops@Portal/c/u-1") == {}  # a name the data map cannot hold: no column is hers


def test_an_officer_finds_each_portals_user_named_with_its_portal(app, client, portals, login) -> None:  # type: ignore[no-untyped-def]
    _put(client, portals["portal-a"], "given")
    _put(client, portals["portal-b"], "withdrawn")
    login()
    for lang, words in (("en", "User id at %s"), ("nb", "Bruker-ID hos %s")):
        token = csrf_token(client, "/officer/consents/")
        found = client.post(
            f"/officer/consents/?lang={lang}", data={"csrf_token": token, "subject": "u-1"}
        ).get_data(as_text=True)
        for name in ("portal-a", "portal-b"):
            assert words % name in found, found
        assert "portal-a/u-1" not in found and "portal-b/u-1" not in found
        # what the officer reads: the activity's name, the status and channel in words, no codes
        main = found[found.index("<main") : found.index("</main>")]
        shown = [" ".join(line.split()) for line in re.sub(r"<[^>]+>", "\n", main).splitlines()]
        shown = [line for line in shown if line]
        assert not {"surveys", "dpv:ConsentGiven", "dpv:ConsentWithdrawn", "api"} & set(shown), shown
        assert foreign_lines(shown, lang, data=["portal-a", "portal-b", "u-1"]) == [], shown


def test_no_path_body_or_call_names_another_portals_key(app, client, portals) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.audit import Actor
    from privacy_service.errors import ValidationFailed

    a, b = portals["portal-a"], portals["portal-b"]
    given = _put(client, a, "given")
    for path in ("/api/v1/consents/portal-a%2Fu-1/surveys", "/api/v1/consents/portal-a%2fu-1/surveys"):
        assert client.put(path, json={"status": "withdrawn"}, headers=b).status_code in (404, 405, 422)
        assert client.get(path, headers=b).status_code in (404, 422)
    pairs = {"pairs": [{"subject": "portal-a/u-1", "purpose": "surveys"}]}
    hostile = client.post("/api/v1/consents:query", json=pairs, headers=b)
    assert hostile.status_code == 422, hostile.get_json()
    processing = client.get("/api/v1/subjects/portal-a%2Fu-1/processing?activity=surveys", headers=b)
    assert processing.status_code in (404, 422)
    with app.app_context(), transaction(app.extensions["engine"]) as session, pytest.raises(ValidationFailed):
        consent.change_consent(
                session, subject="portal-a/u-1", purpose="surveys", status="withdrawn", channel="api",
                actor=Actor("api_client", "portal-b"), links=app.extensions["links"],
            )  # fmt: skip
    read = hot_and_flask(app, "/api/v1/consents/u-1/surveys", a).get_json()
    assert read["status"] == "given" and read["event_id"] == given["event_id"]
