"""An officer in real Chromium edits an activity through the structured form: several mistakes at once, all
of them named in one summary that has the focus, each linked to its field, then fixed and saved in one more
submit (issue 19, build item 3)."""

from __future__ import annotations

import pytest
from tests_support import bearer

pytestmark = pytest.mark.browser


def _active_id(page) -> str:  # type: ignore[no-untyped-def]
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_an_officer_fixes_every_mistake_on_the_activity_form_in_one_pass(
    page, make_user, client, make_key
) -> None:  # type: ignore[no-untyped-def]
    user = make_user("officer")
    page.goto("/login?lang=nb")
    page.fill("#username", user["username"])
    page.fill("#password", user["password"])
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto("/officer/activities/support/edit?lang=nb")

    # Four mistakes at once: an empty purpose, a date that does not exist (typed, as a browser without a date
    # picker would send it), a processor without its organisation, and a retention period of 0 months.
    page.fill("#purposes-0-nb", "")
    page.locator("#review_date").evaluate("e => { e.type = 'text'; e.value = '2026-02-30'; }")
    processor = page.locator("fieldset.row:has(select[name^='processors-'])").last
    blank_row = processor.locator("select[name$='-organisation']").get_attribute("name").rsplit("-", 1)[0]
    page.fill(f"#{blank_row}-agreement_ref_nb", "Databehandleravtale 2026/9")
    page.fill(f"#{blank_row}-agreement_ref_en", "Data processing agreement 2026/9")
    page.fill("#retention_period", "0")
    page.select_option("select[name='retention_period-unit']", "M")
    page.locator("button:has-text('Lagre')").first.click()
    page.wait_for_selector("#error-summary")

    summary = page.locator("#error-summary")
    assert summary.locator("h2").inner_text() == "Skjemaet har 4 feil"
    assert _active_id(page) == "error-summary"  # the script moved the focus to the summary
    links = {a.get_attribute("href"): a.inner_text() for a in summary.locator("a").all()}
    expected = ["#purposes-0-nb", "#review_date", f"#{blank_row}-organisation", "#retention_period"]
    assert sorted(links) == sorted(expected), links
    assert links["#purposes-0-nb"] == "Formål 1: Norsk: Fyll ut dette feltet."
    assert "gyldig dato" in links["#review_date"]
    assert links[f"#{blank_row}-organisation"].endswith("Virksomhet: Velg ett av alternativene i listen.")
    assert links["#retention_period"].endswith("et helt antall dager, uker, måneder eller år (høyst 99 999).")
    text = " ".join(links.values())
    assert "Missing data" not in text and "Not a valid" not in text and "processors[" not in text
    for href in expected:
        field = page.locator(href)
        assert field.get_attribute("aria-invalid") == "true", href
        described = field.get_attribute("aria-describedby")
        assert page.locator(f"#{described}").inner_text() in links[href], href

    # Following a link puts the focus on its field.
    summary.locator(f"a[href='#{blank_row}-organisation']").click()
    assert _active_id(page) == f"{blank_row}-organisation"
    summary.locator("a[href='#review_date']").click()
    assert _active_id(page) == "review_date"

    # Everything fixed, saved in one more submit.
    page.fill("#purposes-0-nb", "Svare på spørsmål om tjenesten")
    page.locator("#review_date").evaluate("e => { e.type = 'date'; }")
    page.fill("#review_date", "2027-03-31")
    page.select_option(f"#{blank_row}-organisation", label="Norsk helsenett SF")
    page.fill("#retention_period", "18")
    page.locator("button:has-text('Lagre')").first.click()
    page.wait_for_load_state()
    assert page.locator("#error-summary").count() == 0, page.locator("#error-summary").inner_text()
    page.wait_for_url("**/officer/activities/support")
    assert "Lagret som en ny versjon." in page.content()

    record = client.get("/api/v1/activities/support", headers=bearer(make_key("registry:read"))).get_json()
    assert record["version"] == 2
    assert record["purposes"][0]["nb"] == "Svare på spørsmål om tjenesten"
    assert record["review_date"] == "2027-03-31"
    assert record["retention"]["period"] == "P18M"
    agreement = {"nb": "Databehandleravtale 2026/9", "en": "Data processing agreement 2026/9"}
    assert {"organisation": "nhn", "role": "processor", "agreement_ref": agreement}.items() <= (
        record["processors"][-1].items()
    )
