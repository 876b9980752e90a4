"""The officer's walk-through of issue 15 in real Chromium, in bokmål, with mail through a real SMTP server:
Kari's access request for every activity is searched by hand (one activity found, the rest none found in one
form), approved, a column withheld under Art. 15(4), the draft read and sent; her objection to public-task
processing is refused with compelling legitimate grounds and reasons; the link in the "answered" mail to
her confirmed address shows the answers and the letter PDF, read back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from smtp_support import SmtpSink, smtp_sink
from tests_support import bearer

from privacy_service import notify
from privacy_service.datamap.demo import create_demo_data

pytestmark = pytest.mark.browser
KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
WITHHELD = "Feltet nevner andre prosjektmedarbeidere ved navn; en kopi ville avsløre opplysninger om dem."
REFUSED = "Kontoen trengs for å behandle søknadstjenestens lovpålagte saker, og det veier tyngre her."
# sentences of the English letter and pages that must never reach a bokmål reader
ENGLISH = ("Applies to every activity", "Handled by hand", "The officer decides", "Not yet checked", "Done")


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


def _text(mail: Any) -> str:
    return str(mail.get_body(preferencelist=("plain",)).get_content())


def _answered(smtp: SmtpSink, reference: str) -> list[str]:
    return [t for m in smtp.messages if reference in m["Subject"] and "besvart" in (t := _text(m))]


def _submit(app, key: str, **body: Any) -> str:  # type: ignore[no-untyped-def]
    """A request Kari made through a portal that logged her in with ID-porten, planned through the outbox."""
    body = {"subject": KARI, "verified_by": "ID-porten", "language": "nb", **body}
    created = app.test_client().post("/api/v1/requests", headers=bearer(key), json=body)
    assert created.status_code == 201, created.get_json()
    _deliver(app)  # the plan
    return str(created.get_json()["reference"])


def _press(page, button) -> None:  # type: ignore[no-untyped-def]
    """Press a form's button and see the action go through: the next page says "Utført." and nothing else."""
    with page.expect_navigation():
        button.click()
    assert page.locator("p.flash").all_inner_texts() == ["Utført."], page.locator("main").inner_text()[:3000]


def _press_and_confirm(page, button, consequence: str) -> None:  # type: ignore[no-untyped-def]
    """Press a button for what cannot be undone: the next page says what will happen, in bokmål, and waits
    for the red button; "Avbryt" would change nothing."""
    with page.expect_navigation():
        button.click()
    dialog = page.locator("section.confirm[role=alertdialog]")
    assert consequence in dialog.inner_text(), dialog.inner_text()
    assert not [s for s in ENGLISH if s in dialog.inner_text()], dialog.inner_text()
    assert dialog.locator("a.cancel").inner_text() == "Avbryt: ikke gjør noe"
    _press(page, dialog.locator("button.danger"))


def _letter_pdf(page, smtp: SmtpSink, reference: str, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """Kari follows the link in the "answered" mail to her confirmed address and downloads the letter."""
    [mail] = _answered(smtp, reference)
    mine = re.search(r"https?://\S+/requests/mine/\S+", mail).group(0)  # type: ignore[union-attr]
    page.goto("/" + mine.split("/", 3)[3] + "?lang=nb")
    assert page.locator("[data-status=completed]").count() == 1
    with page.expect_download() as download:
        page.click("text=Last ned svaret (PDF)")
    pdf = tmp_path / f"{reference}.pdf"
    download.value.save_as(pdf)
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(pdf).pages)


def test_an_officer_searches_by_hand_withholds_refuses_an_objection_and_kari_reads_her_answers(
    app, page, smtp, make_user, make_key, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    key = make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage")
    access = _submit(app, key, type="access")  # every activity
    officer = make_user("officer")
    page.goto("/login?lang=nb")
    page.fill("input[name=username]", officer["username"])
    page.fill("input[name=password]", officer["password"])
    page.click("button[type=submit]")
    page.wait_for_url("**/officer/**")

    # the searches by hand: blue prescriptions found two records and handled them, the rest none found
    page.goto(f"/officer/requests/{access}?lang=nb")
    unchecked = page.locator("tr[data-outcome=not_checked]").count()
    assert unchecked > 20
    plan = page.locator("table.plan").inner_text()
    assert "Gjelder for alle behandlinger." in plan and "Blåreseptløsningen (Helfo)" in plan
    assert not [s for s in ENGLISH if s in plan]
    assert "åpenbart grunnløs" in page.locator("select[name=ground]").first.inner_text()  # not its key
    blue = page.locator("tr[data-activity=blaresept]")
    blue.locator("select[name=result]").select_option("found_handled")
    blue.locator("input[name=records]").fill("2")
    _press(page, blue.locator("button:has-text('Registrer søket')"))
    assert (
        "Søkt: fant registreringer og behandlet dem (2)"
        in page.locator("tr[data-activity=blaresept]").inner_text()
    )
    bulk = page.locator("form[data-form=manual-bulk]")
    assert bulk.locator("input[name=activities]:checked").count() == unchecked - 1
    assert "Kameraovervåking av inngangspartiene" in bulk.inner_text()  # names, not slugs
    _press(page, bulk.locator("button:has-text('Registrer «søkt manuelt: ingen funnet» for de valgte')"))
    assert page.locator("tr[data-outcome=not_checked]").count() == 0
    assert page.locator("form[data-form=manual-bulk]").count() == 0
    assert page.locator("tr[data-outcome=no_data]").count() >= unchecked - 1

    _press_and_confirm(
        page,
        page.locator("button:has-text('Godkjenn planen og gjennomfør den')"),
        "Godkjenner planen: svaret lages fra 4 rader i 4 tabeller.",
    )
    assert page.locator("[data-status=in_progress]").count() == 1

    # withhold the other project staff named in her application (Art. 15(4): the rights of others)
    form = page.locator("form.withhold")
    form.locator("select[name=target]").select_option("applications/helsedata-portal/applications")
    form.locator("select[name=column]").select_option("project_staff")
    form.locator("select[name=ground]").select_option("art_15_4")
    assert (
        "andres rettigheter og friheter (art. 15 nr. 4)" in form.locator("select[name=ground]").inner_text()
    )
    form.locator("textarea[name=reasons]").fill(WITHHELD)
    _press(page, form.locator("button:has-text('Hold tilbake')"))
    withheld = page.locator("tr[data-withholding]")
    assert withheld.count() == 1
    assert "Søknader om tilgang til helsedata og saksbehandling" in withheld.inner_text()  # not a slug

    page.click("text=Lag utkast til svar")
    page.wait_for_selector("text=Utkastet til svar er klart")
    letter = page.locator("article.letter").inner_text()
    assert "Kari Nordmann" in letter and access in letter
    assert re.search(r"Vi har gått gjennom \d\d behandlinger av personopplysninger\.", letter)
    assert "Opplysninger om andre prosjektmedarbeidere" in letter and WITHHELD in letter
    assert "Søkt manuelt: fant 2 registrering(er), og de er behandlet." in letter
    assert not [s for s in ENGLISH if s in letter], letter
    _deliver(app)
    assert not _answered(smtp, access)  # a draft tells her nothing
    _press_and_confirm(
        page,
        page.locator("button:has-text('Send svaret til den registrerte')"),
        "med den registrertes opplysninger",
    )
    assert page.locator("[data-status=completed]").count() == 1

    # her objection to public-task processing, refused with compelling legitimate grounds and reasons
    objection = _submit(app, key, type="objection", activities=["accounts"])
    page.goto(f"/officer/requests/{objection}?lang=nb")
    accounts = page.locator("tr[data-activity=accounts]")
    assert accounts.get_attribute("data-decision") == "undecided"
    decide = accounts.locator("form.decide")
    decide.locator("input[name=decision][value=refuse]").check()
    decide.locator("select[name=ground]").select_option("art_21_1")
    chosen = decide.locator("select[name=ground] option:checked").inner_text()
    assert chosen == "tvingende berettigede grunner som går foran dine interesser (art. 21 nr. 1)"
    decide.locator("textarea[name=reasons]").fill(REFUSED)
    _press(page, decide.locator("button:has-text('Lagre avgjørelsen')"))
    assert page.locator("tr[data-activity=accounts]").get_attribute("data-decision") == "refuse"
    _press_and_confirm(
        page,
        page.locator("button:has-text('Godkjenn planen og gjennomfør den')"),
        "1 behandlingsaktivitet avslås",
    )
    page.click("text=Lag utkast til svar")
    page.wait_for_selector("text=Utkastet til svar er klart")
    draft = page.locator("article.letter").inner_text()
    assert REFUSED in draft and not [s for s in ENGLISH if s in draft], draft
    assert "Vi har gått gjennom 1 behandling av personopplysninger." in draft
    _press_and_confirm(
        page,
        page.locator("button:has-text('Send svaret til den registrerte')"),
        "Et sendt svar kan ikke kalles",
    )

    # Kari: the links in the "answered" mails to her confirmed address show both answers and their letters
    _deliver(app)
    access_letter = _letter_pdf(page, smtp, access, tmp_path)
    assert "Kari Nordmann" in access_letter and WITHHELD in access_letter
    objection_letter = _letter_pdf(page, smtp, objection, tmp_path)
    assert objection in objection_letter and REFUSED in objection_letter
    assert "tvingende berettigede grunner som går foran dine interesser (art. 21 nr. 1)" in objection_letter
    assert not [s for s in ENGLISH if s in access_letter + objection_letter]
