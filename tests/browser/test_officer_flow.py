"""An officer in real Chromium: log in, edit an activity, see the new version and diff, download the PDF."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_officer_edits_an_activity_sees_the_diff_and_downloads_the_pdf(page, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("officer")
    page.goto("/officer/activities?lang=en")
    assert "/login" in page.url
    page.fill("#username", user["username"])
    page.fill("#password", user["password"])
    page.click("button[type=submit]")
    page.wait_for_url("**/officer/activities*")
    assert page.locator("h1").inner_text().startswith("Processing activities")

    page.click("a[href='/officer/activities/support']")
    page.click("text=Edit")
    page.fill("#retention_period", "P18M")
    page.fill("#owner", "Helsedataservice – brukerstøtte")
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
    page.fill("#retention_period", "18 months")
    page.click("button:has-text('Save')")
    assert "ISO-8601" in page.locator("#retention_period-error").inner_text()

    page.goto("/officer/activities")
    with page.expect_download() as download_info:
        page.click("a:has-text('PDF')")
    pdf = download_info.value
    assert pdf.suggested_filename.endswith(".pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(pdf.path()).pages)
    assert "P18M" in text and "Helsedataservice – brukerstøtte" in text
