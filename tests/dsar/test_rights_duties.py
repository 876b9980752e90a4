"""The rights' further duties (issue 15, item 7): lifting a restriction only after the subject was told
(Art. 18(3)); every recipient told or recorded as not told with a reason (Art. 19); an erasure a hold blocked
retried when the hold is released, and listed for the officer meanwhile."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import create_engine, select, text
from tests_support import bearer, complete, csrf_token, settle

from privacy_service import notify
from privacy_service.audit import AuditEvent
from privacy_service.db import transaction
from privacy_service.dsar.jobs import retry_erasures_job
from privacy_service.kernel import utcnow
from privacy_service.retention.models import Hold

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
NOTE = "Tvist om brukerstøtte, sak 26/1234 — bevis sikres"  # the hold's internal basis


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage",
                           "holds:manage", "retention:read", "consent:read"))  # fmt: skip


def _rows(demo: Path, file: str, sql: str) -> list[Any]:
    engine = create_engine(f"sqlite:///{demo / 'demo' / file}")
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


def _deliver(app) -> None:  # type: ignore[no-untyped-def]
    counts = notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    assert counts["failed"] == 0 and counts["retrying"] == 0, counts


def _outbox(app, event: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with transaction(app.extensions["engine"]) as session:
        return [m.payload for m in session.scalars(select(notify.OutboxMessage)) if m.event == event]


def _carried_out(app, client, officer, *, lang: str = "nb", **body: Any) -> tuple[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    body = {"subject": KARI, "verified_by": "ID-porten", "language": lang, **body}
    created = client.post("/api/v1/requests", headers=officer, json=body)
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    _deliver(app)  # the plan
    settle(client, reference, officer)
    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()
    return reference, approved.get_json()


# --- Art. 18(3) ---------------------------------------------------------------------------------------------


def _restricted(app, client, officer, lang: str = "nb") -> str:  # type: ignore[no-untyped-def]
    reference, __ = _carried_out(app, client, officer, lang=lang, type="restriction", activities=["accounts"])
    assert complete(client, reference, officer).status_code == 200
    return reference


def test_lifting_a_restriction_without_the_notice_is_refused(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    reference = _restricted(app, client, officer)
    refused = client.post(f"/api/v1/requests/{reference}/lift-restriction", headers=officer,
                          json={"reasons": "The accuracy was checked"})  # fmt: skip
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["code"] == "restriction_notice_missing"
    assert refused.get_json()["error"]["fields"]["activities"] == ["accounts"]
    assert _rows(demo, "helsedata_portal.db", "SELECT restricted FROM accounts WHERE id = 1") == [(1,)]


@pytest.mark.parametrize(
    ("lang", "words"),
    [("nb", "art. 18 nr. 3"), ("en", "Art. 18(3)")],
    ids=["Art18-3-nb", "Art18-3-en"],
)
def test_the_notice_then_the_lift_resets_the_column_and_the_flag(app, client, officer, demo, lang, words):  # type: ignore[no-untyped-def]
    reference = _restricted(app, client, officer, lang=lang)
    noticed = client.post(f"/api/v1/requests/{reference}/lift-restriction/notice", headers=officer, json={})
    assert noticed.status_code == 200, noticed.get_json()
    [mail] = [m for m in _outbox(app, "dsar.notice") if words in m["text"]]
    assert mail["to"] == KARI["email"] and reference in mail["subject"]
    name = "Brukerkonto på helsedata.no" if lang == "nb" else "User accounts on helsedata.no"
    assert f"- {name}\n" in mail["text"]  # the activity's name in her language, never its slug

    lifted = client.post(f"/api/v1/requests/{reference}/lift-restriction", headers=officer,
                         json={"reasons": "The accuracy was checked"})  # fmt: skip
    assert lifted.status_code == 200, lifted.get_json()
    assert _rows(demo, "helsedata_portal.db", "SELECT restricted FROM accounts WHERE id = 1") == [(0,)]
    status = client.get(f"/api/v1/subjects/{KARI['email']}/processing?activity=accounts", headers=officer)
    assert status.get_json()["status"] != "restricted"
    body = lifted.get_json()
    state = next(o for o in body["outcomes"] if o["activity"] == "accounts")["restriction"]
    assert state["notice_at"] <= state["lifted_at"] and state["reasons"] == "The accuracy was checked"
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds.index("restriction_lift_notified") < kinds.index("restriction_lifted")
    with transaction(app.extensions["engine"]) as session:
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"dsar.restriction_lift_notified", "dsar.restriction_lifted"} <= actions
    assert "processing.restricted.lift" in actions  # the flag lifted, in the same transaction
    again = client.post(f"/api/v1/requests/{reference}/lift-restriction", headers=officer,
                        json={"reasons": "twice"})  # fmt: skip
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_restricted"


def test_lifting_needs_reasons_and_a_restriction_request(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    reference = _restricted(app, client, officer)
    bare = client.post(f"/api/v1/requests/{reference}/lift-restriction", headers=officer, json={})
    assert bare.status_code == 422 and "reasons" in str(bare.get_json()["error"]["fields"])
    other, __ = _carried_out(app, client, officer, type="access", activities=["accounts"])
    wrong = client.post(f"/api/v1/requests/{other}/lift-restriction/notice", headers=officer, json={})
    assert wrong.status_code == 409 and wrong.get_json()["error"]["code"] == "not_restricted"


# --- Art. 19 ------------------------------------------------------------------------------------------------


def _without_contact(client: Any, make_key: Any, slug: str) -> None:
    """Take the organisation's e-mail address out of the registry: a recipient nobody can write to."""
    key = bearer(make_key("registry:read", "registry:write"))
    org = next(o for o in client.get("/api/v1/organisations", headers=key).get_json() if o["slug"] == slug)
    org = {k: v for k, v in org.items() if v is not None and k != "email"}
    assert client.put(f"/api/v1/organisations/{slug}", json=org, headers=key).status_code == 200


def test_a_recipient_without_contact_is_listed_as_not_told_yet(app, client, officer, demo, make_key) -> None:  # type: ignore[no-untyped-def]
    _without_contact(client, make_key, "nhn")
    reference, body = _carried_out(app, client, officer, type="rectification", activities=["accounts"],
                                   details={"field": "phone", "value": "+47 400 00 001"})  # fmt: skip
    accounts = next(o for o in body["outcomes"] if o["activity"] == "accounts")
    states = {r["key"]: r for r in accounts["recipients"]}
    assert states["ehelse"]["state"] == "told" and states["ehelse"]["told_at"]
    assert states["nhn"]["state"] == "pending"  # Norsk helsenett has no contact address now
    assert accounts["told"] == ["ehelse"]  # the letter's list: the organisations told
    assert "service@helsedata.no" in {m["to"] for m in _outbox(app, "dsar.art19")}

    told = client.post(f"/api/v1/requests/{reference}/recipients", headers=officer,
                       json={"recipients": [{"activity": "accounts", "recipient": "ehelse",
                                             "reason": "impossible", "reasons": "x"}]})  # fmt: skip
    assert told.status_code == 422  # told already: nothing to record
    bad = client.post(f"/api/v1/requests/{reference}/recipients", headers=officer,
                      json={"recipients": [{"activity": "accounts", "recipient": "nhn",
                                            "reason": "forgot", "reasons": "x"}]})  # fmt: skip
    assert bad.status_code == 422
    recorded = client.post(
        f"/api/v1/requests/{reference}/recipients",
        headers=officer,
        json={"recipients": [{"activity": "accounts", "recipient": "nhn", "reason": "disproportionate_effort",
                              "reasons": "Only operates the servers; it holds no copy to correct"}]},
    )  # fmt: skip
    assert recorded.status_code == 200, recorded.get_json()
    nhn = next(r for o in recorded.get_json()["outcomes"] for r in o["recipients"] if r["key"] == "nhn")
    assert nhn["state"] == "not_told" and nhn["reason"] == "disproportionate_effort" and nhn["recorded_by"]

    # her letter names both: whom we told, and whom not and why (Art. 19), by name, never by key
    assert complete(client, reference, officer).status_code == 200
    pdf = client.get(f"/api/v1/requests/{reference}/package?part=letter", headers=officer).data
    letter = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Direktoratet for e-helse (Helsedataservice)" in letter and "(art. 19)" in letter
    assert "Vi har ikke fortalt det videre til Norsk helsenett" in letter
    assert "uforholdsmessig stor innsats" in letter and "ehelse" not in letter and "nhn" not in letter


def test_the_officer_page_shows_who_was_told_and_who_was_not(
    app, client, officer, demo, login, make_key
) -> None:  # type: ignore[no-untyped-def]
    _without_contact(client, make_key, "nhn")
    reference, __ = _carried_out(app, client, officer, type="rectification", activities=["accounts"],
                                 details={"field": "phone", "value": "+47 400 00 001"})  # fmt: skip
    login("officer")
    page = client.get(f"/officer/requests/{reference}").get_data(as_text=True)
    assert 'data-recipient="ehelse" data-state="told"' in page
    assert 'data-recipient="nhn" data-state="pending"' in page


# --- an erasure a hold blocked ------------------------------------------------------------------------------


def test_releasing_a_hold_retries_the_erasure_it_blocked(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    hold = client.post("/api/v1/holds", headers=officer, json={
        "kind": "legal", "scope": "records", "system": "helsedata-support", "table_name": "support_enquiries",
        "record_keys": ["1"], "basis": NOTE})  # fmt: skip
    assert hold.status_code == 201, hold.get_json()
    hold_id = hold.get_json()["id"]
    reference, body = _carried_out(app, client, officer, type="erasure", activities=["support"])
    support = next(o for o in body["outcomes"] if o["activity"] == "support")
    assert support["outcome"] == "refused" and support["held"] == 1  # her one enquiry: all of it held
    assert _rows(demo, "helsedata_support.db", "SELECT id FROM support_enquiries WHERE id = 1") == [(1,)]

    listed = client.get("/api/v1/requests/blocked-erasures", headers=officer)
    assert listed.status_code == 200, listed.get_json()
    [blocked] = [b for b in listed.get_json() if b["reference"] == reference]
    assert blocked["activity"] == "support" and blocked["held"] == 1 and blocked["state"] == "waiting"
    assert blocked["holds"][0]["kind"] == "legal" and blocked["holds"][0]["public_text"]["nb"]
    assert NOTE not in listed.get_data(as_text=True) and KARI["email"] not in listed.get_data(as_text=True)

    released = client.post(f"/api/v1/holds/{hold_id}/release", headers=officer, json={"note": "Case closed"})
    assert released.status_code == 200, released.get_json()
    _deliver(app)  # the retry the release queued
    assert _rows(demo, "helsedata_support.db", "SELECT id FROM support_enquiries WHERE id = 1") == []
    after = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()
    support = next(o for o in after["outcomes"] if o["activity"] == "support")
    assert support["outcome"] == "done" and support["held"] == 0 and support["retries"][0]["erased"] == 1
    assert support["records"] == 1
    retried = [e for e in after["timeline"] if e["kind"] == "erasure_retried"]
    assert retried and retried[0]["details"]["hold"] == hold_id
    [done] = [b for b in client.get("/api/v1/requests/blocked-erasures", headers=officer).get_json()
              if b["reference"] == reference]  # fmt: skip
    assert done["state"] == "retried" and done["held"] == 0 and done["erased"] == 1


def test_the_officer_sees_the_blocked_erasures(app, client, officer, demo, login) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/holds", headers=officer, json={
        "kind": "legal", "scope": "records", "system": "helsedata-support", "table_name": "support_enquiries",
        "record_keys": ["1"], "basis": NOTE})  # fmt: skip
    reference, __ = _carried_out(app, client, officer, type="erasure", activities=["support"])
    login("officer")
    queue = client.get("/officer/requests/").get_data(as_text=True)
    assert "/officer/requests/blocked-erasures" in queue
    page = client.get("/officer/requests/blocked-erasures")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert reference in html and NOTE not in html and KARI["email"] not in html


def test_the_officer_lifts_a_restriction_on_the_request_page_notice_first(app, client, officer, demo, login):  # type: ignore[no-untyped-def]
    reference = _restricted(app, client, officer)
    login("officer")
    page = f"/officer/requests/{reference}"
    html = client.get(page).get_data(as_text=True)
    assert "Varsle den registrerte om at begrensningen oppheves" in html  # bokmål by default
    assert "Tell the subject" not in html
    token = csrf_token(client, page)
    form = {"csrf_token": token, "activities": "accounts", "reasons": "Riktigheten er kontrollert"}
    client.post(f"{page}/lift", data=form)
    assert _rows(demo, "helsedata_portal.db", "SELECT restricted FROM accounts WHERE id = 1") == [(1,)]
    notice = {"csrf_token": token, "activities": "accounts", "channel": "email"}
    client.post(f"{page}/lift_notice", data=notice)
    client.post(f"{page}/lift", data=form)
    assert _rows(demo, "helsedata_portal.db", "SELECT restricted FROM accounts WHERE id = 1") == [(0,)]
    assert "Begrensningen er opphevet" in client.get(page).get_data(as_text=True)


def test_a_hold_that_ran_out_is_retried_by_the_daily_job(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    hold = client.post("/api/v1/holds", headers=officer, json={
        "kind": "legal", "scope": "records", "system": "helsedata-support", "table_name": "support_enquiries",
        "record_keys": ["1"], "basis": NOTE})  # fmt: skip
    reference, __ = _carried_out(app, client, officer, type="erasure", activities=["support"])
    _deliver(app)
    with transaction(app.extensions["engine"]) as session:  # it ended at its end time: nobody released it
        session.get(Hold, hold.get_json()["id"]).ends_at = utcnow() - timedelta(minutes=1)
    [queued] = [b for b in client.get("/api/v1/requests/blocked-erasures", headers=officer).get_json()
                if b["reference"] == reference]  # fmt: skip
    assert queued["state"] == "queued"
    retry_erasures_job(app)
    assert _rows(demo, "helsedata_support.db", "SELECT id FROM support_enquiries WHERE id = 1") == []
    after = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()
    assert next(o for o in after["outcomes"] if o["activity"] == "support")["outcome"] == "done"
