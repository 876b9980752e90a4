"""Idempotency-Key on the POSTs that create (draft-ietf-httpapi-idempotency-key-header).

A portal that sends a request, a consent or a breach and loses the answer (a timeout, a dropped connection)
cannot know whether it was made. With `Idempotency-Key: <unique string>` it sends the same call again and
gets the first answer back (`Idempotent-Replayed: true`) instead of a second request, consent or breach.

- The key belongs to the caller (an API client or an officer): another caller's key is another key.
- The same key with another method, path or body is 422 `idempotency_key_reused`: it names another call.
- While the first call is still running, the same key is 409 `idempotency_key_in_use`; on PostgreSQL the
  second call waits on the key's unique index and then replays the first answer.
- Only answers below 400 are kept: a refused call leaves the key free to try again with a mended body.
- Keys are kept for `KEPT` (24 hours), then forgotten: the periodic job `idempotency.purge` deletes them.

The key is claimed in the same transaction as what the call creates, so either both are committed or
neither: a crash between the two cannot leave a made request without its kept answer.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Response, current_app, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, UniqueConstraint

from privacy_service.columns import json_column, tz_column
from privacy_service.db import end_read, get_session
from privacy_service.errors import N_, Conflict, ValidationFailed
from privacy_service.kernel import utcnow
from privacy_service.security.access import current_principal

HEADER = "Idempotency-Key"
KEPT = timedelta(hours=24)
KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as the draft's examples; a UUID fits
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")
IN_USE = N_("A call with this Idempotency-Key is still running; try again shortly.")


class IdempotencyRecord(SQLModel, table=True):
    """A key a caller sent, what it named (method, path, body hash) and the answer given."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("owner", "key", name="uq_idempotency_owner_key"),)

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=200)  # the caller's actor, e.g. api_client:portal
    key: str = Field(max_length=255)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    fingerprint: str = Field(max_length=64)  # sha256 of the body
    status: int | None = None  # None while the first call runs
    body: bytes | None = None
    headers: dict[str, str] = Field(default_factory=dict, sa_column=json_column())
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column(index=True))


class KeyReused(ValidationFailed):
    """The key was sent before with another call."""

    code = "idempotency_key_reused"


class KeyInUse(Conflict):
    """The first call with this key has not answered yet."""

    code = "idempotency_key_in_use"


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a repeated call with the same Idempotency-Key from the first answer (outermost on the view)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        principal = current_principal()
        if key is None or principal is None:
            return view(*args, **kwargs)
        if not KEY_RE.match(key):
            raise ValidationFailed(
                N_("Idempotency-Key must be 1 to 255 visible ASCII characters, such as a UUID."),
                fields={HEADER: [N_("Not a valid key.")]},
            )
        session = get_session()
        end_read(session)  # the claim below begins the write (SQLite), which the view's writes continue
        owner, fingerprint = str(principal.actor), hashlib.sha256(request.get_data()).hexdigest()
        found = _kept(session, owner, key)
        if found is not None:
            return _replay(found, fingerprint)
        claim = IdempotencyRecord(
            owner=owner, key=key, method=request.method, path=request.path, fingerprint=fingerprint
        )
        session.add(claim)
        try:  # no savepoint: on SQLite the release of an outermost one would commit the claim
            session.flush()
            session.info["wrote"] = True
        except IntegrityError as err:  # a call with the same key committed meanwhile (PostgreSQL waits)
            session.rollback()  # nothing else was written yet: the request began with this claim
            found = _kept(session, owner, key)
            if found is None:
                raise KeyInUse(IN_USE) from err
            return _replay(found, fingerprint)
        response = current_app.make_response(view(*args, **kwargs))
        if response.status_code < 400:
            claim.status, claim.body = response.status_code, response.get_data()
            claim.headers = {
                name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers
            }
        else:  # a refusal frees the key, also where the request keeps its changes (an audit event)
            session.delete(claim)
        return response

    wrapper._idempotent = True  # type: ignore[attr-defined]  # the OpenAPI description names the header
    return wrapper


def _kept(session: Session, owner: str, key: str) -> IdempotencyRecord | None:
    """The key's record while it is kept; an expired one is forgotten here, so the key can be used again."""
    found = session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
    )
    if found is not None and found.created_at < utcnow() - KEPT:
        session.delete(found)
        session.flush()
        return None
    return found


def _replay(found: IdempotencyRecord, fingerprint: str) -> Response:
    if found.method != request.method or found.path != request.path or found.fingerprint != fingerprint:
        raise KeyReused(
            N_("This Idempotency-Key was sent with another call; use a new key for a new call."),
            fields={HEADER: [N_("Already used for another call.")]},
        )
    if found.status is None:
        raise KeyInUse(IN_USE)
    response = current_app.response_class(found.body, status=found.status, headers=found.headers)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def purge_job(app: Flask) -> None:
    """Forget the keys older than KEPT (daily)."""
    with Session(app.extensions["engine"]) as session, session.begin():
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - KEPT))
