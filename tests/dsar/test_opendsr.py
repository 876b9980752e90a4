"""OpenDSR 2.0 for processors (issue 20, item 6): a processor the registry names with an OpenDSR endpoint gets
the request as an OpenDSR request, and its signed status callbacks are recorded and shown on the request.

The processor is played by a real HTTP server on loopback; the service is served on loopback too, so the
processor calls back the URL the request gave it, as a processor would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from flask import Flask
from sqlalchemy import select
from tests_support import bearer, settle
from werkzeug.serving import make_server

from privacy_service import notify
from privacy_service.audit import Actor, AuditEvent
from privacy_service.db import transaction
from privacy_service.dsar.models import DsarProcessorRequest
from privacy_service.ropa import service as ropa
from privacy_service.ropa.schemas import organisation_schema

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}
NOW = datetime.now(UTC)


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(
    key: rsa.RSAPrivateKey,
    *,
    name: str,
    issuer: x509.Name | None = None,
    signer: Any = None,
    ca: bool = False,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    return builder.sign(signer or key, hashes.SHA256())


@dataclass(frozen=True)
class Authority:
    """A certificate authority of the tests, issuing the processors' signing certificates (§ 4.1)."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    def issue(self, domain: str, key: rsa.RSAPrivateKey) -> str:
        cert = _certificate(key, name=domain, issuer=self.certificate.subject, signer=self.key)
        return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def authority() -> Authority:
    key = _key()
    return Authority(key, _certificate(key, name="Test OpenDSR CA", ca=True))


def sign(key: rsa.RSAPrivateKey, body: bytes) -> str:
    """X-OpenDSR-Signature: the Base64 RSA signature of the body over SHA-256."""
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


@dataclass
class Processor:
    """A processor's OpenDSR endpoint: POST /v2/requests answers 201 with a signed receipt; `call_back`
    sends a signed status callback to the URL the request named."""

    domain: str
    key: rsa.RSAPrivateKey = field(default_factory=_key)
    received: list[dict[str, Any]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    port: int = 0
    fail_first: int = 0  # answer 503 to the first requests
    receipt_key: rsa.RSAPrivateKey | None = None  # sign receipts with another key than the certificate's
    first_call_back: str | None = None  # a status to call back before answering the request
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def start(self) -> None:
        processor = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != "/v2/requests":
                    self.send_response(404)
                    self.end_headers()
                    return
                if processor.fail_first > 0:
                    processor.fail_first -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                request = json.loads(body)
                processor.raw.append(body)
                processor.received.append(request)
                if processor.first_call_back:
                    processor.answers.append(processor.call_back(processor.first_call_back, request=request))
                receipt = json.dumps({
                    "controller_id": "helsedir",
                    "expected_completion_time": "2026-12-20T12:00:00Z",
                    "received_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "encoded_request": base64.b64encode(body).decode(),
                    "subject_request_id": request["subject_request_id"],
                }).encode()  # fmt: skip
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-OpenDSR-Processor-Domain", processor.domain)
                self.send_header("X-OpenDSR-Signature", sign(processor.receipt_key or processor.key, receipt))
                self.send_header("Content-Length", str(len(receipt)))
                self.end_headers()
                self.wfile.write(receipt)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def call_back(
        self,
        status: str,
        *,
        request: dict[str, Any] | None = None,
        key: rsa.RSAPrivateKey | None = None,
        signed: bool = True,
        domain: str | None = None,
        **changes: Any,
    ) -> tuple[int, dict[str, Any]]:
        """Send a status callback (§ 8.6) about a request it received (the last by default)."""
        request = request or self.received[-1]
        url = request["status_callback_urls"][0]
        body = json.dumps({
            "controller_id": "helsedir",
            "expected_completion_time": "2026-12-20T12:00:00Z",
            "status_callback_url": url,
            "subject_request_id": request["subject_request_id"],
            "request_status": status,
            **changes,
        }).encode()  # fmt: skip
        headers = {"Content-Type": "application/json", "X-OpenDSR-Processor-Domain": domain or self.domain}
        if signed:
            headers["X-OpenDSR-Signature"] = sign(key or self.key, body)
        call = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(call, timeout=10) as answer:  # noqa: S310 - loopback in the tests
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())


@pytest.fixture
def service_url(app: Flask) -> Iterator[str]:
    """The service on loopback: its callback URL is what the processors call back."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["PRIVACY_BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join(5)


def _register(app: Flask, slug: str, processor: Processor, certificate: str, **opendsr: Any) -> None:
    """Name the processor's OpenDSR endpoint in the registry (as organisations.yaml would)."""
    with transaction(app.extensions["engine"]) as session:
        data = dict(ropa.list_organisations(session)[slug])
        data["opendsr"] = {
            "url": processor.url,
            "domain": processor.domain,
            "certificate": certificate,
            **opendsr,
        }
        ropa.upsert_organisation(session, data=organisation_schema.load(data), actor=Actor("cli", "tests"))


@pytest.fixture
def processors(app: Flask, authority: Authority, service_url: str) -> Iterator[dict[str, Processor]]:
    """ehelse and nhn, the processors of `accounts`, each with its own OpenDSR endpoint and certificate."""
    found = {"ehelse": Processor("opendsr.ehelse.test"), "nhn": Processor("opendsr.nhn.test")}
    for slug, processor in found.items():
        processor.start()
        _register(app, slug, processor, authority.issue(processor.domain, processor.key))
    yield found
    for processor in found.values():
        processor.stop()


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage"))


def _deliver(app: Flask) -> dict[str, int]:
    return notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))


def _approved(app: Flask, client: Any, officer: dict[str, str], **body: Any) -> tuple[str, dict[str, Any]]:
    body = {
        "subject": KARI,
        "verified_by": "ID-porten",
        "type": "erasure",
        "activities": ["accounts"],
        **body,
    }
    created = client.post("/api/v1/requests", headers=officer, json=body)
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    _deliver(app)  # the plan
    settle(client, reference, officer)
    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()
    return reference, approved.get_json()


def _rows(app: Flask) -> dict[str, DsarProcessorRequest]:
    with transaction(app.extensions["engine"]) as session:
        return {r.organisation: r for r in session.scalars(select(DsarProcessorRequest))}


@pytest.mark.usefixtures("demo")
def test_an_erasure_goes_to_the_processors_and_their_callbacks_reach_completed(
    app: Flask,
    client: Any,
    officer: dict[str, str],
    processors: dict[str, Processor],
    service_url: str,
    login: Any,
) -> None:
    reference, approved = _approved(app, client, officer)
    accounts = next(o for o in approved["outcomes"] if o["activity"] == "accounts")
    told = {r["key"]: r for r in accounts["recipients"]}
    assert told["ehelse"]["state"] == "told" and told["ehelse"]["channel"] == "opendsr"
    assert {p["status"] for p in approved["processors"]} == {"queued"}  # sent once the approval commits
    with transaction(app.extensions["engine"]) as session:
        mails = [m for m in session.scalars(select(notify.OutboxMessage)) if m.event == "dsar.art19"]
    assert mails == []  # the processors with an OpenDSR endpoint get no Art. 19 mail

    assert _deliver(app)["delivered"] >= 2
    ehelse = processors["ehelse"]
    [sent] = ehelse.received
    assert set(sent) == {"regulation", "subject_request_id", "subject_request_type", "submitted_time",
                         "subject_identities", "api_version", "status_callback_urls"}  # fmt: skip
    assert sent["regulation"] == "gdpr" and sent["subject_request_type"] == "erasure"
    assert str(uuid.UUID(sent["subject_request_id"], version=4)) == sent["subject_request_id"]
    assert sent["api_version"] == "2.0" and sent["submitted_time"].endswith("Z")
    assert sent["status_callback_urls"] == [f"{service_url}/api/v1/opendsr/callbacks"]
    digest = hashlib.sha256(KARI["email"].encode()).hexdigest()
    assert sent["subject_identities"] == [
        {"identity_type": "email", "identity_value": digest, "identity_format": "sha256"}
    ]
    assert b"kari" not in ehelse.raw[0].lower() and b"15838512671" not in ehelse.raw[0]  # never in clear
    assert processors["nhn"].received[0]["subject_request_id"] != sent["subject_request_id"]
    assert _rows(app)["ehelse"].status == "pending"  # the signed receipt was read
    assert _rows(app)["ehelse"].controller_id == "helsedir"

    assert ehelse.call_back("in_progress") == (202, {"subject_request_id": sent["subject_request_id"],
                                                     "request_status": "in_progress"})  # fmt: skip
    assert ehelse.call_back("completed", results_count=3)[0] == 202
    assert ehelse.call_back("completed")[0] == 202  # a repeat is accepted and records nothing new
    row = _rows(app)["ehelse"]
    assert row.status == "completed" and row.results_count == 3
    assert [h["status"] for h in row.history] == ["queued", "pending", "in_progress", "completed"]

    shown = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()["processors"]
    assert {p["organisation"]: p["status"] for p in shown} == {"ehelse": "completed", "nhn": "pending"}
    login("officer")
    page = client.get(f"/officer/requests/{reference}").get_data(as_text=True)
    assert 'data-processor="ehelse" data-opendsr-status="completed"' in page
    assert "Fullført hos databehandleren" in page and "Mottatt av databehandleren" in page
    assert ">completed<" not in page and ">pending<" not in page  # no status shown raw
    english = client.get(f"/officer/requests/{reference}?lang=en").get_data(as_text=True)
    assert "Completed by the processor" in english

    with transaction(app.extensions["engine"]) as session:
        actions = [
            (e.action, e.actor, e.details.get("processor_status"))
            for e in session.scalars(select(AuditEvent).where(AuditEvent.object_id == reference))
            if e.action.startswith("dsar.opendsr")
        ]
    assert actions.count(("dsar.opendsr_received", "system:opendsr", None)) == 2
    assert [a for a in actions if a[0] == "dsar.opendsr_status" and a[1] == "processor:ehelse"] == [
        ("dsar.opendsr_status", "processor:ehelse", "in_progress"),
        ("dsar.opendsr_status", "processor:ehelse", "completed"),
    ]
    assert sum(1 for a in actions if a[0] == "dsar.opendsr_queued") == 1


@pytest.mark.usefixtures("demo")
def test_an_access_request_goes_to_the_processors_as_access(
    app: Flask, client: Any, officer: dict[str, str], processors: dict[str, Processor]
) -> None:
    _approved(app, client, officer, type="access")
    _deliver(app)
    assert [r["subject_request_type"] for r in processors["ehelse"].received] == ["access"]


@pytest.mark.usefixtures("demo")
def test_callbacks_that_are_not_the_processors_are_refused(
    app: Flask, client: Any, officer: dict[str, str], processors: dict[str, Processor]
) -> None:
    _approved(app, client, officer)
    _deliver(app)
    ehelse, nhn = processors["ehelse"], processors["nhn"]

    status, body = ehelse.call_back("completed", key=_key())  # signed by another key
    assert (status, body["error"]["code"]) == (403, "bad_signature")
    status, body = ehelse.call_back("completed", signed=False)
    assert (status, body["error"]["code"]) == (403, "bad_signature")
    status, body = ehelse.call_back("completed", domain="opendsr.unknown.test")
    assert (status, body["error"]["code"]) == (401, "unknown_processor")
    # nhn's request id, from ehelse (signed by ehelse): not a request ehelse was sent
    status, body = ehelse.call_back("completed", request=nhn.received[0])
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = ehelse.call_back("completed", subject_request_id=str(uuid.uuid4()))
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = ehelse.call_back("completed", status_callback_url="https://elsewhere.example/cb")
    assert (status, body["error"]["code"]) == (400, "bad_callback")
    status, body = ehelse.call_back("finished")
    assert (status, body["error"]["code"]) == (400, "bad_callback") and "request_status" in body["error"][
        "fields"
    ]
    assert {r.organisation: r.status for r in _rows(app).values()} == {"ehelse": "pending", "nhn": "pending"}

    assert ehelse.call_back("cancelled")[0] == 202
    status, body = ehelse.call_back("in_progress")
    assert (status, body["error"]["code"]) == (409, "conflict")  # cancelled is final (§ 8)


@pytest.mark.usefixtures("demo")
def test_the_request_is_sent_again_until_the_processor_signs_a_receipt(
    app: Flask, client: Any, officer: dict[str, str], processors: dict[str, Processor]
) -> None:
    ehelse = processors["ehelse"]
    ehelse.fail_first, ehelse.receipt_key = 1, _key()
    reference, __ = _approved(app, client, officer)
    assert _deliver(app)["retrying"] == 1  # 503
    later = datetime.now(UTC) + timedelta(minutes=5)
    counts = notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config), now=later)
    assert counts["retrying"] == 1 and _rows(app)["ehelse"].status == "queued"  # a receipt it did not sign
    with transaction(app.extensions["engine"]) as session:
        errors = [
            m.last_error for m in session.scalars(select(notify.OutboxMessage)) if m.event == "dsar.opendsr"
        ]
    assert "RuntimeError: the processor's receipt is not signed by its certificate" in errors
    assert not any("kari" in (e or "").lower() for e in errors)
    shown = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()["processors"]
    assert {p["organisation"]: (p["status"], p["attempts"]) for p in shown}["ehelse"] == ("queued", 2)
    ehelse.receipt_key = None
    later += timedelta(minutes=5)
    notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config), now=later)
    assert _rows(app)["ehelse"].status == "pending"
    assert len({r["subject_request_id"] for r in ehelse.received}) == 1  # the same request each time


@pytest.mark.usefixtures("demo")
def test_a_request_the_outbox_gave_up_on_shows_as_failed(
    app: Flask, client: Any, officer: dict[str, str], processors: dict[str, Processor], login: Any
) -> None:
    reference, __ = _approved(app, client, officer)
    with transaction(app.extensions["engine"]) as session:  # as the outbox leaves it after MAX_ATTEMPTS
        for message in session.scalars(
            select(notify.OutboxMessage).where(notify.OutboxMessage.event == "dsar.opendsr")
        ):
            message.status, message.attempts = "failed", notify.MAX_ATTEMPTS
    shown = client.get(f"/api/v1/requests/{reference}", headers=officer).get_json()["processors"]
    assert {p["status"] for p in shown} == {"failed"}
    login("officer")
    page = client.get(f"/officer/requests/{reference}").get_data(as_text=True)
    assert "Kunne ikke sendes: databehandleren bekreftet den aldri" in page and "Forsøk så langt: 30" in page


# PostgreSQL only, so that nothing skips in CI. The outbox runs a task in one transaction, around the POST: on
# SQLite a write committed by the callback meanwhile leaves that transaction unable to write (database is
# locked); the next round finds the row moved on and has nothing to do. PostgreSQL re-reads the row locked
# (opendsr.deliver).
@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)
@pytest.mark.usefixtures("demo")
def test_a_callback_before_the_receipt_is_not_overwritten_by_it(
    app: Flask, client: Any, officer: dict[str, str], processors: dict[str, Processor]
) -> None:
    ehelse = processors["ehelse"]
    ehelse.first_call_back = "in_progress"  # the processor calls back before it answers the POST
    _approved(app, client, officer)
    _deliver(app)
    assert [status for status, __ in ehelse.answers] == [202]
    assert _rows(app)["ehelse"].status == "in_progress"


def test_a_self_signed_certificate_is_not_trusted(app: Flask, service_url: str) -> None:
    from privacy_service.dsar import opendsr

    processor = Processor("opendsr.ehelse.test")
    pem = _certificate(processor.key, name=processor.domain).public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(opendsr.UnknownProcessor):
        opendsr.trusted_certificate({"domain": processor.domain, "certificate": pem}, processor.domain)


def test_the_registry_refuses_an_endpoint_without_a_certificate(app: Flask) -> None:
    with transaction(app.extensions["engine"]) as session:
        data = dict(ropa.list_organisations(session)["ehelse"])
    data["opendsr"] = {"url": "https://opendsr.ehelse.test/v2", "domain": "opendsr.ehelse.test",
                       "certificate": "not a certificate"}  # fmt: skip
    from marshmallow import ValidationError

    with pytest.raises(ValidationError) as err:
        organisation_schema.load(data)
    assert "certificate" in err.value.messages["opendsr"]


@pytest.mark.usefixtures("demo")
def test_a_processor_without_an_endpoint_keeps_the_mail(
    app: Flask, client: Any, officer: dict[str, str]
) -> None:
    __, approved = _approved(app, client, officer)
    accounts = next(o for o in approved["outcomes"] if o["activity"] == "accounts")
    ehelse = next(r for r in accounts["recipients"] if r["key"] == "ehelse")
    assert ehelse["state"] == "told" and "channel" not in ehelse
    assert approved["processors"] == []
    with transaction(app.extensions["engine"]) as session:
        mails = [
            m.payload["to"] for m in session.scalars(select(notify.OutboxMessage)) if m.event == "dsar.art19"
        ]
    assert "service@helsedata.no" in mails
