"""A data subject withdraws consent in real Chromium, from the link in the receipt e-mail."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from tests_support import bearer

from privacy_service import notify

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_a_subject_withdraws_from_the_receipt_mail(app, client, make_key, page) -> None:  # type: ignore[no-untyped-def]
    portal = bearer(make_key("consent:read", "consent:write"))
    given = client.put(
        "/api/v1/consents/ola.nordmann@example.no/newsletter",
        json={"status": "given", "language": "en"},
        headers=portal,
    )
    assert given.status_code == 200
    # No SMTP configured: the receipt lands in instance/outbox as an .eml file, as in the demo.
    assert notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))["delivered"] == 1
    (eml,) = (Path(app.config["PRIVACY_INSTANCE_PATH"]) / "outbox").glob("*.eml")
    mail = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    link = re.search(
        r"https?://\S+/consent/withdraw/\S+", mail.get_body(preferencelist=("plain",)).get_content()
    )
    assert link is not None
    path = "/consent/" + link.group(0).split("/consent/", 1)[1]

    page.goto(path + "?lang=en")
    assert page.locator("h1").inner_text() == "Withdraw consent"
    page.click("text=Withdraw my consent")
    page.wait_for_selector("text=Your consent is withdrawn")
    status = client.get("/api/v1/consents/ola.nordmann@example.no/newsletter", headers=portal).get_json()
    assert status["status"] == "withdrawn"
    # the same link again: already withdrawn, nothing new recorded
    page.goto(path + "?lang=nb")
    assert "allerede trukket tilbake" in page.content() or "already withdrawn" in page.content()
