"""Min side: a person logged in through the provider sees her requests and consents, withdraws a consent,
makes a request that is verified by the login, and downloads its answer; another person sees none of it."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader
from tests_support import bearer, complete, settle

from privacy_service import notify
from privacy_service.dsar.deadlines import deadline, local_date

KARI_NID, KARI_EMAIL = "15838512671", "kari.nordmann@example.no"
OLA_NID = "01010112345"


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage",
                           "holds:manage"))  # fmt: skip


def _deliver(app) -> None:  # type: ignore[no-untyped-def]
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_kari_makes_a_verified_request_on_min_side_and_downloads_the_answer(  # type: ignore[no-untyped-def]
    app, client, log_in, officer, demo
) -> None:
    assert log_in(pid=KARI_NID).status_code == 302
    page = client.get("/me?lang=en").get_data(as_text=True)
    assert "You have no requests yet." in page
    made = client.post(
        "/me/requests?lang=en",
        data={"csrf_token": _csrf(page), "type": "access", "activities": ["accounts", "applications"]},
    )
    assert made.status_code == 302, made.get_data(as_text=True)
    page = client.get("/me?lang=en").get_data(as_text=True)
    ref = re.search(r'data-reference="(DSR-\d{4}-\d{6})"', page)
    assert ref, page
    body = client.get(f"/api/v1/requests/{ref.group(1)}", headers=officer).get_json()
    # verified by the login from the start: no e-mail check, the deadline counts from receipt
    assert body["identity_method"] == "idporten" and body["status"] == "in_progress"
    assert body["identifiers"] == [
        {
            "kind": "national_id",
            "verified_by": "idporten",
            "verified_at": body["identifiers"][0]["verified_at"],
        }
    ]
    assert body["due_at"] == deadline(local_date(datetime.now(UTC))).isoformat()
    _deliver(app)  # the plan: found by her proved national identity number
    plan = client.get(f"/api/v1/requests/{ref.group(1)}", headers=officer).get_json()
    accounts = next(o for o in plan["outcomes"] if o["activity"] == "accounts")
    assert accounts["records"] == 1 and accounts["tables"][0]["matched_by"] == {"national_id": 1}
    settle(client, ref.group(1), officer)
    assert (
        client.post(f"/api/v1/requests/{ref.group(1)}/approve", headers=officer, json={}).status_code == 200
    )
    assert complete(client, ref.group(1), officer).status_code == 200
    page = client.get("/me?lang=en").get_data(as_text=True)
    letter = client.get(f"/me/requests/{ref.group(1)}/letter")
    assert letter.status_code == 200 and letter.data.startswith(b"%PDF")
    assert f"/me/requests/{ref.group(1)}/export" in page
    assert KARI_NID not in page  # the number is masked, and never in a link

    # Ola logs in on the same browser: none of Kari's requests, and her answer is not his to download
    client.post("/me/logout", data={"csrf_token": _csrf(page)})
    assert log_in(pid=OLA_NID).status_code == 302
    assert ref.group(1) not in client.get("/me?lang=en").get_data(as_text=True)
    assert client.get(f"/me/requests/{ref.group(1)}/letter").status_code == 404


def test_a_strangers_request_with_her_number_is_not_hers(app, client, log_in, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("requests:write"))
    stranger = {"type": "access", "subject": {"email": "mallory@example.net", "national_id": KARI_NID}}
    ref = client.post("/api/v1/requests", json=stranger, headers=key).get_json()["reference"]
    log_in(pid=KARI_NID)
    assert ref not in client.get("/me?lang=en").get_data(as_text=True)  # the number was never proved


def test_kari_sees_and_withdraws_her_consent_on_min_side(app, client, log_in, make_key, officer) -> None:  # type: ignore[no-untyped-def]
    consent_key = bearer(make_key("consent:read", "consent:write"))
    given = client.put(f"/api/v1/consents/{KARI_EMAIL}/surveys", json={"status": "given", "channel": "web"},
                       headers=consent_key)  # fmt: skip
    assert given.status_code == 200, given.get_json()
    # a portal that logged her in proved both her number and her address
    portal = {
        "type": "access",
        "subject": {"email": KARI_EMAIL, "national_id": KARI_NID},
        "verified_by": "ID-porten",
    }
    assert client.post("/api/v1/requests", json=portal, headers=officer).status_code == 201
    log_in(pid=OLA_NID)
    page = client.get("/me?lang=en").get_data(as_text=True)
    assert 'data-purpose="surveys"' not in page  # not his
    client.post("/me/logout", data={"csrf_token": _csrf(page)})
    log_in(pid=KARI_NID)
    page = client.get("/me?lang=en").get_data(as_text=True)
    assert 'data-purpose="surveys" data-consent-status="given"' in page and KARI_EMAIL in page
    action = re.search(r'action="(/me/consents/(\d+)/withdrawn)"', page)
    assert action, page
    done = client.post(action.group(1), data={"csrf_token": _csrf(page)})
    assert done.status_code == 302
    status = client.get(f"/api/v1/consents/{KARI_EMAIL}/surveys", headers=consent_key).get_json()
    assert status["status"] == "withdrawn"
    page = client.get("/me?lang=en").get_data(as_text=True)
    assert 'data-consent-status="withdrawn"' in page

    # Ola cannot change Kari's consent by its number
    client.post("/me/logout", data={"csrf_token": _csrf(page)})
    log_in(pid=OLA_NID)
    page = client.get("/me?lang=en").get_data(as_text=True)
    refused = client.post(f"/me/consents/{action.group(2)}/given", data={"csrf_token": _csrf(page)})
    assert refused.status_code == 404


def test_min_side_in_bokmaal_speaks_bokmaal(client, log_in) -> None:  # type: ignore[no-untyped-def]
    log_in(pid=KARI_NID)
    page = client.get("/me?lang=nb").get_data(as_text=True)
    for english in ("Your requests", "Make a new request", "Your consents", "What do you want to do?"):
        assert english not in page
    assert "Send henvendelsen" in page


NOTE = "Tvist om brukerstøtte, sak 26/1234 — bevis sikres"  # an officers' note on a hold


@pytest.mark.parametrize(
    ("lang", "kept"),
    [
        ("nb", "De trengs for et rettskrav eller en rettssak (personvernforordningen art. 17 nr. 3"),
        ("en", "They are needed for a legal claim or case (Art. 17(3)(e))"),
    ],
    ids=["nb", "en"],
)
def test_min_side_and_the_letter_on_it_never_show_a_holds_internal_note(  # type: ignore[no-untyped-def]
    app, client, log_in, officer, demo, lang: str, kept: str
) -> None:
    held = client.post(
        "/api/v1/holds",
        headers=officer,
        json={
            "kind": "legal",
            "scope": "records",
            "system": "helsedata-support",
            "table_name": "support_enquiries",
            "record_keys": ["1"],
            "basis": NOTE,
        },
    )
    assert held.status_code == 201, held.get_json()
    portal = {  # a portal that logged her in proved her number and her address
        "type": "access",
        "subject": {"email": KARI_EMAIL, "national_id": KARI_NID},
        "verified_by": "ID-porten",
        "language": lang,
        "activities": ["support"],
    }
    ref = client.post("/api/v1/requests", json=portal, headers=officer).get_json()["reference"]
    _deliver(app)
    assert client.post(f"/api/v1/requests/{ref}/approve", headers=officer, json={}).status_code == 200
    assert complete(client, ref, officer).status_code == 200
    log_in(pid=KARI_NID)
    page = client.get(f"/me?lang={lang}").get_data(as_text=True)
    assert f"/me/requests/{ref}/letter" in page and NOTE not in page and "26/1234" not in page
    letter = client.get(f"/me/requests/{ref}/letter")
    assert letter.status_code == 200
    pages = PdfReader(io.BytesIO(letter.data)).pages
    text = " ".join(" ".join(p.extract_text() or "" for p in pages).split())
    assert NOTE not in text and "26/1234" not in text and kept in text
