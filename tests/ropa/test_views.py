"""Officer pages of the registry and the public privacy notices."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader
from tests_support import csrf_token, form_fields


def _edit_form(client, slug: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return form_fields(client.get(f"/officer/activities/{slug}/edit").get_data(as_text=True))


def _form_fields(html: str) -> dict[str, Any]:
    return form_fields(html)


def _blank_row(form: dict[str, Any], rows: str) -> str:
    """The prefix of the list's blank row (the form always draws one after the last)."""
    indices = {int(m.group(1)) for k in form if (m := re.match(rf"{rows}-(\d+)-", k))}
    return f"{rows}-{max(indices)}-"


def test_the_activity_list_filters_by_legal_basis_and_status(client, login) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    html = client.get("/officer/activities?legal_basis=6(1)(a)&lang=en").get_data(as_text=True)
    assert "surveys" in html and "/officer/activities/accounts" not in html
    html = client.get("/officer/activities?status=retired").get_data(as_text=True)
    # the shipped record's one retired activity: the chatbot recorded twice (issue 17)
    assert "/officer/activities/helsenorge-chatbot" in html and "/officer/activities/chatbot" not in html
    html = client.get("/officer/activities?status=retired&service=helsedata").get_data(as_text=True)
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
    form["owner_nb"] = form["owner_en"] = "Helsedataservice <støtte>"
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
        ("retention_period", "30 days", "whole number of days, weeks, months or years"),
        ("name_nb", "", "Fill this in"),
        ("review_date", "31.12.2026", "Give a real date as year-month-day"),
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


def test_the_rows_edit_processors_and_lists(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    form = _edit_form(client, "support")
    assert form["controller"] == "helsedir" and form["purposes-0-nb"]
    row = _blank_row(form, "processors")
    form.update({f"{row}organisation": "nhn", f"{row}role": "processor"})
    form.update(
        {f"{row}agreement_ref_nb": "Databehandleravtale 2026/17", f"{row}agreement_ref_en": "DPA 2026/17"}
    )
    form[f"{row}agreed_on"] = "2026-03-01"
    row = _blank_row(form, "recipients")
    form.update({f"{row}nb": "Statsforvalteren", f"{row}en": "The county governor"})
    response = client.post("/officer/activities/support/edit?lang=en", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    record = client.get("/api/v1/activities/support", headers=_session_json()).get_json()
    assert {
        "organisation": "nhn",
        "role": "processor",
        "agreement_ref": {"nb": "Databehandleravtale 2026/17", "en": "DPA 2026/17"},
        "agreed_on": "2026-03-01",
    }.items() <= record["processors"][-1].items()
    assert record["recipients"][-1] == {"nb": "Statsforvalteren", "en": "The county governor"}
    history = client.get("/officer/activities/support/versions?lang=en").get_data(as_text=True)
    assert "DPA 2026/17" in history and "The county governor" in history


def _session_json() -> dict[str, str]:
    return {"Accept": "application/json"}


def _no_purposes(form: dict[str, Any]) -> None:
    for key in [k for k in form if k.startswith("purposes-")]:
        form[key] = ""


def _bad_processor_role(form: dict[str, Any]) -> None:
    row = _blank_row(form, "processors")
    form.update({f"{row}organisation": "nhn", f"{row}role": "owner", f"{row}agreement_ref_nb": "x"})


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (_no_purposes, "purposes-0-nb", "Give at least one."),
        (_bad_processor_role, "-role", "Choose one from the list."),
        (lambda form: form.update(controller="nobody"), "controller", "Choose one from the list."),
        (
            lambda form: form.update({"retention_rules-0-table": ""}),
            "retention_rules-0-table",
            "Fill this in.",
        ),
        (
            lambda form: form.update({"retention_rules-0-schedule": "every night"}),
            "retention_rules-0-schedule",
            "minute, hour, day, month and weekday",
        ),
    ],
)
def test_the_edit_form_refuses_bad_rows_and_saves_nothing(client, login, change, field, message) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    form = _edit_form(client, "support")
    change(form)
    response = client.post("/officer/activities/support/edit?lang=en", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    linked = re.search(rf'<li><a href="#([^"]*{field})">[^<]*{re.escape(message)}[^<]*</a>', html)
    assert linked, html[html.find("error-summary") :][:800]
    assert f'id="{linked.group(1)}-error"' in html
    field_id = linked.group(1)
    assert re.search(rf'aria-describedby="{field_id}-error" aria-invalid="true"[^>]* id="{field_id}"', html)
    history = client.get("/officer/activities/support/versions?lang=en").get_data(as_text=True)
    assert "Version 2" not in history


def test_an_officer_records_a_new_activity(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    html = client.get("/officer/activities/new?lang=en").get_data(as_text=True)
    form = _form_fields(html)
    assert "slug" in form and form["service"] == "helsedata"
    form.update(
        {
            "slug": "webinars",
            "name_nb": "Webinarer",
            "name_en": "Webinars",
            "description_nb": "Påmelding til webinarer.",
            "description_en": "Sign-up for webinars.",
            "national_basis_nb": "Helseregisterloven § 5",
            "national_basis_en": "Health Registry Act § 5",
            "retention_text_nb": "Slettes etter 90 dager.",
            "retention_text_en": "Deleted after 90 days.",
            "retention_period": "P90D",
            "controller": "helsedir",
            "purposes-0-nb": "Gjennomføre webinarer",
            "purposes-0-en": "Run webinars",
            "data_subjects-0-nb": "Deltakere",
            "data_subjects-0-en": "Participants",
            "data_categories-0-name_nb": "Kontaktopplysninger",
            "data_categories-0-name_en": "Contact details",
            "security_measures-0-nb": "Tilgangsstyring",
            "security_measures-0-en": "Access control",
        }
    )
    response = client.post("/officer/activities/new?lang=en", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/officer/activities/webinars")
    detail = client.get("/officer/activities/webinars?lang=en").get_data(as_text=True)
    assert "Run webinars" in detail and "Access control" in detail
    record = client.get("/api/v1/activities/webinars", headers=_session_json()).get_json()
    assert record["data_categories"] == [
        {
            "key": "contact_details",
            "name": {"nb": "Kontaktopplysninger", "en": "Contact details"},
            "special": False,
        }
    ]
    again = client.post("/officer/activities/new?lang=en", data=form)
    assert again.status_code == 422 and "Already in use." in again.get_data(as_text=True)


def test_the_new_activity_form_keeps_what_was_typed_on_an_error(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    form = _form_fields(client.get("/officer/activities/new?lang=en").get_data(as_text=True))
    form.update(slug="Bad Slug", name_en="Kept text")
    response = client.post("/officer/activities/new?lang=en", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Use lower-case letters" in html and 'value="Kept text"' in html
    assert client.get("/officer/activities/bad-slug").status_code == 404


def test_an_auditor_cannot_open_the_new_activity_form(client, login) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    assert client.get("/officer/activities/new").status_code == 403
    assert "New activity" not in client.get("/officer/activities?lang=en").get_data(as_text=True)


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


@pytest.mark.parametrize(
    ("lang", "words"),
    [("nb", "(unntak (art. 49))"), ("en", "(derogation (Art. 49))")],
)
def test_a_transfer_safeguard_is_named_in_words_on_the_notice(client, login, lang: str, words: str) -> None:  # type: ignore[no-untyped-def]
    notice = client.get(f"/privacy/helsedirektoratet?lang={lang}").get_data(as_text=True)
    assert words in notice and "(derogation)" not in notice
    login("auditor")
    record = client.get(f"/officer/activities/alcohol-tobacco-licences?lang={lang}").get_data(as_text=True)
    assert words in record and "(derogation)" not in record


def test_the_retention_period_is_a_number_and_a_unit_in_the_readers_words(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    page = client.get("/officer/activities/support/edit?lang=nb").get_data(as_text=True)
    assert 'name="retention_period-amount"' in page and 'type="number"' in page
    assert '<option value="M">måneder</option>' in page and "ISO 8601" not in page
    assert "Allmennhetens interesse eller offentlig myndighet" in page  # the legal bases in words
    form = _edit_form(client, "support")
    form.pop("retention_period", None)
    form.update({"retention_period-amount": "2", "retention_period-unit": "Y"})
    assert client.post("/officer/activities/support/edit", data=form).status_code == 302
    history = client.get("/officer/activities/support/versions?lang=en").get_data(as_text=True)
    assert "P2Y" in history


def test_a_stored_period_is_shown_in_one_unit_where_it_can_be() -> None:
    from privacy_service.ropa.form_fields import _one_unit

    assert _one_unit("P25Y") == ("25", "Y") and _one_unit("P1Y6M") == ("18", "M")
    assert _one_unit("P2W3D") == ("17", "D") and _one_unit("P30D") == ("30", "D")
    assert _one_unit("P1Y2D") is None and _one_unit("thirty days") is None  # shown as text, as stored
