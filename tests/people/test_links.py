"""One person, many identifiers (issue 21): a portal links its own user id to identifiers its login proved,
and every status answer about her is the same whichever identifier asks, in the Flask view and the hot path;
a portal learns nothing about another portal's links."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from tests_support import bearer, hot_and_flask

from privacy_service.audit import Actor, AuditEvent
from privacy_service.consent import service as consent
from privacy_service.db import transaction
from privacy_service.people.models import Person, PersonIdentifier

KARI = "kari.nordmann@example.no"
OFFICER = Actor("user", "officer-1")


def _test_pid(birth: str) -> str:
    """A synthetic national identity number (mod-11 valid; month + 80 marks a test number)."""
    from privacy_service.kernel import valid_national_id

    return next(p for n in range(10000, 99999) if valid_national_id(p := f"{birth}{n}"))


PID, OTHER_PID = _test_pid("158885"), _test_pid("168885")


@pytest.fixture
def portals(app, make_key) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two portals (each may link, record and read consent) and an officer's writer."""
    return {
        "a": bearer(make_key("subjects:link", "consent:read", "consent:write", name="portal-a")),
        "b": bearer(make_key("subjects:link", "consent:read", "consent:write", name="portal-b")),
        "writer": bearer(make_key("consent:write", "consent:read", name="mail-service")),
    }


def _link(client, key, **body: Any) -> Any:  # type: ignore[no-untyped-def]
    return client.post("/api/v1/subjects/links", json={"login": "ID-porten", **body}, headers=key)


def _flag(app, subject: str, activity: str, kind: str) -> int:  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return consent.set_flag(session, subject=subject, activity=activity, kind=kind, actor=OFFICER).id


def _status(app, subject: str, activity: str, key: dict[str, str]) -> str:  # type: ignore[no-untyped-def]
    return hot_and_flask(app, f"/api/v1/subjects/{subject}/processing?activity={activity}", key).get_json()[
        "status"
    ]


def test_a_restriction_under_her_email_reaches_the_portal_asking_with_its_own_id(
    app, client, portals
) -> None:  # type: ignore[no-untyped-def]
    assert _status(app, "u-kari", "accounts", portals["a"]) == "allowed"
    linked = _link(client, portals["a"], portal_id="u-kari", national_id=PID, email=KARI, email_verified=True)
    assert linked.status_code == 200, linked.get_json()
    assert _status(app, "u-kari", "accounts", portals["a"]) == "allowed"
    _flag(app, KARI, "accounts", "restricted")
    assert _status(app, "u-kari", "accounts", portals["a"]) == "restricted"
    assert _status(app, KARI, "accounts", portals["a"]) == "restricted"
    _flag(app, KARI, "accounts", "objected")
    assert _status(app, "u-kari", "accounts", portals["a"]) == "objected"
    # the answer names the subject asked, never the address it was found under
    body = hot_and_flask(app, "/api/v1/subjects/u-kari/processing?activity=accounts", portals["a"]).get_json()
    assert body["subject"] == "u-kari" and KARI not in str(body)


def test_another_portal_asking_with_the_same_text_learns_nothing_of_the_link(app, client, portals) -> None:  # type: ignore[no-untyped-def]
    _link(client, portals["a"], portal_id="u-kari", national_id=PID, email=KARI, email_verified=True)
    _flag(app, KARI, "accounts", "restricted")
    assert _status(app, "u-kari", "accounts", portals["a"]) == "restricted"
    # portal b's "u-kari" is its own user, whoever that is: a's link is not b's
    assert _status(app, "u-kari", "accounts", portals["b"]) == "allowed"
    # and b cannot remove a's link
    assert client.delete("/api/v1/subjects/links/u-kari", headers=portals["b"]).status_code == 404
    assert _status(app, "u-kari", "accounts", portals["a"]) == "restricted"


def test_a_consent_withdrawn_under_one_identifier_is_withdrawn_for_the_person(app, client, portals) -> None:  # type: ignore[no-untyped-def]
    _link(client, portals["a"], portal_id="u-kari", national_id=PID, email=KARI, email_verified=True)
    given = client.put("/api/v1/consents/u-kari/surveys", json={"status": "given"}, headers=portals["a"])
    assert given.status_code == 200
    assert _status(app, "u-kari", "surveys", portals["a"]) == "allowed"
    # withdrawn by mail, under her address, by another service
    withdrawn = client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "withdrawn"},
                           headers=portals["writer"])  # fmt: skip
    assert withdrawn.status_code == 200
    assert _status(app, "u-kari", "surveys", portals["a"]) == "consent_withdrawn"
    read = hot_and_flask(app, "/api/v1/consents/u-kari/surveys", portals["a"]).get_json()
    assert read["status"] == "withdrawn" and read["subject"] == "u-kari"
    assert read["event_id"] == withdrawn.get_json()["event_id"]
    query = client.post(
        "/api/v1/consents:query",
        json={
            "pairs": [{"subject": "u-kari", "purpose": "surveys"}, {"subject": KARI, "purpose": "surveys"}]
        },
        headers=portals["a"],
    ).get_json()["items"]
    assert [i["status"] for i in query] == ["withdrawn", "withdrawn"]
    assert [i["subject"] for i in query] == ["u-kari", KARI]
    # portal b, asking with the same text, asks about its own user: nothing is recorded for that one
    assert client.post(
        "/api/v1/consents:query", json={"pairs": [{"subject": "u-kari", "purpose": "surveys"}]},
        headers=portals["b"],
    ).get_json()["items"][0]["status"] is None  # fmt: skip


def test_consent_given_again_under_the_portal_id_counts_and_if_match_is_the_persons(
    app, client, portals
) -> None:  # type: ignore[no-untyped-def]
    _link(client, portals["a"], portal_id="u-kari", national_id=PID, email=KARI, email_verified=True)
    client.put("/api/v1/consents/u-kari/surveys", json={"status": "given"}, headers=portals["a"])
    client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "withdrawn"}, headers=portals["writer"])
    tag = client.get("/api/v1/consents/u-kari/surveys", headers=portals["a"]).headers["ETag"]
    # the portal asks her again and she says yes: its own row said "given", but the person's is withdrawn
    again = client.put("/api/v1/consents/u-kari/surveys", json={"status": "given"},
                       headers={**portals["a"], "If-Match": tag})  # fmt: skip
    assert again.status_code == 200 and again.get_json()["changed"] is True
    assert _status(app, "u-kari", "surveys", portals["a"]) == "allowed"
    assert _status(app, KARI, "surveys", portals["writer"]) == "allowed"
    # a stale tag (the portal's own older event) is refused
    stale = client.put("/api/v1/consents/u-kari/surveys", json={"status": "withdrawn"},
                       headers={**portals["a"], "If-Match": tag})  # fmt: skip
    assert stale.status_code == 412


def test_an_unverified_address_links_nothing_that_answers(app, client, portals) -> None:  # type: ignore[no-untyped-def]
    linked = _link(client, portals["a"], portal_id="u-kari", national_id=PID, email=KARI)
    assert linked.get_json()["identifiers"] == [
        {"kind": "portal", "verified": True},
        {"kind": "national_id", "verified": True},
        {"kind": "email", "verified": False},
    ]
    _flag(app, KARI, "accounts", "restricted")
    assert _status(app, "u-kari", "accounts", portals["a"]) == "allowed"


def test_a_link_needs_the_scope_and_a_proved_identifier(app, client, make_key, login, portals) -> None:  # type: ignore[no-untyped-def]
    body = {"portal_id": "u-kari", "national_id": PID, "login": "ID-porten"}
    for scopes in (("consent:read",), ("consent:write",), ("requests:write", "requests:write:verified")):
        refused = client.post("/api/v1/subjects/links", json=body, headers=bearer(make_key(*scopes)))
        assert refused.status_code == 403 and "subjects:link" in refused.get_json()["error"]["message"]
    assert client.post("/api/v1/subjects/links", json=body).status_code == 401
    nothing_proved = _link(client, portals["a"], portal_id="u-kari", email=KARI)
    assert nothing_proved.status_code == 422 and "national_id" in nothing_proved.get_json()["error"]["fields"]
    bad = _link(client, portals["a"], portal_id="u-kari", national_id="12345678901")
    assert bad.status_code == 422 and "national_id" in bad.get_json()["error"]["fields"]
    for portal_id in (PID, "kari@example.no", "a b"):
        wrong = _link(client, portals["a"], portal_id=portal_id, national_id=PID)
        assert wrong.status_code == 422 and "portal_id" in wrong.get_json()["error"]["fields"]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        assert session.scalars(select(PersonIdentifier)).all() == []


def test_an_officer_session_cannot_link(app, client, login) -> None:  # type: ignore[no-untyped-def]
    login("admin")  # holds every scope, but links are a portal's own user ids
    from tests_support import csrf_token

    response = client.post(
        "/api/v1/subjects/links",
        json={"portal_id": "u-kari", "national_id": PID, "login": "ID-porten"},
        headers={"X-CSRFToken": csrf_token(client, "/officer/activities")},
    )
    assert response.status_code == 403


def test_the_national_id_is_never_stored_returned_or_audited_in_clear(app, client, portals) -> None:  # type: ignore[no-untyped-def]
    linked = _link(client, portals["a"], portal_id="u-kari", national_id=PID, email=KARI, email_verified=True)
    assert PID not in linked.get_data(as_text=True)
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        rows = session.scalars(select(PersonIdentifier)).all()
        assert {r.kind for r in rows} == {"portal", "national_id", "email"}
        assert all(PID not in r.value for r in rows)
        nid = next(r for r in rows if r.kind == "national_id")
        assert len(nid.value) == 64 and nid.verified_by == "portal_verified" and nid.login == "idporten"
        events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("person.%"))).all()
        assert [e.action for e in events] == ["person.linked"]
        assert PID not in str([e.details for e in events]) and KARI not in str([e.details for e in events])


def test_two_portals_linking_the_same_login_meet_in_one_person(app, client, portals) -> None:  # type: ignore[no-untyped-def]
    _link(client, portals["a"], portal_id="u-a", national_id=PID)
    _link(client, portals["b"], portal_id="u-b", email=KARI, email_verified=True)  # not yet known as one
    _flag(app, KARI, "accounts", "restricted")
    assert _status(app, "u-a", "accounts", portals["a"]) == "allowed"
    assert _status(app, "u-b", "accounts", portals["b"]) == "restricted"
    # portal b's user logs in with ID-porten: her national id joins the two
    assert _link(client, portals["b"], portal_id="u-b", national_id=PID).status_code == 200
    assert _status(app, "u-a", "accounts", portals["a"]) == "restricted"
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        assert len(session.scalars(select(Person)).all()) == 1
        assert len(session.scalars(select(PersonIdentifier)).all()) == 4


def test_two_national_ids_for_one_user_are_refused_nothing_is_linked_and_the_refusal_is_audited(
    app, client, portals
) -> None:  # type: ignore[no-untyped-def]
    _link(client, portals["a"], portal_id="u-kari", national_id=PID)
    refused = _link(
        client, portals["a"], portal_id="u-kari", national_id=OTHER_PID, email=KARI, email_verified=True
    )
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "conflict"
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        assert {r.kind for r in session.scalars(select(PersonIdentifier))} == {"portal", "national_id"}
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("person.%")).order_by(AuditEvent.seq)
        ).all()
        assert [e.action for e in events] == ["person.linked", "person.link_refused"]
        refusal = events[1]
        assert refusal.actor == "api_client:portal-a" and refusal.details == {
            "reason": "two_national_ids",
            "kinds": ["portal", "national_id", "email"],
        }
        assert OTHER_PID not in json.dumps(refusal.details) and KARI not in json.dumps(refusal.details)


def test_a_portal_removes_its_own_link(app, client, portals) -> None:  # type: ignore[no-untyped-def]
    _link(client, portals["a"], portal_id="u-kari", national_id=PID, email=KARI, email_verified=True)
    _flag(app, KARI, "accounts", "restricted")
    assert _status(app, "u-kari", "accounts", portals["a"]) == "restricted"
    assert client.delete("/api/v1/subjects/links/u-kari", headers=portals["a"]).status_code == 204
    assert _status(app, "u-kari", "accounts", portals["a"]) == "allowed"
    assert client.delete("/api/v1/subjects/links/u-kari", headers=portals["a"]).status_code == 404


def _payloads(app, event: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    from privacy_service import notify

    with transaction(app.extensions["engine"]) as session:
        found = session.scalars(select(notify.OutboxMessage).where(notify.OutboxMessage.event == event))
        return [dict(m.payload) for m in found]


def test_a_linked_portal_hears_of_the_persons_consent_change_under_its_own_id(app, client, portals) -> None:  # type: ignore[no-untyped-def]
    for key in (portals["a"], portals["b"]):
        hook = {"url": "https://93.184.215.14/hook", "events": ["consent.changed"]}
        assert client.post("/api/v1/webhooks", json=hook, headers=key).status_code == 201
    _link(client, portals["a"], portal_id="u-kari", national_id=PID, email=KARI, email_verified=True)
    client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "given"}, headers=portals["writer"])
    client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "withdrawn"}, headers=portals["writer"])
    told = _payloads(app, "consent.changed")
    assert [(p["data"]["subject"], p["data"]["status"]) for p in told] == [
        ("u-kari", "given"),
        ("u-kari", "withdrawn"),
    ]  # portal a only, under its own id; portal b (not linked) hears nothing
    assert all(p["data"]["portal_ids"] == ["u-kari"] and p["data"]["receipt_id"] is None for p in told)
    assert KARI not in json.dumps(told) and PID not in json.dumps(told)


def test_a_withdrawal_under_the_portal_id_erases_her_survey_answers_kept_under_her_address(
    app, client, portals
) -> None:  # type: ignore[no-untyped-def]
    from datetime import date
    from pathlib import Path

    from sqlalchemy import create_engine, text

    from privacy_service import notify, webhooks
    from privacy_service.datamap.demo import create_demo_data

    instance = Path(app.config["PRIVACY_INSTANCE_PATH"])
    create_demo_data(instance_path=instance, seed=3, people=20, anchor=date(2026, 11, 1))

    def answers() -> int:
        engine = create_engine(f"sqlite:///{instance / 'demo' / 'helsedata_survey.db'}")
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT count(*) FROM survey_responses WHERE lower(email) = :e"), {"e": KARI}
            )
            count = found.scalar_one()
        engine.dispose()
        return count

    _link(client, portals["a"], portal_id="u-kari", national_id=PID, email=KARI, email_verified=True)
    client.put("/api/v1/consents/u-kari/surveys", json={"status": "given"}, headers=portals["a"])
    client.put("/api/v1/consents/u-kari/surveys", json={"status": "withdrawn"}, headers=portals["a"])
    assert answers() == 1
    counts = webhooks.deliver_all(app.extensions["engine"], notify.transport_for(dict(app.config)))
    assert counts["failed"] == 0 and answers() == 0


@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)
def test_two_portals_linking_the_same_new_login_at_once_meet_in_one_person(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Both look before either writes (a barrier holds them there): one loses the unique index, tries again,
    and joins the other's person instead of failing."""
    import threading

    from privacy_service.people import service as people

    barrier = threading.Barrier(2)
    looked = threading.local()
    original = people._verified_rows

    def look_then_wait(session, keys):  # type: ignore[no-untyped-def]
        found = original(session, keys)
        if not getattr(looked, "once", False):
            looked.once = True
            barrier.wait(timeout=10)
        return found

    monkeypatch.setattr(people, "_verified_rows", look_then_wait)
    errors: list[BaseException] = []

    def link(client: str) -> None:
        try:
            with app.app_context(), transaction(app.extensions["engine"]) as session:
                people.link(
                    session,
                    [
                        people.Claim("portal", f"u-{client}", client=client, verified_by="portal_verified"),
                        people.Claim("national_id", PID, verified_by="portal_verified"),
                    ],
                    actor=Actor("api_client", client),
                    secret=app.config["SECRET_KEY"],
                )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=link, args=(name,)) for name in ("portal-a", "portal-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        rows = session.scalars(select(PersonIdentifier)).all()
        assert len({r.person_id for r in rows}) == 1
        assert sorted(r.kind for r in rows) == ["national_id", "portal", "portal"]
