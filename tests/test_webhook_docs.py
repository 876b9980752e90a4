"""docs/webhooks.md is what a portal's developer copies, so its code and its examples are run here
against real deliveries received on loopback (issue 20, item 3): the Python and the JavaScript signature
checks accept a real delivery and refuse a tampered body, another key and a stale timestamp; the documented
payloads and the deliveries listing have the fields the service really sends."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from tests_support import bearer, settle
from webhook_support import Received, webhook_receiver

from privacy_service import notify, webhooks

DOC = Path(__file__).resolve().parent.parent / "docs" / "webhooks.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
TOLERANCE = 300  # the five minutes the page recommends


def _block(language: str, containing: str) -> str:
    """The one fenced code block of the page in `language` that contains the text."""
    found = [code for lang, code in FENCE.findall(DOC.read_text()) if lang == language and containing in code]
    assert len(found) == 1, (language, containing, len(found))
    return found[0]


def _documented_verify() -> Any:
    namespace: dict[str, Any] = {}
    exec(_block("python", "def verify("), namespace)  # noqa: S102 - the documented code is what is tested
    return namespace["verify"]


def _real_delivery(app: Flask, client: FlaskClient, make_key: Any) -> tuple[str, Received]:
    """A consent.changed delivery as a portal's receiver gets it, and the subscription's secret."""
    portal = bearer(make_key("consent:read", "consent:write", name="docs-portal"))
    with webhook_receiver() as receiver:
        sub = client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["consent.changed"]}, headers=portal
        ).get_json()
        put = client.put("/api/v1/consents/docs-user-1/surveys", json={"status": "given"}, headers=portal)
        assert put.status_code == 200, put.get_json()
        webhooks.deliver_webhooks(app.extensions["engine"], notify.transport_for(app.config))
        [got] = receiver.received
    return sub["secret"], got


def _cases(secret: str, got: Received) -> list[tuple[str, str, bytes, str, float | None, bool]]:
    """(what, secret, body, header, now, accepted?) for a real delivery and its forgeries."""
    header = got.headers["X-Privacy-Signature"]
    t = int(header.split(",")[0].removeprefix("t="))
    tampered = got.body.replace(b'"status":"given"', b'"status":"withdrawn"')
    assert tampered != got.body
    mac = header.split("v1=", 1)[1]
    return [
        ("the real delivery", secret, got.body, header, None, True),
        ("a tampered body", secret, tampered, header, None, False),
        ("another subscription's key", "0" * 64, got.body, header, None, False),
        ("arriving after the tolerance", secret, got.body, header, t + TOLERANCE + 1, False),
        ("arriving just within it", secret, got.body, header, t + TOLERANCE - 1, True),
        (
            "signed too long ago",
            secret,
            got.body,
            notify.sign(secret, got.body, t - TOLERANCE - 1),
            None,
            False,
        ),
        ("its time moved forward", secret, got.body, f"t={t + 60},v1={mac}", None, False),
        (
            "a second, unknown signature beside it",
            secret,
            got.body,
            f"{header},v1={'f' * 64},v9=x",
            None,
            True,
        ),
        ("no timestamp", secret, got.body, f"v1={mac}", None, False),
        ("no signature", secret, got.body, f"t={t}", None, False),
        ("garbage", secret, got.body, "t=¹²,v1=ø", None, False),
        ("empty", secret, got.body, "", None, False),
    ]


def test_the_documented_python_check_accepts_a_real_delivery_and_refuses_forgeries_and_stale_ones(
    app: Flask, client: FlaskClient, make_key: Any
) -> None:
    verify = _documented_verify()
    secret, got = _real_delivery(app, client, make_key)
    answers = {
        what: verify(key, body, header, TOLERANCE, now)
        for what, key, body, header, now, _ in _cases(secret, got)
    }
    assert answers == {what: accepted for what, _, _, _, _, accepted in _cases(secret, got)}


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js runs the documented JavaScript")
def test_the_documented_javascript_check_decides_as_the_python_one(
    app: Flask, client: FlaskClient, make_key: Any, tmp_path: Path
) -> None:
    (tmp_path / "verify.js").write_text(_block("javascript", "timingSafeEqual"))
    (tmp_path / "run.js").write_text(
        'const { verify } = require("./verify.js");\n'
        'const cases = JSON.parse(require("node:fs").readFileSync(0, "utf8"));\n'
        "const body = (c) => Buffer.from(c.body, 'base64');\n"
        "const now = (c) => (c.now === null ? undefined : c.now);\n"
        "console.log(JSON.stringify(cases.map((c) => verify(c.secret, body(c), c.header, 300, now(c)))));\n"
    )
    secret, got = _real_delivery(app, client, make_key)
    cases = _cases(secret, got)
    stdin = json.dumps(
        [
            {"secret": k, "body": base64.b64encode(b).decode(), "header": h, "now": n}
            for _, k, b, h, n, _ in cases
        ]
    )
    done = subprocess.run(
        ["node", str(tmp_path / "run.js")],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answers = dict(zip([c[0] for c in cases], json.loads(done.stdout), strict=True))
    assert answers == {what: accepted for what, _, _, _, _, accepted in cases}


def _documented_json(containing: str) -> dict[str, Any]:
    return json.loads(_block("json", containing))


def _documented_delivery(event: str) -> dict[str, Any]:
    """The page's example body of an event (the block that is that delivery, not one that names it)."""
    return _documented_json('{\n  "event": ' + json.dumps(event))


def _shape(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    return sorted(body), sorted(body["data"])


def test_the_documented_payloads_have_the_fields_real_deliveries_have(
    app: Flask, client: FlaskClient, make_key: Any
) -> None:
    portal = bearer(make_key("consent:read", "consent:write", name="docs-shapes"))
    with webhook_receiver() as receiver:
        sub = client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["consent.changed"]}, headers=portal
        ).get_json()
        client.put("/api/v1/consents/docs-user-2/surveys", json={"status": "given"}, headers=portal)
        assert client.post(f"/api/v1/webhooks/{sub['id']}/ping", headers=portal).status_code == 202
        webhooks.deliver_webhooks(app.extensions["engine"], notify.transport_for(app.config))
        real = {r.json["event"]: r.json for r in receiver.received}
    assert set(real) == {"consent.changed", "webhook.ping"}
    for event, body in real.items():
        documented = _documented_delivery(event)
        assert _shape(documented) == _shape(body), event
        assert [type(v) for _, v in sorted(documented["data"].items())] == [
            type(v) for _, v in sorted(body["data"].items())
        ], event
    assert real["webhook.ping"]["data"]["events"] == ["consent.changed"]
    listing = client.get(f"/api/v1/webhooks/{sub['id']}/deliveries", headers=portal).get_json()
    documented = _documented_json('"last_status_code"')
    assert sorted(documented) == sorted(listing)
    assert sorted(documented["items"][0]) == sorted(listing["items"][0])


def test_the_documented_subject_erased_delivery_and_pseudonym_are_the_services(
    app: Flask, client: FlaskClient, make_key: Any, demo: Path
) -> None:
    """Kari's erasure, submitted by the portal: its delivery has the documented fields, and the documented
    pseudonym function finds her in it from the address the portal holds."""
    scopes = ("requests:read", "requests:write", "requests:write:verified", "requests:manage", "consent:read")
    portal = bearer(make_key(*scopes, name="docs-erasure"))
    kari = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
    with webhook_receiver() as receiver:
        sub = client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["subject.erased"]}, headers=portal
        ).get_json()
        body = {"type": "erasure", "subject": kari, "verified_by": "ID-porten", "activities": ["accounts"]}
        ref = client.post("/api/v1/requests", headers=portal, json=body).get_json()["reference"]
        notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))  # the plan
        settle(client, ref, portal)
        assert client.post(f"/api/v1/requests/{ref}/approve", headers=portal, json={}).status_code == 200
        webhooks.deliver_webhooks(app.extensions["engine"], notify.transport_for(app.config))
        [got] = receiver.received
    documented = _documented_delivery("subject.erased")
    assert _shape(documented) == _shape(got.json)
    assert got.json["data"]["reference"] == ref
    namespace: dict[str, Any] = {}
    exec(_block("python", "def subject_pseudonym("), namespace)  # noqa: S102 - the documented code is tested
    held = " Kari.Nordmann@Example.NO "  # as a portal may hold it
    assert namespace["subject_pseudonym"](sub["secret"], held) == got.json["data"]["subject_pseudonym"]


def test_the_documented_signature_is_the_one_the_service_makes() -> None:
    """`t=<t>,v1=hex(HMAC-SHA256(secret, t + "." + body))`, keyed with the secret's own bytes."""
    secret, body, t = "c0ffee" * 10 + "beef", b'{"event":"webhook.ping"}', int(time.time())
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert notify.sign(secret, body, t) == f"t={t},v1={mac}"
    assert _documented_verify()(secret, body, f"t={t},v1={mac}")
