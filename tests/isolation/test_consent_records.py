"""The consent records of another client: the state is the controller's and every portal reads it (one answer
per person), but the evidence trail is the recording client's. Before the fix any consent:read key read the
full history of any subject's consent, with the names of the other portals that recorded it (telling which
services she uses), and fetched their receipts by id."""

from __future__ import annotations

from tests_support import bearer

KARI = "kari.nordmann@example.no"


def test_a_client_reads_the_history_and_receipts_of_what_it_recorded_only(client, make_key, login) -> None:  # type: ignore[no-untyped-def]
    portal_a = bearer(make_key("consent:read", "consent:write", name="portal-a"))
    portal_b = bearer(make_key("consent:read", "consent:write", name="portal-b"))
    given = client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "given"}, headers=portal_a)
    receipt_a = given.get_json()["receipt"]["consentReceiptID"]

    # B shares the answer about her consent, not A's evidence
    assert client.get(f"/api/v1/consents/{KARI}/surveys", headers=portal_b).get_json()["status"] == "given"
    assert client.get(f"/api/v1/consents/{KARI}/surveys/history", headers=portal_b).status_code == 404
    assert client.get(f"/api/v1/consent-receipts/{receipt_a}", headers=portal_b).status_code == 404
    assert client.get(f"/api/v1/consent-receipts/{receipt_a}", headers=portal_a).status_code == 200

    withdrawn = client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "withdrawn"}, headers=portal_b)
    receipt_b = withdrawn.get_json()["receipt"]["consentReceiptID"]
    seen_by_b = client.get(f"/api/v1/consents/{KARI}/surveys/history", headers=portal_b).get_json()["events"]
    assert [(e["status"], e["actor"], e["receipt_id"]) for e in seen_by_b] == [
        ("given", "api_client", None),  # someone's, not whose
        ("withdrawn", "api_client:portal-b", receipt_b),
    ]
    seen_by_a = client.get(f"/api/v1/consents/{KARI}/surveys/history", headers=portal_a).get_json()["events"]
    assert [(e["actor"], e["receipt_id"]) for e in seen_by_a] == [
        ("api_client:portal-a", receipt_a),
        ("api_client", None),
    ]
    assert "portal-b" not in str(seen_by_a)
    # both now hold a consent of hers for this purpose, so each may read the other's receipt of it
    assert client.get(f"/api/v1/consent-receipts/{receipt_b}", headers=portal_a).status_code == 200

    login("auditor")  # an officer sees who did what
    officer = client.get(f"/api/v1/consents/{KARI}/surveys/history").get_json()["events"]
    assert [e["actor"] for e in officer] == ["api_client:portal-a", "api_client:portal-b"]
