"""Webhooks to portal services: targets that are safe to call, who hears of what, and a lane of their own.

Targets. A subscription's URL must be https (http only with PRIVACY_WEBHOOK_ALLOW_HTTP=1), carry no
user:password, and name a host whose every address is public: loopback, private, link-local, shared,
multicast, reserved and unspecified addresses are refused when subscribing and again at every delivery. The
host is resolved once per delivery and the connection goes to the address that was checked, so a name that
later resolves to 127.0.0.1 (DNS rebinding) reaches nothing. Redirects are never followed.
PRIVACY_WEBHOOK_ALLOW_PRIVATE=1 (off by default) lets the tests and a developer's machine use a receiver on
loopback. A client holds at most PRIVACY_WEBHOOK_MAX_SUBSCRIPTIONS active subscriptions.

Audience (docs/webhooks.md). `consent.changed` goes only to the clients that recorded a consent of that
subject for that purpose; `subject.erased` only to the clients that recorded a consent of the subject,
submitted a request for one of her proved identifiers or linked their own user ids to her, and it names her by
`subject_pseudonym`, the hex HMAC-SHA256 keyed with the subscription's secret of "email:" + the address in
lower case, never the address (and a portal that linked her by its own ids: `portal_ids`, only its own).

Lane. Webhooks are delivered apart from mail and tasks: their own scheduler job and their own threads, at
most PRIVACY_WEBHOOK_CONCURRENCY at once and one at a time per circuit. A delivery is claimed with a lease in
a short transaction, so no HTTP call holds a database connection, and it has a hard deadline however slowly a
receiver drips its answer. A circuit is a client's target (scheme://host:port): after FAILURES_TO_OPEN
failures in a row it opens, and its deliveries wait, spending no attempts, until the cool-down ends; then one
is tried again. Circuits are per client so that one client cannot open another's by pointing a subscription at
the other's host and failing there.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel

from privacy_service import notify
from privacy_service.audit import Actor, record_event
from privacy_service.columns import json_column, tz_column
from privacy_service.errors import N_, Conflict, NotFound, ValidationFailed, worded
from privacy_service.kernel import utcnow
from privacy_service.notify import MAX_ATTEMPTS, DeliveryAttempt, OutboxMessage, Transport, backoff, sign

EVENTS = ("consent.changed", "subject.erased")
PING = "webhook.ping"  # sent on request to one subscription, whatever it subscribes to
FAILURES_TO_OPEN = 5  # failures in a row that open a circuit
FIRST_COOLDOWN = timedelta(seconds=30)
MAX_COOLDOWN = timedelta(minutes=30)
LEASE = timedelta(seconds=120)  # a claimed delivery is not claimed again before this (a crashed sender)
ROUND_BUDGET = 20.0  # seconds one round of the lane may start deliveries for

log = logging.getLogger(__name__)


class WebhookSubscription(SQLModel, table=True):
    """A portal service's subscription to events, delivered to its URL and signed with its secret."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    client: str = Field(max_length=100, index=True)  # the API client that owns it
    url: str = Field(max_length=500)
    target: str = Field(default="", max_length=300, index=True)  # scheme://host:port, the circuit's key
    secret: str = Field(max_length=64)  # needed to sign, so kept; shown to its owner once
    events: list[str] = Field(default_factory=list, sa_column=json_column())
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())


class WebhookTarget(SQLModel, table=True):
    """The circuit breaker of one client's receiving host: failures in a row, and until when it rests."""

    __tablename__ = "webhook_target"

    client: str = Field(primary_key=True, max_length=100)
    target: str = Field(primary_key=True, max_length=300)
    failures: int = 0
    open_until: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    last_error: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())


# --- targets ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetPolicy:
    """What a webhook URL may point at (the settings PRIVACY_WEBHOOK_ALLOW_HTTP / _ALLOW_PRIVATE)."""

    allow_http: bool = False
    allow_private: bool = False

    @classmethod
    def from_config(cls, config: Any) -> TargetPolicy:
        return cls(
            allow_http=bool(config.get("PRIVACY_WEBHOOK_ALLOW_HTTP")),
            allow_private=bool(config.get("PRIVACY_WEBHOOK_ALLOW_PRIVATE")),
        )

    @classmethod
    def of(cls, transport: Transport) -> TargetPolicy:
        return cls(allow_http=transport.webhook_allow_http, allow_private=transport.webhook_allow_private)


class TooManySubscriptions(Conflict):
    """A client asked for more active subscriptions than it may hold."""

    code = "too_many_subscriptions"


class UnsafeTarget(Exception):
    """A webhook URL that may not be called; the message says why, in words fit for the client."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:  # a NAT64 gateway would carry it to this IPv4 address
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return _public(str(embedded))
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _parts(url: str, policy: TargetPolicy) -> tuple[str, str, int]:
    """The scheme, host and port of an acceptable URL, or UnsafeTarget."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as err:
        raise UnsafeTarget("The URL cannot be read.") from err
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeTarget("Use an https:// URL.")
    if parts.scheme == "http" and not policy.allow_http:
        raise UnsafeTarget("Use an https:// URL: plain http is not allowed here.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeTarget("Leave out user name and password: deliveries are signed instead.")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def target_of(url: str) -> str:
    """The circuit breaker's key of a URL: scheme://host:port."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    return f"{parts.scheme}://{'[' + host + ']' if ':' in host else host}:{port}"


def resolve(url: str, policy: TargetPolicy) -> tuple[str, str, int, str]:
    """Check a URL and resolve its host: (scheme, host, port, the address to connect to), or UnsafeTarget
    if any address of the host is not public (unless private targets are allowed)."""
    scheme, host, port = _parts(url, policy)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise UnsafeTarget("The host name does not resolve.") from err
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise UnsafeTarget("The host name does not resolve.")
    if not policy.allow_private and not all(_public(a) for a in addresses):
        raise UnsafeTarget(
            "The host is not on the public internet (loopback, private, link-local or reserved address)."
        )
    return scheme, host, port, addresses[0]


def check_url(url: str, policy: TargetPolicy) -> str:
    """The URL, if a subscription may be made to it; else ValidationFailed saying why."""
    try:
        resolve(url, policy)
    except UnsafeTarget as err:
        raise ValidationFailed(N_("This webhook URL is not allowed."), fields={"url": [str(err)]}) from err
    return url


# --- subscriptions ------------------------------------------------------------------------------------------


def subscribe(
    session: Session,
    *,
    client: str,
    url: str,
    events: list[str],
    actor: Actor,
    policy: TargetPolicy,
    limit: int = 10,
) -> WebhookSubscription:
    """Subscribe a client's URL to events; the new secret is on the returned object (show it once)."""
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise ValidationFailed(
            N_("Unknown event."),
            fields={"events": [worded("Choose from: %(choices)s.", choices=", ".join(EVENTS))]},
        )
    check_url(url, policy)
    held = session.scalar(
        select(func.count())
        .select_from(WebhookSubscription)
        .where(WebhookSubscription.client == client, WebhookSubscription.active)
    )
    if (held or 0) >= limit:
        raise TooManySubscriptions(
            worded(
                "This client already has %(held)s active subscriptions, the most allowed; end one first.",
                held=held,
            )
        )
    sub = WebhookSubscription(
        client=client,
        url=url,
        target=target_of(url),
        secret=secrets.token_hex(32),
        events=sorted(set(events)),
    )
    session.add(sub)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="webhook.subscribe",
        object_type="webhook_subscription",
        object_id=str(sub.id),
        details={"client": client, "target": sub.target, "events": sub.events},
    )
    return sub


def list_subscriptions(session: Session, *, client: str | None = None) -> list[WebhookSubscription]:
    """Return subscriptions (one client's, or all), oldest first."""
    stmt = select(WebhookSubscription).order_by(WebhookSubscription.id)
    if client is not None:
        stmt = stmt.where(WebhookSubscription.client == client)
    return list(session.scalars(stmt))


def unsubscribe(session: Session, *, subscription_id: int, client: str | None, actor: Actor) -> None:
    """Deactivate a subscription (a client may end only its own); pending deliveries are still made."""
    sub = session.get(WebhookSubscription, subscription_id)
    if sub is None or (client is not None and sub.client != client) or not sub.active:
        raise NotFound(N_("No active subscription has this id."))
    sub.active = False
    record_event(
        session,
        actor=actor,
        action="webhook.unsubscribe",
        object_type="webhook_subscription",
        object_id=str(sub.id),
        details={"client": sub.client},
    )


# --- enqueueing (in the caller's transaction) ---------------------------------------------------------------


def pseudonym(secret: str, email: str) -> str:
    """The subject's pseudonym for one subscription: what its client computes from the address it holds."""
    value = "email:" + email.strip().lower()
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def enqueue_event(
    session: Session,
    *,
    event: str,
    data: dict[str, Any],
    clients: Iterable[str],
    subject_email: str | None = None,
    client_only: dict[str, dict[str, Any]] | None = None,
) -> int:
    """Queue one delivery per active subscription to the event of the given clients; return how many.

    `subject_email` becomes `subject_pseudonym`, keyed per subscription; `client_only` adds fields that only
    one client may read (the reference of a request it submitted)."""
    audience = set(clients)
    if not audience:
        return 0
    subs = [
        s
        for s in session.scalars(
            select(WebhookSubscription).where(
                WebhookSubscription.active, WebhookSubscription.client.in_(sorted(audience))
            )
        )
        if event in s.events
    ]
    for sub in subs:
        body = {**data, **(client_only or {}).get(sub.client, {})}
        if subject_email:
            body["subject_pseudonym"] = pseudonym(sub.secret, subject_email)
        queue_delivery(session, subscription=sub, event=event, data=body)
    return len(subs)


def queue_delivery(
    session: Session, *, subscription: WebhookSubscription, event: str, data: dict[str, Any]
) -> OutboxMessage:
    """Queue one delivery to one subscription: the single place a webhook body is shaped, so an event, the
    test ping and a redelivery all reach the receiver in the form docs/webhooks.md describes."""
    message = OutboxMessage(
        kind="webhook",
        event=event,
        subscription_id=subscription.id,
        payload={"event": event, "created_at": utcnow().isoformat(), "data": data},
    )
    session.add(message)
    return message


def client_of(actor: str) -> str | None:
    """The API client an audit/consent actor string names ("api_client:<name>"), if any."""
    kind, _, name = actor.partition(":")
    return name if kind == "api_client" and name else None


# --- delivering ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claimed:
    id: int
    event: str
    payload: dict[str, Any]
    url: str
    client: str
    target: str
    secret: str

    @property
    def circuit(self) -> tuple[str, str]:
        return self.client, self.target


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to a checked address that still verifies the certificate of the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post(url: str, body: bytes, headers: dict[str, str], *, policy: TargetPolicy, timeout: float) -> int:
    """POST to a checked address of the URL's host (never following a redirect); return the status.

    `timeout` bounds each wait on the socket, and twice it the whole exchange: a receiver that drips its
    answer a byte at a time has the connection cut under it."""
    answer = exchange(url, body, headers, policy=policy, timeout=timeout, limit=0)  # only the status counts
    return answer.status


@dataclass(frozen=True)
class Answer:
    """A receiver's answer read back: the status, its headers, and at most `limit` bytes of its body."""

    status: int
    headers: dict[str, str]
    body: bytes


def exchange(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    policy: TargetPolicy,
    timeout: float,
    limit: int = 65536,
) -> Answer:
    """POST as `post` does (checked address, no redirects, a hard deadline), and read up to `limit` bytes
    of the answer back: for protocols whose answer is a signed receipt (OpenDSR)."""
    scheme, host, port, address = resolve(url, policy)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    kind = _PinnedHTTPS if scheme == "https" else _PinnedHTTP
    conn = kind(host, port, address, timeout)
    watchdog = threading.Timer(2 * timeout, _cut, args=(conn,))
    watchdog.start()
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        content = response.read(limit) if limit else b""
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, content)
    finally:
        watchdog.cancel()
        conn.close()


def _cut(conn: http.client.HTTPConnection) -> None:
    """Wake a read blocked on a connection past its deadline (shutdown, unlike close, does)."""
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _claim(session: Session, now: datetime, busy: set[tuple[str, str]]) -> _Claimed | None:
    """Lease the oldest due delivery whose circuit is neither busy in this process nor resting."""
    stmt = (
        select(OutboxMessage, WebhookSubscription)
        .join(WebhookSubscription, WebhookSubscription.id == OutboxMessage.subscription_id)
        .outerjoin(
            WebhookTarget,
            (WebhookTarget.client == WebhookSubscription.client)
            & (WebhookTarget.target == WebhookSubscription.target),
        )
        .where(
            OutboxMessage.kind == "webhook",
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            (WebhookTarget.open_until.is_(None)) | (WebhookTarget.open_until <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(1)
    )
    if busy:
        stmt = stmt.where(tuple_(WebhookSubscription.client, WebhookSubscription.target).not_in(sorted(busy)))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=OutboxMessage, skip_locked=True)
    row = session.execute(stmt).first()
    if row is None:
        return None
    message, sub = row
    leased = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE)
    )
    if leased.rowcount != 1:  # another sender took it between the read and the lease (SQLite)
        return None
    return _Claimed(
        message.id, message.event, dict(message.payload), sub.url, sub.client, sub.target, sub.secret
    )


def _send(claimed: _Claimed, transport: Transport, policy: TargetPolicy) -> tuple[int | None, str | None]:
    body = json.dumps({**claimed.payload, "delivery": claimed.id}, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "privacy-service webhooks",
        "X-Privacy-Event": claimed.event,
        "X-Privacy-Delivery": str(claimed.id),
        "X-Privacy-Signature": sign(claimed.secret, body, int(time.time())),
    }
    try:
        status = post(claimed.url, body, headers, policy=policy, timeout=transport.http_timeout)
    except UnsafeTarget as err:
        return None, f"refused: {err}"
    except (OSError, http.client.HTTPException) as err:
        return None, f"{type(err).__name__}: {str(err)[:300]}"
    if 200 <= status < 300:
        return status, None
    if 300 <= status < 400:
        return status, f"HTTP {status}: redirects are not followed"
    return status, f"HTTP {status}"


def _upsert_circuit(session: Session, circuit: tuple[str, str], error: str | None, now: datetime) -> None:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    client, target = circuit
    key = ["client", "target"]
    if error is None:
        values: dict[str, Any] = {"failures": 0, "open_until": None, "last_error": None, "updated_at": now}
        stmt = insert(WebhookTarget).values(client=client, target=target, **values)
        session.execute(stmt.on_conflict_do_update(index_elements=key, set_=values))
        return
    stmt = insert(WebhookTarget).values(
        client=client, target=target, failures=1, last_error=error, updated_at=now
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=key,
            set_={"failures": WebhookTarget.failures + 1, "last_error": error, "updated_at": now},
        )
    )
    this = (WebhookTarget.client == client) & (WebhookTarget.target == target)
    failures = session.scalar(select(WebhookTarget.failures).where(this)) or 0
    if failures >= FAILURES_TO_OPEN:
        rest = min(FIRST_COOLDOWN * 2 ** (failures - FAILURES_TO_OPEN), MAX_COOLDOWN)
        session.execute(update(WebhookTarget).where(this).values(open_until=now + rest))


def _record(
    engine: Engine, claimed: _Claimed, status: int | None, error: str | None, ms: int, now: datetime | None
) -> str:
    """Write the attempt and its consequence in one transaction; return delivered | retrying | failed."""
    with Session(engine) as session, session.begin():
        now = now or utcnow()
        message = session.get(OutboxMessage, claimed.id)
        assert message is not None
        message.attempts += 1
        session.add(
            DeliveryAttempt(
                message_id=claimed.id, ok=error is None, status_code=status, error=error, duration_ms=ms
            )
        )
        _upsert_circuit(session, claimed.circuit, error, now)
        if error is None:
            message.status, message.delivered_at, message.last_error = "delivered", now, None
            return "delivered"
        message.last_error = error
        if message.attempts >= MAX_ATTEMPTS:
            message.status = "failed"
            return "failed"
        message.next_attempt_at = now + backoff(message.attempts)
        return "retrying"


def _deliver_one(engine: Engine, claimed: _Claimed, transport: Transport, now: datetime | None) -> str:
    started = time.perf_counter()
    status, error = _send(claimed, transport, TargetPolicy.of(transport))
    return _record(engine, claimed, status, error, int((time.perf_counter() - started) * 1000), now)


def deliver_webhooks(
    engine: Engine,
    transport: Transport,
    *,
    now: datetime | None = None,
    limit: int = 200,
    budget: float = ROUND_BUDGET,
) -> dict[str, int]:
    """One round of the webhook lane: start due deliveries (at most the transport's concurrency at once, one
    per circuit) for up to `budget` seconds and wait for those started; return counts delivered, retrying,
    failed."""
    concurrency = max(transport.webhook_concurrency, 1)
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    busy: dict[Future[str], tuple[str, str]] = {}
    deadline = time.monotonic() + budget
    started = 0
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook") as pool:
        while True:
            while len(busy) < concurrency and started < limit and time.monotonic() < deadline:
                with Session(engine, expire_on_commit=False) as session, session.begin():
                    claimed = _claim(session, now or utcnow(), set(busy.values()))
                if claimed is None:
                    break
                started += 1
                busy[pool.submit(_deliver_one, engine, claimed, transport, now)] = claimed.circuit
            if not busy:
                return counts
            done, _ = wait(list(busy), return_when=FIRST_COMPLETED)
            for future in done:
                busy.pop(future)
                try:
                    outcome = future.result()
                except Exception:  # noqa: BLE001 - one failed record must not stop the lane
                    log.exception("recording a webhook delivery failed")
                    continue
                counts[outcome] += 1


def deliver_all(engine: Engine, transport: Transport, *, now: datetime | None = None) -> dict[str, int]:
    """Both lanes once, one after the other (the CLI, tests): mail and tasks, then webhooks."""
    counts = notify.deliver_due(engine, transport, now=now)
    for key, value in deliver_webhooks(engine, transport, now=now).items():
        counts[key] = counts.get(key, 0) + value
    return counts
