"""A provider's answer that does not prove who logged in is refused with a clear page; no session starts."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from privacy_service.audit import AuditEvent

from .conftest import KARI, session_rows

BAD_TOKENS = [
    pytest.param({"aud": "another-service"}, "audience", "meant for another service", id="wrong-audience"),
    pytest.param({"iss": "https://evil.example"}, "issuer", "another identity provider", id="wrong-issuer"),
    pytest.param(
        {"nonce": "not-the-one-we-sent"}, "nonce", "does not belong to this login", id="wrong-nonce"
    ),
    pytest.param({"drop": ["nonce"]}, "nonce", "does not belong to this login", id="missing-nonce"),
    pytest.param({"exp": -300}, "expired", "has expired", id="expired"),
    pytest.param({"alg": "none"}, "signature", "not signed with its key", id="unsigned-alg-none"),
    pytest.param({"foreign_key": True}, "signature", "not signed with its key", id="signed-by-another-key"),
    pytest.param({"drop": ["pid"]}, "pid", "national identity number", id="no-pid-claim"),
    pytest.param({"acr": "idporten-loa-low"}, "acr", "higher security level", id="acr-claim-lowered"),
]


def _refusals(app) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with Session(app.extensions["engine"]) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == "subject.login_refused")))


def _assert_refused(app, client, response, reason: str, words: str) -> None:  # type: ignore[no-untyped-def]
    html = response.get_data(as_text=True)
    assert response.status_code in (400, 403), html
    assert "data-refused" in html and words in html
    assert client.get_cookie("privacy_subject") is None
    assert session_rows(app) == 0
    (event,) = _refusals(app)
    assert event.details["reason"] == reason and KARI not in str(event.details)
    assert client.get("/me").status_code == 302  # still not logged in


@pytest.mark.parametrize(("changes", "reason", "words"), BAD_TOKENS)
def test_a_bad_id_token_is_refused_and_nothing_is_written(
    app, client, log_in, changes, reason, words
) -> None:  # type: ignore[no-untyped-def]
    response = log_in(tamper=changes)
    _assert_refused(app, client, response, reason, words)


def test_a_login_below_the_required_level_is_refused(app, client, log_in) -> None:  # type: ignore[no-untyped-def]
    response = log_in(acr="idporten-loa-low")
    assert response.status_code == 403
    _assert_refused(app, client, response, "acr", "higher security level")


def test_the_required_level_is_a_setting(make_app, oidc_provider) -> None:  # type: ignore[no-untyped-def]
    app = make_app(**oidc_provider.app_config(PRIVACY_OIDC_ACR="idporten-loa-high"))
    client = app.test_client()
    start = client.get("/me/login?lang=en")
    assert "acr_values=idporten-loa-high" in start.headers["Location"]
    back = oidc_provider.log_in(start.headers["Location"], pid=KARI, acr="idporten-loa-substantial")
    response = client.get("/" + back.split("/", 3)[3])
    _assert_refused(app, client, response, "acr", "higher security level")


def test_an_answer_with_another_state_is_refused(app, client, oidc_provider) -> None:  # type: ignore[no-untyped-def]
    start = client.get("/me/login?lang=en")
    back = oidc_provider.log_in(start.headers["Location"], pid=KARI)
    path = "/" + back.split("/", 3)[3]
    response = client.get(path.replace("state=", "state=x"))
    _assert_refused(app, client, response, "state", "Start the login again")


def test_an_answer_without_the_login_cookie_is_refused(app, oidc_provider) -> None:  # type: ignore[no-untyped-def]
    starter, other = app.test_client(), app.test_client()
    start = starter.get("/me/login?lang=en")
    back = oidc_provider.log_in(start.headers["Location"], pid=KARI)
    other.get("/?lang=en")
    response = other.get("/" + back.split("/", 3)[3])  # someone else's browser: login CSRF
    _assert_refused(app, other, response, "state", "Start the login again")


def test_an_answer_naming_another_issuer_is_refused(app, client, oidc_provider) -> None:  # type: ignore[no-untyped-def]
    start = client.get("/me/login?lang=en")
    back = oidc_provider.log_in(start.headers["Location"], pid=KARI)
    assert "iss=" in back  # the provider names itself (RFC 9207)
    path = "/" + back.split("/", 3)[3]
    response = client.get(path.replace("iss=", "iss=https%3A%2F%2Fevil.example&x="))
    _assert_refused(app, client, response, "issuer", "another identity provider")


def test_a_cancelled_login_is_refused_in_bokmal(app, client) -> None:  # type: ignore[no-untyped-def]
    start = client.get("/me/login?lang=en")
    state = start.headers["Location"].split("state=")[1].split("&")[0]
    response = client.get(f"/me/callback?error=access_denied&state={state}&lang=nb")
    assert response.status_code == 400
    assert "Innloggingen ble avbrutt" in response.get_data(as_text=True)
    assert session_rows(app) == 0


def test_a_code_used_twice_is_refused(app, client, oidc_provider) -> None:  # type: ignore[no-untyped-def]
    start = client.get("/me/login?lang=en")
    back = oidc_provider.log_in(start.headers["Location"], pid=KARI)
    path = "/" + back.split("/", 3)[3]
    assert client.get(path).status_code == 302
    again = app.test_client()
    again.set_cookie("privacy_subject_login", "x", path="/me/")
    assert again.get(path).status_code == 400
    assert session_rows(app) == 1
