"""What the record, the notice and the officer page say about automated decisions (Art. 22), a draft's
unknowns, organisations without a known number and transfers (issue 17): in the reader's language."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from pypdf import PdfReader
from tests_support import bearer, minimal_activity

DECISION = {
    "ground": "22(2)(b)",
    "authority": {"nb": "Folketrygdloven § 5-3", "en": "National Insurance Act section 5-3"},
    "logic": {
        "nb": "Vi legger sammen egenandelene dine fra NAVs register og sammenligner summen med taket.",
        "en": "We add up your co-payments from the NAV register and compare the sum with the ceiling.",
    },
    "significance": {
        "nb": "Når taket er nådd, får du frikort uten å søke; du kan klage på vedtaket.",
        "en": "When the ceiling is reached you get an exemption card without applying; you may appeal.",
    },
}


@pytest.fixture
def writer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("registry:read", "registry:write"))


def _pdf_text(data: bytes) -> str:
    return " ".join(" ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages).split())


def _post(client, writer, **overrides) -> None:  # type: ignore[no-untyped-def]
    created = client.post("/api/v1/activities", json=minimal_activity(**overrides), headers=writer)
    assert created.status_code == 201, created.get_json()


def test_an_automated_decision_is_explained_in_the_notice_record_and_officer_page(  # type: ignore[no-untyped-def]
    app: Flask, client, writer, login
) -> None:
    _post(client, writer, automated_decisions=True, automated_decision=DECISION)
    nb = client.get("/privacy/helsedata?lang=nb").get_data(as_text=True)
    assert "tillatt etter lov (personvernforordningen art. 22 nr. 2 bokstav b): Folketrygdloven § 5-3" in nb
    assert DECISION["logic"]["nb"] in nb and DECISION["significance"]["nb"] in nb
    assert DECISION["logic"]["en"] not in nb and "22(2)(b)" not in nb
    en = client.get("/privacy/helsedata?lang=en").get_data(as_text=True)
    assert "authorised by law (GDPR Art. 22(2)(b)): National Insurance Act section 5-3" in en
    assert DECISION["significance"]["en"] in en
    pdf = _pdf_text(client.get("/privacy/helsedata.pdf?lang=nb").data)
    assert "Hva det betyr for deg" in pdf and "frikort uten å søke" in pdf
    record = _pdf_text(client.get("/api/v1/ropa?format=pdf&lang=nb&service=helsedata", headers=writer).data)
    assert "Slik avgjøres det: Vi legger sammen egenandelene" in record
    login("auditor")
    page = client.get("/officer/activities/test-activity?lang=nb").get_data(as_text=True)
    assert "Grunnlag:</strong> tillatt etter lov" in page


def test_an_automated_decision_the_record_does_not_yet_explain_says_so(client, writer) -> None:  # type: ignore[no-untyped-def]
    _post(client, writer, automated_decisions=True)
    nb = client.get("/privacy/helsedata?lang=nb").get_data(as_text=True)
    assert "protokollen beskriver ennå ikke grunnlaget, logikken og hva det betyr for deg" in nb


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"automated_decision": DECISION}, "automated_decision", "Only an activity with automated_decisions"),
        (
            {"automated_decisions": True, "automated_decision": {**DECISION, "authority": None}},
            "automated_decision",
            "must name the law",
        ),
        (  # Art. 22(4): special categories only on explicit consent or substantial public interest
            {
                "automated_decisions": True,
                "automated_decision": DECISION,
                "data_categories": [
                    {"key": "health", "name": {"nb": "Helse", "en": "Health"}, "special": True}
                ],
                "art9_condition": "9(2)(h)",
            },
            "automated_decision",
            "Art. 22(4)",
        ),
        ({"not_stated": ["colour"]}, "not_stated", "Unknown field"),
    ],
)
def test_a_record_that_breaks_the_art_22_rules_is_refused_and_nothing_is_written(  # type: ignore[no-untyped-def]
    client, writer, overrides, field, message
) -> None:
    refused = client.post("/api/v1/activities", json=minimal_activity(**overrides), headers=writer)
    assert refused.status_code == 422
    assert message in str(refused.get_json()["error"]["fields"][field])
    assert client.get("/api/v1/activities/test-activity", headers=writer).status_code == 404


def test_a_draft_lists_what_its_source_does_not_state_in_words(client, writer, login) -> None:  # type: ignore[no-untyped-def]
    _post(client, writer, status="draft", not_stated=["legal_basis", "retention"])
    login("auditor")
    page = client.get("/officer/activities/test-activity?lang=nb").get_data(as_text=True)
    assert "Ikke oppgitt i kilden (må fylles ut)" in page and "behandlingsgrunnlag, lagringstid" in page
    assert "utkast" in page and "not_stated" not in page and "legal_basis" not in page
    record = _pdf_text(client.get("/api/v1/ropa?format=pdf&lang=en&service=helsedata", headers=writer).data)
    assert "Not stated by the source (to be filled in) legal basis, storage period" in record
    # a draft is not published
    assert "Prøveaktivitet" not in client.get("/privacy/helsedata?lang=nb").get_data(as_text=True)


def test_an_organisation_without_a_known_number_is_listed_as_not_stated(client, writer) -> None:  # type: ignore[no-untyped-def]
    org = {"slug": "supplier", "name": {"nb": "Leverandør AS", "en": "Supplier AS"}, "org_number": None,
           "role": "processor"}  # fmt: skip
    created = client.put("/api/v1/organisations/supplier", json=org, headers=writer)
    assert created.status_code == 200 and created.get_json()["org_number"] is None
    processor = {"organisation": "supplier", "role": "processor", "agreement_ref": "DBA 2024-1"}
    _post(client, writer, processors=[processor])
    nb = client.get("/privacy/helsedata.pdf?lang=nb")
    assert "Leverandør AS (Org.nr. ikke oppgitt" in _pdf_text(nb.data)
    record = _pdf_text(client.get("/api/v1/ropa?format=pdf&lang=en&service=helsedata", headers=writer).data)
    assert "Supplier AS not stated" in record and "None" not in record
    # an empty or malformed number is still refused
    for bad in ("", "123"):
        body = {**org, "org_number": bad}
        refused = client.put("/api/v1/organisations/supplier", json=body, headers=writer)
        assert refused.status_code == 422, bad


def test_a_transfer_is_written_in_the_readers_language(client, writer) -> None:  # type: ignore[no-untyped-def]
    transfer = {
        "country": {"nb": "USA", "en": "United States"},
        "recipient": {"nb": "Leverandørens morselskap", "en": "The supplier's parent company"},
        "safeguard": "scc",
        "details": {"nb": "Standardavtale fra 2021", "en": "Standard clauses of 2021"},
    }
    _post(client, writer, transfers=[transfer])
    nb = client.get("/privacy/helsedata?lang=nb").get_data(as_text=True)
    assert "USA – Leverandørens morselskap (standard personvernbestemmelser (art. 46))" in nb
    assert "United States" not in nb
    record = _pdf_text(client.get("/api/v1/ropa?format=pdf&lang=nb&service=helsedata", headers=writer).data)
    assert "USA – Leverandørens morselskap (standard personvernbestemmelser (art. 46); Standard" in record
    assert "parent company" not in record


def test_the_officer_record_page_says_rules_and_periods_in_words(client, login) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    page = client.get("/officer/activities/support?lang=nb").get_data(as_text=True)
    assert "Slettes etter 3 måneder; regnet fra: Henvendelsen er besvart" in page
    for code in ("P3M", "support_enquiries", "answered_at", "ankerkolonnen", ">active<", "processor<"):
        assert code not in page, code
    assert "aktiv" in page and "Databehandler" in page


@pytest.mark.parametrize("country", ["", "   ", "x" * 201, {"nb": "USA"}, {"nb": "USA", "en": "y" * 201}, 42])
def test_a_transfer_with_a_missing_or_overlong_text_is_refused(client, writer, country) -> None:  # type: ignore[no-untyped-def]
    transfer = {"country": country, "recipient": "Supplier", "safeguard": "scc"}
    refused = client.post("/api/v1/activities", json=minimal_activity(transfers=[transfer]), headers=writer)
    assert refused.status_code == 422, refused.get_json()
    assert "transfers" in refused.get_json()["error"]["fields"]
    assert client.get("/api/v1/activities/test-activity", headers=writer).status_code == 404
