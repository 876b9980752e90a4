"""The authorization matrix: every route of the URL map, called by every kind of caller, gets what it should.

EXPECTED is the policy written out by hand, one line per route and method. The first test holds it against
the rules the views declare, so a new route, or a changed rule, fails until this table says who may call it.
The second calls every route as each caller (anonymous, a data subject holding a status link, the three
officer roles, an API key per scope, and another client's key) and checks that the access layer lets through
exactly those the table allows: the rest get 401 (API), a redirect to the login page (pages) or 403.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests_support import bearer, csrf_token, minimal_activity

from privacy_service.security.access import rule_for
from privacy_service.security.service import ROLE_SCOPES, SCOPES

# kind: "public" (anyone), "<scope>" (API: keys and officer sessions), "page <scope>" (officer sessions
# only), "key <scope>" (API keys only).
EXPECTED: dict[str, str] = {
    "GET /": "public",
    "GET /api/docs": "public",
    "GET /api/docs/assets/<path:filename>": "public",
    "GET /api/openapi.json": "public",
    "GET /healthz": "public",
    "GET /readyz": "public",
    "GET /privacy/<svc>": "public",
    "GET /privacy/<svc>.pdf": "public",
    "GET /login": "public",
    "POST /login": "public",
    "POST /logout": "public",
    # the subject's login (OIDC) and Min side: open to the access layer, the view checks their own session
    "GET /me": "public",
    "GET /me/login": "public",
    "GET /me/callback": "public",
    "POST /me/logout": "public",
    "POST /me/requests": "public",
    "GET /me/requests/<reference>/<any(letter, export):kind>": "public",
    "POST /me/consents/<int:state_id>/<any(given, withdrawn):status>": "public",
    "POST /me/portals/<int:identifier_id>/remove": "public",
    # the data subject's pages: the unguessable token in the URL is the credential
    "GET /consent/withdraw/<token>": "public",
    "POST /consent/withdraw/<token>": "public",
    "GET /requests/new": "public",
    "POST /requests/new": "public",
    "GET /requests/status/<token>": "public",
    "GET /requests/mine/<token>": "public",
    "GET /requests/find": "public",
    "POST /requests/find": "public",
    "POST /requests/status/<token>/code": "public",
    "POST /requests/status/<token>/resend": "public",
    "POST /requests/status/<token>/withdraw": "public",
    "GET /requests/verify/<token>": "public",
    "POST /requests/verify/<token>": "public",
    "GET /requests/download/<signed>": "public",
    # a processor's OpenDSR status callback: its signature over the body is the credential (docs/opendsr.md)
    "POST /api/v1/opendsr/callbacks": "public",
    # the registry
    "GET /api/v1/activities": "registry:read",
    "POST /api/v1/activities": "registry:write",
    "GET /api/v1/activities/<slug>": "registry:read",
    "PUT /api/v1/activities/<slug>": "registry:write",
    "DELETE /api/v1/activities/<slug>": "registry:write",
    "GET /api/v1/activities/<slug>/versions": "registry:read",
    "GET /api/v1/organisations": "registry:read",
    "PUT /api/v1/organisations/<slug>": "registry:write",
    "GET /api/v1/ropa": "registry:read",
    "GET /api/v1/audit": "audit:read",
    "GET /api/v1/audit/verify": "audit:read",
    # consent
    "GET /api/v1/consent-notices": "consent:read",
    "POST /api/v1/consent-notices": "registry:write",
    "GET /api/v1/consent-receipts/<receipt_id>": "consent:read",
    "GET /api/v1/consents/<subject>/<purpose>": "consent:read",
    "PUT /api/v1/consents/<subject>/<purpose>": "consent:write",
    "GET /api/v1/consents/<subject>/<purpose>/history": "consent:read",
    "POST /api/v1/consents:query": "consent:read",
    "GET /api/v1/subjects/<subject>/processing": "consent:read",
    "POST /api/v1/subjects/links": "key subjects:link",
    "DELETE /api/v1/subjects/links/<string(maxlength=254):portal_id>": "key subjects:link",
    "GET /api/v1/webhooks": "consent:read",
    "POST /api/v1/webhooks": "key consent:read",
    "DELETE /api/v1/webhooks/<int:subscription_id>": "consent:read",
    # a subscription's owner (an officer too) pings it, reads and redelivers its deliveries
    "POST /api/v1/webhooks/<int:subscription_id>/ping": "consent:read",
    "GET /api/v1/webhooks/<int:subscription_id>/deliveries": "consent:read",
    "POST /api/v1/webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver": "consent:read",
    "GET /api/v1/deliveries": "audit:read",
    # retention
    "GET /api/v1/breaches": "breaches:manage",
    "GET /api/v1/dpias": "registry:read",
    "POST /api/v1/dpias": "registry:write",
    "GET /api/v1/dpias/<activity>": "registry:read",
    "GET /officer/dpias/": "page registry:read",
    "GET /officer/dpias/<activity>": "page registry:write",
    "POST /officer/dpias/<activity>": "page registry:write",
    "GET /api/v1/lias": "registry:read",
    "POST /api/v1/lias": "registry:write",
    "GET /api/v1/lias/<activity>": "registry:read",
    "GET /officer/lias/": "page registry:read",
    "GET /officer/lias/<activity>": "page registry:write",
    "POST /officer/lias/<activity>": "page registry:write",
    "GET /api/v1/transfers": "registry:read",
    "POST /api/v1/transfers": "registry:write",
    "GET /officer/transfers/": "page registry:read",
    "GET /officer/transfers/<activity>/<transfer_key>": "page registry:write",
    "POST /officer/transfers/<activity>/<transfer_key>": "page registry:write",
    "POST /api/v1/breaches": "breaches:manage",
    "GET /api/v1/breaches/<reference>": "breaches:manage",
    "POST /api/v1/breaches/<reference>/assess": "breaches:manage",
    "POST /api/v1/breaches/<reference>/notify-authority": "breaches:manage",
    "POST /api/v1/breaches/<reference>/notify-subjects": "breaches:manage",
    "POST /api/v1/breaches/<reference>/close": "breaches:manage",
    "GET /api/v1/breaches/<reference>/notification.pdf": "breaches:manage",
    "GET /api/v1/processor-records": "registry:read",
    "POST /api/v1/processor-records": "registry:write",
    "GET /api/v1/processor-records/<int:record_id>": "registry:read",
    "PUT /api/v1/processor-records/<int:record_id>": "registry:write",
    "GET /api/v1/processor-records/protocol.pdf": "registry:read",
    "GET /api/v1/holds": "retention:read",
    "POST /api/v1/holds": "holds:manage",
    "POST /api/v1/holds/<int:hold_id>/release": "holds:manage",
    "GET /api/v1/retention/rules": "retention:read",
    "GET /api/v1/retention/runs": "retention:read",
    "POST /api/v1/retention/runs": "retention:read",  # a dry run; a real one also needs retention:run
    "GET /api/v1/retention/runs/<int:run_id>": "retention:read",
    "GET /api/v1/retention/rule-changes": "retention:read",
    "GET /api/v1/retention/rule-changes/<int:change_id>": "retention:read",
    "POST /api/v1/retention/rule-changes/<int:change_id>/dry-run": "retention:run",
    "POST /api/v1/retention/rule-changes/<int:change_id>/apply": "retention:run",
    "POST /api/v1/retention/rule-changes/<int:change_id>/discard": "retention:run",
    "GET /api/v1/retention/deposits": "retention:run",
    "POST /api/v1/retention/deposits/<int:deposit_id>/receipt": "retention:run",
    "POST /api/v1/retention/deposits/<int:deposit_id>/reject": "retention:run",
    "POST /api/v1/retention/deposits/<int:deposit_id>/remake": "retention:run",
    # data-subject requests
    "GET /api/v1/requests": "requests:read",
    "POST /api/v1/requests": "requests:write",
    "GET /api/v1/requests/<reference>": "requests:read",
    "GET /api/v1/requests/<reference>/package": "requests:read",
    "POST /api/v1/requests/<reference>/approve": "requests:manage",
    "POST /api/v1/requests/<reference>/decisions": "requests:manage",
    "POST /api/v1/requests/<reference>/manual-results": "requests:manage",
    "POST /api/v1/requests/<reference>/complete": "requests:manage",
    "POST /api/v1/requests/<reference>/draft": "requests:manage",
    "GET /api/v1/requests/<reference>/draft": "requests:manage",
    "POST /api/v1/requests/<reference>/extend": "requests:manage",
    "POST /api/v1/requests/<reference>/plan": "requests:manage",
    "POST /api/v1/requests/<reference>/reject": "requests:manage",
    "POST /api/v1/requests/<reference>/verify": "requests:manage",
    "POST /api/v1/requests/<reference>/withdraw": "requests:manage",
    "GET /api/v1/requests/<reference>/withholdings": "requests:read",
    "POST /api/v1/requests/<reference>/withholdings": "requests:manage",
    "DELETE /api/v1/requests/<reference>/withholdings/<int:withholding_id>": "requests:manage",
    "POST /api/v1/requests/<reference>/appeals": "requests:manage",
    "POST /api/v1/requests/<reference>/appeals/<int:appeal_id>/steps": "requests:manage",
    "GET /api/v1/appeals": "requests:read",
    "POST /api/v1/requests/<reference>/lift-restriction/notice": "requests:manage",
    "POST /api/v1/requests/<reference>/lift-restriction": "requests:manage",
    "POST /api/v1/requests/<reference>/recipients": "requests:manage",
    "GET /api/v1/requests/blocked-erasures": "requests:read",
    # officer pages
    "GET /officer/": "page registry:read",
    "POST /officer/search": "page requests:read",
    "GET /officer/registers": "page registry:read",
    "GET /officer/charts/requests.svg": "page requests:read",
    "GET /officer/charts/answers.svg": "page requests:read",
    "GET /officer/charts/consents.svg": "page consent:read",
    "GET /officer/request-log.csv": "page requests:read",
    "GET /officer/activities": "page registry:read",
    "GET /officer/activities/<slug>": "page registry:read",
    "GET /officer/activities/<slug>/versions": "page registry:read",
    "GET /officer/activities/<slug>/edit": "page registry:write",
    "POST /officer/activities/<slug>/edit": "page registry:write",
    "GET /officer/activities/new": "page registry:write",
    "POST /officer/activities/new": "page registry:write",
    "GET /officer/audit": "page audit:read",
    "GET /officer/datamap/": "page registry:read",
    "GET /officer/consents/": "page consent:read",
    "POST /officer/consents/": "page consent:read",
    "GET /officer/consents/purposes": "page consent:read",
    "GET /officer/consents/deliveries": "page audit:read",
    "GET /officer/requests/": "page requests:read",
    "GET /officer/requests/<reference>": "page requests:read",
    "GET /officer/requests/<reference>/<any(letter, export, draft_letter, draft_zip):kind>": "page requests:read",  # noqa: E501
    "GET /officer/requests/<reference>/draft": "page requests:manage",
    "GET /officer/requests/blocked-erasures": "page requests:read",
    "POST /officer/requests/<reference>/<action>": "page requests:manage",
    "GET /officer/requests/new": "page requests:manage",
    "POST /officer/requests/new": "page requests:manage",
    # the breach register (GDPR Art. 33/34)
    "GET /officer/breaches/": "page breaches:manage",
    "POST /officer/breaches/": "page breaches:manage",
    "GET /officer/breaches/<reference>": "page breaches:manage",
    "POST /officer/breaches/<reference>/assess": "page breaches:manage",
    "POST /officer/breaches/<reference>/notify-authority": "page breaches:manage",
    "POST /officer/breaches/<reference>/notify-subjects": "page breaches:manage",
    "POST /officer/breaches/<reference>/close": "page breaches:manage",
    "GET /officer/breaches/<reference>/notification.pdf": "page breaches:manage",
    # the processor records (GDPR Art. 30(2))
    "GET /officer/processor-records/": "page registry:read",
    "POST /officer/processor-records/": "page registry:write",
    "GET /officer/processor-records/<int:record_id>": "page registry:read",
    "POST /officer/processor-records/<int:record_id>": "page registry:write",
    "GET /officer/processor-records/protocol.pdf": "page registry:read",
    "GET /officer/retention/": "page retention:read",
    "GET /officer/retention/holds": "page retention:read",
    "POST /officer/retention/holds": "page holds:manage",
    "POST /officer/retention/holds/<int:hold_id>/release": "page holds:manage",
    "POST /officer/retention/runs": "page retention:read",  # a dry run; a real one also needs retention:run
    "GET /officer/retention/runs/<int:run_id>": "page retention:read",
    "GET /officer/retention/runs/<int:run_id>.pdf": "page retention:read",
    "GET /officer/retention/deposits": "page retention:run",
    "POST /officer/retention/deposits/<int:deposit_id>/receipt": "page retention:run",
    "POST /officer/retention/deposits/<int:deposit_id>/reject": "page retention:run",
}


def _declared(app: Flask) -> dict[str, str]:
    declared = {}
    for url_rule in app.url_map.iter_rules():
        if url_rule.endpoint == "static":
            continue
        view = app.view_functions[url_rule.endpoint]
        for method in sorted((url_rule.methods or set()) - {"HEAD", "OPTIONS"}):
            rule = rule_for(view, method)
            if rule is None:
                kind = "undeclared"
            elif rule.public:
                kind = "public"
            else:
                kind = f"{'page ' if not rule.keys else 'key ' if not rule.sessions else ''}{rule.scope}"
            declared[f"{method} {url_rule.rule}"] = kind
    return declared


def test_every_route_has_the_rule_the_policy_table_gives_it(app: Flask) -> None:
    declared = _declared(app)
    assert sorted(set(declared) - set(EXPECTED)) == [], "new routes: add them to EXPECTED with their rule"
    assert sorted(set(EXPECTED) - set(declared)) == [], "routes gone: remove them from EXPECTED"
    assert {k: v for k, v in declared.items() if v != EXPECTED[k]} == {}


# -- calling every route as every caller -----------------------------------------------------------------

SAFE_DISPOSITION = re.compile(r'(attachment|inline); filename="?[A-Za-z0-9][A-Za-z0-9._-]{0,120}"?')
CALLERS = ["anonymous", "status link", "auditor", "officer", "admin", *(f"key {s}" for s in SCOPES)]


def _allowed(kind: str, caller: str) -> bool:
    if kind == "public":
        return True
    page, key_only = kind.startswith("page "), kind.startswith("key ")
    scope = kind.split()[-1]
    if caller in ROLE_SCOPES:
        return not key_only and scope in ROLE_SCOPES[caller]
    if caller.startswith("key "):
        return not page and caller.removeprefix("key ") == scope
    return False  # anonymous, or a subject whose status link opens only that request's pages


def _denied(response: Any, kind: str, caller: str) -> bool:
    if response.status_code == 403:
        return True
    if response.status_code == 401:
        return response.get_json()["error"]["code"] == "unauthorized"
    if kind == "public":  # its redirects (after logout, say) are answers, not refusals
        return False
    # an anonymous visitor of an officer page is sent to the login page
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app of this module (and of make_key, make_user): the matrix posts /login many times, and
    throttling has its own tests."""
    return make_app(RATELIMIT_ENABLED=False)


@pytest.fixture
def world(
    app: Flask, make_key: Callable[..., str], make_user: Callable[..., dict[str, str]]
) -> dict[str, Any]:
    """An app with one of everything a path can name: a request with its status link, a hold, a run,
    a consent receipt and withdrawal link, and a webhook of another client."""
    keys = {scope: make_key(scope) for scope in SCOPES}
    everything = make_key(*SCOPES)
    client = app.test_client()
    subject = "matrix-subject@example.org"
    created = client.post(
        "/api/v1/requests",
        json={"type": "access", "subject": {"email": subject, "name": "Matrix"}},
        headers=bearer(everything),
    ).get_json()
    consent = client.put(
        f"/api/v1/consents/{subject}/surveys",
        json={"status": "given", "notice_version": "1", "channel": "web"},
        headers=bearer(everything),
    ).get_json()
    hold = client.post(
        "/api/v1/holds",
        json={"scope": "activity", "activity": "support", "kind": "legal", "basis": "Matrix case 1"},
        headers=bearer(everything),
    ).get_json()
    run = client.post("/api/v1/retention/runs", json={"dry_run": True}, headers=bearer(everything)).get_json()
    support = client.get("/api/v1/activities/support", headers=bearer(everything)).get_json()
    support = {k: v for k, v in support.items() if k not in ("version", "created_at", "updated_at",
                                                             "updated_by", "rights")}  # fmt: skip
    support["retention"]["rules"][0]["period"] = "P1Y"
    change = client.put(
        "/api/v1/activities/support", json=support, headers={**bearer(everything), "If-Match": "*"}
    ).get_json()
    other = make_key("consent:read", name="another-client")
    webhook = client.post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/other-client-hook", "events": ["consent.changed"]},
        headers=bearer(other),
    ).get_json()
    return {
        "app": app,
        "keys": keys,
        "make_user": make_user,
        "values": {
            "slug": "accounts",
            "activity": "accounts",
            "svc": "helsedata",
            "filename": "swagger-ui.css",
            "subject": subject,
            "purpose": "surveys",
            "receipt_id": consent["receipt"]["consentReceiptID"],
            "reference": created["reference"],
            "hold_id": str(hold["id"]),
            "appeal_id": "1",  # no such appeal: the scope is checked before the 404
            "run_id": str(run["id"]),
            "change_id": str(change["pending_rule_change"]["id"]),
            "subscription_id": str(webhook["id"]),
            "delivery_id": "1",  # no delivery of that subscription: the scope is checked before the 404
            "withholding_id": "1",
            "deposit_id": "1",  # no such deposit: the scope is checked before the 404
            "record_id": "1",  # no such processor record: the scope is checked before the 404
            "transfer_key": "000000000000",  # no such transfer: the scope is checked before the 404
            "token": created["status_url"].rsplit("/", 1)[1],
            "signed": "not-a-signed-link",
            "action": "verify",
            "kind": "letter",
            "state_id": "1",
            "identifier_id": "1",  # Min side: no subject logged in, refused before the 404
            "status": "withdrawn",
            "portal_id": "u-never-linked",  # 404 after the scope is checked
        },
        "consent_link": "/consent/" + consent["withdraw_url"].split("/consent/", 1)[1],
        "webhook": webhook["id"],
    }


def _path(rule: str, values: dict[str, str], consent_link: str) -> str:
    if rule.startswith("/consent/withdraw/"):
        return consent_link
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], rule)


def _body(method: str, path: str) -> dict[str, Any]:
    if method in ("GET", "DELETE"):
        return {}
    if not path.startswith("/api/"):  # pages post forms
        return {"data": {"dry_run": "1"} if path == "/officer/retention/runs" else {}}
    if path == "/api/v1/retention/runs":
        return {"json": {"dry_run": True}}
    if path == "/api/v1/activities":
        return {"json": minimal_activity(slug="matrix-activity")}
    return {"json": {}}


def _client_for(world: dict[str, Any], caller: str) -> tuple[FlaskClient, dict[str, str]]:
    app: Flask = world["app"]
    client = app.test_client()
    if caller in ROLE_SCOPES:
        user = world["make_user"](caller)
        login = client.post("/login", data={**user, "csrf_token": csrf_token(client)})
        assert login.status_code == 302
        return client, {"X-CSRFToken": csrf_token(client, "/officer/activities")}
    if caller.startswith("key "):
        return client, bearer(world["keys"][caller.removeprefix("key ")])
    return client, {"X-CSRFToken": csrf_token(client)}


@pytest.mark.parametrize("caller", CALLERS)
def test_every_route_lets_in_exactly_the_callers_the_table_allows(world: dict[str, Any], caller: str) -> None:
    client, headers = _client_for(world, caller)
    wrong = []
    # /logout last: it ends the session the other calls use
    for route, kind in sorted(EXPECTED.items(), key=lambda item: item[0] == "POST /logout"):
        method, rule = route.split(" ", 1)
        path = _path(rule, world["values"], world["consent_link"])
        if caller == "status link" and "<token>" not in rule and kind == "public":
            continue  # the link's holder is anonymous everywhere else: covered by that column
        allowed = _allowed(kind, caller)
        with client.open(path, method=method, headers=headers, **_body(method, path)) as response:
            if allowed == _denied(response, kind, caller) or response.status_code >= 500:
                wrong.append(
                    f"{route} -> {response.status_code} (expected {'allowed' if allowed else 'denied'})"
                )
            # every answer, allowed or not, carries the security headers and only safe file names
            if "default-src 'self'" not in response.headers.get("Content-Security-Policy", ""):
                wrong.append(f"{route}: no CSP")
            if response.headers.get("X-Content-Type-Options") != "nosniff":
                wrong.append(f"{route}: no nosniff")
            disposition = response.headers.get("Content-Disposition", "")
            if disposition and not SAFE_DISPOSITION.fullmatch(disposition):
                wrong.append(f"{route}: unsafe Content-Disposition {disposition!r}")
    assert wrong == []


def test_another_clients_key_neither_sees_nor_ends_a_webhook(world: dict[str, Any]) -> None:
    client = world["app"].test_client()
    mine = bearer(world["keys"]["consent:read"])
    assert world["webhook"] not in [w["id"] for w in client.get("/api/v1/webhooks", headers=mine).get_json()]
    hook = f"/api/v1/webhooks/{world['webhook']}"
    assert client.post(f"{hook}/ping", headers=mine).status_code == 404
    assert client.get(f"{hook}/deliveries", headers=mine).status_code == 404
    assert client.post(f"{hook}/deliveries/1/redeliver", headers=mine).status_code == 404
    assert client.delete(hook, headers=mine).status_code == 404


def test_another_clients_request_and_consent_records_answer_as_if_they_did_not_exist(
    world: dict[str, Any], client: FlaskClient, login: Callable[[str], dict[str, str]]
) -> None:
    """The request and the consent of the world were made by another client (the one with every scope): a
    client holding the scope to read such things gets 404 for them; an officer gets them."""
    values, keys = world["values"], world["keys"]
    reference, subject = values["reference"], values["subject"]
    reads = {
        "requests:read": [f"/api/v1/requests/{reference}", f"/api/v1/requests/{reference}/package"],
        "consent:read": [
            f"/api/v1/consents/{subject}/surveys/history",
            f"/api/v1/consent-receipts/{values['receipt_id']}",
        ],
    }
    for scope, paths in reads.items():
        for path in paths:
            assert client.get(path, headers=bearer(keys[scope])).status_code == 404, path
    listed = client.get("/api/v1/requests", headers=bearer(keys["requests:read"])).get_json()
    assert reference not in [r["reference"] for r in listed]
    # the state of her consent is one answer for every portal
    state = client.get(f"/api/v1/consents/{subject}/surveys", headers=bearer(keys["consent:read"]))
    assert state.status_code == 200 and state.get_json()["status"] == "given"
    login("auditor")
    for path in (f"/api/v1/requests/{reference}", *reads["consent:read"]):
        assert client.get(path).status_code == 200, path


def test_a_status_link_opens_its_own_request_only(world: dict[str, Any]) -> None:
    client = world["app"].test_client()
    token = world["values"]["token"]
    assert client.get(f"/requests/status/{token}").status_code == 200
    forged = token[:-2] + ("aa" if not token.endswith("aa") else "bb")
    assert client.get(f"/requests/status/{forged}").status_code == 404
    # holding the link gives nothing on the API or the officer pages
    assert client.get(f"/api/v1/requests/{world['values']['reference']}").status_code == 401
    assert client.get(f"/officer/requests/{world['values']['reference']}").status_code == 302
