"""Officer pages of the registry and the public privacy notices."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from tests_support import csrf_token


def _edit_form(client, slug: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    html = client.get(f"/officer/activities/{slug}/edit").get_data(as_text=True)
    data = dict(re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', html))
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>\s*(.*?)</textarea>', html, re.S):
        data[name] = body.replace("&#39;", "'").replace("&#34;", '"').replace("&amp;", "&")
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', options)
        data[name] = next((g for g in chosen.groups() if g is not None), "") if chosen else ""
    data.pop("dpia_required", None)
    return data


def test_the_activity_list_filters_by_legal_basis_and_status(client, login) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    html = client.get("/officer/activities?legal_basis=6(1)(a)&lang=en").get_data(as_text=True)
    assert "surveys" in html and "/officer/activities/accounts" not in html
    html = client.get("/officer/activities?status=retired").get_data(as_text=True)
    assert "No activities match." in html or "Ingen aktiviteter" in html


def test_the_detail_page_shows_every_art_30_field(client, login) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    html = client.get("/officer/activities/applications?lang=en").get_data(as_text=True)
    for label in (
        "Controller",
        "Purposes",
        "Legal basis",
        "Data subjects",
        "Personal data",
        "Recipients",
        "Third-country transfers",
        "Retention",
        "Security measures",
        "Processors",
        "Rights that apply",
    ):
        assert label in html, label


def test_editing_keeps_the_old_version_and_shows_the_diff(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    form = _edit_form(client, "support")
    form["retention_period"] = "P1Y"
    form["owner"] = "Helsedataservice <støtte>"
    response = client.post("/officer/activities/support/edit?lang=en", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    history = client.get("/officer/activities/support/versions?lang=en").get_data(as_text=True)
    assert "Version 2" in history and "Version 1" in history
    assert "P1Y" in history
    assert "Helsedataservice &lt;støtte&gt;" in history  # free text is escaped, never markup


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("legal_basis", "6(1)(a)", "consent purpose"),
        ("retention_period", "30 days", "ISO-8601"),
        ("name_nb", "", "Must not be empty"),
        ("review_date", "31.12.2026", "Not a valid date"),
    ],
)
def test_the_edit_form_shows_validation_messages_and_saves_nothing(
    client, login, field, value, message
) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    form = _edit_form(client, "support")
    form[field] = value
    response = client.post("/officer/activities/support/edit?lang=en", data=form)
    assert response.status_code == 422
    assert message.lower() in response.get_data(as_text=True).lower()
    assert "Version 2" not in client.get("/officer/activities/support/versions?lang=en").get_data(
        as_text=True
    )


def test_the_edit_form_refuses_a_missing_csrf_token(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    form = _edit_form(client, "support")
    form.pop("csrf_token")
    response = client.post("/officer/activities/support/edit", data=form)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        ("nb", ["Helsedirektoratet", "Datatilsynet", "Behandlingsgrunnlag", "983544622"]),
        ("en", ["Norwegian Directorate of Health", "Datatilsynet", "Legal basis", "983544622"]),
    ],
)
def test_the_public_notice_is_generated_from_the_registry(client, lang: str, phrases: list[str]) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/privacy/helsedata?lang={lang}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for phrase in phrases:
        assert phrase in html, phrase
    assert 'id="surveys"' in html and 'id="accounts"' in html


def test_the_notice_pdf_reads_back_with_its_content(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/privacy/helsedata.pdf?lang=nb")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Helsedirektoratet" in text and "Datatilsynet" in text
    assert "æ" in text or "ø" in text or "å" in text


def test_an_unknown_service_has_no_notice(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/privacy/nowhere").status_code == 404


def test_the_officer_pages_need_a_login(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/officer/activities/accounts")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_audit_page_shows_an_intact_chain(client, login) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    html = client.get("/officer/audit?lang=en").get_data(as_text=True)
    assert "is intact" in html
    assert csrf_token(client, "/officer/audit")
