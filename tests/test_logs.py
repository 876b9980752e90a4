"""Access logs carry no subject ids, e-mail addresses, identity numbers or link tokens."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from privacy_service.logs import RedactingLogger, redact


@pytest.mark.parametrize(
    ("raw", "logged"),
    [
        ("/api/v1/consents/kari.nordmann@example.no/surveys", "/api/v1/consents/[subject]/surveys"),
        ("/api/v1/consents/portal-user-17/surveys/history", "/api/v1/consents/[subject]/surveys/history"),
        ("/api/v1/subjects/kari%40example.no/processing", "/api/v1/subjects/[subject]/processing"),
        ("/consent/withdraw/eyJzIjoxfQ.abc.def", "/consent/withdraw/[token]"),
        ("/officer/x?email=kari@example.no&n=15838512671", "/officer/x?email=[email]&n=[id]"),
        ("/api/v1/activities?per_page=100", "/api/v1/activities?per_page=100"),
    ],
)
def test_paths_are_redacted(raw: str, logged: str) -> None:
    assert redact(raw) == logged


def test_the_gunicorn_access_line_is_redacted() -> None:
    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/v1/consents/kari.nordmann@example.no/surveys?x=1",
        "PATH_INFO": "/api/v1/consents/kari.nordmann@example.no/surveys",
        "QUERY_STRING": "x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": "https://portal.example/consent/withdraw/abc.def.ghi",
        "HTTP_AUTHORIZATION": "Bearer psk_secret",
        "HTTP_COOKIE": "privacy_session=abc",
    }
    req = SimpleNamespace(headers=[("AUTHORIZATION", "Bearer psk_secret")])
    resp = SimpleNamespace(status="200 OK", headers=[], sent=10)
    atoms = logger.atoms(resp, req, environ, timedelta(milliseconds=3))
    line = " ".join(str(v) for v in atoms.values())
    assert "kari" not in line and "psk_secret" not in line and "abc.def" not in line
    assert "privacy_session=abc" not in line
    assert atoms["r"] == "GET /api/v1/consents/[subject]/surveys?x=1 HTTP/1.1"
