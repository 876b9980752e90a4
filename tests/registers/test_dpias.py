"""The DPIA register (GDPR Art. 35/36): its rules, the API and its scopes, the record, the check, pages."""

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
from privacy_service.registers.dpia_models import DpiaAssessment
from privacy_service.registers.dpias import check_rules

DPO = {"dpo_advice": "Proceed with the measures in section 4.", "dpo_advice_on": "2026-11-02"}


@pytest.fixture
def writer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("registry:read", "registry:write", name="dpia-editor"))


@pytest.fixture
def reader(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("registry:read", name="dpia-reader"))


def _counts(app: Flask) -> tuple[int, int]:
    with Session(app.extensions["engine"]) as s:
        rows = s.scalar(select(func.count()).select_from(DpiaAssessment)) or 0
        events = s.scalar(select(func.count()).select_from(AuditEvent)) or 0
    return rows, events


def _text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


# --- the rules, table-driven --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "refused"),
    [
        pytest.param({"status": "completed", "residual_risk": "low"}, "dpo_advice", id="art35(2)-dpo-advice"),
        pytest.param({"status": "completed", **DPO}, "residual_risk", id="completed-needs-residual-risk"),
        pytest.param(
            {"status": "completed", "residual_risk": "high", **DPO},
            "consultation_on",
            id="art36(1)-high-risk",
        ),
        pytest.param(
            {"status": "prior_consultation", "residual_risk": "medium"},
            "residual_risk",
            id="art36-needs-high",
        ),
        pytest.param({"status": "not_required"}, "screening_reasons", id="not-required-needs-reasons"),
        pytest.param(
            {"status": "not_required", "screening_reasons": "Small.", "listed_items": ["genetic-data"]},
            "listed_items",
            id="art35(4)-listed-always-required",
        ),
    ],
)
def test_an_assessment_that_breaks_a_rule_is_refused(data: dict[str, Any], refused: str) -> None:
    assert refused in check_rules(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"status": "completed", "residual_risk": "medium", **DPO}, id="completed"),
        pytest.param(
            {"status": "completed", "residual_risk": "high", "consultation_on": "2026-11-20", **DPO},
            id="completed-after-art36",
        ),
        pytest.param({"status": "prior_consultation", "residual_risk": "high"}, id="art36"),
        pytest.param(
            {"status": "not_required", "screening_reasons": "No criteria apply."}, id="not-required"
        ),
        pytest.param({"status": "screening", "criteria": ["large-scale"]}, id="screening"),
    ],
)
def test_an_assessment_that_keeps_the_rules_passes(data: dict[str, Any]) -> None:
    assert check_rules(data) == {}


# --- the API ------------------------------------------------------------------------------------------------


def test_every_activity_is_listed_and_the_unassessed_read_as_not_assessed(
    client: FlaskClient, reader: dict[str, str]
) -> None:
    items = client.get("/api/v1/dpias", headers=reader).get_json()
    by_slug = {i["activity"]: i for i in items}
    assert "npr" in by_slug and "website" in by_slug
    assert {i["status"] for i in items} == {"not_assessed"}
    assert by_slug["blaresept"]["triggers"] == ["automated_decisions", "children"]
    assert "triggers_unassessed" in by_slug["blaresept"]["attention"]


def test_a_completed_dpia_is_saved_with_one_audit_event(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    rows, events = _counts(app)
    body = {
        "activity": "npr",
        "status": "completed",
        "criteria": ["sensitive-data", "large-scale", "vulnerable-subjects"],
        "listed_items": ["special-categories-large-scale"],
        "residual_risk": "medium",
        "document_reference": "DPIA-2026-NPR",
        **DPO,
    }
    resp = client.post("/api/v1/dpias", json=body, headers=writer)
    assert resp.status_code == 200, resp.get_json()
    saved = resp.get_json()
    assert saved["status"] == "completed" and saved["screening_indicates_dpia"] is True
    assert saved["dpo_advice_on"] == "2026-11-02"
    assert _counts(app) == (rows + 1, events + 1)
    again = client.get("/api/v1/dpias/npr", headers=writer).get_json()
    assert again["document_reference"] == "DPIA-2026-NPR" and again["attention"] == []
    client.post("/api/v1/dpias", json={**body, "residual_risk": "low"}, headers=writer)
    assert _counts(app) == (rows + 1, events + 2)  # an update: the same row, one more event
    with Session(app.extensions["engine"]) as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert last is not None and last.action == "dpia.updated" and last.details["changed"] == ["residual_risk"]


def test_a_completed_dpia_without_the_dpo_advice_is_refused_and_nothing_is_written(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    before = _counts(app)
    resp = client.post(
        "/api/v1/dpias",
        json={"activity": "npr", "status": "completed", "residual_risk": "low"},
        headers=writer,
    )
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "dpia_rule" and "Art. 35(2)" in error["fields"]["dpo_advice"][0]
    assert _counts(app) == before


def test_an_unknown_activity_is_refused_and_nothing_is_written(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    before = _counts(app)
    resp = client.post(
        "/api/v1/dpias", json={"activity": "no-such-thing", "status": "screening"}, headers=writer
    )
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == "unknown_activity"
    assert _counts(app) == before
    assert client.get("/api/v1/dpias/no-such-thing", headers=writer).status_code == 404


def test_an_unknown_screening_item_is_refused(client: FlaskClient, writer: dict[str, str]) -> None:
    resp = client.post(
        "/api/v1/dpias",
        json={"activity": "npr", "status": "screening", "criteria": ["astrology"]},
        headers=writer,
    )
    assert resp.status_code == 422


def test_reading_needs_registry_read_and_writing_registry_write(
    client: FlaskClient,
    make_key,
    reader: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    body = {"activity": "npr", "status": "screening"}
    assert client.get("/api/v1/dpias").status_code == 401
    assert client.get("/api/v1/dpias", headers=bearer(make_key("consent:read"))).status_code == 403
    assert client.post("/api/v1/dpias", json=body, headers=reader).status_code == 403
    assert client.post("/api/v1/dpias", json=body).status_code == 401


# --- the record of processing -------------------------------------------------------------------------------


def test_the_record_pdf_says_not_assessed_for_an_unassessed_activity(
    client: FlaskClient, writer: dict[str, str]
) -> None:
    client.post(
        "/api/v1/dpias",
        json={"activity": "npr", "status": "completed", "residual_risk": "low", **DPO},
        headers=writer,
    )
    for lang, unassessed, done, status_label, no in (
        ("en", "not assessed", "completed", "DPIA status", "No"),
        ("nb", "ikke vurdert", "gjennomført", "DPIA-status", "Nei"),
    ):
        resp = client.get(f"/api/v1/ropa?format=pdf&lang={lang}&service=helsedirektoratet", headers=writer)
        assert resp.status_code == 200
        text = _text(resp.data)
        statuses = re.findall(rf"{status_label} ({unassessed}|{done})", text)
        assert statuses.count(done) == 1 and statuses.count(unassessed) == len(statuses) - 1 > 10
        required = "DPIA required (Art. 35)" if lang == "en" else "DPIA påkrevd (art. 35)"
        assert f"{required} {unassessed}" in text and f"{required} {no}" not in text


def test_the_record_csv_never_says_no_for_an_unassessed_activity(
    client: FlaskClient, writer: dict[str, str]
) -> None:
    text = client.get("/api/v1/ropa?format=csv&lang=nb", headers=writer).data.decode("utf-8-sig")
    assert "ikke vurdert" in text


# --- policies check -----------------------------------------------------------------------------------------


def test_policies_check_names_the_activities_that_need_a_dpia_and_have_none(
    app: Flask, client: FlaskClient, writer: dict[str, str]
) -> None:
    out = app.test_cli_runner().invoke(args=["policies", "check"])
    assert out.exit_code == 0, out.output
    warnings = [line for line in out.output.splitlines() if line.startswith("warning:")]
    text = "\n".join(warnings)
    assert "The Norwegian Patient Registry (NPR) (npr)" in text
    assert "special categories on a large scale" in text
    blue = next(line for line in warnings if "(blaresept)" in line)
    assert "automated decisions (Art. 22)" in blue and "children among the data subjects" in blue
    assert "DPIA not assessed" in blue
    assert "(website)" not in text and "(newsletter)" not in text  # nothing calls for one there
    client.post("/api/v1/dpias", json={"activity": "blaresept", "status": "screening"}, headers=writer)
    client.post(
        "/api/v1/dpias",
        json={"activity": "npr", "status": "in_progress", "criteria": ["sensitive-data", "large-scale"]},
        headers=writer,
    )
    out = app.test_cli_runner().invoke(args=["policies", "check"])
    assert "(npr)" not in out.output
    assert "DPIA screening not concluded: The blue prescription solution (Helfo) (blaresept)" in out.output


# --- the officer pages --------------------------------------------------------------------------------------


def test_the_officer_pages_render_in_bokmal(client: FlaskClient, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    page = client.get("/officer/dpias/?lang=nb").get_data(as_text=True)
    assert "Vurderinger av personvernkonsekvenser" in page and "Ikke vurdert" in page
    assert "Protokollen tilsier en DPIA" in page and "not_assessed" not in page
    assert page.index("/officer/dpias/npr") < page.index("/officer/dpias/website")  # attention first
    form = client.get("/officer/dpias/npr?lang=nb").get_data(as_text=True)
    assert "Datatilsynets liste over behandlinger som alltid krever DPIA" in form
    assert "Genetiske opplysninger" in form and "Personvernombudets råd (art. 35 nr. 2)" in form
    assert 'type="checkbox"' in form


def test_the_officer_form_saves_and_explains_a_broken_rule_in_bokmal(  # type: ignore[no-untyped-def]
    app: Flask, client: FlaskClient, login
) -> None:
    login("officer")
    token = csrf_token(client, "/officer/dpias/npr")
    before = _counts(app)
    refused = client.post(
        "/officer/dpias/npr?lang=nb",
        data={"csrf_token": token, "status": "completed", "residual_risk": "low"},
    )
    assert refused.status_code == 422
    assert "personvernombudets råd" in refused.get_data(as_text=True)
    assert _counts(app) == before
    saved = client.post(
        "/officer/dpias/npr?lang=nb",
        data={
            "csrf_token": token,
            "status": "in_progress",
            "listed_items": ["special-categories-large-scale"],
            "criteria": ["sensitive-data", "large-scale"],
            "residual_risk": "",
        },
    )
    assert saved.status_code == 302
    page = client.get("/officer/dpias/?lang=nb").get_data(as_text=True)
    assert "Vurdering pågår" in page
    history = client.get("/officer/dpias/npr?lang=nb").get_data(as_text=True)
    assert "Vurdering pågår" in history


def test_an_auditor_reads_the_list_but_not_the_form(client: FlaskClient, login) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    assert client.get("/officer/dpias/").status_code == 200
    assert client.get("/officer/dpias/npr").status_code == 403


def test_the_officer_record_page_says_ikke_vurdert_until_the_register_has_an_assessment(  # type: ignore[no-untyped-def]
    client: FlaskClient, login, writer: dict[str, str]
) -> None:
    login("officer")
    page = client.get("/officer/activities/npr?lang=nb").get_data(as_text=True)
    assert "<dt>DPIA</dt><dd>ikke vurdert</dd>" in page
    client.post(
        "/api/v1/dpias",
        json={"activity": "npr", "status": "completed", "residual_risk": "low", **DPO},
        headers=writer,
    )
    page = client.get("/officer/activities/npr?lang=nb").get_data(as_text=True)
    assert "gjennomført: restrisiko lav" in page
