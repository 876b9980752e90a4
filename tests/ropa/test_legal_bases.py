"""The shipped registry on several legal bases, and the request-handling activity in the record and notice."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlmodel import Session
from tests_support import bearer, minimal_activity

from privacy_service.ropa.service import activity_view


@pytest.fixture
def writer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("registry:read", "registry:write", name="registry-editor"))


def test_the_ombud_rests_on_three_bases_and_the_strictest_decides(client, writer) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/activities/pasient-og-brukerombud", headers=writer).get_json()
    assert body["legal_basis"] == "6(1)(a)"
    assert body["legal_bases"] == ["6(1)(a)", "6(1)(b)", "6(1)(c)"]
    assert body["art9_conditions"] == ["9(2)(a)", "9(2)(j)"]
    rights = {r["right"]: r for r in body["rights"]}
    # Art. 20(1): the legal obligation among the bases is neither consent nor contract
    assert rights["portability"]["applies"] is False
    assert rights["objection"]["applies"] is False
    assert rights["consent_withdrawal"]["applies"] is True
    assert "Part of the processing rests on consent" in rights["consent_withdrawal"]["reason"]
    # Art. 9(2)(j) is no Art. 89 purpose of its own: no Personal Data Act § 17 limit
    assert rights["rectification"]["limit"] is None


def test_the_request_handling_activity_is_in_the_record_with_its_retention(
    app: Flask, client, writer
) -> None:  # type: ignore[no-untyped-def]
    with Session(app.extensions["engine"]) as session:
        activity = activity_view(session, slug="data-subject-requests")
    assert (activity.service, activity.controller, activity.legal_basis) == (
        "helsedirektoratet",
        "helsedir",
        "6(1)(c)",
    )
    # the letter is kept as a case document, the export is purged after 30 days by dsar.purge_answers: no
    # machine rule for the retention runner, whose data map has no table of requests
    assert activity.retention.rules == ()
    assert "30 days" in activity.retention.text["en"] and "case document" in activity.retention.text["en"]
    assert "30 dager" in activity.retention.text["nb"]
    record = client.get("/api/v1/ropa?format=json&service=helsedirektoratet", headers=writer).get_json()
    slugs = {a["slug"] for a in record["activities"]}
    assert "data-subject-requests" in slugs


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        (
            "nb",
            [
                "Behandling av krav etter personvernreglene",
                "Avtale (personvernforordningen art. 6 nr. 1 b)",
                "særlige kategorier etter personvernforordningen art. 9 nr. 2 j",
            ],
        ),
        (
            "en",
            [
                "Handling requests under the data protection rules",
                "Contract (GDPR Art. 6(1)(b)); Legal obligation (GDPR Art. 6(1)(c))",
                "special categories under GDPR Art. 9(2)(j)",
            ],
        ),
    ],
)
def test_the_notice_lists_the_request_handling_and_every_basis(client, lang: str, phrases: list[str]) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/privacy/helsedirektoratet?lang={lang}").get_data(as_text=True)
    assert 'id="data-subject-requests"' in html
    for phrase in phrases:
        assert phrase in html, phrase


def test_the_notice_pdf_names_every_basis(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/privacy/helsedirektoratet.pdf?lang=en")
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.data)).pages
    )
    assert "Handling requests under the data protection rules" in text
    assert "Contract (GDPR Art. 6(1)(b)); Legal obligation (GDPR Art. 6(1)(c))" in text


def test_the_api_takes_several_bases_and_still_the_single_field(client, writer) -> None:  # type: ignore[no-untyped-def]
    several = minimal_activity(
        legal_basis=None, legal_bases=["6(1)(e)", "6(1)(c)"], art89_purposes=["statistics"]
    )
    created = client.post("/api/v1/activities", json=several, headers=writer)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["legal_basis"], body["legal_bases"]) == ("6(1)(e)", ["6(1)(e)", "6(1)(c)"])
    rights = {r["right"]: r for r in body["rights"]}
    assert rights["objection"]["applies"] is False  # Art. 21(1): not under the legal obligation
    assert rights["restriction"]["limit"] == "Personal Data Act § 17"
    # an old client that knows only legal_basis replaces the record as before
    single = minimal_activity(legal_basis="6(1)(e)")
    updated = client.put(
        "/api/v1/activities/test-activity", json=single, headers={**writer, "If-Match": 'W/"v1"'}
    )
    assert updated.status_code == 200, updated.get_json()
    assert "legal_bases" not in updated.get_json()
    assert {r["right"]: r["applies"] for r in updated.get_json()["rights"]}["objection"] is True


def test_a_bad_list_of_bases_gets_the_error_envelope(client, writer) -> None:  # type: ignore[no-untyped-def]
    bad = minimal_activity(legal_basis="6(1)(e)", legal_bases=["6(1)(c)", "6(1)(e)"])
    response = client.post("/api/v1/activities", json=bad, headers=writer)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "legal_bases" in error["fields"] and "first" in str(error["fields"]["legal_bases"])
