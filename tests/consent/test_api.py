"""The consent API for portal services: record, read, query, history, receipts, "may I process?"."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from pypdf import PdfReader
from tests_support import bearer

KARI = "kari.nordmann@example.no"


@pytest.fixture
def portal(client, make_key) -> Any:  # type: ignore[no-untyped-def]
    """A portal service's calls with a consent:read + consent:write key."""
    key = headers = bearer(make_key("consent:read", "consent:write"))

    class Portal:
        def put(self, subject: str, purpose: str, **body: Any) -> Any:
            return client.put(f"/api/v1/consents/{subject}/{purpose}", json=body, headers=headers)

        def get(self, subject: str, purpose: str, **extra: str) -> Any:
            return client.get(f"/api/v1/consents/{subject}/{purpose}", headers={**headers, **extra})

        def history(self, subject: str, purpose: str) -> Any:
            return client.get(f"/api/v1/consents/{subject}/{purpose}/history", headers=headers)

        def processing(self, subject: str, activity: str) -> Any:
            return client.get(f"/api/v1/subjects/{subject}/processing?activity={activity}", headers=headers)

        def query(self, pairs: list[dict[str, str]]) -> Any:
            return client.post("/api/v1/consents:query", json={"pairs": pairs}, headers=headers)

        def call(self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
            return client.open(path, method=method, headers={**key, **(headers or {})}, **kwargs)

    return Portal()


def test_giving_consent_records_it_with_a_receipt(portal) -> None:  # type: ignore[no-untyped-def]
    response = portal.put(KARI, "surveys", status="given", channel="web", evidence={"form": "survey-2026"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "given" and body["dpv_status"] == "dpv:ConsentGiven" and body["changed"] is True
    assert body["notice_version"] == "1" and body["renewal_required"] is False
    assert body["withdraw_url"].startswith("http://localhost:5000/consent/withdraw/")
    assert KARI not in body["withdraw_url"]  # the link names the record, never the subject
    receipt = body["receipt"]
    assert receipt["version"] == "KI-CR-v1.1.0" and receipt["jurisdiction"] == "NO"
    assert receipt["piiPrincipalId"] == KARI and receipt["collectionMethod"] == "web"
    assert receipt["piiControllers"][0]["orgNumber"] == "983544622"
    assert receipt["services"][0]["purposes"][0]["consentType"] == "EXPRESSED"  # no Art. 9 data
    assert (
        receipt["iso27560"]["notice"]["version"] == "1" and len(receipt["iso27560"]["notice"]["sha256"]) == 64
    )
    assert receipt["iso27560"]["event"]["type"] == "given"
    again = portal.get(KARI, "surveys").get_json()
    assert {k: again[k] for k in ("status", "since", "notice_version")} == {
        k: body[k] for k in ("status", "since", "notice_version")
    }


def test_subject_ids_are_canonical_and_national_ids_are_refused(portal) -> None:  # type: ignore[no-untyped-def]
    assert portal.put("Kari.Nordmann@Example.NO", "surveys", status="given").status_code == 200
    assert portal.get(KARI, "surveys").get_json()["subject"] == KARI
    response = portal.put("15838512671", "surveys", status="given")
    assert response.status_code == 422
    assert "national identity number" in json.dumps(response.get_json())
    assert portal.get("15838512671", "surveys").status_code == 422


def test_a_read_is_cached_by_etag_and_a_change_breaks_it(portal) -> None:  # type: ignore[no-untyped-def]
    portal.put("portal-user-17", "newsletter", status="given")
    first = portal.get("portal-user-17", "newsletter")
    tag = first.headers["ETag"]
    assert portal.get("portal-user-17", "newsletter", **{"If-None-Match": tag}).status_code == 304
    portal.put("portal-user-17", "newsletter", status="withdrawn")
    after = portal.get("portal-user-17", "newsletter", **{"If-None-Match": tag})
    assert after.status_code == 200 and after.get_json()["status"] == "withdrawn"


def test_withdrawal_shows_at_once_and_renewal_is_its_own_dpv_status(portal) -> None:  # type: ignore[no-untyped-def]
    portal.put(KARI, "surveys", status="given")
    assert portal.processing(KARI, "surveys").get_json()["status"] == "allowed"
    withdrawn = portal.put(KARI, "surveys", status="withdrawn").get_json()
    assert withdrawn["dpv_status"] == "dpv:ConsentWithdrawn"
    assert portal.get(KARI, "surveys").get_json()["status"] == "withdrawn"
    assert portal.processing(KARI, "surveys").get_json()["status"] == "consent_withdrawn"
    renewed = portal.put(KARI, "surveys", status="given").get_json()
    assert renewed["dpv_status"] == "dpv:RenewedConsentGiven"
    events = portal.history(KARI, "surveys").get_json()["events"]
    assert [e["status"] for e in events] == ["given", "withdrawn", "given"]
    assert len({e["receipt_id"] for e in events}) == 3


def test_repeating_the_current_status_records_nothing(portal) -> None:  # type: ignore[no-untyped-def]
    first = portal.put(KARI, "newsletter", status="withdrawn").get_json()
    replay = portal.put(KARI, "newsletter", status="withdrawn").get_json()
    assert replay["changed"] is False and replay["receipt"] == first["receipt"]
    assert len(portal.history(KARI, "newsletter").get_json()["events"]) == 1


@pytest.mark.parametrize(
    ("purpose", "status", "code", "text"),
    [
        ("accounts", "given", 422, "not consent"),  # 6(1)(e): no consent to give
        ("applications", "withdrawn", 422, "not consent"),
        ("no-such-purpose", "given", 404, "Unknown purpose"),
        ("surveys", "maybe", 422, "Must be one of"),
    ],
)
def test_consent_is_refused_where_it_cannot_apply(portal, purpose, status, code, text) -> None:  # type: ignore[no-untyped-def]
    response = portal.put(KARI, purpose, status=status)
    assert response.status_code == code
    assert text in json.dumps(response.get_json())
    assert portal.get(KARI, purpose).status_code in (404, 422)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "given", "notice_version": "99"}, "notice_version"),
        ({"status": "given", "channel": "pigeon"}, "channel"),
        ({"status": "given", "evidence": {"x": "y" * 5000}}, "evidence"),
        ({"status": "given", "colour": "blue"}, "colour"),
        ({}, "status"),
    ],
)
def test_bad_bodies_get_field_errors_and_write_nothing(portal, body, field) -> None:  # type: ignore[no-untyped-def]
    response = portal.put(KARI, "surveys", **body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert portal.get(KARI, "surveys").status_code == 404


def test_a_retired_purpose_accepts_withdrawal_but_not_new_consent(portal, make_key, client) -> None:  # type: ignore[no-untyped-def]
    portal.put(KARI, "chatbot", status="given")
    admin = bearer(make_key("registry:write"))
    assert client.delete("/api/v1/activities/chatbot", headers={**admin, "If-Match": "*"}).status_code == 200
    assert portal.put("someone-else", "chatbot", status="given").status_code == 422
    assert portal.put(KARI, "chatbot", status="withdrawn").status_code == 200


def test_the_query_answers_many_pairs_in_order(portal) -> None:  # type: ignore[no-untyped-def]
    portal.put(KARI, "surveys", status="given")
    portal.put(KARI, "newsletter", status="withdrawn")
    pairs = [
        {"subject": KARI, "purpose": "newsletter"},
        {"subject": "nobody@example.no", "purpose": "surveys"},
        {"subject": "KARI.NORDMANN@example.no", "purpose": "surveys"},
    ]
    items = portal.query(pairs).get_json()["items"]
    assert [i["status"] for i in items] == ["withdrawn", None, "given"]


def test_the_query_refuses_more_than_a_thousand_pairs(portal) -> None:  # type: ignore[no-untyped-def]
    pairs = [{"subject": f"user-{i}", "purpose": "surveys"} for i in range(1001)]
    response = portal.query(pairs)
    assert response.status_code == 422 and "pairs" in response.get_json()["error"]["fields"]
    assert portal.query(pairs[:1000]).status_code == 200


def test_processing_status_for_activities_not_based_on_consent(portal, app) -> None:  # type: ignore[no-untyped-def]
    assert portal.processing(KARI, "accounts").get_json()["status"] == "allowed"
    assert portal.processing(KARI, "surveys").get_json()["status"] == "no_consent"
    assert portal.processing(KARI, "nope").status_code == 404
    assert portal.call("GET", f"/api/v1/subjects/{KARI}/processing").status_code == 422  # activity missing


def test_restriction_and_objection_answer_before_consent(portal, app) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.audit import Actor
    from privacy_service.consent import service
    from privacy_service.db import transaction

    portal.put(KARI, "surveys", status="given")
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        restricted = service.set_flag(
            session,
            subject=KARI,
            activity="surveys",
            kind="restricted",
            actor=Actor("user", "o1"),
            reference="DSR-1",
        )
        service.set_flag(
            session, subject=KARI, activity="accounts", kind="objected", actor=Actor("user", "o1")
        )
    assert portal.processing(KARI, "surveys").get_json()["status"] == "restricted"
    assert portal.processing(KARI, "accounts").get_json()["status"] == "objected"
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        service.lift_flag(session, flag_id=restricted.id, actor=Actor("user", "o1"))
    assert portal.processing(KARI, "surveys").get_json()["status"] == "allowed"


def test_a_material_notice_change_asks_for_renewal_until_consent_is_given_again(
    portal, client, make_key
) -> None:  # type: ignore[no-untyped-def]
    portal.put(KARI, "surveys", status="given")
    portal.put("other-user", "surveys", status="withdrawn")
    officer = bearer(make_key("registry:write", "consent:read"))
    notice = {"purpose": "surveys", "version": "2", "text": {"nb": "Ny tekst", "en": "New text"}}
    response = client.post(
        "/api/v1/consent-notices", json={**notice, "renewal_required": True}, headers=officer
    )
    assert response.status_code == 201, response.get_json()
    assert portal.get(KARI, "surveys").get_json()["renewal_required"] is True
    assert portal.get("other-user", "surveys").get_json()["renewal_required"] is False
    waiting = portal.processing(KARI, "surveys").get_json()
    assert waiting["renewal_required"] is True and waiting["status"] == "renewal_required"
    renewed = portal.put(KARI, "surveys", status="given", notice_version="2").get_json()
    assert renewed["renewal_required"] is False and renewed["changed"] is True
    # a published text never changes
    changed = client.post(
        "/api/v1/consent-notices", json={**notice, "text": {"nb": "Annen", "en": "Other"}}, headers=officer
    )
    assert changed.status_code == 409
    versions = client.get("/api/v1/consent-notices?purpose=surveys", headers=officer).get_json()
    assert [n["version"] for n in versions] == ["1", "2"]


def test_notices_only_for_consent_based_activities(client, make_key) -> None:  # type: ignore[no-untyped-def]
    officer = bearer(make_key("registry:write"))
    body = {"purpose": "accounts", "version": "1", "text": {"nb": "x", "en": "x"}}
    assert client.post("/api/v1/consent-notices", json=body, headers=officer).status_code == 422


def test_the_receipt_is_kept_as_issued(portal) -> None:  # type: ignore[no-untyped-def]
    receipt = portal.put(KARI, "surveys", status="given").get_json()["receipt"]
    got = portal.call("GET", f"/api/v1/consent-receipts/{receipt['consentReceiptID']}")
    assert got.status_code == 200 and got.get_json()["receipt"] == receipt
    assert portal.call("GET", "/api/v1/consent-receipts/not-a-receipt").status_code == 404
    pdf = portal.call(
        "GET",
        f"/api/v1/consent-receipts/{receipt['consentReceiptID']}",
        headers={"Accept": "application/pdf"},
    )
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert f"consent-receipt-{receipt['consentReceiptID']}.pdf" in pdf.headers["Content-Disposition"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert receipt["consentReceiptID"] in text and "Samtykkekvittering" in text


@pytest.mark.parametrize(
    ("scopes", "method", "status"),
    [(("consent:read",), "PUT", 403), (("consent:write",), "GET", 403), (("registry:read",), "GET", 403)],
)
def test_scopes_are_enforced(client, make_key, scopes, method, status) -> None:  # type: ignore[no-untyped-def]
    response = client.open(
        f"/api/v1/consents/{KARI}/surveys",
        method=method,
        json={"status": "given"},
        headers=bearer(make_key(*scopes)),
    )
    assert response.status_code == status


def test_the_audit_trail_holds_no_subject_in_clear(portal, client, make_key) -> None:  # type: ignore[no-untyped-def]
    portal.put(KARI, "surveys", status="given")
    auditor = bearer(make_key("audit:read"))
    mine = client.get("/api/v1/audit?action=consent.given", headers=auditor).get_json()
    assert len(mine["items"]) == 1, mine
    everything = json.dumps(client.get("/api/v1/audit?limit=1000", headers=auditor).get_json())
    assert "consent.given" in everything and "kari" not in everything.lower()
