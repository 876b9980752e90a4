"""The public pages speak for the controller, not for the software: its name heads them, its contact details
close them, and every one leads to the request form (and Min side where subjects can log in)."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

PUBLIC_PAGES = ("/", "/privacy/helsedata", "/privacy/helsenorge", "/requests/new", "/requests/find")


def _text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found is not None
    return unescape(found.group(1)).strip()


@pytest.mark.parametrize("path", PUBLIC_PAGES)
@pytest.mark.parametrize(
    ("lang", "name"), [("nb", "Helsedirektoratet"), ("en", "Norwegian Directorate of Health")]
)
def test_public_pages_are_headed_by_the_controller_and_give_its_contact(
    client: FlaskClient, path: str, lang: str, name: str
) -> None:
    page = client.get(f"{path}?lang={lang}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(rf'<a class="brand"[^>]*>{re.escape(name)}</a>', html)
    assert "privacy-service" not in html  # neither in the title, the header nor the text
    footer = _text(html.split('<footer class="site">', 1)[1])
    assert name in footer and "Postboks 220 Skøyen, 0213 Oslo" in footer
    assert "postmottak@helsedir.no" in footer and "+47 810 20 050" in footer
    assert "personvernombud@helsedirektoratet.no" in footer
    assert ("Telefon:" if lang == "nb" else "Phone:") in footer
    assert 'href="/requests/new"' in html


def test_the_start_page_names_the_notices_and_leads_to_the_request_form(client: FlaskClient) -> None:
    html = client.get("/?lang=nb").get_data(as_text=True)
    text = _text(html)
    assert "Personvern på helsedata.no og ved søknad om tilgang til helsedata" in text
    assert not re.search(r">\s*helsedata\s*<", html)  # a notice by its title, not its slug
    assert "Spør om dine personopplysninger eller bruk en rettighet" in text
    assert 'href="/requests/new?lang=nb"' in html
    english = _text(client.get("/?lang=en").get_data(as_text=True))
    assert "Ask about your personal data or use a right" in english
    assert "Spør om" not in english


def test_a_notice_leads_to_the_request_form_from_its_rights(client: FlaskClient) -> None:
    html = client.get("/privacy/helsedata?lang=nb").get_data(as_text=True)
    rights = html.split("<h2>Dine rettigheter</h2>", 1)[1].split("<h2>", 1)[0]
    assert 'href="/requests/new?lang=nb"' in rights


def test_the_installation_names_whom_its_pages_speak_for(make_app: Callable[..., Flask]) -> None:
    client = make_app(PRIVACY_CONTROLLER="ehelse").test_client()
    html = client.get("/requests/new?lang=nb").get_data(as_text=True)
    assert _title(html).endswith("· Direktoratet for e-helse (Helsedataservice)")
    assert "Helsedirektoratet</a>" not in html.split('<footer class="site">')[0]


def test_officer_pages_keep_the_software_name_and_no_public_footer(
    client: FlaskClient, login: Callable[[str], dict[str, str]]
) -> None:
    login("officer")
    html = client.get("/officer/requests/").get_data(as_text=True)
    assert _title(html).endswith("· privacy-service")
    assert '<footer class="site">' not in html


def test_a_page_rendered_while_the_database_is_away_still_renders(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError

    from privacy_service.ropa import service

    def away(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(service, "list_organisations", away)
    page = client.get("/requests/find?lang=nb")
    assert page.status_code == 200
    assert '<a class="brand" href="/">privacy-service</a>' in page.get_data(as_text=True)
