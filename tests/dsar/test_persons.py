"""A request's subject as one person (issue 21): the identifiers a verified request proved are linked, an
unproved one never; her erasure removes her links and the person, except what a hold needs to find its rows;
and each portal that linked her hears of the erasure in its own user ids, and only its own."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests_support import bearer, settle

from privacy_service import notify
from privacy_service.audit import AuditEvent
from privacy_service.db import transaction
from privacy_service.dsar.models import DsarEvent, DsarRequest
from privacy_service.people import service as people
from privacy_service.people.models import Person

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
OTHER_NID = "01018510002"  # a valid number that is not Kari's


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage",
                           "holds:manage", "consent:read", name="officer-desk"))  # fmt: skip


def _deliver(app) -> None:  # type: ignore[no-untyped-def]
    counts = notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    assert counts["failed"] == 0 and counts["retrying"] == 0, counts


def _link(client, key: dict[str, str], portal_id: str, **identifiers: Any) -> None:  # type: ignore[no-untyped-def]
    body = {"portal_id": portal_id, "login": "ID-porten", **identifiers}
    linked = client.post("/api/v1/subjects/links", headers=key, json=body)
    assert linked.status_code == 200, linked.get_json()


def _identifiers(app, claim: people.Claim) -> list[tuple[str, str, bool]]:  # type: ignore[no-untyped-def]
    """(kind, client, verified) of every identifier of the person the claim finds; [] for none."""
    with transaction(app.extensions["engine"]) as session:
        person = people.person_of(session, claim, secret=app.config["SECRET_KEY"])
        if person is None:
            return []
        rows = people.identifiers_of(session, person)
        return sorted((r.kind, r.client, r.verified_by is not None) for r in rows)


def _timeline(app, reference: str) -> list[DsarEvent]:  # type: ignore[no-untyped-def]
    with transaction(app.extensions["engine"]) as session:
        req = session.scalar(select(DsarRequest).where(DsarRequest.reference == reference))
        assert req is not None
        return list(session.scalars(select(DsarEvent).where(DsarEvent.request_id == req.id)))


def _erased(app, client, officer, activities: list[str]) -> str:  # type: ignore[no-untyped-def]
    body = {"type": "erasure", "subject": KARI, "verified_by": "ID-porten", "activities": activities}
    created = client.post("/api/v1/requests", headers=officer, json=body)
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    _deliver(app)  # the plan
    settle(client, reference, officer)
    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()
    return reference


def _erased_under_hold(app, client, officer, make_key) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Kari, linked by portal-a, erased from accounts and support while a legal hold keeps her support
    enquiry: the hold's id and the request's reference."""
    portal = bearer(make_key("subjects:link", name="portal-a"))
    _link(client, portal, "u-1", national_id=KARI["national_id"])
    hold = client.post("/api/v1/holds", headers=officer, json={
        "kind": "legal", "scope": "records", "system": "helsedata-support", "table_name": "support_enquiries",
        "record_keys": ["1"], "basis": "Complaint 26/77"})  # fmt: skip
    assert hold.status_code == 201, hold.get_json()
    return hold.get_json()["id"], _erased(app, client, officer, ["accounts", "support"])


EMAIL, NID = people.Claim("email", KARI["email"]), people.Claim("national_id", KARI["national_id"])


# --- linking from requests ----------------------------------------------------------------------------------


def test_a_verified_request_links_its_email_and_national_id_as_one_person(app, client, officer) -> None:  # type: ignore[no-untyped-def]
    body = {"type": "access", "subject": KARI, "verified_by": "ID-porten"}  # the portal vouches for both
    assert client.post("/api/v1/requests", headers=officer, json=body).status_code == 201
    assert _identifiers(app, EMAIL) == [("email", "", True), ("national_id", "", True)]
    assert _identifiers(app, NID) == _identifiers(app, EMAIL)


def test_an_unproved_email_is_not_linked_until_an_officer_proves_it(app, client, officer, make_key) -> None:  # type: ignore[no-untyped-def]
    portal = bearer(make_key("subjects:link", name="portal-a"))
    _link(client, portal, "u-1", national_id=KARI["national_id"])
    created = client.post("/api/v1/requests", headers=officer, json={"type": "access", "subject": KARI})
    reference = created.get_json()["reference"]  # the e-mail check is open: nothing is proved
    verify = f"/api/v1/requests/{reference}/verify"
    by_hand = client.post(verify, headers=officer, json={"note": "Passport", "identifiers": ["national_id"]})
    assert by_hand.status_code == 200, by_hand.get_json()
    assert _identifiers(app, NID) == [("national_id", "", True), ("portal", "portal-a", True)]  # no e-mail
    assert _identifiers(app, EMAIL) == []

    later = client.post(verify, headers=officer, json={"note": "Mail from her", "identifiers": ["email"]})
    assert later.status_code == 200, later.get_json()
    assert _identifiers(app, EMAIL) == [("email", "", True), ("national_id", "", True),
                                        ("portal", "portal-a", True)]  # fmt: skip


def test_a_refused_link_leaves_the_verification_standing_and_tells_only_the_officer(
    app, client, officer, make_key
) -> None:  # type: ignore[no-untyped-def]
    portal = bearer(make_key("subjects:link", name="portal-a"))
    _link(client, portal, "u-1", national_id=OTHER_NID, email=KARI["email"], email_verified=True)
    body = {"type": "access", "subject": KARI, "verified_by": "ID-porten"}
    created = client.post("/api/v1/requests", headers=officer, json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["status"] == "in_progress"  # verified all the same
    assert _identifiers(app, NID) == []  # her number joined nobody
    timeline = _timeline(app, created.get_json()["reference"])
    [refused] = [e for e in timeline if e.kind == "person_link_refused"]
    assert refused.visible_to_subject is False


# --- erasure and the links ----------------------------------------------------------------------------------


def test_an_approved_erasure_removes_her_links_and_the_person(app, client, officer, make_key, demo) -> None:  # type: ignore[no-untyped-def]
    portal = bearer(make_key("subjects:link", name="portal-a"))
    _link(client, portal, "u-1", national_id=KARI["national_id"])
    reference = _erased(app, client, officer, ["accounts"])
    assert _identifiers(app, EMAIL) == [] and _identifiers(app, NID) == []
    with transaction(app.extensions["engine"]) as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0
        [audit] = session.scalars(select(AuditEvent).where(AuditEvent.action == "person.forgotten")).all()
    assert audit.details["reference"] == reference and audit.details["kept"] == 0
    [forgotten] = [e for e in _timeline(app, reference) if e.kind == "person_forgotten"]
    assert forgotten.visible_to_subject is False
    assert forgotten.details == {"removed": {"email": 1, "national_id": 1, "portal": 1}, "kept": []}


def test_with_a_hold_keeping_rows_her_own_identifiers_stay_and_the_portal_links_go(
    app, client, officer, make_key, demo, login
) -> None:  # type: ignore[no-untyped-def]
    __, reference = _erased_under_hold(app, client, officer, make_key)
    assert _identifiers(app, EMAIL) == [("email", "", True), ("national_id", "", True)]  # no portal link
    assert _identifiers(app, NID) == _identifiers(app, EMAIL)
    [forgotten] = [e for e in _timeline(app, reference) if e.kind == "person_forgotten"]
    assert forgotten.details == {"removed": {"portal": 1}, "kept": ["email", "national_id"]}
    login("officer")  # the officer reads which stayed, in her language
    bokmaal = client.get(f"/officer/requests/{reference}?lang=nb").get_data(as_text=True)
    english = client.get(f"/officer/requests/{reference}?lang=en").get_data(as_text=True)
    assert "beholdt så lenge en sperre holder på data: E-postadresse, Fødselsnummer" in bokmaal
    assert "kept while a hold keeps data: E-mail address, National identity number" in english


def test_when_the_hold_ends_the_held_rows_go_and_so_do_the_identifiers_kept_to_find_them(
    app, client, officer, make_key, demo
) -> None:  # type: ignore[no-untyped-def]
    hold_id, reference = _erased_under_hold(app, client, officer, make_key)
    assert _identifiers(app, EMAIL) == [("email", "", True), ("national_id", "", True)]
    released = client.post(f"/api/v1/holds/{hold_id}/release", headers=officer,
                           json={"note": "Case closed"})  # fmt: skip
    assert released.status_code == 200, released.get_json()
    _deliver(app)  # the retry the release queued: the rows go, then what found them
    after = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()
    assert all(o["held"] == 0 for o in after["outcomes"]), after["outcomes"]
    assert _identifiers(app, EMAIL) == [] and _identifiers(app, NID) == []
    with transaction(app.extensions["engine"]) as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0
    forgotten = [e for e in _timeline(app, reference) if e.kind == "person_forgotten"]
    assert [e.details for e in forgotten] == [
        {"removed": {"portal": 1}, "kept": ["email", "national_id"]},
        {"removed": {"email": 1, "national_id": 1}, "kept": []},
    ]


def test_each_portal_that_linked_her_hears_of_the_erasure_in_its_own_ids_only(
    app, client, officer, make_key, demo
) -> None:  # type: ignore[no-untyped-def]
    keys = {name: bearer(make_key("subjects:link", "consent:read", name=name))
            for name in ("portal-a", "portal-b", "snooper")}  # fmt: skip
    subs = {}
    for name, key in keys.items():
        hook = {"url": f"http://127.0.0.1:9/{name}", "events": ["subject.erased"]}
        subs[client.post("/api/v1/webhooks", headers=key, json=hook).get_json()["id"]] = name
    _link(client, keys["portal-a"], "a-1", national_id=KARI["national_id"])
    _link(client, keys["portal-a"], "a-2", national_id=KARI["national_id"])
    _link(client, keys["portal-b"], "b-77", email=KARI["email"], email_verified=True)
    _erased(app, client, officer, ["accounts"])

    with transaction(app.extensions["engine"]) as session:
        erased = notify.OutboxMessage.event == "subject.erased"
        sent = session.scalars(select(notify.OutboxMessage).where(erased))
        got = {subs[m.subscription_id]: m.payload["data"] for m in sent}
    assert sorted(got) == ["portal-a", "portal-b"]  # the snooper linked nothing and knows nothing of her
    assert got["portal-a"]["portal_ids"] == ["a-1", "a-2"] and got["portal-b"]["portal_ids"] == ["b-77"]
    assert "b-77" not in json.dumps(got["portal-a"]) and "a-1" not in json.dumps(got["portal-b"])
    assert all("reference" not in data and data["subject_pseudonym"] for data in got.values())
    assert sorted(got["portal-a"]) == sorted(_documented_portal_data())  # docs/webhooks.md shows this shape


def _documented_portal_data() -> dict[str, Any]:
    """The page's example `data` of a delivery to a portal that linked her."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    [block] = [b for b in re.findall(r"```json\n(.*?)```", page, re.S) if '"portal_ids"' in b]
    return json.loads(block)
