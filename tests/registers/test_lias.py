"""Legitimate-interest assessments (GDPR Art. 6(1)(f)): rules, API, scopes, the check, pages, records."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlmodel import Session
from tests_support import bearer, csrf_token

from privacy_service.audit import AuditEvent
from privacy_service.registers.lia_models import LiaAssessment
from privacy_service.registers.lias import check_rules

# Not events: an authority cannot rely on 6(1)(f) in its tasks (Art. 6(1) second subparagraph)
LEGITIMATE_INTEREST_ACTIVITIES = {"visitor-list", "entrance-camera"}
COMPLETE = {
    "public_task_processing": False,
    "interest": "Knowing who is in the building, for the safety of staff and visitors.",
    "interest_holder": "controller",
    "interest_lawful": True,
    "interest_specific": True,
    "interest_present": True,
    "necessity": "The reception must know who is inside during an evacuation.",
    "alternatives": "Anonymous counting was considered; it cannot tell who is missing.",
    "reasonable_expectations": "Visitors expect to sign in at a government office.",
    "data_nature": "Name, employer and times; no special categories.",
    "impact": "Low: kept for days, read only by the reception and security.",
    "safeguards": "Deleted after seven days; access logged.",
    "conclusion": "legitimate",
    "conclusion_reasons": "The interest is legitimate and the impact low.",
    "assessed_by": "Personvernombudet",
    "assessed_on": "2026-11-02",
    "next_review_on": "2027-11-02",
}


@pytest.fixture
def writer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("registry:read", "registry:write", name="lia-editor"))


@pytest.fixture
def reader(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("registry:read", name="lia-reader"))


def _counts(app: Flask) -> tuple[int, int]:
    with Session(app.extensions["engine"]) as s:
        rows = s.scalar(select(func.count()).select_from(LiaAssessment)) or 0
        events = s.scalar(select(func.count()).select_from(AuditEvent)) or 0
    return rows, events


def _visible(html: str) -> str:
    """The text a reader sees: no tags (field names and option values are not shown)."""
    return re.sub(r"<[^>]+>", " ", html)


def _text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


# --- the rules, table-driven --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        pytest.param(
            {"public_task_processing": True}, "public_task_processing", id="art6(1)-second-subparagraph"
        ),
        pytest.param({"interest_lawful": False}, "interest", id="art6(1)(f)-interest-lawful"),
        pytest.param({"interest_specific": False}, "interest", id="art6(1)(f)-interest-specific"),
        pytest.param({"interest_present": False}, "interest", id="art6(1)(f)-interest-present"),
        pytest.param({"necessity": None}, "necessity", id="art6(1)(f)-necessary"),
        pytest.param({"alternatives": ""}, "necessity", id="art6(1)(f)-less-intrusive-alternatives"),
        pytest.param(
            {"reasonable_expectations": None},
            "reasonable_expectations",
            id="recital47-reasonable-expectations",
        ),
        pytest.param({"impact": None}, "reasonable_expectations", id="art6(1)(f)-balancing-impact"),
    ],
)
def test_a_legitimate_conclusion_that_breaks_a_rule_is_refused(change: dict[str, Any], refused: str) -> None:
    assert refused in check_rules({**COMPLETE, **change})


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(COMPLETE, id="art6(1)(f)-complete"),
        pytest.param({**COMPLETE, "safeguards": None}, id="art6(1)(f)-no-extra-safeguards"),
        pytest.param(
            {"public_task_processing": True, "interest": "x", "conclusion": "not_legitimate"},
            id="art6(1)-second-subparagraph-not-legitimate",
        ),
        pytest.param(
            {"interest": "x", "interest_present": False, "conclusion": "not_legitimate"},
            id="art6(1)(f)-speculative-interest-not-legitimate",
        ),
    ],
)
def test_an_assessment_that_keeps_the_rules_passes(data: dict[str, Any]) -> None:
    assert check_rules(data) == {}


# --- the API ------------------------------------------------------------------------------------------------


def test_every_activity_relying_on_legitimate_interests_is_listed_unassessed(
    client: FlaskClient, reader: dict[str, str]
) -> None:
    items = client.get("/api/v1/lias", headers=reader).get_json()
    by_slug = {i["activity"]: i for i in items}
    assert set(by_slug) >= LEGITIMATE_INTEREST_ACTIVITIES
    assert "npr" not in by_slug and "website" not in by_slug  # they do not rely on Art. 6(1)(f)
    assert "events" not in by_slug  # a public task: Art. 6(1)(e), not (f)
    assert {i["status"] for i in items} == {"not_assessed"}
    assert by_slug["entrance-camera"]["conclusion"] is None


def test_a_legitimate_assessment_is_saved_with_one_audit_event(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    rows, events = _counts(app)
    resp = client.post("/api/v1/lias", json={**COMPLETE, "activity": "visitor-list"}, headers=writer)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["status"] == "legitimate"
    assert _counts(app) == (rows + 1, events + 1)
    again = client.get("/api/v1/lias/visitor-list", headers=writer).get_json()
    assert again["assessed_on"] == "2026-11-02" and again["next_review_on"] == "2027-11-02"
    client.post(
        "/api/v1/lias", json={**COMPLETE, "activity": "visitor-list", "impact": "Very low."}, headers=writer
    )
    assert _counts(app) == (rows + 1, events + 2)  # an update: the same row, one more event
    with Session(app.extensions["engine"]) as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last is not None and last.action == "lia.updated" and last.details["changed"] == ["impact"]


def test_an_activity_that_does_not_rely_on_legitimate_interests_is_refused_and_nothing_is_written(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    before = _counts(app)
    resp = client.post("/api/v1/lias", json={**COMPLETE, "activity": "npr"}, headers=writer)
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "not_legitimate_interest" and "6(1)(f)" in error["message"]
    assert _counts(app) == before
    assert client.get("/api/v1/lias/npr", headers=writer).status_code == 422
    assert client.get("/api/v1/lias/no-such-thing", headers=writer).status_code == 404
    unknown = client.post("/api/v1/lias", json={**COMPLETE, "activity": "no-such-thing"}, headers=writer)
    assert unknown.status_code == 422 and _counts(app) == before


def test_processing_in_the_authoritys_tasks_cannot_conclude_legitimate(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    before = _counts(app)
    body = {**COMPLETE, "activity": "entrance-camera", "public_task_processing": True}
    resp = client.post("/api/v1/lias", json=body, headers=writer)
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "lia_rule"
    message = error["fields"]["public_task_processing"][0]
    assert "Art. 6(1) second subparagraph" in message and "Art. 6(1)(e)" in message
    assert _counts(app) == before
    saved = client.post("/api/v1/lias", json={**body, "conclusion": "not_legitimate"}, headers=writer)
    assert saved.status_code == 200 and saved.get_json()["status"] == "not_legitimate"


def test_reading_needs_registry_read_and_writing_registry_write(
    client: FlaskClient,
    make_key,
    reader: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    body = {**COMPLETE, "activity": "entrance-camera"}
    assert client.get("/api/v1/lias").status_code == 401
    assert client.get("/api/v1/lias", headers=bearer(make_key("consent:read"))).status_code == 403
    assert (
        client.get("/api/v1/lias/entrance-camera", headers=bearer(make_key("breaches:manage"))).status_code
        == 403
    )
    assert client.post("/api/v1/lias", json=body, headers=reader).status_code == 403
    assert client.post("/api/v1/lias", json=body).status_code == 401


# --- policies check -----------------------------------------------------------------------------------------


def test_policies_check_names_the_activities_relying_on_legitimate_interests_without_an_assessment(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    out = app.test_cli_runner().invoke(args=["policies", "check"])
    assert out.exit_code == 0, out.output
    warnings = [
        line for line in out.output.splitlines() if line.startswith("warning: No legitimate-interest")
    ]
    assert {
        re.search(r"\(([a-z-]+)\) relies", w).group(1) for w in warnings
    } == LEGITIMATE_INTEREST_ACTIVITIES  # type: ignore[union-attr]
    camera = next(w for w in warnings if "(entrance-camera)" in w)
    assert (
        "Camera surveillance of the entrances (entrance-camera) relies on legitimate interests (Art. 6(1)(f))"
        in camera
    )
    client.post("/api/v1/lias", json={**COMPLETE, "activity": "entrance-camera"}, headers=writer)
    out = app.test_cli_runner().invoke(args=["policies", "check"])
    assert "(entrance-camera) relies" not in out.output and "(visitor-list) relies" in out.output


# --- the officer pages --------------------------------------------------------------------------------------

RAW = ("not_assessed", "not_legitimate", "third_party", "public_task_processing")


def test_the_officer_pages_render_in_bokmal_with_the_unassessed_first(  # type: ignore[no-untyped-def]
    client: FlaskClient, login, writer: dict[str, str]
) -> None:
    client.post("/api/v1/lias", json={**COMPLETE, "activity": "entrance-camera"}, headers=writer)
    login("officer")
    page = client.get("/officer/lias/?lang=nb").get_data(as_text=True)
    assert "Vurderinger av berettiget interesse" in page and "Ikke vurdert" in page
    assert "Berettiget interesse: behandlingen kan bygge på den" in page and "2. november 2026" in page
    assert not [raw for raw in RAW if raw in _visible(page)]
    assert page.index("/officer/lias/visitor-list") < page.index(
        "/officer/lias/entrance-camera"
    )  # unassessed first
    form = client.get("/officer/lias/visitor-list?lang=nb").get_data(as_text=True)
    assert "Behandlingen er del av myndighetens oppgaver" in form and "Nødvendighet" in form
    assert "De registrertes rimelige forventninger" in form and "En tredjepart" in form
    assert not [raw for raw in RAW if raw in _visible(form)]


def test_the_officer_form_refuses_a_public_task_in_bokmal_and_saves(  # type: ignore[no-untyped-def]
    app: Flask, client: FlaskClient, login
) -> None:
    login("officer")
    token = csrf_token(client, "/officer/lias/visitor-list")
    form = {k: ("y" if v is True else v) for k, v in COMPLETE.items() if v is not False}
    before = _counts(app)
    refused = client.post(
        "/officer/lias/visitor-list?lang=nb",
        data={**form, "csrf_token": token, "public_task_processing": "y"},
    )
    assert refused.status_code == 422
    assert "art. 6 nr. 1 bokstav e i stedet" in refused.get_data(as_text=True)
    assert _counts(app) == before
    saved = client.post("/officer/lias/visitor-list?lang=nb", data={**form, "csrf_token": token})
    assert saved.status_code == 302
    assert _counts(app)[0] == before[0] + 1


def test_an_auditor_reads_the_list_but_not_the_form(client: FlaskClient, login) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    assert client.get("/officer/lias/").status_code == 200
    assert client.get("/officer/lias/entrance-camera").status_code == 403


# --- the record of processing -------------------------------------------------------------------------------


def test_the_record_pdf_says_whether_the_assessment_is_done_in_words(
    client: FlaskClient, writer: dict[str, str]
) -> None:
    client.post("/api/v1/lias", json={**COMPLETE, "activity": "visitor-list"}, headers=writer)
    url = "/api/v1/ropa?format=pdf&lang={}&service=helsedirektoratet"
    nb = _text(client.get(url.format("nb"), headers=writer).data)
    assert nb.count("Interesseavveining ikke gjort") == len(LEGITIMATE_INTEREST_ACTIVITIES) - 1
    assert (
        "Interesseavveining gjort 02.11.2026, konklusjon: berettiget interesse som ikke går foran de "
        "registrertes interesser; ny gjennomgang 02.11.2027" in nb
    )
    assert "legitimate" not in nb and "not_assessed" not in nb
    en = _text(client.get(url.format("en"), headers=writer).data)
    assert "Legitimate interest assessment done 2026-11-02, conclusion: a legitimate interest" in en
    assert en.count("Legitimate interest assessment not done") == len(LEGITIMATE_INTEREST_ACTIVITIES) - 1


def test_the_officer_record_page_says_ikke_gjort_until_the_assessment_is_done(  # type: ignore[no-untyped-def]
    client: FlaskClient, login, writer: dict[str, str]
) -> None:
    login("officer")
    page = client.get("/officer/activities/entrance-camera?lang=nb").get_data(as_text=True)
    assert (
        "<dt>Interesseavveining</dt><dd>ikke gjort (Gårdeierens interesseavveining" in page
    )  # + its reference
    client.post(
        "/api/v1/lias",
        json={
            **COMPLETE,
            "activity": "entrance-camera",
            "public_task_processing": True,
            "conclusion": "not_legitimate",
        },
        headers=writer,
    )
    page = client.get("/officer/activities/entrance-camera?lang=nb").get_data(as_text=True)
    assert "gjort 02.11.2026, konklusjon: ingen berettiget interesse å bygge på" in page
    assert "<dt>Interesseavveining</dt>" not in client.get("/officer/activities/npr?lang=nb").get_data(
        as_text=True
    )
