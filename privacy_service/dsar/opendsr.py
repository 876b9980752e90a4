"""OpenDSR 2.0 for processors (docs/opendsr.md; https://github.com/opengdpr/OpenDSR, specification.md).

A processor the registry names with an `opendsr` endpoint (ropa's OrganisationSchema) receives the request's
erasure, access or portability as an OpenDSR request instead of the Art. 19 mail: one request per processor,
queued as an outbox task in the transaction that carries the request out (with its timeline and audit event),
and POSTed by the dispatcher to `<url>/requests` with retries until the processor answers 201 with a receipt
signed by its certificate (§ 7.3-7.4). The body names the subject only by her proved e-mail address, as the
SHA-256 of the address in lower case unless the registry says the processor needs it `raw` (§ 5.2); it is
built when sent, so the outbox holds no identity, and it is never logged.

The processor reports status changes (§ 8: pending, in_progress, completed, cancelled) to our callback URL.
A callback is checked as § 8.8 and the security guidelines say, before its body is read: the domain in
X-OpenDSR-Processor-Domain must be a processor of the registry (the whitelist); its certificate, pinned in the
registry as its /discovery publishes it, must be current, name that domain, and not be self-signed (§ 4.1);
X-OpenDSR-Signature must be its signature of the raw body over SHA-256 (RSA PKCS #1 v1.5 or ECDSA, FIPS 186-4,
§ 4.2). Then the body must name our callback URL and a subject_request_id sent to that processor. The status
is recorded with a timeline step and its audit event in one transaction. The X-OpenGDPR-* headers of the
protocol's former name are honoured too (§ 10.1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from marshmallow import ValidationError
from sqlalchemy import select
from sqlmodel import Session

from privacy_service import notify, webhooks
from privacy_service.audit import Actor
from privacy_service.dsar import lifecycle
from privacy_service.dsar.models import DsarProcessorRequest, DsarRequest
from privacy_service.dsar.opendsr_schemas import callback_schema, receipt_schema
from privacy_service.errors import N_, Conflict, DomainError, NotFound
from privacy_service.kernel import utcnow
from privacy_service.notify import Transport
from privacy_service.ropa import service as ropa

API_VERSION = "2.0"
TASK = "dsar.opendsr"  # the outbox task that POSTs one OpenDSR request
CALLBACK_PATH = "/api/v1/opendsr/callbacks"
TYPES = ("erasure", "access", "portability")  # § 6.2: the request types OpenDSR carries
FINAL = ("completed", "cancelled")
DOMAIN_HEADERS = ("X-OpenDSR-Processor-Domain", "X-OpenGDPR-Processor-Domain")
SIGNATURE_HEADERS = ("X-OpenDSR-Signature", "X-OpenGDPR-Signature")
SENDER = Actor("system", "opendsr")


class UnknownProcessor(DomainError):
    """The callback names no processor of the registry, or its certificate is not one to trust (401)."""

    code = "unknown_processor"
    status = 401


class BadSignature(DomainError):
    """The callback is not signed, or not by the processor's certificate (403, OpenDSR 2.0 § 8.8)."""

    code = "bad_signature"
    status = 403


class BadCallback(DomainError):
    """A signed callback whose body is not an OpenDSR status callback for us (400)."""

    code = "bad_callback"
    status = 400


# --- sending ------------------------------------------------------------------------------------------------


def endpoint_for(req: DsarRequest, organisation: Mapping[str, Any]) -> dict[str, Any] | None:
    """The processor's OpenDSR endpoint if this request goes to it that way: it has one, takes the request's
    type, and the request has a proved e-mail address (the only identity § 5.1 and we share); else None."""
    endpoint = organisation.get("opendsr")
    if not endpoint or req.type not in endpoint.get("request_types", TYPES):
        return None
    return endpoint if lifecycle.verified_email(req) else None


def queue(session: Session, req: DsarRequest, *, organisation: str, activity: str) -> DsarProcessorRequest:
    """Queue the OpenDSR request to a processor (once per request and processor; a second activity of the
    same processor joins the first)."""
    row = session.scalar(
        select(DsarProcessorRequest).where(
            DsarProcessorRequest.request_id == req.id, DsarProcessorRequest.organisation == organisation
        )
    )
    if row is not None:
        if activity not in row.activities:
            row.activities = [*row.activities, activity]
        return row
    now = utcnow()
    row = DsarProcessorRequest(
        request_id=req.id or 0,
        organisation=organisation,
        subject_request_id=str(uuid.uuid4()),
        request_type=req.type,
        activities=[activity],
        history=[{"status": "queued", "at": now.isoformat()}],
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    notify.enqueue_task(session, task=TASK, payload={"id": row.id})
    return row


def queued_now(session: Session, req: DsarRequest) -> list[DsarProcessorRequest]:
    """The request's OpenDSR requests not yet acknowledged by their processor."""
    return [r for r in of_request(session, req) if r.status == "queued"]


def of_request(session: Session, req: DsarRequest) -> list[DsarProcessorRequest]:
    """The OpenDSR requests sent about a request, one per processor."""
    stmt = select(DsarProcessorRequest).where(DsarProcessorRequest.request_id == req.id)
    return list(session.scalars(stmt.order_by(DsarProcessorRequest.id)))


def _sending(session: Session, rows: list[DsarProcessorRequest]) -> dict[int, notify.OutboxMessage]:
    """The outbox task of each request still queued: how often it was tried, and if the outbox gave up."""
    waiting = {r.id for r in rows if r.status == "queued"}
    if not waiting:
        return {}
    outbox = notify.OutboxMessage
    tasks = session.scalars(select(outbox).where(outbox.event == TASK, outbox.status != "delivered"))
    return {int(m.payload["id"]): m for m in tasks if int(m.payload.get("id", 0)) in waiting}


def statuses(session: Session, req: DsarRequest) -> list[dict[str, Any]]:
    """Each processor's OpenDSR request about a request, as the officer and the API read it; one the outbox
    gave up sending (MAX_ATTEMPTS without a signed receipt) is `failed`."""
    organisations = ropa.list_organisations(session)
    unnamed = {"nb": "", "en": ""}
    rows = of_request(session, req)
    sending = _sending(session, rows)
    out = []
    for r in rows:
        task = sending.get(r.id or 0)
        out.append(
            {
                "organisation": r.organisation,
                "name": organisations.get(r.organisation, {}).get("name")
                or {**unnamed, "nb": r.organisation},
                "subject_request_id": r.subject_request_id,
                "type": r.request_type,
                "activities": r.activities,
                "status": "failed" if task is not None and task.status == "failed" else r.status,
                "attempts": task.attempts if task is not None else None,
                "updated_at": r.updated_at,
                "expected_completion_at": r.expected_completion_at,
                "results_url": r.results_url,
                "results_count": r.results_count,
            }
        )
    return out


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def identity_value(email: str, identity_format: str) -> str:
    """The address as the processor gets it: hex SHA-256 of the trimmed lower-case address, or raw."""
    normal = email.strip().lower()
    return hashlib.sha256(normal.encode()).hexdigest() if identity_format == "sha256" else normal


def request_body(
    req: DsarRequest, row: DsarProcessorRequest, endpoint: Mapping[str, Any], *, callback_url: str
) -> dict[str, Any]:
    """The OpenDSR request (§ 7.1.1): no extensions, as we have nothing processor-specific to say."""
    identity_format = endpoint.get("identity_format", "sha256")
    return {
        "regulation": "gdpr",
        "subject_request_id": row.subject_request_id,
        "subject_request_type": row.request_type,
        "submitted_time": _rfc3339(req.received_at),
        "subject_identities": [
            {
                "identity_type": "email",
                "identity_value": identity_value(lifecycle.verified_email(req) or "", identity_format),
                "identity_format": identity_format,
            }
        ],
        "api_version": API_VERSION,
        "status_callback_urls": [callback_url],
    }


def callback_url(base_url: str) -> str:
    """Our status callback URL, as requests name it and callbacks must repeat it."""
    return base_url.rstrip("/") + CALLBACK_PATH


def deliver(session: Session, payload: dict[str, Any], transport: Transport) -> None:
    """The outbox task: POST one OpenDSR request, and record the processor's signed receipt (§ 7.3). Any
    other answer raises, and the outbox tries again later."""
    row = session.get(DsarProcessorRequest, int(payload["id"]))
    if row is None or row.status != "queued":
        return  # acknowledged already (a callback may come before the receipt is read)
    req = session.get(DsarRequest, row.request_id)
    endpoint = ropa.list_organisations(session).get(row.organisation, {}).get("opendsr")
    if req is None or not endpoint:
        raise RuntimeError(f"{row.organisation} has no OpenDSR endpoint any more")
    body = json.dumps(request_body(req, row, endpoint, callback_url=callback_url(transport.base_url)))
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    try:
        answer = webhooks.exchange(
            endpoint["url"].rstrip("/") + "/requests",
            body.encode(),
            headers,
            policy=webhooks.TargetPolicy.of(transport),
            timeout=transport.http_timeout,
        )
    except webhooks.UnsafeTarget as err:
        raise RuntimeError(str(err)) from err
    if answer.status != 201:
        raise RuntimeError(f"the processor answered {answer.status}, not 201")
    certificate = trusted_certificate(endpoint, answer.headers.get("x-opendsr-processor-domain"))
    if not signed_by(certificate, answer.body, answer.headers.get("x-opendsr-signature")):
        raise RuntimeError("the processor's receipt is not signed by its certificate")
    # read the row again, locked: a callback may have moved it on while the processor answered
    session.refresh(row, with_for_update=True)
    _record_receipt(session, req, row, answer.body, sent=body.encode())


def _record_receipt(
    session: Session, req: DsarRequest, row: DsarProcessorRequest, body: bytes, *, sent: bytes
) -> None:
    """Keep what the receipt says, once it proves the processor got this very request (§ 7.3)."""
    try:
        receipt = receipt_schema.load(json.loads(body))
        echoed = base64.b64decode(receipt["encoded_request"], validate=True)
    except (ValueError, ValidationError, binascii.Error) as err:
        raise RuntimeError("the processor's receipt is not an OpenDSR response") from err
    if receipt["subject_request_id"] != row.subject_request_id or echoed != sent:
        raise RuntimeError("the processor's receipt is not for the request sent")
    if row.status == "queued":  # encoded_request is neither stored nor logged (§ 7.3)
        _move(row, "pending")
    row.controller_id = receipt["controller_id"]
    row.received_at, row.expected_completion_at = (
        receipt["received_time"],
        receipt["expected_completion_time"],
    )
    details = {"organisation": row.organisation, "subject_request_id": row.subject_request_id}
    lifecycle.record(session, req, "opendsr_received", SENDER, visible=False, details=details)


def _move(row: DsarProcessorRequest, status: str) -> None:
    now = utcnow()
    row.status, row.updated_at = status, now
    row.history = [*row.history, {"status": status, "at": now.isoformat()}]


# --- callbacks ----------------------------------------------------------------------------------------------


def _header(headers: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        if value := headers.get(name):
            return value
    return None


def _by_domain(session: Session, domain: str) -> tuple[str, dict[str, Any]] | None:
    for slug, organisation in ropa.list_organisations(session).items():
        endpoint = organisation.get("opendsr")
        if endpoint and endpoint["domain"] == domain:
            return slug, endpoint
    return None


def _names(certificate: x509.Certificate, domain: str) -> bool:
    """Whether the certificate's subject alternative names cover the domain (one wildcard label at most)."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    for name in names.get_values_for_type(x509.DNSName):
        name = name.lower()
        if name == domain or (name.startswith("*.") and domain.partition(".")[2] == name[2:]):
            return True
    return False


def trusted_certificate(
    endpoint: Mapping[str, Any], domain: str | None, *, now: datetime | None = None
) -> x509.Certificate:
    """The processor's certificate from the registry, if it may sign for the domain now; else
    UnknownProcessor (§ 4.1: issued to the processor's domain, by an authority, not self-signed)."""
    certificate = x509.load_pem_x509_certificate(endpoint["certificate"].encode())
    at = now or utcnow()
    if (domain or "").strip().lower() != endpoint["domain"]:
        raise UnknownProcessor(N_("The processor domain is not the one the registry names."))
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        raise UnknownProcessor(N_("The processor's certificate is not valid now."))
    if certificate.issuer == certificate.subject or not _names(certificate, endpoint["domain"]):
        raise UnknownProcessor(N_("The processor's certificate is self-signed or not issued to its domain."))
    return certificate


def signed_by(certificate: x509.Certificate, body: bytes, signature: str | None) -> bool:
    """Whether the Base64 signature is the certificate's key's signature of the body over SHA-256."""
    if not signature:
        return False
    try:
        raw = base64.b64decode("".join(signature.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    key = certificate.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, body, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def receive_callback(
    session: Session, *, body: bytes, headers: Mapping[str, str], base_url: str, now: datetime | None = None
) -> DsarProcessorRequest:
    """Check a status callback (§ 8.8) and record the status it reports, with its timeline step and audit
    event; raise UnknownProcessor, BadSignature, BadCallback, NotFound or Conflict when it may not."""
    domain = (_header(headers, DOMAIN_HEADERS) or "").strip().lower()
    found = _by_domain(session, domain) if domain else None
    if found is None:
        raise UnknownProcessor(N_("The callback names no processor the registry knows."))
    organisation, endpoint = found
    certificate = trusted_certificate(endpoint, domain, now=now)
    if not signed_by(certificate, body, _header(headers, SIGNATURE_HEADERS)):
        raise BadSignature(N_("The callback is not signed by the processor's certificate."))
    try:
        data = callback_schema.load(json.loads(body))
    except (ValueError, TypeError) as err:
        raise BadCallback(N_("The callback is not valid JSON.")) from err
    except ValidationError as err:
        raise BadCallback(
            N_("The callback is not valid; see fields."), fields=err.normalized_messages()
        ) from err
    if data["status_callback_url"] != callback_url(base_url):
        raise BadCallback(N_("The callback names another controller's callback URL."))
    row = session.scalar(
        select(DsarProcessorRequest)
        .where(
            DsarProcessorRequest.subject_request_id == str(data["subject_request_id"]),
            DsarProcessorRequest.organisation == organisation,
        )
        .with_for_update()
    )
    if row is None:
        raise NotFound(N_("This processor was sent no request with this subject_request_id."))
    _apply(session, row, data, organisation=organisation)
    return row


def _apply(session: Session, row: DsarProcessorRequest, data: dict[str, Any], *, organisation: str) -> None:
    """Record what the callback reports that is new, with its timeline step and audit event; a callback
    repeated word for word (processors retry them, § 8.5) records nothing."""
    status = data["request_status"]
    if row.status in FINAL and status != row.status:
        raise Conflict(
            N_("The processor has reported this request completed or cancelled; it cannot change.")
        )
    reported = {
        "controller_id": data["controller_id"],
        "expected_completion_at": data["expected_completion_time"],
        "results_url": data["results_url"] or row.results_url,
        "results_count": row.results_count if data["results_count"] is None else data["results_count"],
    }
    changed = status != row.status or any(getattr(row, k) != v for k, v in reported.items())
    if not changed:
        return
    for name, value in reported.items():
        setattr(row, name, value)
    if status != row.status:
        _move(row, status)
    row.updated_at = utcnow()
    req = session.get(DsarRequest, row.request_id)
    assert req is not None
    details = {"organisation": row.organisation, "subject_request_id": row.subject_request_id,
               "processor_status": status, "results_count": row.results_count}  # fmt: skip
    lifecycle.record(session, req, "opendsr_status", Actor("processor", organisation), visible=False,
                     details=details)  # fmt: skip
