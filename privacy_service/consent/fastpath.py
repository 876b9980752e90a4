"""The consent status read on the hot path, in one database round trip.

Portal services ask GET /api/v1/consents/{subject}/{purpose} on every page view. On PostgreSQL this WSGI
middleware answers that one request shape before Flask: it checks the API key and reads the state with a
single prepared statement on a persistent connection per worker thread, and answers exactly what the Flask
view answers (same body, ETag, 304, 404 envelope and headers; tests compare the two). Anything else (other
paths and methods, session callers, a key it does not accept, a subject the view would refuse, a database
error) goes on to Flask, which stays the reference implementation and decides those cases.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

import psycopg

from privacy_service.consent import rules
from privacy_service.consent.models import StateRow
from privacy_service.consent.schemas import etag, state_json
from privacy_service.errors import envelope
from privacy_service.security.service import KEY_PREFIX, key_digest
from privacy_service.security.web import HSTS, SECURITY_HEADERS

PATH = re.compile(r"^/api/v1/consents/([^/]+)/([a-z0-9][a-z0-9-]{0,63})$")
SCOPE = "consent:read"
NOT_RECORDED = "No consent is recorded for this subject and purpose."
SQL = (
    f"SELECT c.scopes, c.active, {', '.join(f's.{name}' for name in StateRow._fields)}"
    " FROM api_client c LEFT JOIN consent_state s"
    " ON s.subject = %s AND s.purpose = %s AND s.status IS NOT NULL"
    " WHERE c.key_hash = %s"
)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ConsentFastPath:
    """WSGI middleware answering the consent status read; everything else passes to the wrapped app."""

    def __init__(self, app: WSGIApp, *, dsn: str) -> None:
        self.app, self.dsn = app, dsn
        self.local = threading.local()
        self._opened: list[psycopg.Connection] = []
        self._lock = threading.Lock()
        self.answered = 0  # requests answered here rather than by Flask (per process)

    def close(self) -> None:
        """Close every connection this middleware opened (app shutdown, tests)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            with contextlib.suppress(psycopg.Error):
                conn.close()

    def _connection(self) -> psycopg.Connection:
        conn = getattr(self.local, "conn", None)
        if conn is None or conn.closed:
            # TimeZone=UTC: psycopg then reads timestamptz as aware UTC, as the ORM's column type does, so
            # "since" is written alike here and in Flask whatever time zone the server is set to.
            conn = psycopg.connect(
                self.dsn,
                autocommit=True,
                prepare_threshold=0,
                connect_timeout=5,
                options="-c statement_timeout=5000 -c TimeZone=UTC",
            )
            self.local.conn = conn
            with self._lock:
                self._opened = [c for c in self._opened if not c.closed] + [conn]
        return conn

    def _drop_connection(self) -> None:
        conn = getattr(self.local, "conn", None)
        self.local.conn = None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        match = PATH.match(environ.get("PATH_INFO", ""))
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if match is None or not auth.startswith("Bearer " + KEY_PREFIX):
            return self.app(environ, start_response)
        # PATH_INFO is bytes decoded as latin-1 (PEP 3333); Werkzeug reads it as UTF-8, so do we.
        try:
            subject = rules.normalise_subject(match.group(1).encode("latin-1").decode("utf-8"))
        except UnicodeError:
            return self.app(environ, start_response)
        if rules.subject_problem(subject):
            return self.app(environ, start_response)
        purpose = match.group(2)
        try:
            row = self._connection().execute(SQL, (subject, purpose, key_digest(auth[7:].strip()))).fetchone()
        except psycopg.Error:
            self._drop_connection()
            return self.app(environ, start_response)  # Flask answers (and reports) database trouble
        if row is None or not row[1] or SCOPE not in (row[0] or []):
            return self.app(environ, start_response)  # 401 / 403: Flask decides and words it
        headers = self._headers(environ)
        if row[2] is None:  # the state's subject: the LEFT JOIN found none
            body = json.dumps(envelope("not_found", NOT_RECORDED), separators=(",", ":")).encode() + b"\n"
            return self._respond(start_response, "404 NOT FOUND", headers, body)
        state = StateRow._make(row[2:])
        tag = etag(state)
        if tag in environ.get("HTTP_IF_NONE_MATCH", ""):
            headers.append(("ETag", tag))
            return self._respond(start_response, "304 NOT MODIFIED", headers, b"", content_type=None)
        body = json.dumps(state_json(state), separators=(",", ":")).encode() + b"\n"
        headers.append(("ETag", tag))
        return self._respond(start_response, "200 OK", headers, body)

    @staticmethod
    def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
        headers = list(SECURITY_HEADERS)
        if environ.get("wsgi.url_scheme") == "https":
            headers.append(HSTS)
        headers.append(("Cache-Control", "no-store"))
        return headers

    def _respond(
        self,
        start_response: StartResponse,
        status: str,
        headers: list[tuple[str, str]],
        body: bytes,
        content_type: str | None = "application/json",
    ) -> Iterable[bytes]:
        self.answered += 1
        if content_type:
            headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *headers]
        start_response(status, headers)
        return [body]
