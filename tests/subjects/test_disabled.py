"""Without an issuer there is no subject login: no button, and /me answers 404; e-mail verification stays."""

from __future__ import annotations

import pytest


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    return make_app()


def test_no_issuer_means_no_login_button(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/?lang=en", "/requests/new?lang=en"):
        response = client.get(path)
        assert response.status_code == 200
        assert "/me/login" not in response.get_data(
            as_text=True
        ) and "data-subject-login" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/me/login", "/me", "/me/callback?state=x&code=y"])
def test_no_issuer_means_the_subject_pages_answer_404(client, path: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get(path).status_code == 404
