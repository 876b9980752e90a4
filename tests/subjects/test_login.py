"""A data subject logs in with OpenID Connect through a real provider and sees Min side; logout ends it."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from joserfc.jwk import RSAKey
from sqlmodel import Session, select
from tests_support import csrf_token

from privacy_service.audit import AuditEvent
from privacy_service.kernel import utcnow
from privacy_service.subjects.models import SubjectSession

from .conftest import KARI, session_rows


def _events(app, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_the_login_asks_the_provider_with_state_nonce_pkce_and_the_required_level(
    client, oidc_provider
) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/me/login?lang=en")
    assert response.status_code == 302
    url = urlsplit(response.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == oidc_provider.issuer
    assert query["response_type"] == "code" and query["scope"] == "openid"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["acr_values"] == "idporten-loa-substantial"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    assert query["redirect_uri"].endswith("/me/callback")
    assert "privacy_subject_login" in response.headers["Set-Cookie"]


def test_kari_logs_in_and_min_side_shows_her_masked_number_and_level(app, client, log_in) -> None:  # type: ignore[no-untyped-def]
    response = log_in()
    assert response.status_code == 302 and response.headers["Location"].endswith("/me")
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("privacy_subject=") and "HttpOnly" in c for c in cookies)
    assert not any(c.startswith("privacy_session=") and KARI in c for c in cookies)

    page = client.get("/me?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "My page" in html and "158385 *****" in html and KARI not in html
    assert "substantial (idporten-loa-substantial)" in html and "ID-porten" in html
    assert "You have no requests yet." in html  # Min side lists her requests (none yet)
    assert "Min side" in client.get("/me?lang=nb").get_data(as_text=True)

    with Session(app.extensions["engine"]) as session:
        row = session.exec(select(SubjectSession)).one()
    assert (row.pid, row.acr, row.method) == (KARI, "idporten-loa-substantial", "idporten")
    assert len(row.pid_key) == 64 and KARI not in row.token_hash
    (event,) = _events(app, "subject.login")
    assert KARI not in str(event.details) + event.actor + event.object_id
    assert event.details == {"method": "idporten", "acr": "idporten-loa-substantial"}


def test_the_subject_session_is_not_an_officer_session(client, log_in) -> None:  # type: ignore[no-untyped-def]
    log_in()
    officer_page = client.get("/officer/activities")
    assert officer_page.status_code == 302 and "/login" in officer_page.headers["Location"]


def test_logout_ends_the_session_and_the_old_cookie_no_longer_works(app, client, log_in) -> None:  # type: ignore[no-untyped-def]
    log_in()
    cookie = client.get_cookie("privacy_subject")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("privacy_subject", cookie.value)
    assert copy.get("/me").status_code == 200

    assert client.post("/me/logout").status_code == 400  # no CSRF token: refused, still logged in
    assert session_rows(app) == 1
    response = client.post("/me/logout", data={"csrf_token": csrf_token(client, "/me")})
    assert response.status_code == 302
    assert client.get_cookie("privacy_subject") is None
    assert session_rows(app) == 0
    stale = copy.get("/me")
    assert stale.status_code == 302 and stale.headers["Location"].endswith("/me/login")
    (event,) = _events(app, "subject.logout")
    assert KARI not in str(event.details) + event.actor


def test_a_session_idle_longer_than_the_limit_is_over(app, client, log_in) -> None:  # type: ignore[no-untyped-def]
    log_in()
    with Session(app.extensions["engine"]) as session:
        row = session.exec(select(SubjectSession)).one()
        row.last_seen_at = utcnow() - timedelta(minutes=31)
        session.add(row)
        session.commit()
    assert client.get("/me").status_code == 302
    assert session_rows(app) == 0


def test_min_side_without_a_session_sends_the_subject_to_log_in(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/me")
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/login")


def test_the_login_button_is_on_the_home_page_and_the_request_form(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/?lang=en", "/requests/new?lang=en"):
        html = client.get(path).get_data(as_text=True)
        assert 'href="/me/login"' in html and "Log in with ID-porten" in html, path


def test_a_client_with_a_private_key_logs_in_with_a_signed_assertion(  # type: ignore[no-untyped-def]
    make_app, oidc_provider, tmp_path
) -> None:
    """HelseID authenticates clients by private_key_jwt (RFC 7523): no shared secret is sent."""
    app = make_app(**oidc_provider.app_config_private_key_jwt())
    client = app.test_client()
    start = client.get("/me/login?lang=en")
    back = oidc_provider.log_in(start.headers["Location"], pid=KARI)
    answer = client.get("/" + back.split("/", 3)[3])
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/me"), answer.get_data(
        as_text=True
    )
    assert "158385 *****" in client.get("/me?lang=en").get_data(as_text=True)

    # a key the provider was never given: the token endpoint refuses the client, and no session starts
    stranger = tmp_path / "other-key.pem"
    stranger.write_bytes(RSAKey.generate_key(2048, private=True).as_pem(private=True))
    other = make_app(**oidc_provider.app_config_private_key_jwt(PRIVACY_OIDC_CLIENT_KEY_FILE=str(stranger)))
    other_client = other.test_client()
    start = other_client.get("/me/login?lang=en")
    back = oidc_provider.log_in(start.headers["Location"], pid=KARI)
    refused = other_client.get("/" + back.split("/", 3)[3])
    assert refused.status_code == 400 and session_rows(other) == 0
