"""Factories for the breach register's tests: a breach through the API, counts of what was written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlmodel import Session
from tests_support import bearer

from privacy_service.audit import AuditEvent
from privacy_service.notify import OutboxMessage
from privacy_service.registers.models import Breach


@pytest.fixture
def headers(make_key: Callable[..., str]) -> dict[str, str]:
    return bearer(make_key("breaches:manage"))


@pytest.fixture
def make_breach(client: FlaskClient, headers: dict[str, str]) -> Callable[..., dict[str, Any]]:
    """make_breach(discovered_at=..., activities=[...]) -> the breach as the API answers it."""

    def make(**overrides: Any) -> dict[str, Any]:
        body = {
            "title": "Søknader sendt til feil mottaker",
            "description": "En e-post med søknadsvedlegg ble sendt til feil mottaker.",
            "discovered_at": "2026-11-02T09:00:00+01:00",
            "occurred_at": "2026-11-01T15:00:00+01:00",
            "data_categories": ["name", "email"],
            "subject_categories": ["applicants"],
            "approx_subjects": 120,
            "approx_records": 340,
            "activities": ["applications"],
            "consequences": "Loss of confidentiality about research projects.",
            "measures": "The recipient deleted the mail; mail routing changed.",
            **overrides,
        }
        resp = client.post("/api/v1/breaches", json=body, headers=headers)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    return make


@pytest.fixture
def counts(app: Flask) -> Callable[[], tuple[int, int, int]]:
    """Rows in the breach table, the audit trail and the outbox: the same before and after a refused step."""

    def count() -> tuple[int, int, int]:
        with Session(app.extensions["engine"]) as session:
            return tuple(  # type: ignore[return-value]
                session.scalar(select(func.count()).select_from(t)) or 0
                for t in (Breach, AuditEvent, OutboxMessage)
            )

    return count
