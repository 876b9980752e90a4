"""The Directorate of Health's corporate activities in the shipped record (issue 17), read back as a DPO
would: the YAML, the notice a person reads, the officer's record page, the record PDF and the registers."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from tests_support import bearer

from privacy_service.policies import read_policies

POLICIES = Path(__file__).resolve().parents[2] / "policies"
PLATFORMS = ("meta-platforms-ireland", "twitter-international", "linkedin-ireland", "google-ireland")
NAMED_PROCESSORS = {  # activity: the processors the statement names for it
    "newsletter": ["make"],
    "sms-alerts": ["everbridge-norway"],
    "lis1-portal": ["webcruiter"],
    "smart-mosjon": ["exorlive", "microsoft"],
}


@pytest.fixture(scope="module")
def record() -> dict[str, Any]:
    docs = read_policies(POLICIES)
    return {
        "activities": {a["slug"]: a for a in docs["activities"]},
        "organisations": {o["slug"]: o for o in docs["organisations"]},
    }


def _visible(html: str) -> str:
    """The text a reader sees, without tags and with one space between words."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _section(html: str, slug: str) -> str:
    start = html.index(f'id="{slug}"')
    return _visible(html[start : html.index("</section>", start)])


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages))


# --- courses and events: a public task, not legitimate interests ------------------------------------------


def test_events_rest_on_the_public_task_not_on_legitimate_interests(record: dict[str, Any]) -> None:
    events = record["activities"]["events"]
    # Art. 6(1) second subparagraph: no 6(1)(f) for an authority in the performance of its tasks
    assert events["legal_basis"] == "6(1)(e)" and "legal_bases" not in events
    assert events["national_basis"]["nb"].startswith(
        "Helsedirektoratets oppgaver som fag- og myndighetsorgan"
    )
    assert "skal bekreftes av Helsedirektoratet" in events["national_basis"]["nb"]  # the provision is open
    assert events.get("legitimate_interest") is None and events.get("lia_reference") is None
    text = (POLICIES / "activities" / "helsedirektoratet.yaml").read_text()
    comment = text[text.index("  - slug: events") : text.index("  - slug: visitor-list")]
    assert "The record differs: GDPR Art. 6(1)" in comment and "the statement gives Art. 6(1)(f)" in comment


def test_the_rights_on_events_follow_the_public_task(client: FlaskClient, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("registry:read"))
    rights = {
        r["right"]: r for r in client.get("/api/v1/activities/events", headers=key).get_json()["rights"]
    }
    assert rights["objection"]["applies"] is True  # Art. 21(1): 6(1)(e) as (f)
    assert rights["portability"]["applies"] is False  # Art. 20(3): not for a public task
    assert rights["consent_withdrawal"]["applies"] is False
    lias = {i["activity"] for i in client.get("/api/v1/lias", headers=key).get_json()}
    assert "events" not in lias and {"visitor-list", "entrance-camera"} <= lias
    html = client.get("/privacy/helsedirektoratet?lang=nb").get_data(as_text=True)
    assert "Allmennhetens interesse eller offentlig myndighet" in _section(html, "events")
    assert "Berettiget interesse" not in _section(html, "events")


# --- the visitor list and the entrance cameras: legitimate interests, written out -------------------------


@pytest.mark.parametrize("slug", ["visitor-list", "entrance-camera"])
def test_the_security_of_the_premises_keeps_legitimate_interests_with_the_three_steps(
    record: dict[str, Any], slug: str
) -> None:
    activity = record["activities"][slug]
    assert activity["legal_basis"] == "6(1)(f)"
    interest = activity["legitimate_interest"]
    for step in ("Interessen:", "Nødvendighet:", "Avveiing:"):
        assert step in interest["nb"], step
    for step in ("The interest:", "Necessity:", "Balancing:"):
        assert step in interest["en"], step
    assert activity["lia_reference"]


def test_the_landlord_not_the_directorate_is_the_controller_of_the_entrance_cameras(
    record: dict[str, Any],
) -> None:
    camera = record["activities"]["entrance-camera"]
    landlord = record["organisations"][camera["controller"]]
    assert camera["controller"] == "landlord-helsedir-premises"
    assert landlord["role"] == "controller" and landlord["org_number"] is None  # not in the seed
    assert "ikke oppgitt i personvernerklæringen" in landlord["name"]["nb"]
    # the Directorate only informs: it is neither controller nor joint controller of the recordings
    assert camera["joint_controllers"] == [] and "joint_arrangement" not in camera
    assert "Det er gårdeieren som er behandlingsansvarlig" in camera["description"]["nb"]
    assert "sender vi kravet videre til gårdeieren" in camera["description"]["nb"]


def test_the_officer_page_names_the_landlord_as_controller_without_a_number(  # type: ignore[no-untyped-def]
    client: FlaskClient, login
) -> None:
    login("officer")
    page = _visible(client.get("/officer/activities/entrance-camera?lang=nb").get_data(as_text=True))
    assert (
        "Behandlingsansvarlig (30(1)(a)) Gårdeieren i lokalene Helsedirektoratet leier "
        "(navnet er ikke oppgitt i personvernerklæringen) (ikke oppgitt)" in page
    )


# --- social media: joint controllers and transfers ---------------------------------------------------------


def test_social_media_has_an_arrangement_naming_what_each_platform_answers_for(
    record: dict[str, Any],
) -> None:
    social = record["activities"]["social-media"]
    assert social["joint_controllers"] == list(PLATFORMS)
    parties = [r["organisation"] for r in social["joint_arrangement"]["responsibilities"]]
    assert parties == ["helsedir", *PLATFORMS]
    assert all(record["organisations"][p]["org_number"] is None for p in PLATFORMS)  # not Norwegian
    assert all(record["organisations"][p]["role"] == "joint_controller" for p in PLATFORMS)
    assert all(
        "Page Insights Controller Addendum" in ref
        for ref in social["joint_arrangement"]["agreement_ref"].values()
    )
    assert [t["safeguard"] for t in social["transfers"]] == [
        "adequacy"
    ] * 4  # the EU-US Data Privacy Framework
    assert {t["country"]["nb"] for t in social["transfers"]} == {"USA"}


def test_the_notice_in_bokmal_names_the_joint_controllers_and_transfers_without_english(
    client: FlaskClient,
) -> None:
    html = client.get("/privacy/helsedirektoratet?lang=nb").get_data(as_text=True)
    social = _section(html, "social-media")
    assert (
        "Felles behandlingsansvarlige: Helsedirektoratet, "
        "Meta Platforms Ireland Ltd (Facebook og Instagram), "
        "Twitter International Unlimited Company (X/Twitter), LinkedIn Ireland Unlimited Company, "
        "Google Ireland Ltd (YouTube)" in social
    )
    assert "For Facebook gjelder Metas tilleggsavtale om sidestatistikk" in social
    assert "Overføring ut av EØS: USA – Meta Platforms, Inc. (Facebook og Instagram)" in social
    assert "USA – Google LLC (YouTube) (beslutning om tilstrekkelig beskyttelse (art. 45))" in social
    for english in (
        "United States",
        "Facebook and Instagram",
        "Page Insights",
        "provided",
        "{'nb'",
        "adequacy",
    ):
        assert english not in social, english
    # the joint controllers' numbers: the sources state none, and the notice says so
    assert "Meta Platforms Ireland Ltd (Facebook og Instagram) (ikke oppgitt)" in _visible(html)


def test_the_notice_in_english_shows_the_english_transfers(client: FlaskClient) -> None:
    social = _section(client.get("/privacy/helsedirektoratet?lang=en").get_data(as_text=True), "social-media")
    assert "United States – Meta Platforms, Inc. (Facebook and Instagram)" in social
    assert "USA –" not in social and "Facebook og Instagram" not in social


def test_the_bilingual_transfers_are_in_the_transfers_register_and_the_check(  # type: ignore[no-untyped-def]
    app: Flask, client: FlaskClient, make_key
) -> None:
    key = bearer(make_key("registry:read"))
    listed = client.get("/api/v1/transfers", headers=key)
    assert listed.status_code == 200, listed.get_json()
    social = [t for t in listed.get_json() if t["activity"] == "social-media"]
    # the API gives the record's texts in both languages, as it gives names
    first = social[0]
    assert (first["country"]["en"], first["recipient"]["en"]) == (
        "United States",
        "Meta Platforms, Inc. (Facebook and Instagram)",
    )
    assert first["country"]["nb"] == "USA"
    assert len({t["key"] for t in social}) == 4  # one key each
    out = app.test_cli_runner().invoke(args=["policies", "check"])
    assert out.exit_code == 0, out.output
    assert "(social-media) transfers to LinkedIn Corporation in United States (Art. 45 adequacy" in out.output


# --- the processors the statement names ---------------------------------------------------------------------


def test_the_named_processors_are_in_the_art_28_lists_with_no_number(record: dict[str, Any]) -> None:
    for slug, expected in NAMED_PROCESSORS.items():
        processors = record["activities"][slug]["processors"]
        assert [p["organisation"] for p in processors] == expected, slug
        for p in processors:
            assert record["organisations"][p["organisation"]]["org_number"] is None  # not in the seeds
            assert p["task"]["nb"] and p["task"]["en"]
    microsoft = record["activities"]["smart-mosjon"]["processors"][1]
    assert microsoft["role"] == "sub_processor" and microsoft["sub_processor_of"] == "exorlive"
    # Webcruiter is named for the LIS1 portal only, not for the Register of Doctors' Positions
    assert "webcruiter" not in [
        p["organisation"] for p in record["activities"]["legestillingsregisteret"]["processors"]
    ]


def test_unnamed_suppliers_are_in_the_art_28_list_as_unnamed_not_invented(record: dict[str, Any]) -> None:
    unnamed = {"chatbot": "chatbot-supplier", "questionnaires": "questionnaire-tool-suppliers",
               "events": "event-organisers"}  # fmt: skip
    for slug, organisation in unnamed.items():
        assert [p["organisation"] for p in record["activities"][slug]["processors"]] == [organisation], slug
        org = record["organisations"][organisation]
        assert org["org_number"] is None and "ikke oppgitt" in org["name"]["nb"], organisation
        assert "databehandler" in " ".join(r["nb"] for r in record["activities"][slug]["recipients"])
    header = (POLICIES / "organisations.yaml").read_text().split("organisations:")[0]
    assert "are described in the text of their activities instead" not in header


@pytest.mark.parametrize(("slug", "line"), [
    ("newsletter", "Make AS (ikke oppgitt) Databehandler"),
    ("sms-alerts", "Everbridge Norway AS (ikke oppgitt) Databehandler"),
    ("lis1-portal", "Webcruiter (ikke oppgitt) Databehandler"),
    ("smart-mosjon",
     "Microsoft (hvilket Microsoft-selskap er ikke oppgitt) (ikke oppgitt) Underdatabehandler"),
])  # fmt: skip
def test_the_officer_page_lists_the_processor_and_says_its_number_is_not_stated(  # type: ignore[no-untyped-def]
    client: FlaskClient, login, slug: str, line: str
) -> None:
    login("officer")
    page = _visible(client.get(f"/officer/activities/{slug}?lang=nb").get_data(as_text=True))
    processors = page[page.index("Databehandlere (Art. 28)") :]
    assert line in processors


def test_the_record_pdf_lists_the_named_processors_with_ikke_oppgitt(client: FlaskClient, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("registry:read"))
    nb = _pdf_text(client.get("/api/v1/ropa?format=pdf&lang=nb&service=helsedirektoratet", headers=key).data)
    overview = nb[nb.rindex("Make AS") - 2000 :]
    for name in ("Make AS ikke oppgitt", "Everbridge Norway AS ikke oppgitt", "ExorLive AS ikke oppgitt"):
        assert name in overview, name
    en = _pdf_text(client.get("/api/v1/ropa?format=pdf&lang=en&service=helsedirektoratet", headers=key).data)
    assert "Webcruiter not stated" in en


# --- Kostholdsplanleggeren: a draft that knows its gaps -----------------------------------------------------


def test_kostholdsplanleggeren_is_a_draft_that_lists_what_the_statement_does_not_state(
    record: dict[str, Any],
) -> None:
    planner = record["activities"]["kostholdsplanleggeren"]
    assert planner["status"] == "draft" and planner["controller"] == "helsedir"
    assert planner["not_stated"] == [
        "legal_basis", "national_basis", "retention", "processors", "transfers", "systems", "owner",
    ]  # fmt: skip
    assert planner["national_basis"]["nb"].startswith("Ikke oppgitt i personvernerklæringen. Antatt:")
    assert "ikke oppgitt" in planner["retention"]["text"]["nb"] and planner["retention"].get("period") is None
    assert planner["processors"] == [] and planner["transfers"] == [] and planner["systems"] == []
    # private users only: for users through an institution the Directorate is processor, not controller
    assert "uten at tilgangen er gitt gjennom en institusjon" in planner["data_subjects"][0]["nb"]


def test_kostholdsplanleggeren_is_not_in_the_public_notice_and_the_api_lists_its_unknowns(  # type: ignore[no-untyped-def]
    client: FlaskClient, make_key
) -> None:
    for lang in ("nb", "en"):
        html = client.get(f"/privacy/helsedirektoratet?lang={lang}").get_data(as_text=True)
        assert 'id="kostholdsplanleggeren"' not in html and "Kostholdsplanleggeren" not in html, lang
        assert 'id="smart-mosjon"' in html  # its neighbour in the record is
    key = bearer(make_key("registry:read"))
    body = client.get("/api/v1/activities/kostholdsplanleggeren", headers=key).get_json()
    assert (
        body["status"] == "draft"
        and "retention" in body["not_stated"]
        and "legal_basis" in body["not_stated"]
    )
