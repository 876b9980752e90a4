"""The hot path answers the consent and processing status reads exactly as the Flask views do, on both
engines, and leaves everything else to Flask."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from tests_support import bearer
from werkzeug.test import Client

from privacy_service.audit import Actor
from privacy_service.consent import hotpath, service
from privacy_service.consent.tokens import read_token
from privacy_service.db import transaction

KARI = "kari.nordmann@example.no"
OFFICER = Actor("user", "o1")
# Flask adds "Vary: Cookie" because flask-login peeks at the session after every request; the hot path never
# reads the cookie, so its answer does not vary by it.
IGNORED = {"Content-Length", "Date", "Server", "Vary"}


def _both(app, path: str, headers: dict[str, str]) -> tuple[Any, Any, int]:  # type: ignore[no-untyped-def]
    hot = app.extensions["hot_path"]
    before = hot.answered
    via_hot = app.test_client().get(path, headers=headers)
    via_flask = Client(hot.app).get(path, headers=headers)  # the wrapped Flask app alone
    return via_hot, via_flask, hot.answered - before


def _comparable(response: Any, secret: str) -> tuple[int, Any, dict[str, str]]:
    body = response.get_json(silent=True)
    if isinstance(body, dict) and "withdraw_url" in body:
        token = body.pop("withdraw_url").rsplit("/", 1)[1]  # signed with a timestamp: compare what it names
        body["withdraw_token"] = read_token(secret, token)
    headers = {k: v for k, v in response.headers.items() if k not in IGNORED}
    # the bytes too: key order and separators are part of what a client may hash or cache
    return response.status_code, (body, response.get_data()), headers


def _same(app, path: str, headers: dict[str, str]) -> tuple[Any, int]:  # type: ignore[no-untyped-def]
    via_hot, via_flask, answered = _both(app, path, headers)
    secret = app.config["SECRET_KEY"]
    assert _comparable(via_hot, secret) == _comparable(via_flask, secret)
    return via_hot, answered


def _flag(app, activity: str, kind: str) -> int:  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return service.set_flag(session, subject=KARI, activity=activity, kind=kind, actor=OFFICER).id


@pytest.fixture
def recorded(client, make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    writer = bearer(make_key("consent:write"))
    assert (
        client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "given"}, headers=writer).status_code
        == 200
    )
    return bearer(make_key("consent:read"))


@pytest.mark.parametrize(
    ("path", "answered_here"),
    [
        (f"/api/v1/consents/{KARI}/surveys", True),
        ("/api/v1/consents/Kari.Nordmann%40Example.no/surveys", True),
        (f"/api/v1/consents/{KARI}/surveys?cache-buster=1", True),  # the view ignores the query too
        ("/api/v1/consents/never-seen/surveys", True),  # 404
        ("/api/v1/consents/never-seen/no-such-purpose", False),  # 404 unknown_purpose: the view words it
        ("/api/v1/consents/15838512671/surveys", False),  # refused by the view (422)
        ("/api/v1/consents/x/Not_A_Slug", False),
        (f"/api/v1/consents/{KARI}/surveys/history", False),
        (f"/api/v1/subjects/{KARI}/processing?activity=surveys", True),  # allowed
        ("/api/v1/subjects/Kari.Nordmann%40Example.no/processing?activity=surveys", True),
        ("/api/v1/subjects/never-seen/processing?activity=surveys", True),  # no_consent
        (f"/api/v1/subjects/{KARI}/processing?activity=accounts", True),  # not based on consent
        (f"/api/v1/subjects/{KARI}/processing?activity=no-such-activity", False),  # 404
        (f"/api/v1/subjects/{KARI}/processing?activity=Not_A_Slug", False),  # 422
        (f"/api/v1/subjects/{KARI}/processing", False),  # 422: activity missing
        (f"/api/v1/subjects/{KARI}/processing?activity=surveys&more=1", False),  # 422: unknown argument
        (f"/api/v1/subjects/{KARI}/processing?activity=", False),  # 422
        ("/api/v1/subjects/15838512671/processing?activity=surveys", False),  # 422: a national id
    ],
)
def test_the_hot_path_answers_as_the_view_does(app, recorded, path, answered_here) -> None:  # type: ignore[no-untyped-def]
    __, answered = _same(app, path, recorded)
    assert answered == (1 if answered_here else 0)


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v1/consents/never-seen/surveys", "not_found"),  # a purpose that exists: no consent recorded
        ("/api/v1/consents/never-seen/survey", "unknown_purpose"),  # misspelt: its own code
        (f"/api/v1/consents/{KARI}/no-such-purpose", "unknown_purpose"),
        (f"/api/v1/consents/{KARI}/no-such-purpose/history", "unknown_purpose"),
        ("/api/v1/consents/never-seen/surveys/history", "not_found"),
    ],
)
def test_a_misspelt_purpose_is_not_told_no_consent(app, recorded, path, code) -> None:  # type: ignore[no-untyped-def]
    via_hot, via_flask, _ = _both(app, path, recorded)
    assert via_hot.status_code == via_flask.status_code == 404
    assert via_hot.get_json()["error"]["code"] == via_flask.get_json()["error"]["code"] == code


def test_every_processing_status_is_the_views(app, client, make_key, recorded) -> None:  # type: ignore[no-untyped-def]
    writer = bearer(make_key("consent:write"))
    path = f"/api/v1/subjects/{KARI}/processing?activity="
    seen = {_same(app, path + "surveys", recorded)[0].get_json()["status"]}
    client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "withdrawn"}, headers=writer)
    seen.add(_same(app, path + "surveys", recorded)[0].get_json()["status"])
    client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "given"}, headers=writer)
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        session.execute(text("UPDATE consent_state SET renewal_required = true"))
    renewal = _same(app, path + "surveys", recorded)[0].get_json()
    # a client that reads only `status` must not read "allowed" while the consent waits for renewal
    assert renewal["status"] == "renewal_required" and renewal["renewal_required"] is True
    seen.add(renewal["status"])
    restricted = _flag(app, "surveys", "restricted")
    seen.add(_same(app, path + "surveys", recorded)[0].get_json()["status"])
    _flag(app, "surveys", "objected")  # an objection wins over the restriction
    seen.add(_same(app, path + "surveys", recorded)[0].get_json()["status"])
    _flag(app, "accounts", "restricted")
    seen.add(_same(app, path + "accounts", recorded)[0].get_json()["status"])
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        service.lift_flag(session, flag_id=restricted, actor=OFFICER)
    assert seen == {"allowed", "consent_withdrawn", "renewal_required", "restricted", "objected"}
    assert _same(app, path + "surveys", recorded)[0].get_json()["status"] == "objected"


def test_etag_revalidation_is_the_same(app, recorded) -> None:  # type: ignore[no-untyped-def]
    path = f"/api/v1/consents/{KARI}/surveys"
    tag = app.test_client().get(path, headers=recorded).headers["ETag"]
    via_hot, answered = _same(app, path, {**recorded, "If-None-Match": tag})
    assert via_hot.status_code == 304 and answered == 1
    via_hot, answered = _same(app, path, {**recorded, "If-None-Match": '"e0"'})  # a stale tag
    assert via_hot.status_code == 200 and answered == 1


@pytest.mark.parametrize("key_kind", ["unknown", "wrong scope", "revoked", "none", "session"])
@pytest.mark.parametrize("read", ["consents/{s}/surveys", "subjects/{s}/processing?activity=surveys"])
def test_keys_it_does_not_accept_go_to_flask(app, client, make_key, recorded, key_kind, read) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.security.service import revoke_api_client

    headers = {
        "unknown": bearer("psk_not-a-key"),
        "wrong scope": bearer(make_key("registry:read")),
        "revoked": bearer(make_key("consent:read", name="soon-revoked")),
        "none": {},
        "session": {"Cookie": "privacy_session=forged"},
    }[key_kind]
    if key_kind == "revoked":
        app.test_client().get("/api/v1/consents/x/surveys", headers=headers)  # the key is now remembered
        with app.app_context(), transaction(app.extensions["engine"]) as session:
            revoke_api_client(session, name="soon-revoked", actor=Actor("cli", "tests"))
    path = "/api/v1/" + read.format(s=KARI)
    via_hot, via_flask, answered = _both(app, path, headers)
    assert via_hot.status_code == via_flask.status_code == {"wrong scope": 403}.get(key_kind, 401)
    assert answered == 0


def test_a_key_revoked_by_another_process_stops_within_the_cache_bound(  # type: ignore[no-untyped-def]
    make_app, monkeypatch
) -> None:
    app = make_app(PRIVACY_KEY_CACHE_SECONDS=5)
    key = bearer(_key(app, "elsewhere"))
    path = f"/api/v1/subjects/{KARI}/processing?activity=accounts"
    now = [1000.0]
    monkeypatch.setattr(hotpath.time, "monotonic", lambda: now[0])
    client = app.test_client()
    assert client.get(path, headers=key).status_code == 200
    # another process revokes it: a plain UPDATE, so nothing in this process hears of it
    with app.extensions["engine"].begin() as conn:
        conn.execute(text("UPDATE api_client SET active = false WHERE name = 'elsewhere'"))
    now[0] += 4.9
    assert client.get(path, headers=key).status_code == 200  # still remembered, inside the bound
    now[0] += 0.2
    assert client.get(path, headers=key).status_code == 401  # the bound passed: asked again, refused
    assert app.extensions["hot_path"].keys.scopes(_digest(key)) is None


def test_no_key_cache_checks_every_request(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app(PRIVACY_KEY_CACHE_SECONDS=0)
    key = bearer(_key(app, "uncached"))
    path = f"/api/v1/subjects/{KARI}/processing?activity=accounts"
    client = app.test_client()
    assert client.get(path, headers=key).status_code == 200
    with app.extensions["engine"].begin() as conn:
        conn.execute(text("UPDATE api_client SET active = false WHERE name = 'uncached'"))
    assert client.get(path, headers=key).status_code == 401


def test_a_rotated_key_stops_at_once_in_this_process(app, client) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from privacy_service.security.service import rotate_api_client

    old = bearer(_key(app, "rotating"))
    path = f"/api/v1/consents/{KARI}/surveys"
    assert client.get(path, headers=old).status_code == 404  # accepted (nothing recorded), remembered
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        __, new = rotate_api_client(session, name="rotating", grace=timedelta(0), actor=Actor("cli", "tests"))
    assert client.get(path, headers=old).status_code == 401
    assert client.get(path, headers=bearer(new)).status_code == 404


def test_a_withdrawal_is_read_at_once_through_the_hot_path(app, client, make_key, recorded) -> None:  # type: ignore[no-untyped-def]
    writer = bearer(make_key("consent:write"))
    for status in ("withdrawn", "given", "withdrawn"):
        client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": status}, headers=writer)
        assert client.get(f"/api/v1/consents/{KARI}/surveys", headers=recorded).get_json()["status"] == status
        expected = {"withdrawn": "consent_withdrawn", "given": "allowed"}[status]
        processing = client.get(f"/api/v1/subjects/{KARI}/processing?activity=surveys", headers=recorded)
        assert processing.get_json()["status"] == expected


def test_a_broken_connection_is_answered_by_flask_then_replaced(app, recorded) -> None:  # type: ignore[no-untyped-def]
    hot = app.extensions["hot_path"]
    path = f"/api/v1/consents/{KARI}/surveys"
    assert app.test_client().get(path, headers=recorded).status_code == 200
    hot.backend.connection().close()  # the server went away under this worker's connection
    before = hot.answered
    assert app.test_client().get(path, headers=recorded).get_json()["status"] == "given"
    assert hot.answered == before  # Flask answered that one
    assert app.test_client().get(path, headers=recorded).status_code == 200
    assert hot.answered == before + 1  # and the next on a fresh connection


@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)
def test_since_is_written_in_utc_whatever_time_zone_the_server_is_set_to(app, recorded) -> None:  # type: ignore[no-untyped-def]
    engine = app.extensions["engine"]
    with engine.connect() as conn:
        conn.exec_driver_sql(f"ALTER DATABASE {engine.url.database} SET timezone TO 'Europe/Oslo'")
        conn.commit()
    engine.dispose()  # new connections, both paths, take the database's time zone
    app.extensions["hot_path"].close()
    via_hot, answered = _same(app, f"/api/v1/consents/{KARI}/surveys", recorded)
    assert answered == 1 and via_hot.get_json()["since"].endswith("+00:00")


def _key(app, name: str) -> str:  # type: ignore[no-untyped-def]
    from privacy_service.security.service import create_api_client

    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return create_api_client(session, name=name, scopes=["consent:read"], actor=Actor("cli", "tests"))[1]


def _digest(headers: dict[str, str]) -> str:
    from privacy_service.security.service import key_digest

    return key_digest(headers["Authorization"].removeprefix("Bearer "))
