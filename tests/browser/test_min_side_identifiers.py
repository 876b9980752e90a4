"""Kari's identifiers on Min side in real Chromium (issue 21): axe-core finds nothing serious in bokmål or
English at 1280 and 390 px, the bokmål page reads as bokmål, and she removes a service's link with its
button."""

from __future__ import annotations

from pathlib import Path

import pytest
from language import foreign_lines
from oidc_support import OpenIdProvider, oidc_provider  # noqa: F401  (the provider, one per worker)
from tests_support import bearer

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
KARI_NID, KARI_EMAIL = "15838512671", "kari.nordmann@example.no"


@pytest.fixture
def engine_name() -> str:
    return "sqlite"


@pytest.fixture
def app(make_app, oidc_provider: OpenIdProvider):  # type: ignore[no-untyped-def]  # noqa: F811
    return make_app(**oidc_provider.app_config())


def test_her_identifiers_pass_axe_read_as_bokmaal_and_a_link_can_be_removed(  # type: ignore[no-untyped-def]
    app, live_server, page, make_key
) -> None:
    assert AXE.is_file(), "npm ci --prefix tests/browser/axe (./run-tests does it)"
    app.config["PRIVACY_BASE_URL"] = live_server
    api = app.test_client()
    portal = bearer(make_key("subjects:link", name="Helsenorge"))
    link = {"portal_id": "u-kari", "login": "ID-porten", "national_id": KARI_NID, "email": KARI_EMAIL}
    assert api.post("/api/v1/subjects/links", json=link, headers=portal).status_code == 200

    page.goto("/me/login?lang=nb")
    page.wait_for_selector("input[name=pid]")
    page.fill("input[name=pid]", KARI_NID)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/me")
    for lang in ("nb", "en"):
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"/me?lang={lang}")
            page.evaluate(AXE.read_text())
            found = page.evaluate(
                "async () => await axe.run('#my-identifiers', {resultTypes: ['violations']})"
            )
            serious = [v["id"] for v in found["violations"] if v["impact"] in ("serious", "critical")]
            assert serious == [], (lang, width, serious)
            assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"), width
            text = page.locator("#my-identifiers").inner_text()
            assert foreign_lines(text.splitlines(), lang) == [], text

    page.goto("/me?lang=nb")
    page.locator("#my-identifiers button:has-text('Fjern koblingen')").click()
    page.wait_for_selector("text=Koblingen til Helsenorge er fjernet.")
    assert page.locator("#my-identifiers tr[data-identifier=portal]").count() == 0
