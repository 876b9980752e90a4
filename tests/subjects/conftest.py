"""Subject login against the real test provider (tests/oidc_support.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from oidc_support import OpenIdProvider, oidc_provider  # noqa: F401  (the provider, one per worker)
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from privacy_service.subjects.models import SubjectSession

KARI = "15838512671"


@pytest.fixture
def app(make_app: Callable[..., Flask], oidc_provider: OpenIdProvider) -> Flask:  # noqa: F811
    """An app whose subjects log in through the test provider."""
    return make_app(**oidc_provider.app_config())


@pytest.fixture
def log_in(client: FlaskClient, oidc_provider: OpenIdProvider) -> Callable[..., TestResponse]:  # noqa: F811
    """Log in through the provider and return the app's answer on the way back (not followed)."""

    def do(
        pid: str = KARI, acr: str = "idporten-loa-substantial", tamper: dict[str, Any] | None = None
    ) -> Any:
        start = client.get("/me/login?lang=en")
        assert start.status_code == 302, start.get_data(as_text=True)
        if tamper:
            oidc_provider.tamper(**tamper)
        back = oidc_provider.log_in(start.headers["Location"], pid=pid, acr=acr)
        return client.get("/" + back.split("/", 3)[3])

    return do


def session_rows(app: Flask) -> int:
    """Count the subject sessions in the app's database."""
    from sqlmodel import Session

    with Session(app.extensions["engine"]) as session:
        return session.scalar(select(func.count()).select_from(SubjectSession)) or 0
