"""Kari logs in through the test provider's own form in real Chromium, sees Min side in bokmål, logs out."""

from __future__ import annotations

import pytest
from oidc_support import OpenIdProvider, oidc_provider  # noqa: F401  (the provider, one per worker)

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
