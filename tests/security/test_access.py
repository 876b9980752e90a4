"""Who may call what: declared rules on every endpoint, roles, API scopes, CSRF, headers and cookies."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from tests_support import bearer, csrf_token

from privacy_service.security.access import undeclared_endpoints

ACTIVITY = "/api/v1/activities/accounts"


def test_every_endpoint_of_the_app_declares_who_may_call_it(app: Flask) -> None:
    assert undeclared_endpoints(app) == []


def test_an_endpoint_without_a_rule_is_reported_and_refused(app: Flask) -> None:
    @app.get("/forgotten")
    def forgotten() -> str:
        return "secret"

    assert undeclared_endpoints(app) == ["forgotten GET"]
    response = app.test_client().get("/forgotten")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/api/v1/activities", ACTIVITY, "/api/v1/ropa?format=json", "/api/v1/audit"]
)
def test_anonymous_api_calls_get_401_in_the_error_envelope(client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_or_revoked_key_is_refused(app: Flask, client, make_key) -> None:  # type: ignore[no-untyped-def]
    assert client.get(ACTIVITY, headers=bearer("psk_not-a-key")).status_code == 401
    assert client.get(ACTIVITY, headers={"Authorization": "Basic abc"}).status_code == 401
    key = make_key("registry:read", name="portal")
    assert client.get(ACTIVITY, headers=bearer(key)).status_code == 200
    result = app.test_cli_runner().invoke(args=["api-key", "revoke", "--name", "portal"])
    assert result.exit_code == 0
    assert client.get(ACTIVITY, headers=bearer(key)).status_code == 401


@pytest.mark.parametrize(
    ("scopes", "method", "path", "status"),
    [
        (["registry:read"], "GET", ACTIVITY, 200),
        (["registry:read"], "DELETE", ACTIVITY, 403),
        (["consent:read"], "GET", ACTIVITY, 403),
        (["registry:write"], "GET", ACTIVITY, 403),
        (["audit:read"], "GET", "/api/v1/audit/verify", 200),
        (["registry:read"], "GET", "/api/v1/audit/verify", 403),
    ],
)
def test_api_keys_reach_only_what_their_scopes_allow(client, make_key, scopes, method, path, status) -> None:  # type: ignore[no-untyped-def]
    response = client.open(path, method=method, headers=bearer(make_key(*scopes)))
    assert response.status_code == status
    if status == 403:
        assert response.get_json()["error"]["code"] == "forbidden"


def test_api_keys_cannot_open_officer_pages(client, make_key) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/officer/activities", headers=bearer(make_key("registry:read", "registry:write")))
    assert response.status_code == 403


@pytest.mark.parametrize(("role", "can_write"), [("auditor", False), ("officer", True), ("admin", True)])
def test_roles_read_and_write_the_registry_as_their_role_allows(
    client, login, role: str, can_write: bool
) -> None:  # type: ignore[no-untyped-def]
    login(role)
    assert client.get("/officer/activities").status_code == 200
    assert client.get("/officer/activities/accounts/edit").status_code == (200 if can_write else 403)
    token = csrf_token(client, "/officer/activities")
    response = client.delete(ACTIVITY, headers={"X-CSRFToken": token, "If-Match": "*"})
    assert response.status_code == (200 if can_write else 403)


def test_a_session_write_without_csrf_token_is_refused_and_changes_nothing(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    response = client.delete(ACTIVITY)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    assert client.get(ACTIVITY).get_json()["status"] == "active"


def test_a_login_form_without_csrf_token_is_refused(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("officer")
    response = client.post("/login", data=user)
    assert response.status_code == 400
    assert client.get("/officer/activities").status_code == 302


def test_bearer_calls_need_no_csrf_token(client, make_key) -> None:  # type: ignore[no-untyped-def]
    response = client.delete(
        ACTIVITY, headers={**bearer(make_key("registry:read", "registry:write")), "If-Match": "*"}
    )
    assert response.status_code == 200


def test_a_wrong_password_is_refused_and_audited(app: Flask, client, make_user, make_key) -> None:  # type: ignore[no-untyped-def]
    user = make_user("officer")
    response = client.post(
        "/login", data={**user, "password": "wrong-password", "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 401
    assert "Wrong username or password" in response.get_data(
        as_text=True
    ) or "Feil brukernavn" in response.get_data(as_text=True)
    events = client.get(
        "/api/v1/audit?action=auth.login_failed", headers=bearer(make_key("audit:read"))
    ).get_json()
    assert events["total"] >= 1 and events["items"][-1]["object_id"] == "-"


def test_login_never_redirects_off_site(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("officer")
    response = client.post("/login?next=//evil.example/x", data={**user, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/officer/"  # the start page, not the other site


def test_the_login_an_officer_page_sends_her_to_keeps_the_language_she_asked_for(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/officer/requests/?lang=en")
    assert response.status_code == 302 and "lang=en" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'lang="en"' in page and "Password" in page
    response = client.get("/officer/requests/?lang=xx")  # not a language: left out
    assert "lang=" not in response.headers["Location"].replace("next=", "")


def test_pages_carry_security_headers_and_safe_cookies(client, make_user) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/login")
    headers = response.headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    user = make_user("officer")
    login = client.post("/login", data={**user, "csrf_token": csrf_token(client)})
    cookie = next(c for c in login.headers.getlist("Set-Cookie") if c.startswith("privacy_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_logout_ends_the_session(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    token = csrf_token(client, "/officer/activities")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/officer/activities").status_code == 302


def test_login_is_rate_limited(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("officer")
    token = csrf_token(client)
    statuses = [
        client.post("/login", data={**user, "password": f"wrong-{i}", "csrf_token": token}).status_code
        for i in range(12)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]


def test_guesses_at_one_account_are_throttled_whatever_address_they_come_from(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("officer")
    token = csrf_token(client)
    statuses = []
    for i in range(31):
        address = {"REMOTE_ADDR": f"10.0.{i // 5}.{i % 5 + 1}"}  # 5 tries from each address, under its limit
        body = {**user, "password": f"wrong-{i}", "csrf_token": token}
        statuses.append(client.post("/login", data=body, environ_base=address).status_code)
    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429
    # another account is not affected
    other = make_user("officer")
    login = client.post(
        "/login", data={**other, "csrf_token": token}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert login.status_code == 302


def test_login_answers_the_same_for_an_unknown_user_and_a_wrong_password(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("officer")
    token = csrf_token(client)
    wrong = client.post("/login", data={**user, "password": "not-the-password", "csrf_token": token})
    unknown = client.post(
        "/login", data={"username": "nobody-here", "password": "x" * 14, "csrf_token": token}
    )
    assert wrong.status_code == unknown.status_code == 401

    def message(response) -> str:  # type: ignore[no-untyped-def]
        return re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))

    assert message(wrong).replace(user["username"], "") == message(unknown).replace("nobody-here", "")


def test_login_starts_a_fresh_session_and_logout_ends_every_copy_of_it(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("officer")
    before = csrf_token(client)
    assert client.post("/login", data={**user, "csrf_token": before}).status_code == 302
    # state planted before the login (here: its CSRF secret) does not survive it
    stale = client.post("/officer/consents/", data={"subject": "x", "csrf_token": before})
    assert stale.status_code == 400
    stolen = client.get_cookie("privacy_session").value
    token = csrf_token(client, "/officer/activities")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    replay = client.application.test_client()
    replay.set_cookie("privacy_session", stolen)
    assert replay.get("/officer/activities").status_code == 302  # sent to the login page


@pytest.mark.parametrize("trusted", [0, 1])
def test_behind_a_trusted_proxy_limits_count_per_client_address(make_app, trusted: int) -> None:  # type: ignore[no-untyped-def]
    client = make_app(PRIVACY_TRUSTED_PROXIES=trusted).test_client()
    token = csrf_token(client)

    def attempt(forwarded_for: str, i: int) -> int:
        body = {"username": f"user{i}", "password": "wrong-password", "csrf_token": token}
        return client.post("/login", data=body, headers={"X-Forwarded-For": forwarded_for}).status_code

    assert [attempt("198.51.100.7", i) for i in range(11)] == [401] * 10 + [429]
    # another client behind the same proxy: its own count when the proxy is trusted, the proxy's otherwise
    assert attempt("203.0.113.9", 99) == (401 if trusted else 429)
