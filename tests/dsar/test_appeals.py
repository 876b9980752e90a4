"""Refusals on statutory health registries are individual decisions, and their appeals are tracked (issue 15,
item 6): the letter carries the reasons, the right of appeal, the appeal body and the three weeks; appeals are
registered on the request and move received → prepared → sent to the appeal body → decided, each with its
deadline on the officer's queue."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import update
from tests_support import bearer, complete, csrf_token, settle

from privacy_service import notify
from privacy_service.db import transaction
from privacy_service.dsar.deadlines import local_date
from privacy_service.dsar.models import DsarAppeal, DsarRequest
from privacy_service.kernel import utcnow

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
REASONS = {
    "nb": "Registeret er lovpålagt, og opplysningene må være fullstendige for å gi riktig statistikk.",
    "en": "The registry is required by law, and its data must be complete to give correct statistics.",
}


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage",
                           "registry:read"))  # fmt: skip


def _answered(app, client, officer, *, activity: str, refuse: bool, lang: str = "nb") -> str:  # type: ignore[no-untyped-def]
    """An objection to `activity`, refused (Health Register Act § 25, or Art. 21(1)) or upheld, completed."""
    created = client.post("/api/v1/requests", headers=officer, json={
        "type": "objection", "subject": KARI, "verified_by": "ID-porten", "activities": [activity],
        "language": lang, "details": {"text": "I do not want to be in the registry."},
    })  # fmt: skip
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))  # the plan
    if refuse:
        ground = "hrl_25" if activity in ("npr", "kpr") else "art_21_1"
        decided = client.post(f"/api/v1/requests/{reference}/decisions", headers=officer, json={"decisions": [
            {"activity": activity, "decision": "refuse", "ground": ground, "reasons": REASONS[lang]},
        ]})  # fmt: skip
        assert decided.status_code == 200, decided.get_json()
    else:
        settle(client, reference, officer)
    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()
    assert complete(client, reference, officer).status_code == 200
    return reference


def _letter(client, officer, reference: str) -> str:  # type: ignore[no-untyped-def]
    pdf = client.get(f"/api/v1/requests/{reference}/package?part=letter", headers=officer)
    assert pdf.status_code == 200
    text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf.data)).pages)
    return " ".join(text.split())  # table cells wrap their lines


def _today() -> date:
    """Today in Oslo, as the service counts days: date.today() is the machine's day, a day behind between
    midnight in Oslo and midnight UTC."""
    return local_date(utcnow())


def _appeal(client, officer, reference: str, received_on: date | None = None):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/requests/{reference}/appeals", headers=officer,
                       json={"received_on": (received_on or _today()).isoformat()})  # fmt: skip


def test_the_statutory_registries_carry_the_flag_from_policies(client, officer) -> None:  # type: ignore[no-untyped-def]
    npr = client.get("/api/v1/activities/npr", headers=officer)
    assert npr.status_code == 200
    assert npr.get_json()["statutory_registry"] == {
        "act": {"nb": "Helseregisterloven § 11", "en": "The Health Register Act section 11"},
        "appeal_body": {
            "nb": "Helse- og omsorgsdepartementet",
            "en": "The Ministry of Health and Care Services",
        },
    }
    kpr = client.get("/api/v1/activities/kpr", headers=officer).get_json()
    assert kpr["statutory_registry"]["appeal_body"]["nb"] == "Helse- og omsorgsdepartementet"
    assert client.get("/api/v1/activities/accounts", headers=officer).get_json()["statutory_registry"] is None


def test_a_bad_flag_is_refused_by_the_registry_schema(client, make_key) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(make_key("registry:read", "registry:write"))
    record = client.get("/api/v1/activities/npr", headers=headers).get_json()
    dropped = ("version", "created_at", "updated_at", "updated_by", "rights", "slug")
    body = {k: v for k, v in record.items() if k not in dropped}
    body["statutory_registry"] = {"act": {"nb": "Helseregisterloven § 11"}}  # no English, no appeal body
    answer = client.put("/api/v1/activities/npr", headers={**headers, "If-Match": "*"}, json=body)
    assert answer.status_code == 422, answer.get_json()
    assert "statutory_registry" in answer.get_json()["error"]["fields"]


def test_a_refused_objection_on_npr_is_an_individual_decision_with_the_right_of_appeal_in_bokmal(
    app, client, officer, demo
) -> None:  # type: ignore[no-untyped-def]
    reference = _answered(app, client, officer, activity="npr", refuse=True)
    letter = _letter(client, officer, reference)
    assert "Vedtak og klagerett" in letter and "enkeltvedtak" in letter
    assert "Du kan klage på vedtaket. Klagen avgjøres av Helse- og omsorgsdepartementet" in letter
    assert "tre uker fra den dagen du mottok dette brevet (forvaltningsloven § 29)" in letter
    assert "Send klagen til oss, Helsedirektoratet" in letter and "postmottak@helsedir.no" in letter
    assert "forvaltningsloven §§ 18 og 19" in letter and f"referanse {reference}" in letter
    assert "Norsk pasientregister (NPR)" in letter and "helseregisterloven § 25" in letter
    assert REASONS["nb"] in letter
    for english in ("appeal", "Ministry", "Public Administration Act", "hrl_25", "statutory_registry"):
        assert english not in letter, english


def test_the_same_refusal_in_english_names_the_ministry_and_three_weeks(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    reference = _answered(app, client, officer, activity="kpr", refuse=True, lang="en")
    letter = _letter(client, officer, reference)
    assert "Decision and right of appeal" in letter
    assert "The appeal is decided by The Ministry of Health and Care Services" in letter
    assert (
        "three weeks from the day you received this letter (Public Administration Act section 29)" in letter
    )
    assert "The Municipal Patient and User Registry (KPR)" in letter
    for bokmal in ("klage", "Klagefrist", "departementet", "forvaltningsloven § 29"):
        assert bokmal not in letter, bokmal


@pytest.mark.parametrize(("activity", "refuse"), [("npr", False), ("accounts", True)],
                         ids=["upheld-on-registry", "refused-on-unflagged-activity"])  # fmt: skip
def test_no_appeal_section_and_no_appeal_without_a_refusal_on_a_statutory_registry(
    app, client, officer, demo, activity, refuse
) -> None:  # type: ignore[no-untyped-def]
    reference = _answered(app, client, officer, activity=activity, refuse=refuse)
    letter = _letter(client, officer, reference)
    assert "Vedtak og klagerett" not in letter and "tre uker" not in letter
    answer = _appeal(client, officer, reference)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "not_appealable"


def test_an_appeal_is_registered_and_advanced_with_its_deadlines_on_the_timeline(
    app, client, officer, demo
) -> None:  # type: ignore[no-untyped-def]
    reference = _answered(app, client, officer, activity="npr", refuse=True)
    today = _today()
    registered = _appeal(client, officer, reference)
    assert registered.status_code == 201, registered.get_json()
    appeal = registered.get_json()
    assert (appeal["status"], appeal["activities"], appeal["late"]) == ("received", ["npr"], False)
    assert appeal["prepare_by"] == (today + timedelta(days=21)).isoformat() == appeal["due_on"]
    assert date.fromisoformat(appeal["appeal_deadline"]) >= today + timedelta(weeks=3)
    assert appeal["steps"][0]["step"] == "received" and appeal["steps"][0]["by"].startswith("api_client:")

    steps = f"/api/v1/requests/{reference}/appeals/{appeal['id']}/steps"
    early = client.post(steps, headers=officer, json={"step": "decided", "outcome": "reversed"})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "appeal_step_not_allowed"
    assert client.post(steps, headers=officer, json={"step": "decided"}).status_code == 422  # no outcome
    prepared = client.post(steps, headers=officer, json={"step": "prepared", "note": "Saken er forberedt."})
    assert prepared.status_code == 200 and prepared.get_json()["status"] == "prepared"
    only_the_body = client.post(steps, headers=officer, json={"step": "decided", "outcome": "upheld"})
    assert only_the_body.status_code == 409  # the controller reverses or sends on; only the body upholds
    expected = (today + timedelta(days=60)).isoformat()
    sent = client.post(steps, headers=officer,
                       json={"step": "sent_to_appeal_body", "decision_expected_on": expected})  # fmt: skip
    assert sent.status_code == 200 and sent.get_json()["due_on"] == expected
    decided = client.post(steps, headers=officer, json={"step": "decided", "outcome": "upheld"})
    body = decided.get_json()
    assert decided.status_code == 200 and (body["status"], body["outcome"]) == ("decided", "upheld")
    assert body["due_on"] is None and [s["step"] for s in body["steps"]] == [
        "received", "prepared", "sent_to_appeal_body", "decided"]  # fmt: skip

    request = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()
    assert request["appeals"][0]["id"] == appeal["id"]
    kinds = [e["kind"] for e in request["timeline"]]
    assert kinds[-4:] == ["appeal_received", "appeal_prepared", "appeal_sent", "appeal_decided"]
    assert "Saken er forberedt." not in str(request["timeline"])  # the officers' notes stay on the appeal
    missing = client.post(f"/api/v1/requests/{reference}/appeals/9999/steps", headers=officer,
                          json={"step": "prepared"})  # fmt: skip
    assert missing.status_code == 404


def test_the_subject_reads_that_we_received_her_appeal(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.dsar.labels import EVENT_LABELS

    with app.test_request_context("/?lang=nb"):
        from flask_babel import force_locale

        with force_locale("nb"):
            assert str(EVENT_LABELS["appeal_received"]) == "Vi mottok klagen din"


def test_an_appeal_after_three_weeks_is_registered_but_flagged_late(app, client, officer, demo) -> None:  # type: ignore[no-untyped-def]
    reference = _answered(app, client, officer, activity="npr", refuse=True)
    sent = datetime.now(UTC) - timedelta(days=40)  # the letter went out 40 days ago
    with transaction(app.extensions["engine"]) as session:
        session.execute(update(DsarRequest).where(DsarRequest.reference == reference).values(closed_at=sent))
    late = _appeal(client, officer, reference)
    assert late.status_code == 201 and late.get_json()["late"] is True
    before = _appeal(client, officer, reference, received_on=_today() - timedelta(days=60))
    assert before.status_code == 422  # before the letter was sent


def test_overdue_appeals_are_listed_for_the_officer(app, client, officer, demo, login) -> None:  # type: ignore[no-untyped-def]
    reference = _answered(app, client, officer, activity="npr", refuse=True)
    appeal = _appeal(client, officer, reference).get_json()
    assert client.get("/api/v1/appeals?overdue=true", headers=officer).get_json() == []
    with transaction(app.extensions["engine"]) as session:
        yesterday = _today() - timedelta(days=1)
        session.execute(update(DsarAppeal).where(DsarAppeal.id == appeal["id"]).values(prepare_by=yesterday))
    overdue = client.get("/api/v1/appeals?overdue=true", headers=officer).get_json()
    assert [(a["id"], a["reference"], a["overdue"]) for a in overdue] == [(appeal["id"], reference, True)]
    assert client.get("/api/v1/appeals?overdue=false", headers=officer).get_json() == []

    login("officer")
    queue = client.get("/officer/requests/?lang=nb").get_data(as_text=True)
    assert "Klager på overtid: 1" in queue and reference in queue
    page = f"/officer/requests/{reference}"
    html = client.get(page + "?lang=nb").get_data(as_text=True)
    assert "Klager" in html and "Forberedes innen" in html
    token = csrf_token(client, page)
    client.post(f"{page}/appeal_step", data={"csrf_token": token, "appeal": appeal["id"], "step": "prepared",
                                             "note": "Forberedt."})  # fmt: skip
    assert client.get("/api/v1/appeals", headers=officer).get_json()[0]["status"] == "prepared"


def test_a_client_without_manage_sees_no_other_clients_appeals(app, client, officer, demo, make_key) -> None:  # type: ignore[no-untyped-def]
    reference = _answered(app, client, officer, activity="npr", refuse=True)
    assert _appeal(client, officer, reference).status_code == 201
    portal = bearer(make_key("requests:read", "requests:write"))
    assert client.get("/api/v1/appeals", headers=portal).get_json() == []
    assert _appeal(client, portal, reference).status_code == 403
