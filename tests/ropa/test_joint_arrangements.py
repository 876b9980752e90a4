"""Joint-controller arrangements (GDPR Art. 26) in the activity record on both engines: an activity with joint
controllers must carry its arrangement and name only the parties in it, the record's hash stays as it was
without one, and the essence reaches the public notice, the record PDF and the officer's page."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlmodel import Session
from tests_support import bearer, minimal_activity

from privacy_service.audit import AuditEvent
from privacy_service.policies import read_policies
from privacy_service.ropa.models import ActivityVersion, ProcessingActivity
from privacy_service.ropa.pdf import render_ropa_pdf
from privacy_service.ropa.schemas import activity_schema
from privacy_service.ropa.service import content_hash

SHIPPED = Path(__file__).resolve().parents[2] / "policies"

ARRANGEMENT = {
    "essence": {
        "nb": "Helsedirektoratet svarer på henvendelser fra de registrerte; FHI drifter registeret.",
        "en": "The Directorate answers the data subjects' enquiries; NIPH runs the register.",
    },
    "responsibilities": [
        {"organisation": "helsedir", "answers_for": {"nb": "Henvendelser", "en": "Enquiries"}},
        {"organisation": "fhi", "answers_for": {"nb": "Drift", "en": "Operations"}},
    ],
    "contact_point": "helsedir",
    "agreement_ref": "Avtale 2025/17",
    "agreed_on": "2025-06-01",
}


@pytest.fixture
def writer(make_key: Callable[..., str]) -> dict[str, str]:
    return bearer(make_key("registry:read", "registry:write", name="registry-editor"))


@pytest.fixture
def counts(app: Flask) -> Callable[[], tuple[int, ...]]:
    def count() -> tuple[int, ...]:
        with Session(app.extensions["engine"]) as s:
            return tuple(
                s.scalar(select(func.count()).select_from(t)) or 0
                for t in (ProcessingActivity, ActivityVersion, AuditEvent)
            )

    return count


def test_an_activity_with_its_arrangement_is_stored_and_returned(
    client: FlaskClient, writer: dict[str, str]
) -> None:
    body = minimal_activity(joint_controllers=["fhi"], joint_arrangement=ARRANGEMENT)
    created = client.post("/api/v1/activities", json=body, headers=writer)
    assert created.status_code == 201, created.get_json()
    got = client.get("/api/v1/activities/test-activity", headers=writer).get_json()
    assert got["joint_arrangement"]["essence"] == ARRANGEMENT["essence"]
    assert got["joint_arrangement"]["contact_point"] == "helsedir"
    assert got["joint_arrangement"]["agreed_on"] == "2025-06-01"


def _with(arrangement: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**arrangement, **changes}


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        pytest.param({"joint_controllers": ["fhi"]}, "give its essence", id="joint-without-Art26"),
        pytest.param({"joint_arrangement": ARRANGEMENT}, "Only an activity with joint_controllers",
                     id="arrangement-without-joint-controllers"),
        pytest.param(
            {"joint_controllers": ["fhi"], "joint_arrangement": _with(ARRANGEMENT, contact_point="nhn")},
            "'nhn' is neither the controller", id="contact-point-no-party-Art26(1)",
        ),
        pytest.param(
            {"joint_controllers": ["kreftregisteret"], "joint_arrangement": ARRANGEMENT},
            "'fhi' is neither the controller", id="responsibility-of-no-party-Art26(1)",
        ),
        pytest.param(
            {"joint_controllers": ["fhi"],
             "joint_arrangement": _with(ARRANGEMENT, essence={"nb": "Bare norsk"})},
            "en", id="essence-in-both-languages-Art26(2)",
        ),
    ],
)  # fmt: skip
def test_an_arrangement_that_does_not_fit_is_refused_and_nothing_is_written(
    client: FlaskClient,
    writer: dict[str, str],
    counts: Callable[[], tuple[int, ...]],
    overrides: dict[str, Any],
    fragment: str,
) -> None:
    before = counts()
    resp = client.post("/api/v1/activities", json=minimal_activity(**overrides), headers=writer)
    assert resp.status_code == 422, resp.get_json()
    assert "joint_arrangement" in str(resp.get_json()) and fragment in str(resp.get_json())
    assert counts() == before


def test_a_record_without_joint_controllers_keeps_its_hash() -> None:
    record = minimal_activity()
    loaded = activity_schema.load(record)
    assert "joint_arrangement" not in loaded
    # the API answers null for "none": sending it back is the same record with the same hash
    assert content_hash(activity_schema.load({**record, "joint_arrangement": None})) == content_hash(loaded)


def test_the_shipped_policies_with_joint_controllers_carry_their_arrangement() -> None:
    activities = read_policies(SHIPPED)["activities"]
    joint = [a for a in activities if a.get("joint_controllers")]
    assert {a["slug"] for a in joint} >= {"accounts", "applications", "support", "surveys", "hpr"}
    for activity in joint:
        assert activity_schema.validate(activity) == {}, activity["slug"]
        assert activity["joint_arrangement"]["essence"]["nb"]
    hpr = next(a for a in activities if a["slug"] == "hpr")
    assert hpr["joint_arrangement"]["contact_point"] == "helsedir"


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        pytest.param("nb", ["felles behandlingsansvarlig for Helsepersonellregisteret sammen med Statens",
                            "Kontaktpunkt for deg:", "Helsedirektoratet"], id="nb"),
        pytest.param("en", ["joint controller for the Health Personnel Register with the",
                            "Your contact point:", "Norwegian Directorate of Health"], id="en"),
    ],
)  # fmt: skip
def test_the_notice_shows_the_essence_and_the_contact_point_in_the_readers_language(
    client: FlaskClient, lang: str, phrases: list[str]
) -> None:
    html = client.get(f"/privacy/helsedirektoratet?lang={lang}").get_data(as_text=True)
    section = html.split('id="hpr"', 1)[1].split("</section>", 1)[0]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    for phrase in phrases:
        assert phrase in text, phrase


def test_the_helsedata_notice_shows_the_custodians_arrangement_in_english(client: FlaskClient) -> None:
    html = client.get("/privacy/helsedata?lang=en").get_data(as_text=True)
    section = html.split('id="applications"', 1)[1].split("</section>", 1)[0]
    assert "The data custodian processing your application is responsible" in re.sub(r"\s+", " ", section)


def test_the_record_pdf_shows_the_arrangement(
    organisations: dict[str, dict[str, Any]],
    make_activity: Callable[..., dict[str, Any]],
    generated_at: datetime,
) -> None:
    activity = make_activity(joint_controllers=["fhi"], joint_arrangement=ARRANGEMENT)
    for lang, phrases in (
        ("nb", ["Hovedinnholdet i ordningen", "FHI drifter registeret", "Kontaktpunkt for de registrerte"]),
        ("en", ["The essence of the arrangement", "NIPH runs the register", "Avtale 2025/17"]),
    ):
        pdf = render_ropa_pdf(
            organisations=organisations, activities=[activity], lang=lang, generated_at=generated_at
        )
        text = re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))
        for phrase in phrases:
            assert phrase in text, (lang, phrase)


def test_the_officer_record_page_shows_the_arrangement(
    client: FlaskClient, login: Callable[[str], dict[str, str]]
) -> None:
    login("officer")
    page = client.get("/officer/activities/hpr?lang=nb")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)))
    assert "Felles behandlingsansvar" in text and "Kontaktpunkt for de registrerte:" in text
    assert "Statens helsetilsyn" in text


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        pytest.param("nb", ["Slik deler de behandlingsansvarlige ansvaret", "Statens helsetilsyn",
                            "Kontaktpunkt for deg"], id="nb"),
        pytest.param("en", ["How the joint controllers share the responsibility", "Your contact point",
                            "Norwegian Board of Health Supervision"], id="en"),
    ],
)  # fmt: skip
def test_the_notice_pdf_carries_the_essence_too(client: FlaskClient, lang: str, phrases: list[str]) -> None:
    resp = client.get(f"/privacy/helsedirektoratet.pdf?lang={lang}")
    assert resp.status_code == 200
    text = re.sub(
        r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(resp.data)).pages)
    )
    for phrase in phrases:
        assert phrase in text, phrase
