"""The consent status fast path answers exactly what the Flask view answers, and leaves the rest to Flask."""

from __future__ import annotations

from typing import Any

import pytest
from tests_support import bearer
from werkzeug.test import Client

from privacy_service.consent.tokens import read_token

pytestmark = pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)  # installed on PostgreSQL
KARI = "kari.nordmann@example.no"
# Flask adds "Vary: Cookie" because flask-login peeks at the session after every request; the fast path
# never reads the cookie, so its answer does not vary by it.
IGNORED = {"Content-Length", "Date", "Server", "Vary"}


def _both(app, path: str, headers: dict[str, str]) -> tuple[Any, Any]:  # type: ignore[no-untyped-def]
    fast = app.extensions["consent_fastpath"]
    before = fast.answered
    via_fast = app.test_client().get(path, headers=headers)
    via_flask = Client(fast.app).get(path, headers=headers)  # the wrapped Flask app alone
    return via_fast, via_flask, fast.answered - before


def _comparable(response: Any, secret: str) -> tuple[int, Any, dict[str, str]]:
    body = response.get_json(silent=True)
    if isinstance(body, dict) and "withdraw_url" in body:
        token = body.pop("withdraw_url").rsplit("/", 1)[1]  # signed with a timestamp: compare what it names
        body["withdraw_token"] = read_token(secret, token)
    headers = {k: v for k, v in response.headers.items() if k not in IGNORED}
    return response.status_code, body if body is not None else response.get_data(), headers


@pytest.fixture
def recorded(client, make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    writer = bearer(make_key("consent:write"))
    assert (
        client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "given"}, headers=writer).status_code
        == 200
    )
    return bearer(make_key("consent:read"))


@pytest.mark.parametrize(
    ("path", "extra", "answered_here"),
    [
        (f"/api/v1/consents/{KARI}/surveys", {}, True),
        ("/api/v1/consents/Kari.Nordmann%40Example.no/surveys", {}, True),
        ("/api/v1/consents/never-seen/surveys", {}, True),  # 404
        ("/api/v1/consents/15838512671/surveys", {}, False),  # refused by the view (422)
        ("/api/v1/consents/x/Not_A_Slug", {}, False),
        (f"/api/v1/consents/{KARI}/surveys/history", {}, False),
    ],
)
def test_the_fast_path_answers_as_the_view_does(app, recorded, path, extra, answered_here) -> None:  # type: ignore[no-untyped-def]
    via_fast, via_flask, answered = _both(app, path, {**recorded, **extra})
    secret = app.config["SECRET_KEY"]
    assert _comparable(via_fast, secret) == _comparable(via_flask, secret)
    assert answered == (1 if answered_here else 0)


def test_etag_revalidation_is_the_same(app, recorded) -> None:  # type: ignore[no-untyped-def]
    path = f"/api/v1/consents/{KARI}/surveys"
    tag = app.test_client().get(path, headers=recorded).headers["ETag"]
    via_fast, via_flask, answered = _both(app, path, {**recorded, "If-None-Match": tag})
    assert via_fast.status_code == via_flask.status_code == 304 and answered == 1
    secret = app.config["SECRET_KEY"]
    assert _comparable(via_fast, secret) == _comparable(via_flask, secret)


@pytest.mark.parametrize("key_kind", ["unknown", "wrong scope", "revoked", "none"])
def test_keys_it_does_not_accept_go_to_flask(app, client, make_key, recorded, key_kind) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.audit import Actor
    from privacy_service.db import transaction
    from privacy_service.security.service import revoke_api_client

    headers = {
        "unknown": bearer("psk_not-a-key"),
        "wrong scope": bearer(make_key("registry:read")),
        "revoked": bearer(make_key("consent:read", name="soon-revoked")),
        "none": {},
    }[key_kind]
    if key_kind == "revoked":
        with app.app_context(), transaction(app.extensions["engine"]) as session:
            revoke_api_client(session, name="soon-revoked", actor=Actor("cli", "tests"))
    via_fast, via_flask, answered = _both(app, f"/api/v1/consents/{KARI}/surveys", headers)
    assert via_fast.status_code == via_flask.status_code == {"wrong scope": 403}.get(key_kind, 401)
    assert answered == 0


def test_a_withdrawal_is_read_at_once_through_the_fast_path(app, client, make_key, recorded) -> None:  # type: ignore[no-untyped-def]
    writer = bearer(make_key("consent:write"))
    for status in ("withdrawn", "given", "withdrawn"):
        client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": status}, headers=writer)
        assert client.get(f"/api/v1/consents/{KARI}/surveys", headers=recorded).get_json()["status"] == status


def test_since_is_written_in_utc_whatever_time_zone_the_server_is_set_to(app, recorded) -> None:  # type: ignore[no-untyped-def]
    engine = app.extensions["engine"]
    with engine.connect() as conn:
        conn.exec_driver_sql(f"ALTER DATABASE {engine.url.database} SET timezone TO 'Europe/Oslo'")
        conn.commit()
    engine.dispose()  # new connections, both paths, take the database's time zone
    app.extensions["consent_fastpath"].close()
    via_fast, via_flask, answered = _both(app, f"/api/v1/consents/{KARI}/surveys", recorded)
    secret = app.config["SECRET_KEY"]
    assert answered == 1 and via_fast.get_json()["since"].endswith("+00:00")
    assert _comparable(via_fast, secret) == _comparable(via_flask, secret)
