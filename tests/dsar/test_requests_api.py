"""The requests API: intake, identity checks, the identity pause, officer actions, bad input."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from tests_support import bearer, link_and_code

from privacy_service.audit import AuditEvent
from privacy_service.db import transaction
from privacy_service.dsar import identity, service
from privacy_service.dsar.deadlines import deadline, local_date
from privacy_service.dsar.models import DsarRequest
from privacy_service.notify import OutboxMessage

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann"}
KARI_NID = "15838512671"  # the demo's synthetic test number


@pytest.fixture
def api(client, make_key) -> Any:  # type: ignore[no-untyped-def]
    portal = bearer(make_key("requests:read", "requests:write"))
    verified = bearer(make_key("requests:read", "requests:write", "requests:write:verified"))
    officer = bearer(make_key("requests:read", "requests:write", "requests:manage"))

    class Api:
        def submit(self, who: dict[str, str] | None = None, **body: Any) -> Any:
            body.setdefault("type", "access")
            body.setdefault("subject", KARI)
            return client.post("/api/v1/requests", json=body, headers=who or portal)

        def get(self, reference: str) -> Any:  # the privacy team's view: every client's requests
            return client.get(f"/api/v1/requests/{reference}", headers=officer)

        def act(self, reference: str, action: str, **body: Any) -> Any:
            return client.post(f"/api/v1/requests/{reference}/{action}", json=body, headers=officer)

        def list(self, query: str = "") -> Any:
            return client.get(f"/api/v1/requests{query}", headers=officer)

    api = Api()
    api.portal, api.verified, api.officer = portal, verified, officer  # type: ignore[attr-defined]
    return api


def _mails(app, to: str | None = None) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "email").order_by(OutboxMessage.id)
        )
        return [m.payload for m in rows if to is None or m.payload["to"] == to]


def _count(app, model: Any) -> int:  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_portal_request_gets_a_reference_a_deadline_and_an_email_check(app, api) -> None:  # type: ignore[no-untyped-def]
    response = api.submit(type="access", activities=["accounts", "applications"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    year = local_date(datetime.now(UTC)).year
    assert re.fullmatch(rf"DSR-{year}-\d{{6}}", body["reference"])
    assert body["status"] == "awaiting_identity" and body["identity_status"] == "pending"
    assert body["due_at"] == deadline(local_date(datetime.now(UTC))).isoformat()
    assert body["status_url"].startswith("http://localhost:5000/requests/status/")
    assert body["subject"] == {**KARI, "national_id_given": False}
    assert [e["kind"] for e in body["timeline"]] == ["received", "identity_requested"]
    [mail] = _mails(app, KARI["email"])
    assert body["reference"] in mail["subject"] and "Kari" not in mail["text"]  # no personal data in the mail
    link_and_code(mail)
    second = api.submit(type="erasure").get_json()
    assert int(second["reference"][-6:]) == int(body["reference"][-6:]) + 1
    audit = _audit_details(app)
    assert KARI["email"] not in audit and "Kari" not in audit  # the trail names the reference only


def _audit_details(app) -> str:  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return " ".join(f"{e.object_id} {e.details}" for e in session.scalars(select(AuditEvent)))


def test_the_link_verifies_once_and_starts_the_clock(app, api) -> None:  # type: ignore[no-untyped-def]
    ref = api.submit().get_json()["reference"]
    token, __ = link_and_code(_mails(app)[-1])
    later = datetime.now(UTC) + timedelta(hours=47)  # within the link's 48 hours
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        req = service.verify_link(session, token=token, now=later)
        assert req.status == "in_progress" and req.identity_method == "email_code"
        assert req.email_verified_by == "email_code" and not req.submitter_verified
    body = api.get(ref).get_json()
    received = local_date(datetime.now(UTC))
    assert body["due_at"] == deadline(received, identity_arrived=local_date(later)).isoformat()
    verified = [e for e in body["timeline"] if e["kind"] == "identity_verified"][0]
    assert verified["details"]["paused_days"] == (local_date(later) - received).days
    with (
        app.app_context(),
        transaction(app.extensions["engine"]) as session,
        pytest.raises(identity.ChallengeProblem) as used,
    ):
        service.verify_link(session, token=token)
    assert used.value.reason in ("used", "closed")


def test_a_second_request_from_the_same_address_needs_its_own_check(app, api) -> None:  # type: ignore[no-untyped-def]
    first = api.submit().get_json()["reference"]
    first_token, __ = link_and_code(_mails(app)[-1])
    second = api.submit(type="erasure").get_json()["reference"]
    second_token, __ = link_and_code(_mails(app)[-1])
    assert first_token != second_token
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        service.verify_link(session, token=first_token)
    assert api.get(first).get_json()["identity_status"] == "verified"
    assert api.get(second).get_json()["status"] == "awaiting_identity"  # nothing inherited
    with (
        app.app_context(),
        transaction(app.extensions["engine"]) as session,
        pytest.raises(identity.ChallengeProblem),
    ):  # the first link cannot verify the second request
        service.verify_link(session, token=first_token)
    assert api.get(second).get_json()["identity_status"] == "pending"


def test_wrong_codes_count_and_lock_the_check(app, api) -> None:  # type: ignore[no-untyped-def]
    created = api.submit().get_json()
    status_token = created["status_url"].rsplit("/", 1)[1]
    __, code = link_and_code(_mails(app)[-1])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    secret = app.config["SECRET_KEY"]
    for attempt in range(identity.MAX_CODE_ATTEMPTS):
        with app.app_context(), transaction(app.extensions["engine"]) as session:
            req, ok = service.verify_code(session, status_token=status_token, code=wrong, secret_key=secret)
            assert not ok, attempt
    with (
        app.app_context(),
        transaction(app.extensions["engine"]) as session,
        pytest.raises(identity.ChallengeProblem) as locked,
    ):
        service.verify_code(session, status_token=status_token, code=code, secret_key=secret)
    assert locked.value.reason == "locked"
    assert api.get(created["reference"]).get_json()["identity_status"] == "pending"
    # a new check works, and the old code does not
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        service.resend_challenge(
            session,
            reference=created["reference"],
            actor=service.Actor("subject", created["reference"]),
            links=service.Links("http://localhost:5000", secret),
        )
    __, new_code = link_and_code(_mails(app)[-1])
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        req, ok = service.verify_code(session, status_token=status_token, code=new_code, secret_key=secret)
        assert ok and req.status == "in_progress"


def test_an_expired_link_is_refused(app, api) -> None:  # type: ignore[no-untyped-def]
    api.submit()
    token, __ = link_and_code(_mails(app)[-1])
    with (
        app.app_context(),
        transaction(app.extensions["engine"]) as session,
        pytest.raises(identity.ChallengeProblem) as expired,
    ):
        service.verify_link(session, token=token, now=datetime.now(UTC) + timedelta(hours=49))
    assert expired.value.reason == "expired" and expired.value.status == 410


def test_a_verified_portal_request_starts_in_progress_and_needs_its_scope(api) -> None:  # type: ignore[no-untyped-def]
    refused = api.submit(verified_by="ID-porten")
    assert refused.status_code == 403
    response = api.submit(api.verified, verified_by="ID-porten", subject={**KARI, "national_id": KARI_NID})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (
        body["status"] == "in_progress"
        and body["identity_method"] == "portal_verified"
        and body["channel"] == "portal"
    )
    assert {i["kind"]: i["verified_by"] for i in body["identifiers"]} == {
        "email": "portal_verified",
        "national_id": "portal_verified",
    }
    assert body["subject"]["national_id_given"] is True and KARI_NID not in str(body)


def test_an_officer_registers_a_letter_and_verifies_it_by_hand(api) -> None:  # type: ignore[no-untyped-def]
    received = datetime.now(UTC) - timedelta(days=10)
    refused = api.submit(channel="letter", received_at=received.isoformat())
    assert refused.status_code == 403  # a portal key cannot back-date a request
    body = api.submit(
        api.officer, channel="letter", received_at=received.isoformat(), type="restriction"
    ).get_json()
    assert body["status"] == "received" and body["identity_status"] == "unverified"
    assert body["due_at"] == deadline(local_date(received)).isoformat()  # the letter's date, not today's
    no_note = api.act(body["reference"], "verify", note=" ", identifiers=["email"])
    assert no_note.status_code == 422 and "note" in no_note.get_json()["error"]["fields"]
    unnamed = api.act(body["reference"], "verify", note="ID card shown at the front desk")
    assert unnamed.status_code == 422 and "identifiers" in unnamed.get_json()["error"]["fields"]
    not_given = api.act(body["reference"], "verify", note="ID card", identifiers=["national_id"])
    assert not_given.status_code == 422  # the letter gave no national identity number
    done = api.act(
        body["reference"], "verify", note="ID card shown at the front desk", identifiers=["email"]
    ).get_json()
    assert done["status"] == "in_progress" and done["identity_method"] == "officer"
    assert done["identifiers"][0]["kind"] == "email" and done["identifiers"][0]["verified_by"] == "officer"
    assert done["due_at"] == body["due_at"]  # no identity was asked for: no pause
    again = api.act(body["reference"], "verify", note="again", identifiers=["email"])
    assert again.status_code == 409


def test_extension_once_within_the_first_month_and_the_subject_is_told(app, api) -> None:  # type: ignore[no-untyped-def]
    ref = api.submit(api.verified, verified_by="HelseID").get_json()["reference"]
    assert api.act(ref, "extend", months=3, reason="many").status_code == 422
    assert api.act(ref, "extend", months=1, reason="").status_code == 422
    body = api.act(ref, "extend", months=2, reason="Data in four systems").get_json()
    today = local_date(datetime.now(UTC))
    assert body["due_at"] == deadline(today, extension_months=2).isoformat()
    assert body["extension"] == {"months": 2, "reason": "Data in four systems"}
    again = api.act(ref, "extend", months=1, reason="more")
    assert again.status_code == 409 and "one extension" in again.get_json()["error"]["message"]
    mail = _mails(app, KARI["email"])[-1]
    assert "Data in four systems" in mail["text"] and ref in mail["subject"]


def test_rejection_needs_a_ground_and_reasons_and_closes_the_request(app, api) -> None:  # type: ignore[no-untyped-def]
    ref = api.submit().get_json()["reference"]
    assert api.act(ref, "reject", ground="boring", reason="x").status_code == 422
    assert api.act(ref, "reject", ground="excessive", reason=" ").status_code == 422
    body = api.act(
        ref, "reject", ground="excessive", reason="The fifth identical request this month."
    ).get_json()
    assert body["status"] == "rejected" and body["rejection"]["ground"] == "excessive"
    assert "Datatilsynet" in _mails(app, KARI["email"])[-1]["text"]
    late = api.act(ref, "verify", note="too late", identifiers=["email"])
    assert late.status_code == 409
    assert api.act(ref, "withdraw").status_code == 409  # closed requests stay closed


def test_unverified_requests_close_after_two_weeks_with_a_message(app, api) -> None:  # type: ignore[no-untyped-def]
    ref = api.submit().get_json()["reference"]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        assert service.close_unverified(session, now=datetime.now(UTC) + timedelta(days=13)) == 0
        assert service.close_unverified(session, now=datetime.now(UTC) + timedelta(days=15)) == 1
    body = api.get(ref).get_json()
    assert body["status"] == "rejected" and body["rejection"]["ground"] == "identity_not_established"
    assert "14" in _mails(app, KARI["email"])[-1]["text"]


def test_the_queue_filters_by_status_type_and_overdue(app, api) -> None:  # type: ignore[no-untyped-def]
    old = datetime.now(UTC) - timedelta(days=60)
    late = api.submit(api.officer, channel="phone", received_at=old.isoformat(), type="objection").get_json()
    fresh = api.submit(type="portability").get_json()
    overdue = api.list("?overdue=true").get_json()
    assert [r["reference"] for r in overdue] == [late["reference"]] and overdue[0]["overdue"] is True
    assert [r["reference"] for r in api.list("?type=portability").get_json()] == [fresh["reference"]]
    assert {r["reference"] for r in api.list("?status=awaiting_identity").get_json()} == {fresh["reference"]}
    assert api.list("?status=nonsense").status_code == 422
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        counts = service.counts(session)
    assert counts["overdue"] == 1 and counts["received"] == 1 and counts["awaiting_identity"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "delete_everything"}, "type"),
        ({"subject": {"email": "not-an-address"}}, "subject"),
        ({"subject": {"email": KARI["email"], "national_id": "15838512672"}}, "subject"),  # bad check digit
        ({"subject": {"name": "Kari"}}, "subject"),  # no e-mail and no identity number
        ({"type": "rectification", "details": {"field": "phone"}}, "details"),  # no value
        ({"type": "rectification", "details": {"field": "shoe_size", "value": "38"}}, "details"),
        ({"activities": ["no-such-activity"]}, "activities"),
        ({"activities": ["Not A Slug"]}, "activities"),
        ({"received_at": "2026-01-01T00:00:00Z"}, "received_at"),  # only for letters and calls
        ({"channel": "carrier-pigeon"}, "channel"),
        ({"unexpected": True}, "unexpected"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(app, api, body, field) -> None:  # type: ignore[no-untyped-def]
    before = (_count(app, DsarRequest), _count(app, AuditEvent), _count(app, OutboxMessage))
    response = api.submit(**body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"], response.get_json()
    assert (_count(app, DsarRequest), _count(app, AuditEvent), _count(app, OutboxMessage)) == before


def test_a_rectification_of_a_known_field_is_accepted(api) -> None:  # type: ignore[no-untyped-def]
    body = api.submit(
        type="rectification", activities=["accounts"], details={"field": "phone", "value": "+47 400 00 000"}
    )
    assert body.status_code == 201, body.get_json()
    assert body.get_json()["details"]["field"] == "phone"


def test_unknown_references_and_missing_scopes(client, api, make_key) -> None:  # type: ignore[no-untyped-def]
    assert api.get("DSR-2026-999999").status_code == 404
    reader = bearer(make_key("requests:read"))
    assert (
        client.post("/api/v1/requests", json={"type": "access", "subject": KARI}, headers=reader).status_code
        == 403
    )
    ref = api.submit().get_json()["reference"]
    assert client.post(f"/api/v1/requests/{ref}/reject", json={"ground": "excessive", "reason": "x"},
                       headers=api.portal).status_code == 403  # fmt: skip
    assert client.get("/api/v1/requests").status_code == 401


def test_deadline_dates_in_the_api_are_oslo_dates(api) -> None:  # type: ignore[no-untyped-def]
    late_evening = datetime.now(UTC).replace(hour=23, minute=30) - timedelta(days=1)
    body = api.submit(api.officer, channel="phone", received_at=late_evening.isoformat()).get_json()
    assert body["due_at"] == deadline(local_date(late_evening)).isoformat()
    assert date.fromisoformat(body["due_at"]) >= local_date(late_evening)


def test_officers_get_one_reminder_per_deadline(app, api) -> None:  # type: ignore[no-untyped-def]
    old = datetime.now(UTC) - timedelta(days=40)
    late = api.submit(api.officer, channel="letter", received_at=old.isoformat()).get_json()["reference"]
    soon = api.submit(api.verified, verified_by="ID-porten", type="erasure").get_json()["reference"]
    later = api.submit(api.verified, verified_by="ID-porten", type="restriction").get_json()["reference"]
    assert api.act(later, "extend", months=2, reason="Complex").status_code == 200  # due in three months
    today = local_date(datetime.now(UTC))
    soon_due = date.fromisoformat(api.get(soon).get_json()["due_at"])
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        reminded = service.remind_officers(
            session, to="personvern@example.no", today=soon_due - timedelta(days=3)
        )
    assert sorted(reminded) == sorted([late, soon])
    digest = _mails(app, "personvern@example.no")[-1]
    assert (
        "1 over fristen, 1 med frist snart" in digest["subject"]  # in the team's language, bokmål
        and late in digest["text"]
        and "Kari" not in digest["text"]
    )
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        assert (
            service.remind_officers(session, to="personvern@example.no", today=soon_due - timedelta(days=2))
            == []
        )
    # once overdue, the request is reminded again
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        assert service.remind_officers(session, to="x@example.no", today=soon_due + timedelta(days=1)) == [
            soon
        ]
    timeline = api.get(soon).get_json()["timeline"]
    assert [e["kind"] for e in timeline].count("reminder") == 2
    assert today <= soon_due


def test_the_scheduler_runs_the_request_jobs(app) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.dsar.jobs import JOBS as PERIODIC
    from privacy_service.retention.jobs import periodic_jobs
    from privacy_service.retention.scheduler import make_scheduler, sync_jobs

    assert {"dsar.close_unverified", "dsar.reminders", "dsar.purge_answers"} <= set(PERIODIC)
    scheduler = make_scheduler(app)
    scheduler.start(paused=True)
    try:
        sync_jobs(scheduler, app)
        ids = {job.id for job in scheduler.get_jobs()}
        assert {"periodic:dsar.close_unverified", "periodic:dsar.reminders"} <= ids
        sync_jobs(scheduler, app)  # unchanged: kept, not doubled
        assert len([j for j in scheduler.get_jobs() if j.id.startswith("periodic:")]) == len(
            periodic_jobs(app)
        )
    finally:
        scheduler.shutdown(wait=False)
