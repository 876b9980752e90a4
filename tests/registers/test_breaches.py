"""The breach register through its API on both engines: the 72 hours, the order of the steps, refusals that
write nothing, the subjects found through the data map, the PDF for Datatilsynet, the scope."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from language import foreign_lines
from pdf_words import pdf_lines, words_broken_in
from pypdf import PdfReader
from sqlalchemy import create_engine, select, text
from sqlmodel import Session
from tests_support import bearer

from privacy_service.audit import AuditEvent
from privacy_service.notify import OutboxMessage
from privacy_service.registers.breaches import deadline_for

OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize(
    ("discovered", "deadline"),
    [
        pytest.param(datetime(2026, 3, 27, 12), datetime(2026, 3, 30, 13), id="spring-forward-Art33(1)"),
        pytest.param(datetime(2026, 10, 23, 12), datetime(2026, 10, 26, 11), id="fall-back-Art33(1)"),
        pytest.param(datetime(2026, 6, 1, 12), datetime(2026, 6, 4, 12), id="no-change"),
    ],
)
def test_the_deadline_is_72_real_hours_across_a_daylight_saving_change(
    discovered: datetime, deadline: datetime
) -> None:
    found = deadline_for(discovered.replace(tzinfo=OSLO))
    assert found.astimezone(OSLO).replace(tzinfo=None) == deadline
    assert (found - discovered.replace(tzinfo=OSLO)).total_seconds() == 72 * 3600


@pytest.mark.parametrize(
    ("discovered", "deadline"),
    [
        ("2026-03-27T12:00:00+01:00", "2026-03-30T11:00:00+00:00"),
        ("2026-10-23T12:00:00+02:00", "2026-10-26T10:00:00+00:00"),
    ],
    ids=["march", "october"],
)
def test_the_api_stores_the_deadline_in_utc_on_both_engines(
    make_breach: Callable[..., dict[str, Any]], discovered: str, deadline: str
) -> None:
    breach = make_breach(discovered_at=discovered, occurred_at=None)
    assert datetime.fromisoformat(breach["notify_authority_by"]) == datetime.fromisoformat(deadline)
    assert breach["reference"] == "AVVIK-2026-0001"
    assert breach["status"] == "open"


def test_references_are_numbered_per_year(make_breach: Callable[..., dict[str, Any]]) -> None:
    refs = [
        make_breach(discovered_at=at, occurred_at=None)["reference"]
        for at in ("2025-12-31T23:30:00+01:00", "2026-01-01T00:30:00+01:00", "2026-02-01T10:00:00+01:00")
    ]
    assert refs == ["AVVIK-2025-0001", "AVVIK-2026-0001", "AVVIK-2026-0002"]


@pytest.mark.parametrize(
    ("change", "status", "code", "says"),
    [
        ({"discovered_at": "2099-01-01T10:00:00+01:00"}, 422, "discovered_in_future", "future"),
        ({"activities": ["applications", "no-such-activity"]}, 422, "unknown_activity", "no-such-activity"),
        ({"approx_records": 2.5e-42}, 422, "validation_error", "approx_records"),
        ({"approx_subjects": 12.5}, 422, "validation_error", "approx_subjects"),
    ],
    ids=["discovered-in-the-future", "unknown-activity", "a-fraction-of-a-record", "half-a-person"],
)
def test_bad_breaches_are_refused_clearly_and_nothing_is_written(
    client: FlaskClient,
    headers: dict[str, str],
    counts: Callable[[], tuple[int, int, int]],
    change: dict[str, Any],
    status: int,
    code: str,
    says: str,
) -> None:
    body = {
        "title": "Tapt minnepinne",
        "description": "A memory stick was lost.",
        "discovered_at": "2026-11-02T09:00:00+01:00",
        **change,
    }
    before = counts()
    resp = client.post("/api/v1/breaches", json=body, headers=headers)
    assert resp.status_code == status
    error = resp.get_json()["error"]
    assert error["code"] == code and says in (error["message"] + str(error["fields"]))
    assert counts() == before


def test_notifying_before_the_assessment_is_a_conflict_and_writes_nothing(
    client: FlaskClient,
    headers: dict[str, str],
    make_breach: Callable[..., dict[str, Any]],
    counts: Callable[[], tuple[int, int, int]],
) -> None:
    ref = make_breach()["reference"]
    before = counts()
    resp = client.post(
        f"/api/v1/breaches/{ref}/notify-authority",
        headers=headers,
        json={"notified_at": "2026-11-03T09:00:00+01:00"},
    )
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "not_assessed"
    resp = client.post(
        f"/api/v1/breaches/{ref}/notify-subjects",
        headers=headers,
        json={"texts": {"nb": "Hei, det skjedde et brudd.", "en": "Hello, a breach happened."}},
    )
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "not_assessed"
    assert counts() == before


def _assess(client: FlaskClient, headers: dict[str, str], ref: str, level: str = "risk") -> None:
    resp = client.post(
        f"/api/v1/breaches/{ref}/assess",
        headers=headers,
        json={"risk_level": level, "reasons": "Names and e-mail of applicants were exposed."},
    )
    assert resp.status_code == 200, resp.get_json()


def test_a_late_notification_needs_the_reasons_for_the_delay(
    client: FlaskClient,
    headers: dict[str, str],
    make_breach: Callable[..., dict[str, Any]],
    counts: Callable[[], tuple[int, int, int]],
) -> None:
    ref = make_breach(discovered_at="2026-11-02T09:00:00+01:00")["reference"]
    _assess(client, headers, ref)
    late = {"notified_at": "2026-11-05T09:01:00+01:00", "authority_reference": "DT-26/01234"}
    before = counts()
    resp = client.post(f"/api/v1/breaches/{ref}/notify-authority", headers=headers, json=late)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == "delay_reasons_required"
    assert "72 hours" in resp.get_json()["error"]["message"]
    assert counts() == before
    resp = client.post(
        f"/api/v1/breaches/{ref}/notify-authority",
        headers=headers,
        json={**late, "delay_reasons": "The extent was unclear until the supplier answered."},
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "notified"
    assert body["authority_notification"]["delay_reasons"].startswith("The extent")
    assert body["authority_notification"]["authority_reference"] == "DT-26/01234"


def test_a_notification_in_time_needs_no_reasons_and_closing_twice_is_a_conflict(
    client: FlaskClient, headers: dict[str, str], make_breach: Callable[..., dict[str, Any]]
) -> None:
    ref = make_breach(discovered_at="2026-11-02T09:00:00+01:00")["reference"]
    _assess(client, headers, ref)
    resp = client.post(
        f"/api/v1/breaches/{ref}/notify-authority",
        headers=headers,
        json={"notified_at": "2026-11-05T09:00:00+01:00"},
    )
    assert resp.status_code == 200, resp.get_json()
    assert client.post(f"/api/v1/breaches/{ref}/close", headers=headers, json={}).status_code == 200
    resp = client.post(f"/api/v1/breaches/{ref}/close", headers=headers, json={})
    assert resp.status_code == 409
    assert client.get(f"/api/v1/breaches/{ref}", headers=headers).get_json()["status"] == "closed"


def _addresses(instance: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{instance / 'demo' / 'helsedata_portal.db'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT email FROM accounts UNION ALL SELECT email FROM applications")
            ).scalars()
            return {r.casefold() for r in rows if r}
    finally:
        engine.dispose()


def test_the_subjects_are_found_through_the_data_map_and_each_mailed_once(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    demo: Path,
    make_breach: Callable[..., dict[str, Any]],
) -> None:
    # the same person in both tables, once written in capitals: still one mail
    engine = create_engine(f"sqlite:///{demo / 'demo' / 'helsedata_portal.db'}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE applications SET email = (SELECT UPPER(email) FROM accounts LIMIT 1) "
                "WHERE id = (SELECT MIN(id) FROM applications)"
            )
        )
    engine.dispose()
    expected = _addresses(demo)
    ref = make_breach(activities=["accounts", "applications"])["reference"]
    _assess(client, headers, ref, "high_risk")
    texts = {
        "nb": "Vi har hatt et brudd på personopplysningssikkerheten.",
        "en": "We have had a data breach.",
    }
    resp = client.post(f"/api/v1/breaches/{ref}/notify-subjects", headers=headers, json={"texts": texts})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["subject_notification"]["sent_count"] == len(expected) > 1
    with Session(app.extensions["engine"]) as session:
        mails = [
            m.payload
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.event == "breach.subjects"))
        ]
    to = [m["to"].casefold() for m in mails]
    assert sorted(to) == sorted(expected)  # every address once
    body = mails[0]["text"]
    assert body.index(texts["nb"]) < body.index(texts["en"]) and ref in body and ref in mails[0]["subject"]
    assert "kontakt Personvernombudet i Helsedirektoratet, personvernombud@helsedirektoratet.no" in body
    assert "contact Personvernombudet i Helsedirektoratet, personvernombud@helsedirektoratet.no" in body
    assert (
        "Personal data breach" in mails[0]["subject"]
        and "personopplysningssikkerheten" in mails[0]["subject"]
    )
    with Session(app.extensions["engine"]) as session:
        events = [
            str(e.details) for e in session.scalars(select(AuditEvent).where(AuditEvent.object_id == ref))
        ]
    assert f"'sent': {len(expected)}" in " ".join(events)
    assert not any(m["to"] in e for m in mails for e in events)  # the count, never the addresses
    again = client.post(f"/api/v1/breaches/{ref}/notify-subjects", headers=headers, json={"texts": texts})
    assert again.status_code == 409


def test_not_notifying_the_subjects_needs_an_art_34_3_ground_and_a_reason(
    client: FlaskClient, headers: dict[str, str], make_breach: Callable[..., dict[str, Any]]
) -> None:
    ref = make_breach()["reference"]
    _assess(client, headers, ref, "high_risk")
    url = f"/api/v1/breaches/{ref}/notify-subjects"
    assert client.post(url, headers=headers, json={"not_required": "34(3)(a)"}).status_code == 422
    resp = client.post(
        url,
        headers=headers,
        json={"not_required": "34(3)(a)", "not_required_reason": "The laptop was encrypted."},
    )
    assert resp.status_code == 200
    assert resp.get_json()["subject_notification"]["not_required"] == "34(3)(a)"


@pytest.mark.parametrize(
    ("lang", "items"),
    [
        (
            "nb",
            [
                "(a) Bruddets art",
                "Omtrentlig antall registrerte",
                "120",
                "340",
                "(b) Personvernombud",
                "personvernombud@helsedirektoratet.no",
                "(c) Sannsynlige konsekvenser",
                "(d) Tiltak",
                "Oppdaget",
                "02.11.2026 09:00",
                "Frist for melding",
                "05.11.2026 09:00",
                "Grunner til forsinkelsen",
                "Leverandøren svarte sent",
            ],
        ),
        (
            "en",
            [
                "(a) Nature of the breach",
                "Approximate number of data subjects",
                "120",
                "340",
                "(b) Data protection officer",
                "personvernombud@helsedirektoratet.no",
                "(c) Likely consequences",
                "(d) Measures taken or proposed",
                "Discovered",
                "2026-11-02 09:00",
                "Deadline for notification",
                "2026-11-05 09:00",
                "Reasons for the delay",
                "Leverandøren svarte sent",
            ],
        ),
    ],
)
def test_the_notification_pdf_holds_every_art_33_3_item(
    client: FlaskClient,
    headers: dict[str, str],
    make_breach: Callable[..., dict[str, Any]],
    lang: str,
    items: list[str],
) -> None:
    ref = make_breach()["reference"]
    _assess(client, headers, ref)
    client.post(
        f"/api/v1/breaches/{ref}/notify-authority",
        headers=headers,
        json={"notified_at": "2026-11-06T09:00:00+01:00", "delay_reasons": "Leverandøren svarte sent."},
    )
    resp = client.get(f"/api/v1/breaches/{ref}/notification.pdf?lang={lang}", headers=headers)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert words_broken_in(resp.data, "Leverandøren", "confidentiality") == []
    data = [
        "Søknader sendt til feil mottaker",
        "En e-post med søknadsvedlegg ble sendt til feil mottaker.",
        "Loss of confidentiality about research projects.",
        "The recipient deleted the mail; mail routing changed.",
        "Names and e-mail of applicants were exposed.",
        "Leverandøren svarte sent.",
    ]
    assert foreign_lines(pdf_lines(resp.data), lang, data) == []
    content = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages)
    content = " ".join(content.split())
    for item in [*items, ref, "Loss of confidentiality", "mail routing changed"]:
        assert item in content, item
    names = {"nb": "Navn, E-postadresse", "en": "Name, E-mail address"}[lang]  # the record's words, not keys
    assert names in content and "(applications)" not in content


def test_a_key_without_breaches_manage_is_refused(
    client: FlaskClient, make_key: Callable[..., str], make_breach: Callable[..., dict[str, Any]]
) -> None:
    ref = make_breach()["reference"]
    other = bearer(make_key("registry:read", "registry:write", "retention:run", "requests:manage"))
    assert client.get("/api/v1/breaches", headers=other).status_code == 403
    assert client.post(f"/api/v1/breaches/{ref}/close", headers=other, json={}).status_code == 403
    assert client.get(f"/api/v1/breaches/{ref}/notification.pdf", headers=other).status_code == 403


def test_the_list_reads_back_what_was_recorded(
    client: FlaskClient, headers: dict[str, str], make_breach: Callable[..., dict[str, Any]]
) -> None:
    made = make_breach()
    listed = client.get("/api/v1/breaches", headers=headers).get_json()
    assert [b["reference"] for b in listed] == [made["reference"]]
    assert listed[0]["approx_subjects"] == 120 and listed[0]["activities"] == ["applications"]
    assert datetime.fromisoformat(listed[0]["discovered_at"]) == datetime(2026, 11, 2, 8, tzinfo=UTC)
