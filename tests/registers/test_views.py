"""The officers' breach pages: they render in bokmål with no English left from the templates, the countdown is
computed on the server, and each form step works with its CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from tests_support import csrf_token

# English sentences of the breach pages' templates and forms: none may be left on a bokmål page
ENGLISH = [
    "Breaches", "Record a breach", "Record the breach", "Deadline for Datatilsynet", "Time left",
    "Discovered", "What happened", "Likely consequences", "Measures taken or proposed", "hours left",
    "hour left", "Overdue by", "Not running", "No breaches recorded", "Assess the risk",
    "Notify Datatilsynet",
    "Notify the data subjects", "Close the breach", "Processing activities concerned", "Approximate number",
    "No risk", "High risk", "Open", "Assessed", "not_required", "high_risk", "no_risk", "Not notified",
    "Reasons for the delay",
]  # fmt: skip


def _visible(html: str) -> str:
    """The page's text without tags, attribute values or the names of form fields."""
    return re.sub(r"<[^>]+>", " ", html)


def test_the_list_and_detail_pages_render_in_bokmal_with_the_countdown(
    client: FlaskClient, login: Callable[[str], dict[str, str]], make_breach: Callable[..., dict[str, Any]]
) -> None:
    login("officer")
    ref = make_breach(discovered_at="2026-11-02T09:00:00+01:00")["reference"]
    page = client.get("/officer/breaches/?lang=nb")
    assert page.status_code == 200
    text = _visible(page.get_data(as_text=True))
    assert "Avvik" in text and ref in text and "Frist for Datatilsynet" in text
    assert "timer over fristen" in text  # discovered in November 2026, not notified: overdue
    assert "Åpent" in text
    detail = _visible(client.get(f"/officer/breaches/{ref}?lang=nb").get_data(as_text=True))
    assert "Vurder risikoen" in detail and "Høy risiko" in detail
    for english in ENGLISH:
        assert not re.search(rf"\b{re.escape(english)}\b", text), english
        assert not re.search(rf"\b{re.escape(english)}\b", detail), english


def test_the_registers_page_links_to_the_breaches_for_officers(
    client: FlaskClient, login: Callable[[str], dict[str, str]]
) -> None:
    login("officer")
    nb = client.get("/officer/registers?lang=nb").get_data(as_text=True)
    assert 'href="/officer/breaches/">Avvik</a>' in nb
    en = client.get("/officer/registers?lang=en").get_data(as_text=True)
    assert 'href="/officer/breaches/">Breaches</a>' in en
    assert "Deadline for Datatilsynet" in client.get("/officer/breaches/?lang=en").get_data(as_text=True)


def test_an_auditor_does_not_see_the_breach_register(
    client: FlaskClient, login: Callable[[str], dict[str, str]]
) -> None:
    login("auditor")
    assert client.get("/officer/breaches/").status_code == 403


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_an_officer_records_assesses_and_notifies_through_the_forms(
    client: FlaskClient, login: Callable[[str], dict[str, str]], lang: str
) -> None:
    login("officer")
    token = csrf_token(client, f"/officer/breaches/?lang={lang}")
    resp = client.post(
        "/officer/breaches/",
        data={
            "csrf_token": token, "title": "Tapt minnepinne", "description": "En minnepinne ble mistet.",
            "discovered_at": "2026-11-02T09:00", "activities": ["applications"], "approx_subjects": "12",
            "data_categories": "name, email",
        },
    )  # fmt: skip
    assert resp.status_code == 302, resp.get_data(as_text=True)
    url = resp.headers["Location"]
    ref = url.rstrip("/").rsplit("/", 1)[-1]
    assert re.fullmatch(r"AVVIK-2026-\d{4}", ref)
    late = client.post(
        f"{url}/notify-authority", data={"csrf_token": token, "notified_at": "2026-11-06T09:00"}
    )
    assert late.status_code == 422  # not assessed yet: the page says so
    ok = client.post(
        f"{url}/assess", data={"csrf_token": token, "risk_level": "risk", "reasons": "Navn og e-post."}
    )
    assert ok.status_code == 302
    late = client.post(
        f"{url}/notify-authority", data={"csrf_token": token, "notified_at": "2026-11-06T09:00"}
    )
    assert late.status_code == 422
    assert ("Grunner til forsinkelsen" if lang == "nb" else "Reasons for the delay") in late.get_data(
        as_text=True
    )
    ok = client.post(
        f"{url}/notify-authority",
        data={"csrf_token": token, "notified_at": "2026-11-06T09:00", "delay_reasons": "Uklart omfang."},
    )
    assert ok.status_code == 302
    assert client.post(f"{url}/close", data={"csrf_token": token}).status_code == 302
    assert client.post(f"{url}/close", data={"csrf_token": token}).status_code == 422
    assert client.post(f"{url}/close", data={}).status_code == 400  # no CSRF token
