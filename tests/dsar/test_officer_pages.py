"""Officer pages for requests: the queue with its filters, one request, the actions, registering a letter."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from tests_support import bearer, csrf_token

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann"}


@pytest.fixture
def engine_name() -> str:
    return "sqlite"


def _submit(client, key: str, **body):  # type: ignore[no-untyped-def]
    body.setdefault("type", "access")
    body.setdefault("subject", KARI)
    response = client.post("/api/v1/requests", json=body, headers=bearer(key))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["reference"]


def test_an_officer_registers_a_letter_verifies_and_extends_it(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    token = csrf_token(client, "/officer/requests/new")
    received = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/officer/requests/new?lang=en",
        data={
            "csrf_token": token,
            "type": "erasure",
            "channel": "letter",
            "received_at": received,
            "name": "Kari Nordmann",
            "national_id": "15838512671",
            "language": "nb",
            "text": "Slett kontoen min.",
        },  # fmt: skip
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    detail_url = response.headers["Location"]
    reference = detail_url.rsplit("/", 1)[1]
    page = client.get(detail_url + "?lang=en").get_data(as_text=True)
    assert reference in page and "Delete your data" in page and "••••••12671" in page
    assert "15838512671" not in page  # the number is never shown whole
    act = f"/officer/requests/{reference}"
    unnamed = client.post(f"{act}/verify", data={"csrf_token": token, "note": "Signed letter, ID copy"})
    assert unnamed.status_code == 302  # refused: the form did not say which identifier was checked
    page = client.get(detail_url + "?lang=en").get_data(as_text=True)
    assert "Say which identifier was checked" in page and 'data-verified="no"' in page
    client.post(
        f"{act}/verify",
        data={"csrf_token": token, "note": "Signed letter, ID copy attached", "identifiers": "national_id"},
    )
    client.post(
        f"{act}/extend", data={"csrf_token": token, "months": "1", "reason": "Four systems to search"}
    )
    page = client.get(detail_url + "?lang=en").get_data(as_text=True)
    assert "Being handled" in page and "Four systems to search" in page and "Signed letter" in page
    refused = client.post(f"{act}/extend", data={"csrf_token": token, "months": "1", "reason": "again"})
    assert refused.status_code == 302
    assert "one extension" in client.get(detail_url + "?lang=en").get_data(as_text=True)


def test_bad_letters_are_refused_with_field_messages(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    token = csrf_token(client, "/officer/requests/new")
    future = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    form = {"csrf_token": token, "type": "access", "channel": "phone", "language": "nb"}
    past = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    bad_number = client.post(
        "/officer/requests/new?lang=en", data={**form, "received_at": past, "national_id": "12345678901"}
    )
    assert "Not a valid Norwegian national identity number" in bad_number.get_data(as_text=True)
    later = client.post(
        "/officer/requests/new?lang=en", data={**form, "received_at": future, "national_id": "15838512671"}
    )
    assert later.status_code == 200 and "Cannot be in the future" in later.get_data(as_text=True)
    assert "Requests</a>" in later.get_data(as_text=True)
    assert client.get("/api/v1/requests").status_code in (200, 403)


def test_the_queue_filters_and_auditors_only_read(client, login, make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key("requests:write", "requests:manage")
    old = (datetime.now(UTC) - timedelta(days=45)).isoformat()
    late = _submit(client, key, channel="phone", received_at=old, type="objection")
    fresh = _submit(client, key, type="portability")
    login("auditor")
    everything = client.get("/officer/requests/?lang=en").get_data(as_text=True)
    assert late in everything and fresh in everything and "Overdue: 1" in everything
    overdue = client.get("/officer/requests/?overdue=1&lang=en").get_data(as_text=True)
    assert late in overdue and fresh not in overdue
    by_type = client.get("/officer/requests/?type=portability").get_data(as_text=True)
    assert fresh in by_type and late not in by_type
    detail = client.get(f"/officer/requests/{fresh}?lang=en").get_data(as_text=True)
    assert "Verify identity" not in detail  # no actions for a read-only role
    token = re.search(r'name="csrf_token" value="([^"]+)"', detail)
    assert token
    form = {"csrf_token": token.group(1), "ground": "excessive", "reason": "x"}
    denied = client.post(f"/officer/requests/{fresh}/reject", data=form)
    assert denied.status_code == 403


def test_the_detail_page_shows_the_plan_and_replans(app, client, login, make_key, demo) -> None:  # type: ignore[no-untyped-def]
    from privacy_service import notify

    key = make_key("requests:write", "requests:write:verified")
    reference = _submit(client, key, type="erasure", verified_by="ID-porten",
                        activities=["applications", "accounts", "website-visits"])  # fmt: skip
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    login("officer")
    page = client.get(f"/officer/requests/{reference}?lang=en").get_data(as_text=True)
    assert 'data-outcome="refused"' in page and "Art. 17(3)(d)" in page  # the archived application
    assert "not in the data map: check by hand" in page  # website visits
    assert "helsedata-portal.accounts</code>: 1" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    client.post(f"/officer/requests/{reference}/plan", data={"csrf_token": token.group(1)})
    timeline = client.get(f"/officer/requests/{reference}?lang=en").get_data(as_text=True)
    assert timeline.count("Plan made: where the subject") == 2


def test_one_form_records_none_found_for_every_activity_not_yet_checked(
    app, client, login, make_key, demo
) -> None:  # type: ignore[no-untyped-def]
    from privacy_service import notify

    key = make_key("requests:read", "requests:write", "requests:write:verified")
    reference = _submit(client, key, verified_by="ID-porten", subject={**KARI, "national_id": "15838512671"})
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))  # the plan
    login("officer")
    page = f"/officer/requests/{reference}"
    html = client.get(page + "?lang=nb").get_data(as_text=True)
    form = html[html.index('data-form="manual-bulk"') :]
    form = form[: form.index("</form>")]
    assert "Registrer «søkt manuelt: ingen funnet» for de valgte" in form
    ticked = re.findall(r'name="activities" value="([^"]+)" checked', form)
    assert len(ticked) > 20 and "entrance-camera" in ticked and "accounts" not in ticked
    assert "Kameraovervåking av inngangspartiene" in form and "> entrance-camera<" not in form  # names
    token = csrf_token(client, page)
    done = client.post(f"{page}/manual_bulk", data={"csrf_token": token, "activities": ticked[1:]})
    assert done.status_code == 302
    body = client.get(f"/api/v1/requests/{reference}", headers=bearer(key)).get_json()
    lines = {o["activity"]: o for o in body["outcomes"]}
    assert lines[ticked[0]]["outcome"] == "not_checked"  # not ticked: left for a search of its own
    assert {lines[a]["outcome"] for a in ticked[1:]} == {"no_data"}
    assert {lines[a]["manual"]["result"] for a in ticked[1:]} == {"none_found"}
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds.count("checked_by_hand") == 1  # one recording, one transaction
    after = client.get(page + "?lang=nb").get_data(as_text=True)
    assert re.findall(r'data-form="manual-bulk".*?</form>', after, re.S)[0].count('name="activities"') == 1
    empty = client.post(f"{page}/manual_bulk", data={"csrf_token": token})
    assert empty.status_code == 302
    assert "Kryss av for minst én behandling." in client.get(page + "?lang=nb").get_data(as_text=True)


def test_every_step_on_the_timeline_has_words_for_the_officer_and_the_subject() -> None:
    """Every event kind the request code records (a literal kind) is worded for the officer's timeline, and
    every step the subject sees for her status page; a new kind without words fails here, not in a page."""
    from pathlib import Path

    from privacy_service.dsar import appeals
    from privacy_service.dsar.labels import EVENT_LABELS, OFFICER_EVENT_LABELS

    code = "\n".join(p.read_text() for p in Path(appeals.__file__).parent.glob("*.py"))
    recorded = set(re.findall(r'record\(\s*session,\s*req,\s*"(\w+)"', code)) | set(appeals.EVENTS.values())
    recorded |= set(re.findall(r'\bkind = "(\w+)"', code)) | {"received", "identity_attempt_failed"}
    calls = re.findall(r'record\(\s*session,\s*req,\s*"(\w+)"([^\n]*\n?[^\n]*)', code)
    hidden = {kind for kind, rest in calls if "visible=False" in rest}
    assert len(recorded) > 25
    assert sorted(recorded - set(OFFICER_EVENT_LABELS)) == []
    assert sorted(recorded - hidden - {"identity_locked"} - set(EVENT_LABELS)) == []


def test_the_officer_reads_the_timeline_about_the_subject_and_she_reads_it_to_her(
    client, login, make_key
) -> None:  # type: ignore[no-untyped-def]
    created = client.post(
        "/api/v1/requests",
        json={"type": "access", "subject": KARI},
        headers=bearer(make_key("requests:write")),
    )
    assert created.status_code == 201, created.get_json()
    reference, status_url = created.get_json()["reference"], created.get_json()["status_url"]
    subject = client.get(status_url.split("://", 1)[1].split("/", 1)[1].join(["/", "?lang=nb"]))
    assert "Vi sendte deg en e-post for å bekrefte henvendelsen" in subject.get_data(as_text=True)
    login("officer")
    page = client.get(f"/officer/requests/{reference}?lang=nb").get_data(as_text=True)
    timeline = page.split("<ol", 1)[1] if "<ol" in page else page
    assert "E-post sendt til den registrerte for å bekrefte henvendelsen" in timeline
    assert "Vi sendte deg" not in page and "Henvendelsen er mottatt" in timeline


def test_a_portals_verification_reads_in_the_officers_language(client, login, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("requests:write", "requests:write:verified"))
    body = {"type": "access", "subject": KARI, "verified_by": "ID-porten"}
    reference = client.post("/api/v1/requests", json=body, headers=key).get_json()["reference"]
    login("officer")
    bokmaal = client.get(f"/officer/requests/{reference}?lang=nb").get_data(as_text=True)
    english = client.get(f"/officer/requests/{reference}?lang=en").get_data(as_text=True)
    assert "portalens bruker logget inn med ID-porten" in bokmaal and "logged in" not in bokmaal
    assert "user logged in through ID-porten" in english and "portalens" not in english
