"""Records of processing carried out as a processor (GDPR Art. 30(2)) through the API and the officer pages on
both engines: validation that writes nothing, the protocol PDF in bokmål and English, the scopes."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from language import foreign_lines, one_language_values
from pdf_words import pdf_lines, words_broken_in
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlmodel import Session
from tests_support import bearer, csrf_token

from privacy_service.audit import Actor, AuditEvent
from privacy_service.policies import load_policies
from privacy_service.registers.processing_models import ProcessorRecord

URL = "/api/v1/processor-records"
POLICIES = Path(__file__).resolve().parents[2] / "policies"


def _body(**overrides: Any) -> dict[str, Any]:
    return {
        "processor": "helsedir",
        "controllers": ["fhi"],
        "agreement_ref": "DBA 2024/123",
        "agreement_date": "2024-03-01",
        "categories": [
            {
                "controller": "fhi",
                "description": {"nb": "Drift av søknadsløsningen", "en": "Running the application service"},
            }
        ],
        "sub_processors": [{"organisation": "nhn", "agreement_ref": "DBA NHN 2023/7"}],
        "transfers": [{"country": "USA", "recipient": "Support supplier", "safeguard": "scc"}],
        "security_measures": {"nb": "Tilgangsstyring og kryptering", "en": "Access control and encryption"},
        "dpo": {"name": "Personvernombudet", "email": "personvernombud@helsedirektoratet.no"},
        "started_on": "2024-03-01",
        **overrides,
    }


@pytest.fixture
def writer(make_key: Callable[..., str]) -> dict[str, str]:
    return bearer(make_key("registry:read", "registry:write"))


@pytest.fixture
def counts(app: Flask) -> Callable[[], tuple[int, int]]:
    def count() -> tuple[int, int]:
        with Session(app.extensions["engine"]) as session:
            return tuple(  # type: ignore[return-value]
                session.scalar(select(func.count()).select_from(t)) or 0
                for t in (ProcessorRecord, AuditEvent)
            )

    return count


def test_a_record_is_created_listed_and_replaced_with_one_audit_event_per_write(
    client: FlaskClient, writer: dict[str, str], counts: Callable[[], tuple[int, int]]
) -> None:
    records, events = counts()
    created = client.post(URL, json=_body(), headers=writer)
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    assert record["controllers"] == ["fhi"] and record["status"] == "active"
    assert record["transfers"][0]["safeguard"] == "scc"
    assert counts() == (records + 1, events + 1)
    listed = client.get(URL, headers=writer).get_json()
    assert record["id"] in [r["id"] for r in listed]
    ended = client.put(
        f"{URL}/{record['id']}", json=_body(status="ended", ended_on="2026-01-31"), headers=writer
    )
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["status"] == "ended" and ended.get_json()["ended_on"] == "2026-01-31"
    assert counts() == (records + 1, events + 2)
    assert record["id"] not in [
        r["id"] for r in client.get(f"{URL}?status=active", headers=writer).get_json()
    ]
    assert client.get(f"{URL}/{record['id']}", headers=writer).get_json()["status"] == "ended"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"controllers": ["nobody-known"]}, "controllers", id="unknown-controller-Art30(2)(a)"),
        pytest.param({"processor": "nobody-known"}, "processor", id="unknown-processor"),
        pytest.param(
            {"sub_processors": [{"organisation": "nobody-known", "agreement_ref": "x"}]},
            "sub_processors",
            id="unknown-sub-processor-Art28(2)",
        ),
        pytest.param({"controllers": []}, "controllers", id="no-controller-Art30(2)(a)"),
        pytest.param({"categories": []}, "categories", id="no-categories-Art30(2)(b)"),
        pytest.param(
            {"controllers": ["fhi", "kreftregisteret"]}, "categories", id="controller-without-category"
        ),
        pytest.param(
            {"transfers": [{"country": "USA", "recipient": "x", "safeguard": "hope"}]},
            "transfers",
            id="unknown-chapter-V-tool",
        ),
        pytest.param(
            {"security_measures": {"nb": "Kryptering"}}, "security_measures", id="measures-in-nb-only"
        ),
        pytest.param({"status": "ended"}, "ended_on", id="ended-without-date"),
    ],
)
def test_a_record_that_does_not_fit_is_refused_with_a_422_and_nothing_written(
    client: FlaskClient,
    writer: dict[str, str],
    counts: Callable[[], tuple[int, int]],
    overrides: dict[str, Any],
    field: str,
) -> None:
    before = counts()
    resp = client.post(URL, json=_body(**overrides), headers=writer)
    assert resp.status_code == 422, resp.get_json()
    body = resp.get_json()
    assert field in str(body)
    assert counts() == before


def test_an_update_naming_an_unknown_organisation_changes_nothing(
    client: FlaskClient, writer: dict[str, str], counts: Callable[[], tuple[int, int]]
) -> None:
    record = client.post(URL, json=_body(), headers=writer).get_json()
    before = counts()
    ghost = [{"controller": "ghost", "description": {"nb": "Drift", "en": "Running"}}]
    body = _body(controllers=["ghost"], categories=ghost)
    resp = client.put(f"{URL}/{record['id']}", json=body, headers=writer)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == "unknown_organisation"
    assert counts() == before
    assert client.get(f"{URL}/{record['id']}", headers=writer).get_json()["controllers"] == ["fhi"]
    assert client.get(f"{URL}/999999", headers=writer).status_code == 404


def test_a_read_key_cannot_write(
    client: FlaskClient, make_key: Callable[..., str], writer: dict[str, str]
) -> None:
    reader = bearer(make_key("registry:read"))
    assert client.get(URL, headers=reader).status_code == 200
    assert client.post(URL, json=_body(), headers=reader).status_code == 403
    record = client.post(URL, json=_body(), headers=writer).get_json()
    assert client.put(f"{URL}/{record['id']}", json=_body(), headers=reader).status_code == 403
    assert client.get(URL, headers=bearer(make_key("consent:read"))).status_code == 403


def _pdf_text(data: bytes) -> str:
    return " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        pytest.param(
            "nb",
            ["Protokoll over behandlingsaktiviteter utført som databehandler", "Drift av søknadsløsningen",
             "Folkehelseinstituttet", "Underdatabehandlere", "Tilgangsstyring og kryptering", "DBA 2024/123"],
            id="nb",
        ),
        pytest.param(
            "en",
            ["Record of processing activities carried out as a processor", "Running the application service",
             "Norwegian Institute of Public Health", "Sub-processors", "standard contractual clauses"],
            id="en",
        ),
    ],
)  # fmt: skip
def test_the_protocol_pdf_reads_back_in_the_language(
    client: FlaskClient, writer: dict[str, str], lang: str, expected: list[str]
) -> None:
    client.post(URL, json=_body(), headers=writer)
    resp = client.get(f"{URL}/protocol.pdf?lang={lang}&processor=helsedir", headers=writer)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert words_broken_in(resp.data) == []
    assert foreign_lines(pdf_lines(resp.data), lang, one_language_values()) == []
    text = re.sub(r"\s+", " ", _pdf_text(resp.data))
    for sentence in expected:
        assert sentence in text, sentence


# English sentences of the processor pages' templates and forms: none may be left on a bokmål page
ENGLISH = [
    "Processor records", "Record a processing as processor", "Save the processor record", "Controllers",
    "Data processing agreement", "Categories of processing", "Sub-processors", "Transfers to third countries",
    "Security measures", "Active", "Ended", "No processor records", "Change the processor record",
    "data protection officer", "Started",
]  # fmt: skip


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_the_officer_pages_render_in_bokmal_and_the_form_records_and_changes(
    client: FlaskClient, login: Callable[[str], dict[str, str]], writer: dict[str, str]
) -> None:
    login("officer")
    page = client.get("/officer/processor-records/?lang=nb")
    assert page.status_code == 200
    text = _visible(page.get_data(as_text=True))
    assert "Databehandlerprotokoll" in text
    for english in ENGLISH:
        assert english not in text, english
    form = {
        "csrf_token": csrf_token(client, "/officer/processor-records/"),
        "processor": "helsedir", "controllers": ["fhi"], "agreement_ref": "DBA 1",
        "category_nb": "Drift", "category_en": "Running", "sub_processors": "nhn: DBA NHN",
        "transfers": "", "security_nb": "Kryptering", "security_en": "Encryption",
        "dpo_name": "", "dpo_email": "", "status": "active",
    }  # fmt: skip
    done = client.post("/officer/processor-records/", data=form)
    assert done.status_code == 302, _visible(done.get_data(as_text=True))
    detail = client.get(done.headers["Location"])
    assert detail.status_code == 200
    text = _visible(detail.get_data(as_text=True))
    assert "Drift" in text and "Norsk helsenett" in text
    for english in ENGLISH:
        assert english not in text, english
    refused = client.post(
        "/officer/processor-records/", data={**form, "controllers": ["fhi", "helsetilsynet"]}
    )
    assert refused.status_code == 422
    assert "helsetilsynet" in refused.get_data(as_text=True)
    pdf = client.get("/officer/processor-records/protocol.pdf?lang=nb")
    assert pdf.status_code == 200 and "Protokoll" in _pdf_text(pdf.data)


def test_the_shipped_records_say_what_the_seeds_say_and_load_once(
    app: Flask, client: FlaskClient, writer: dict[str, str], counts: Callable[[], tuple[int, int]]
) -> None:
    shipped = {r["key"]: r for r in client.get(URL, headers=writer).get_json() if r["key"]}
    assert shipped["hpr-dyrehelsepersonell"]["controllers"] == ["mattilsynet"]
    assert shipped["hpr-dyrehelsepersonell"]["processor"] == "helsedir"
    helsedata = shipped["helsedata-saksbehandling"]
    assert helsedata["processor"] == "ehelse" and helsedata["sub_processors"][0]["organisation"] == "nhn"
    before = counts()
    with Session(app.extensions["engine"]) as session, session.begin():
        report = load_policies(
            session,
            root=POLICIES,
            instance_path=Path(app.config["PRIVACY_INSTANCE_PATH"]),
            actor=Actor("cli", "t"),
        )
    assert report.counts["processor records"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert counts() == before


@pytest.mark.parametrize(("lang", "words"), [("nb", "ikke oppgitt"), ("en", "not stated")])
def test_an_agreement_the_sources_do_not_name_is_said_to_be_not_stated_in_words(
    client: FlaskClient, writer: dict[str, str], lang: str, words: str
) -> None:
    body = _body()
    del body["agreement_ref"]
    created = client.post(URL, json=body, headers=writer)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["agreement_ref"] is None
    resp = client.get(f"{URL}/protocol.pdf?lang={lang}&processor=helsedir", headers=writer)
    text = re.sub(r"\s+", " ", _pdf_text(resp.data))
    assert words in text
    assert foreign_lines(pdf_lines(resp.data), lang) == []
