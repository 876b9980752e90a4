"""The officers' start page: what is due, the charts, the request search and the request log."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select, update
from tests_support import bearer, csrf_token

from privacy_service.db import transaction
from privacy_service.dsar.models import DsarRequest

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann"}
OLA = {"email": "ola.hansen@example.no", "name": "Ola Hansen"}
SVG = "{http://www.w3.org/2000/svg}"


def _submit(client, key: str, **body: Any) -> str:  # type: ignore[no-untyped-def]
    body.setdefault("type", "access")
    body.setdefault("subject", KARI)
    body.setdefault("channel", "letter")
    response = client.post("/api/v1/requests", json=body, headers=bearer(key))
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["reference"])


def _days_ago(days: int) -> str:
    """Noon UTC `days` days ago (at least one): the same calendar day in Oslo whatever the hour the test
    runs, so days counted in Oslo dates across a change of summer time stay whole (late evening runs
    counted 44 days where 45 were meant)."""
    return (datetime.now(UTC) - timedelta(days=days)).replace(hour=12, minute=0, second=0).isoformat()


def _answer(app, reference: str, *, days_after: int) -> None:  # type: ignore[no-untyped-def]
    """Mark a request answered `days_after` days after it was received (its history, set up directly)."""
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        req = session.scalars(select(DsarRequest).where(DsarRequest.reference == reference)).one()
        session.execute(
            update(DsarRequest)
            .where(DsarRequest.id == req.id)
            .values(status="completed", closed_at=req.received_at + timedelta(days=days_after))
        )


@pytest.fixture
def requests_made(app, client, make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    key = make_key("requests:write", "requests:manage")
    made = {
        "late": _submit(client, key, received_at=_days_ago(45), type="objection"),
        "soon": _submit(client, key, received_at=_days_ago(26), type="erasure", subject=OLA),
        "fresh": _submit(client, key, type="portability"),
        "answered": _submit(client, key, received_at=_days_ago(40), type="access"),
        "answered_late": _submit(client, key, received_at=_days_ago(50), type="access", subject=OLA),
    }
    _answer(app, made["answered"], days_after=12)
    _answer(app, made["answered_late"], days_after=45)
    return made


def test_officers_land_on_the_start_page_with_what_is_due(client, login, requests_made) -> None:  # type: ignore[no-untyped-def]
    user = login("auditor")
    assert user
    html = client.get("/officer/?lang=en").get_data(as_text=True)
    overdue = html.split('id="overdue"')[1].split('id="this-week"')[0]
    this_week = html.split('id="this-week"')[1].split("</section>")[0]
    assert requests_made["late"] in overdue and requests_made["soon"] not in overdue
    assert requests_made["soon"] in this_week and requests_made["late"] not in this_week
    assert requests_made["fresh"] not in overdue + this_week
    assert "1 request is past its deadline" in html and "1 request falls due within a week" in html
    assert "Objection" in overdue and "Erasure" in this_week  # rights by name, not by code
    assert "No deposit is waiting for a receipt." in html and "No erasure is blocked by a hold." in html


def test_login_leads_to_the_start_page(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("officer")
    response = client.post("/login", data={**user, "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/officer/")


def test_the_start_page_speaks_bokmal(client, login, requests_made) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    html = client.get("/officer/?lang=nb").get_data(as_text=True)
    for text in ("Oversikt", "1 henvendelse har passert fristen", "Protest", "Finn en henvendelse"):
        assert text in html, text
    for english in ("past its deadline", "Find a request", "Objection", "objection", "Deadline"):
        assert english not in html, english


def _svg(client, path: str) -> ET.Element:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert b"<script" not in response.data  # shown as an image: no script, nothing to load
    return ET.fromstring(response.data)  # noqa: S314 (our own SVG)


def _texts(root: ET.Element) -> str:
    return " ".join(t for el in root.iter() for t in [el.text] if t)


def test_the_charts_are_svg_with_the_rights_and_months_in_words(client, login, requests_made) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    requests = _texts(_svg(client, "/officer/charts/requests.svg?lang=nb"))
    assert "Henvendelser per måned, etter rettighet" in requests
    for right in ("Innsyn", "Sletting", "Protest", "Dataportabilitet"):
        assert right in requests, right
    assert "Retting" not in requests  # a right nobody used stays out of the legend
    month = datetime.now(UTC)
    assert str(month.year) in requests
    answers = _texts(_svg(client, "/officer/charts/answers.svg?lang=en"))
    assert "Days taken (median)" in answers and "Days allowed (median)" in answers
    consents = _texts(_svg(client, "/officer/charts/consents.svg?lang=en"))
    assert "Consents given and withdrawn" in consents


def test_answer_times_give_the_median_days_and_the_late_answers(app, requests_made) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.dsar.service import answer_times, local_date
    from privacy_service.kernel import utcnow

    with app.app_context(), transaction(app.extensions["engine"]) as session:
        rows = answer_times(session, today=local_date(utcnow()))
    answered = [r for r in rows if r.answered]
    assert sum(r.answered for r in answered) == 2 and sum(r.late for r in answered) == 1
    assert len(rows) == 12 and rows[-1].month.day == 1


def test_a_search_by_reference_name_or_address_goes_by_post(client, login, requests_made) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    token = csrf_token(client, "/officer/")

    def found(query: str) -> str:
        response = client.post("/officer/search?lang=en", data={"csrf_token": token, "q": query})
        assert response.status_code == 200
        return response.get_data(as_text=True).split('id="found"')[1].split("</section>")[0]

    by_reference = found(requests_made["soon"].lower())
    assert requests_made["soon"] in by_reference and requests_made["late"] not in by_reference
    by_address = found("OLA.HANSEN@example.no")
    assert requests_made["soon"] in by_address and requests_made["answered_late"] in by_address
    assert requests_made["late"] not in by_address
    by_name = found("nordm")
    assert requests_made["late"] in by_name and requests_made["soon"] not in by_name
    assert "No request matches." in found("100%_")  # wildcards are letters here
    assert client.get("/officer/search").status_code == 405  # never in a URL
    refused = client.post("/officer/search", data={"q": "Kari"})  # no CSRF token
    assert refused.status_code == 400 and "Kari Nordmann" not in refused.get_data(as_text=True)


def test_the_request_log_has_no_personal_data(client, login, requests_made) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    year = datetime.now(UTC).year
    response = client.get(f"/officer/request-log.csv?year={year}&lang=nb")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert "Kari" not in text and "example.no" not in text and "Nordmann" not in text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Referanse", "Rettighet", "Kom inn som"]
    by_ref = {r[0]: r for r in rows[1:]}
    this_year = {k: v for k, v in requests_made.items() if k != "fresh"}
    for name, reference in this_year.items():
        if reference not in by_ref:  # received last year when the test runs in January
            assert datetime.now(UTC).month <= 2, name
    answered = by_ref.get(requests_made["answered"])
    if answered:
        assert (
            answered[1] == "Innsyn" and answered[2] == "Brev" and answered[8] == "12" and answered[9] == "ja"
        )
    late = by_ref.get(requests_made["answered_late"])
    if late:
        assert late[8:] == ["45", "nei"]
    assert client.get("/officer/request-log.csv?year=1700").status_code == 404


def test_open_breaches_show_their_countdown_the_most_urgent_first(client, login, make_breach) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    later = make_breach(title="Later", discovered_at=(now - timedelta(hours=10)).isoformat())
    urgent = make_breach(title="Urgent", discovered_at=(now - timedelta(hours=70, minutes=30)).isoformat())
    login("officer")
    html = client.get("/officer/?lang=nb").get_data(as_text=True)
    section = html.split('id="breaches"')[1].split("</section>")[0]
    assert section.index(urgent["reference"]) < section.index(later["reference"])
    assert "1 time igjen" in section and "61 timer igjen" in section
    assert "Åpent" in section and "open" not in section.replace("Åpent", "")


def test_an_auditor_sees_no_breach_section(client, login, make_breach) -> None:  # type: ignore[no-untyped-def]
    make_breach()
    login("auditor")
    html = client.get("/officer/?lang=en").get_data(as_text=True)
    assert 'id="breaches"' not in html and "AVVIK-" not in html


def _set_review_date(client, make_key, slug: str, day: str) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(make_key("registry:read", "registry:write"))
    record = client.get(f"/api/v1/activities/{slug}", headers=headers).get_json()
    dropped = ("version", "created_at", "updated_at", "updated_by", "rights", "slug")
    body = {**{k: v for k, v in record.items() if k not in dropped}, "review_date": day}
    answer = client.put(f"/api/v1/activities/{slug}", headers={**headers, "If-Match": "*"}, json=body)
    assert answer.status_code == 200, answer.get_json()


def test_activities_past_their_review_date_or_without_one_are_listed(client, login, make_key) -> None:  # type: ignore[no-untyped-def]
    _set_review_date(client, make_key, "support", "2026-01-31")
    _set_review_date(client, make_key, "accounts", "2099-01-31")
    login("auditor")
    html = client.get("/officer/?lang=nb").get_data(as_text=True)
    section = html.split('id="reviews"')[1].split("</section>")[0]
    overdue, unset = section.split("<details>")
    assert "1 behandlingsaktivitet har passert datoen for gjennomgang" in overdue
    assert "/officer/activities/support" in overdue and "31. januar 2026" in overdue
    assert "/officer/activities/accounts" not in section  # reviewed later: neither overdue nor unset
    assert "/officer/activities/applications" in unset and "har ingen dato for gjennomgang" in unset


def test_activities_needing_a_dpia_are_listed_in_words(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    html = client.get("/officer/?lang=nb").get_data(as_text=True)
    section = html.split('id="dpias"')[1].split("</section>")[0]
    assert "/officer/dpias/npr" in section and "/officer/dpias/blaresept" in section  # shipped, not assessed
    because = "Protokollen tilsier en DPIA, og ingen er registrert (Automatiserte avgjørelser (art. 22)"
    assert because in section
    assert "automated_decisions" not in section and "triggers_unassessed" not in section
    login("auditor")
    read_only = client.get("/officer/?lang=en").get_data(as_text=True).split('id="dpias"')[1]
    assert "/officer/dpias/npr" not in read_only.split("</section>")[0]  # no form an auditor may not open


def test_one_nav_link_leads_to_every_register_in_bokmal(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    start = client.get("/officer/?lang=nb").get_data(as_text=True)
    assert 'href="/officer/registers"' in start and 'href="/officer/lias/"' not in start.split("<main")[0]
    page = client.get("/officer/registers?lang=nb").get_data(as_text=True)
    for link in ("/officer/breaches/", "/officer/dpias/", "/officer/lias/", "/officer/transfers/"):
        assert f'href="{link}"' in page, link
    assert "/officer/processor-records/" in page and "Registre" in page and "Art. 33" not in page
    login("auditor")
    assert "/officer/breaches/" not in client.get("/officer/registers?lang=en").get_data(as_text=True)
