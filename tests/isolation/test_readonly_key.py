"""Issue 14, item 1: a read-only key must not be able to withdraw consent (and so erase data).

Before the fix, GET /api/v1/consents/{subject}/{purpose} (the Flask view and the PostgreSQL fast path) and the
receipt carried the signed one-click withdrawal link: a consent:read key could post it without any key, the
survey answers were erased, and the audit trail named the subject as the actor."""

from __future__ import annotations

import json

from tests_support import bearer

KARI = "kari.nordmann@example.no"


def test_no_read_hands_out_the_withdrawal_link(app, client, make_key, engine_name) -> None:  # type: ignore[no-untyped-def]
    writer = bearer(make_key("consent:read", "consent:write"))
    reader = bearer(make_key("consent:read"))
    given = client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "given", "channel": "web"},
                       headers=writer)  # fmt: skip
    assert given.status_code == 200 and "/consent/withdraw/" in given.get_json()["withdraw_url"]
    receipt_id = given.get_json()["receipt"]["consentReceiptID"]
    reads = {
        "state": client.get(f"/api/v1/consents/{KARI}/surveys", headers=reader),
        "history": client.get(f"/api/v1/consents/{KARI}/surveys/history", headers=writer),
        "query": client.post(
            "/api/v1/consents:query",
            json={"pairs": [{"subject": KARI, "purpose": "surveys"}]},
            headers=reader,
        ),  # fmt: skip
        "receipt": client.get(f"/api/v1/consent-receipts/{receipt_id}", headers=writer),
        "processing": client.get(f"/api/v1/subjects/{KARI}/processing?activity=surveys", headers=reader),
    }
    # the reader recorded nothing: the history and receipt of another client's consent are not its to read
    assert client.get(f"/api/v1/consents/{KARI}/surveys/history", headers=reader).status_code == 404
    assert client.get(f"/api/v1/consent-receipts/{receipt_id}", headers=reader).status_code == 404
    for name, response in reads.items():
        text = response.get_data(as_text=True)
        assert response.status_code == 200, (name, response.status_code, text)
        assert "/consent/withdraw/" not in text and "withdraw_url" not in text, name
    assert app.extensions["hot_path"].answered >= 2  # the state and processing reads, before Flask
    state = json.loads(reads["state"].get_data(as_text=True))
    assert state["status"] == "given"
    # and a read-only key cannot change the consent through the API
    refused = client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "withdrawn", "channel": "web"},
                         headers=reader)  # fmt: skip
    assert refused.status_code == 403
