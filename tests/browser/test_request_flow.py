"""A data-subject request end to end in real Chromium, with mail through a real SMTP server on loopback:
Kari fills in the form in bokmål, confirms from the e-mail, an officer approves and completes, and Kari
downloads the PDF letter and the ZIP through the link in the mail to her confirmed address; both are read
back."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from smtp_support import SmtpSink, smtp_sink

from privacy_service import notify
from privacy_service.datamap.demo import create_demo_data

pytestmark = pytest.mark.browser
KARI_EMAIL = "kari.nordmann@example.no"


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def app(make_app, smtp):  # type: ignore[no-untyped-def]
    app = make_app(PRIVACY_SMTP_URL=smtp.url)
    create_demo_data(instance_path=Path(app.config["PRIVACY_INSTANCE_PATH"]), seed=3, people=20,
                     anchor=date(2026, 11, 1))  # fmt: skip
    return app


@pytest.fixture
def engine_name() -> str:
    return "sqlite"


def _deliver(app) -> None:  # type: ignore[no-untyped-def]
    counts = notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    assert counts["failed"] == 0 and counts["retrying"] == 0, counts


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_kari_asks_for_access_confirms_and_downloads_her_answer(app, page, smtp, make_user, tmp_path) -> None:  # type: ignore[no-untyped-def]
    page.goto("/requests/new?lang=nb")
    page.check("input[value=access]")
    page.fill("input[name=name]", "Kari Nordmann")
    page.fill("input[name=email]", KARI_EMAIL)
    page.fill("input[name=national_id]", "15838512671")
    page.select_option("select[name=activities]", ["accounts", "applications", "support"])
    page.click("text=Send henvendelsen")
    page.wait_for_selector("text=Referansen din er")
    reference = re.search(r"DSR-\d{4}-\d{6}", page.content()).group(0)  # type: ignore[union-attr]
    status_path = page.get_attribute("a[href*='/requests/status/']", "href")
    assert status_path

    _deliver(app)  # the confirmation mail goes through the SMTP server
    [mail] = [m for m in smtp.messages if reference in m["Subject"]]
    assert mail["To"] == KARI_EMAIL
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Kari" not in body and "15838512671" not in body  # no personal data in the mail
    verify = re.search(r"https?://\S+/requests/verify/\S+", body).group(0)  # type: ignore[union-attr]
    page.goto(_path(verify) + "?lang=nb")
    page.click("button:has-text('Bekreft henvendelsen')")
    page.wait_for_selector("text=er bekreftet")

    _deliver(app)  # the plan
    officer = make_user("officer")
    page.goto("/login?lang=nb")
    page.fill("input[name=username]", officer["username"])
    page.fill("input[name=password]", officer["password"])
    page.click("button[type=submit]")
    page.goto(f"/officer/requests/{reference}?lang=nb")
    assert page.locator("tr[data-outcome=pending]").count() == 3
    page.click("text=Godkjenn planen og gjennomfør den")
    page.wait_for_selector("section.confirm[role=alertdialog]")  # says what approving does, then asks
    page.click("button.danger")
    page.wait_for_selector("text=Utført.")
    page.click("text=Lag utkast til svar")
    page.wait_for_selector("text=Utkastet til svar er klart")
    _deliver(app)
    assert not [m for m in smtp.messages if "besvart" in m.get_body(preferencelist=("plain",)).get_content()]
    draft = page.locator("article.letter").inner_text()
    assert "Svar på henvendelsen din" in draft and "Kari Nordmann" in draft
    page.click("text=Send svaret til den registrerte")
    page.wait_for_selector("text=Et sendt svar kan ikke kalles tilbake.")
    page.click("button.danger")
    page.wait_for_selector("text=Utført.")

    _deliver(app)  # the "answer ready" mail
    ready = [m for m in smtp.messages if reference in m["Subject"]][-1]
    ready_text = ready.get_body(preferencelist=("plain",)).get_content()
    assert "besvart" in ready_text and ready["To"] == KARI_EMAIL

    # she confirmed by the link, which proves the mailbox, not who holds the status page: the status page
    # says where the answer went, and the link in the mail to her address opens it
    page.goto(status_path + "?lang=nb")
    assert page.locator("[data-status=completed]").count() == 1
    assert page.locator("text=Last ned svaret (PDF)").count() == 0
    assert page.locator("text=Svaret er sendt til den bekreftede e-postadressen").count() == 1
    mine = re.search(r"https?://\S+/requests/mine/\S+", ready_text).group(0)  # type: ignore[union-attr]
    page.goto(_path(mine) + "?lang=nb")
    assert page.locator("[data-status=completed]").count() == 1
    with page.expect_download() as pdf_download:
        page.click("text=Last ned svaret (PDF)")
    pdf_file = tmp_path / "letter.pdf"
    pdf_download.value.save_as(pdf_file)
    letter = " ".join(p.extract_text() or "" for p in PdfReader(pdf_file).pages)
    assert "Svar på henvendelsen din" in letter and reference in letter and "Kari Nordmann" in letter
    assert "Datatilsynet" in letter

    with page.expect_download() as zip_download:
        page.click("text=Last ned svaret med opplysningene dine (ZIP)")
    zip_file = tmp_path / "answer.zip"
    zip_download.value.save_as(zip_file)
    archive = zipfile.ZipFile(io.BytesIO(zip_file.read_bytes()))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["reference"] == reference
    accounts = json.loads(archive.read("accounts/helsedata-portal.accounts.json"))
    assert accounts[0]["email"] == KARI_EMAIL
