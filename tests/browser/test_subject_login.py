"""Kari logs in through the test provider's own form in real Chromium, sees Min side in bokmål, logs out;
then, logged in again, withdraws a consent on Min side, makes an access request there and downloads its
answer."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from oidc_support import OpenIdProvider, oidc_provider  # noqa: F401  (the provider, one per worker)
from pypdf import PdfReader
from tests_support import bearer, complete, settle

from privacy_service import notify
from privacy_service.datamap.demo import create_demo_data

pytestmark = pytest.mark.browser


@pytest.fixture
def engine_name() -> str:
    return "sqlite"


@pytest.fixture
def app(make_app, oidc_provider: OpenIdProvider):  # type: ignore[no-untyped-def]  # noqa: F811
    return make_app(**oidc_provider.app_config())


def test_kari_logs_in_with_id_porten_and_sees_min_side(app, live_server, page) -> None:  # type: ignore[no-untyped-def]
    app.config["PRIVACY_BASE_URL"] = live_server  # the provider sends her back to this server
    page.goto("/?lang=nb")
    page.click("a[data-subject-login]")
    page.wait_for_selector("input[name=pid]")
    assert page.title() == "Test ID-porten"
    page.fill("input[name=pid]", "15838512671")
    page.select_option("select[name=acr]", "idporten-loa-high")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/me")
    assert page.locator("h1").inner_text() == "Min side"
    assert page.locator("[data-pid]").inner_text() == "158385 *****"
    assert page.locator("[data-acr]").get_attribute("data-acr") == "idporten-loa-high"
    assert "15838512671" not in page.content()

    page.click("form[action='/me/logout'] button")
    page.wait_for_url(f"{live_server}/")
    assert "Du er logget ut." in page.content()
    assert "privacy_subject" not in {c["name"] for c in page.context.cookies()}


KARI_EMAIL, KARI_NID = "kari.nordmann@example.no", "15838512671"


def test_kari_withdraws_a_consent_requests_access_and_downloads_the_answer_on_min_side(  # type: ignore[no-untyped-def]
    app, live_server, page, make_key, tmp_path
) -> None:
    app.config["PRIVACY_BASE_URL"] = live_server
    create_demo_data(instance_path=Path(app.config["PRIVACY_INSTANCE_PATH"]), seed=7, people=20,
                     anchor=date(2026, 11, 1))  # fmt: skip
    api = app.test_client()
    consents = bearer(make_key("consent:read", "consent:write"))
    officer = bearer(
        make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage")
    )
    given = api.put(f"/api/v1/consents/{KARI_EMAIL}/surveys", json={"status": "given", "channel": "web"},
                    headers=consents)  # fmt: skip
    assert given.status_code == 200, given.get_json()
    # a portal that logged her in earlier proved her address and her number on an earlier request
    earlier = {"type": "restriction", "subject": {"email": KARI_EMAIL, "national_id": KARI_NID},
               "verified_by": "ID-porten", "activities": ["accounts"]}  # fmt: skip
    assert api.post("/api/v1/requests", json=earlier, headers=officer).status_code == 201

    page.goto("/me/login?lang=nb")
    page.wait_for_selector("input[name=pid]")
    page.fill("input[name=pid]", KARI_NID)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/me")
    consent = page.locator('[data-purpose="surveys"]')
    assert consent.get_attribute("data-consent-status") == "given"
    consent.locator("button:has-text('Trekk tilbake samtykket')").click()
    page.wait_for_selector("text=Samtykket ditt er trukket tilbake.")
    assert page.locator('[data-purpose="surveys"]').get_attribute("data-consent-status") == "withdrawn"
    assert (
        api.get(f"/api/v1/consents/{KARI_EMAIL}/surveys", headers=consents).get_json()["status"]
        == "withdrawn"
    )

    page.check("#my-requests input[value=access]")
    page.select_option("#me-activities", ["accounts"])
    page.click("#my-requests button:has-text('Send henvendelsen')")
    page.wait_for_selector("text=er registrert")
    rows = page.locator("#my-requests tr[data-reference]")
    assert rows.count() == 2
    reference = page.locator("#my-requests tr[data-reference] >> nth=0").get_attribute("data-reference")
    assert reference

    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))  # the plan
    settle(api, reference, officer)
    assert api.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={}).status_code == 200
    assert complete(api, reference, officer).status_code == 200

    page.goto("/me?lang=nb")
    with page.expect_download() as pdf_download:
        page.locator(f'tr[data-reference="{reference}"] a:has-text("Brev (PDF)")').click()
    pdf_file = tmp_path / "svar.pdf"
    pdf_download.value.save_as(pdf_file)
    letter = " ".join(p.extract_text() or "" for p in PdfReader(pdf_file).pages)
    assert reference in letter and "Datatilsynet" in letter and "Kari Nordmann" in letter  # her account
    assert KARI_NID not in page.content()
