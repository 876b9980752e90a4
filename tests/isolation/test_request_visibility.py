"""Issue 14, item 6: requests:read saw every request (web-form requests, other portals', officers'). A client
now sees the requests it submitted; requests:manage and officers see all. Before the fix each assertion on
another client's request failed."""

from __future__ import annotations

from tests_support import bearer


def test_a_client_sees_only_the_requests_it_submitted(client, make_key) -> None:  # type: ignore[no-untyped-def]
    portal_a = bearer(make_key("requests:read", "requests:write", name="portal-a"))
    portal_b = bearer(make_key("requests:read", "requests:write", name="portal-b"))
    officer = bearer(make_key("requests:read", "requests:manage", name="privacy-team"))
    body = {"type": "access", "subject": {"email": "kari.nordmann@example.no"}}
    mine = client.post("/api/v1/requests", json=body, headers=portal_a).get_json()["reference"]
    theirs = client.post("/api/v1/requests", json=body, headers=portal_b).get_json()["reference"]

    listed = {r["reference"] for r in client.get("/api/v1/requests", headers=portal_a).get_json()}
    assert listed == {mine}
    assert client.get(f"/api/v1/requests/{mine}", headers=portal_a).status_code == 200
    other = client.get(f"/api/v1/requests/{theirs}", headers=portal_a)
    assert other.status_code == 404  # the same answer as a reference that does not exist
    assert client.get(f"/api/v1/requests/{theirs}/package", headers=portal_a).status_code == 404
    everyone = {r["reference"] for r in client.get("/api/v1/requests", headers=officer).get_json()}
    assert {mine, theirs} <= everyone
