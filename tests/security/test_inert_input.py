"""Hostile text stays text: markup is shown, never run, in pages and PDFs; injection attempts change nothing.

ReportLab's Paragraph reads a markup of its own (<font>, <a href>, <img src>), so a free-text field that
reached a PDF unescaped could restyle a letter, add links, or pull a file from the server into it.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select
from tests_support import bearer, complete, csrf_token, minimal_activity, settle

from privacy_service.audit import AuditEvent
from privacy_service.ropa.models import ProcessingActivity

MARKUP = (
    '<script>alert("x")</script><img src=x onerror=alert(1)>'
    '<b>bold</b><font color="red">red</font><a href="javascript:alert(1)">link</a>'
    '<img src="/etc/passwd"/>{{7*7}}'
)


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def hostile(client, make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    key = bearer(make_key("registry:read", "registry:write"))
    body = minimal_activity(
        slug="hostile",
        name={"nb": MARKUP, "en": MARKUP},
        description={"nb": MARKUP, "en": MARKUP},
        purposes=[{"nb": MARKUP, "en": MARKUP}],
    )
    assert client.post("/api/v1/activities", json=body, headers=key).status_code == 201
    return key


def test_markup_in_the_registry_is_shown_as_text_on_pages(client, login, hostile) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    for path in ("/privacy/helsedata?lang=en", "/officer/activities/hostile", "/officer/activities"):
        html = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(" in html, path
        assert "<script>alert(" not in html and "<img src=x" not in html and "<b>bold</b>" not in html, path
        assert "{{7*7}}" in html and ">49<" not in html, path  # no template evaluation either


def test_markup_in_the_registry_is_printed_as_text_in_pdfs(client, hostile) -> None:  # type: ignore[no-untyped-def]
    notice = client.get("/privacy/helsedata.pdf?lang=en")
    ropa = client.get("/api/v1/ropa?format=pdf", headers=hostile)
    for response in (notice, ropa):
        assert response.status_code == 200
        text = _pdf_text(response.data).replace("\n", "")
        # the tags come out as the characters typed: not bold, not a link, no image pulled in
        assert '<b>bold</b><font color="red">red</font>' in text
        assert '<a href="javascript:alert(1)">link</a>' in text


def test_markup_in_a_subjects_data_and_words_is_inert_in_the_letter_and_the_officer_page(
    app: Flask, client, login, make_key
) -> None:  # type: ignore[no-untyped-def]
    import sqlite3
    from datetime import date
    from pathlib import Path

    from privacy_service import notify
    from privacy_service.datamap.demo import create_demo_data

    instance = Path(app.config["PRIVACY_INSTANCE_PATH"])
    create_demo_data(instance_path=instance, seed=7, people=10, anchor=date.today())
    # what a portal stored from a hostile person's own input: Kari's support enquiry
    with sqlite3.connect(instance / "demo" / "helsedata_support.db") as conn:
        changed = conn.execute(
            "UPDATE support_enquiries SET body = ? WHERE email = ?", (MARKUP, "kari.nordmann@example.no")
        ).rowcount
    assert changed >= 1
    key = bearer(make_key("requests:write", "requests:write:verified", "requests:manage", "requests:read"))
    created = client.post(
        "/api/v1/requests",
        json={
            "type": "access",
            "subject": {"email": "kari.nordmann@example.no", "name": MARKUP[:200]},
            "details": {"text": MARKUP},
            "activities": ["support"],
            "verified_by": "ID-porten",
        },
        headers=key,
    )
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))  # the plan
    settle(client, reference, key)
    approved = client.post(f"/api/v1/requests/{reference}/approve", json={}, headers=key)
    assert approved.status_code == 200, approved.get_json()
    assert complete(client, reference, key).status_code == 200
    letter = client.get(f"/api/v1/requests/{reference}/package?part=letter", headers=key)
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    text = _pdf_text(letter.data).replace("\n", "")
    assert "<b>bold</b>" in text and 'href="javascript:alert(1)"' in text
    login("officer")
    html = client.get(f"/officer/requests/{reference}").get_data(as_text=True)
    assert "&lt;script&gt;" in html and "<script>alert(" not in html


INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE processing_activity; --",
    '" OR ""="',
    "%' UNION SELECT username, password_hash FROM user_account --",
    "../../../../etc/passwd",
    "{{7*7}}${7*7}",
    "<script>alert(1)</script>",
    "admin'--",
    "\\'; SELECT pg_sleep(5); --",
    "\u202egnp.exe",
]


def _string_parameters(app: Flask) -> list[tuple[str, str, str, str]]:
    """(method, path template, location, name) of every string parameter of every GET operation."""
    spec = app.test_client().get("/api/openapi.json").get_json()
    found = []
    for path, operations in spec["paths"].items():
        common = operations.get("parameters", [])
        for method, operation in operations.items():
            if method != "get":
                continue
            for param in common + operation.get("parameters", []):
                schema = param.get("schema", {})
                if param["in"] in ("query", "path") and schema.get("type", "string") == "string":
                    found.append((method.upper(), path, param["in"], param["name"]))
    return found


def _counts(app: Flask) -> tuple[int, int]:
    from sqlmodel import Session

    with app.app_context(), Session(app.extensions["engine"]) as session:
        return (
            session.scalar(select(func.count()).select_from(ProcessingActivity)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def test_injection_attempts_in_every_string_parameter_are_data_not_code(app: Flask, client, make_key) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.security.service import SCOPES

    key = bearer(make_key(*SCOPES))
    parameters = _string_parameters(app)
    assert len(parameters) >= 25
    defaults = {"slug": "accounts", "subject": "someone@example.org", "purpose": "surveys", "reference": "x"}
    before = _counts(app)
    failures: list[str] = []
    for method, template, location, name in parameters:
        for payload in INJECTIONS:
            path = template
            for other, value in defaults.items():
                path = path.replace("{" + other + "}", value)
            path = path.replace("{receipt_id}", "x")
            query: dict[str, Any] = {}
            if location == "path":
                path = template.replace("{" + name + "}", payload.replace("/", "%2F"))
                for other, value in defaults.items():
                    path = path.replace("{" + other + "}", value)
                path = path.replace("{receipt_id}", "x")
            else:
                query[name] = payload
            response = client.open(path, method=method, query_string=query, headers=key)
            if response.status_code >= 500:
                failures.append(f"{method} {template} {name}={payload!r}: {response.status_code}")
            body = response.get_data(as_text=True)
            if "$argon2id$" in body or "root:x:0:0" in body:
                failures.append(f"{method} {template} {name}={payload!r} leaked")
    assert failures == []
    assert _counts(app) == before  # reads only: nothing written, nothing dropped
    verify = client.get("/api/v1/audit/verify", headers=key).get_json()
    assert verify["ok"] is True


def test_injection_attempts_in_the_public_form_and_the_login_change_nothing(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    before = _counts(app)
    token = csrf_token(client)
    for payload in INJECTIONS:
        login = client.post("/login", data={"username": payload, "password": payload, "csrf_token": token})
        assert login.status_code in (400, 401, 429)
        form = client.get("/requests/new?lang=en")
        assert form.status_code == 200
        search = client.get("/privacy/helsedata", query_string={"lang": payload})
        assert search.status_code in (200, 400)
    assert _counts(app)[0] == before[0]
