"""An officer in real Chromium: log in, edit an activity, see the new version and diff, download the PDF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader
from tests_support import bearer

pytestmark = pytest.mark.browser
KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann"}


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_officer_edits_an_activity_sees_the_diff_and_downloads_the_pdf(page, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("officer")
    page.goto("/officer/activities?lang=en")
    assert "/login" in page.url
    page.fill("#username", user["username"])
    page.fill("#password", user["password"])
    page.click("button[type=submit]")
    page.wait_for_url("**/officer/activities*")  # back where the login interrupted
    assert page.locator("h1").inner_text().startswith("Processing activities")

    page.click("a[href='/officer/activities/support']")
    page.click("text=Edit")
    page.fill("#retention_period", "18")  # a number and a unit, not an ISO period to type
    page.select_option("select[name='retention_period-unit']", "M")
    page.fill("#owner_nb", "Helsedataservice – brukerstøtte")
    page.fill("#owner_en", "Helsedataservice – user support")
    page.click("button:has-text('Save')")
    page.wait_for_url("**/officer/activities/support")
    assert "Saved as a new version." in page.content()

    page.click("text=Version history")
    first = page.locator("section.version").first
    assert "Version 2" in first.inner_text()
    assert "P18M" in " ".join(first.locator("ins").all_inner_texts())
    assert page.locator("section.version").count() == 2

    # A bad value gets a message on the form and saves nothing.
    page.goto("/officer/activities/support/edit")
    page.fill("#retention_period", "999999")
    page.click("button:has-text('Save')")
    error = page.locator("#retention_period-error").inner_text()
    assert "whole number of days, weeks, months or years" in error and "ISO" not in error

    page.goto("/officer/activities")
    with page.expect_download() as download_info:
        page.click("a:has-text('PDF')")
    pdf = download_info.value
    assert pdf.suggested_filename.endswith(".pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(pdf.path()).pages)
    assert "18 months" in text and "P18M" not in text and "Helsedataservice – user support" in text


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_an_officer_lands_on_the_start_page_and_sees_its_charts(page, make_user, client, make_key) -> None:  # type: ignore[no-untyped-def]
    key = make_key("requests:write", "requests:manage")
    for kind, days in (("access", 45), ("erasure", 26), ("access", 3)):
        received = (datetime.now(UTC) - timedelta(days=days)).isoformat()
        body = {"type": kind, "channel": "letter", "received_at": received, "subject": KARI}
        assert client.post("/api/v1/requests", json=body, headers=bearer(key)).status_code == 201
    user = make_user("officer")
    page.goto("/login?lang=nb")
    page.fill("#username", user["username"])
    page.fill("#password", user["password"])
    page.click("button[type=submit]")
    page.wait_for_url("**/officer/")
    assert page.locator("h1").inner_text() == "Overview"  # the browser asks for English
    page.goto("/officer/?lang=nb")
    assert page.locator("h1").inner_text() == "Oversikt"
    assert "1 henvendelse har passert fristen" in page.locator("#requests-due").inner_text()
    charts = page.locator("#figures img")
    assert charts.count() == 3
    for i in range(3):  # each chart loaded and drawn: an SVG the browser could decode
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=chart.element_handle())
        assert chart.get_attribute("alt", timeout=1000).startswith("Diagram:")
    page.fill("#q", "DSR-")
    page.click("#search button[type=submit]")
    page.wait_for_url("**/officer/search")
    assert "DSR-" not in page.url
    assert page.locator("#found").inner_text() == "Ingen henvendelse passer."
    page.fill("#q", "nordmann")
    page.click("#search button[type=submit]")
    assert page.locator("#found tbody tr").count() == 3
