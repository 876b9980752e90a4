"""The two reads portal services make on every page view, answered before Flask in one round trip.

`GET /api/v1/consents/{subject}/{purpose}` (the consent state) and
`GET /api/v1/subjects/{subject}/processing?activity=…` ("may I process?") are answered by this WSGI
middleware on PostgreSQL and on SQLite: it checks the API key and reads the answer with one statement on a
persistent connection per worker thread, and answers exactly what the Flask views answer (same body, ETag,
304, 404 envelope and headers; tests compare the two).

Anything else goes on to Flask, which stays the reference and decides those cases: other paths and methods,
session callers, a key it does not accept, a subject or query the view would refuse, an unknown activity, a
database error.

Accepted keys are remembered per process for PRIVACY_KEY_CACHE_SECONDS (default 5), so most reads need no key
look-up at all. A rotation or revocation committed in the same process empties the cache at once
(security.service.key_generation); another process stops accepting a revoked key within that bound.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from privacy_service.consent import rules
from privacy_service.consent.models import StateRow
from privacy_service.consent.schemas import etag, state_json
from privacy_service.errors import N_, envelope
from privacy_service.kernel import SLUG_RE, as_utc
from privacy_service.people import service as people
from privacy_service.security.service import KEY_PREFIX, key_digest, key_generation
from privacy_service.security.web import HSTS, SECURITY_HEADERS

CONSENT_PATH = re.compile(r"^/api/v1/consents/([^/]+)/([a-z0-9][a-z0-9-]{0,63})$")
PROCESSING_PATH = re.compile(r"^/api/v1/subjects/([^/]+)/processing$")
SCOPE = "consent:read"
NOT_RECORDED = N_("No consent is recorded for this subject and purpose.")

_STATE = ", ".join(f"s.{name}" for name in StateRow._fields)
_KEY = (
    "SELECT c.scopes, c.active, c.name, q.* FROM api_client c LEFT JOIN ({query}) q ON true"
    " WHERE c.key_hash = :key"
)
# Before the key is known the client's name comes from its row, in the same statement (only a portal id
# resolves by the asking client: people.lookup).
_KEYED_CLIENT = (
    "(SELECT CASE WHEN :kind = 'portal' THEN k.name ELSE '' END FROM api_client k WHERE k.key_hash = :key)"
)
# The subjects that are one person with the asked one (people.SUBJECTS_SQL): a consent or a flag recorded
# under any of them answers for her.
_SUBJECTS = f"WITH subs AS ({people.SUBJECTS_SQL}) "
_NEWEST = " ORDER BY s.last_event_id DESC LIMIT 1"  # the person's newest state (at most one row has no state)
# The state, and the activity the purpose names: no activity is an unknown purpose, which the view words
# as its own error (unknown_purpose), never the "no consent recorded" of a purpose that exists.
CONSENT_SQL = (
    f"{_SUBJECTS}SELECT {_STATE}, a.slug FROM processing_activity a LEFT JOIN consent_state s"
    " ON s.subject IN (SELECT v FROM subs) AND s.purpose = a.slug AND s.status IS NOT NULL"
    f" WHERE a.slug = :p{_NEWEST}"
)
# The strongest live flag: "objected" sorts before "restricted", and an upheld objection wins over a
# restriction (rules.processing_answer), so min() of the kinds is the one that decides.
_FLAG = (
    "(SELECT min(f.kind) FROM processing_flag f WHERE f.subject IN (SELECT v FROM subs)"
    " AND f.activity = a.slug AND f.lifted_at IS NULL)"
)
assert min(rules.FLAG_KINDS) == "objected" and len(rules.FLAG_KINDS) == 2
# The activity's legal basis, the strongest flag and the person's newest consent state: what
# processing_status reads in four. The newest state is found by max(), not ORDER BY: SQLite would sort.
PROCESSING_SQL = (
    f"{_SUBJECTS}SELECT a.legal_basis, {_FLAG}, s.status, s.renewal_required"
    " FROM processing_activity a LEFT JOIN consent_state s"
    " ON s.subject IN (SELECT v FROM subs) AND s.purpose = a.slug AND s.status IS NOT NULL"
    " AND s.last_event_id = (SELECT max(x.last_event_id) FROM consent_state x"
    " WHERE x.subject IN (SELECT v FROM subs) AND x.purpose = a.slug AND x.status IS NOT NULL)"
    " WHERE a.slug = :a"
)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class KeyCache:
    """The scopes and client names of API keys accepted lately, for at most `ttl` seconds each and at most
    `size` keys."""

    def __init__(self, ttl: float, size: int = 4096) -> None:
        self.ttl, self.size = ttl, size
        self._keys: dict[str, tuple[frozenset[str], str, float]] = {}
        self._generation = key_generation()

    def client(self, digest: str) -> tuple[frozenset[str], str] | None:
        if self._generation != key_generation():  # this process rotated or revoked a key
            self._keys, self._generation = {}, key_generation()
            return None
        entry = self._keys.get(digest)
        if entry is None or entry[2] < time.monotonic():
            return None
        return entry[0], entry[1]

    def scopes(self, digest: str) -> frozenset[str] | None:
        found = self.client(digest)
        return found[0] if found is not None else None

    def remember(self, digest: str, scopes: Iterable[str], name: str = "") -> None:
        if self.ttl <= 0:
            return
        if len(self._keys) >= self.size:
            self._keys = {}
        self._keys[digest] = (frozenset(scopes), name, time.monotonic() + self.ttl)

    def clear(self) -> None:
        self._keys = {}


class Backend:
    """One persistent connection per thread to the database, with the hot path's statements."""

    def __init__(self) -> None:
        self.local = threading.local()
        self._opened: list[Any] = []
        self._lock = threading.Lock()

    def connect(self) -> Any:
        raise NotImplementedError

    def sql(self, text: str) -> str:
        return text

    def scopes(self, value: Any) -> list[str]:
        return value or []

    def timestamp(self, value: Any) -> datetime | None:
        return value

    def connection(self) -> Any:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.connect()
            self.local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def fetch(self, text: str, params: dict[str, Any]) -> tuple | None:
        return self.connection().execute(self.sql(text), params).fetchone()

    def drop(self) -> None:
        conn, self.local.conn = getattr(self.local, "conn", None), None
        if conn is not None:
            self._close(conn)

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            self._close(conn)
        self.local = threading.local()

    @staticmethod
    def _close(conn: Any) -> None:
        with contextlib.suppress(Exception):
            conn.close()


class PostgresBackend(Backend):
    errors: tuple[type[Exception], ...]

    def __init__(self, dsn: str) -> None:
        super().__init__()
        import psycopg

        self.dsn, self.errors, self._psycopg = dsn, (psycopg.Error,), psycopg
        self._sql: dict[str, str] = {}

    def connect(self) -> Any:
        # TimeZone=UTC: psycopg then reads timestamptz as aware UTC, as the ORM's column type does, so "since"
        # is written alike here and in Flask whatever time zone the server is set to. Every statement is
        # prepared on its first use (prepare_threshold=0).
        return self._psycopg.connect(
            self.dsn,
            autocommit=True,
            prepare_threshold=0,
            connect_timeout=5,
            options="-c statement_timeout=5000 -c TimeZone=UTC",
        )

    def sql(self, text: str) -> str:
        found = self._sql.get(text)
        if found is None:
            found = self._sql[text] = re.sub(r":(\w+)", r"%(\1)s", text)
        return found


class SqliteBackend(Backend):
    errors = (sqlite3.Error,)

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def connect(self) -> Any:
        # Autocommit: each read is its own snapshot of the WAL, so it sees every write committed before it.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA query_only = ON")
        return conn

    def scopes(self, value: Any) -> list[str]:
        return json.loads(value) if value else []

    def timestamp(self, value: Any) -> datetime | None:
        return as_utc(datetime.fromisoformat(value)) if value else None  # stored naive, in UTC


class HotPath:
    """WSGI middleware answering the consent status and processing status reads; the rest passes to Flask."""

    def __init__(self, app: WSGIApp, backend: Backend, *, key_cache_seconds: float = 5.0) -> None:
        self.app, self.backend = app, backend
        self.keys = KeyCache(key_cache_seconds)
        self.answered = 0  # requests answered here rather than by Flask (per process)

    def close(self) -> None:
        """Close every connection this middleware opened (app shutdown, tests)."""
        self.backend.close()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET":
            path = environ.get("PATH_INFO", "")
            auth = environ.get("HTTP_AUTHORIZATION", "")
            if auth.startswith("Bearer " + KEY_PREFIX):
                match = CONSENT_PATH.match(path)
                if match is not None:
                    answer = self._consent(environ, start_response, match, auth)
                    if answer is not None:
                        return answer
                elif (match := PROCESSING_PATH.match(path)) is not None:
                    answer = self._processing(environ, start_response, match, auth)
                    if answer is not None:
                        return answer
        return self.app(environ, start_response)

    # --- the two reads ------------------------------------------------------------------------------------

    def _consent(self, environ: dict[str, Any], start_response: StartResponse, match: Any, auth: str) -> Any:
        subject = _subject(match.group(1))
        if subject is None:
            return None
        params = {"s": subject, "kind": people.lookup(subject, None)[0], "p": match.group(2)}
        row = self._read(CONSENT_SQL, params, auth, len(StateRow._fields) + 1)
        if row is None or row[-1] is None:  # no such purpose: the view words the 404 (unknown_purpose)
            return None
        row = row[:-1]
        headers = self._headers(environ)
        if row[0] is None:  # the state's subject: no state is recorded
            if _asks_for_bokmal(environ):
                return None  # the view words the error in bokmål (http.client_language)
            return self._respond(start_response, "404 NOT FOUND", headers, _NOT_RECORDED)
        state = StateRow._make(row)
        state = state._replace(
            subject=subject, since=self.backend.timestamp(state.since), renewal_required=bool(state[7])
        )
        return self._with_etag(environ, start_response, headers, etag(state), state_json(state))

    def _processing(
        self, environ: dict[str, Any], start_response: StartResponse, match: Any, auth: str
    ) -> Any:
        query = environ.get("QUERY_STRING", "")
        if not query.startswith("activity=") or "&" in query:
            return None  # no activity, or more arguments: the view words the 422
        activity = query[9:]
        subject = _subject(match.group(1))
        if subject is None or not SLUG_RE.match(activity):
            return None
        params = {"s": subject, "kind": people.lookup(subject, None)[0], "a": activity}
        row = self._read(PROCESSING_SQL, params, auth, 4)
        if row is None or row[0] is None:  # no such activity: the view words the 404
            return None
        legal_basis, strongest_flag, state_status, renewal = row
        flags = {strongest_flag} if strongest_flag else set()
        status, renewal_required = rules.processing_answer(
            legal_basis=legal_basis, flags=flags, state_status=state_status, renewal_required=bool(renewal)
        )
        body = {
            "subject": subject,
            "activity": activity,
            "status": status,
            "renewal_required": renewal_required,
        }
        return self._respond(start_response, "200 OK", self._headers(environ), _json(body))

    def _read(self, sql: str, params: dict[str, Any], auth: str, width: int) -> tuple | None:
        """The answer's row (all None where the statement finds none), checking the key on the way; None
        when Flask must answer (the key, a database error). `params` has the asked subject's lookup kind;
        the client's name (:c) is added here, from the key."""
        digest = key_digest(auth[7:].strip())
        known = self.keys.client(digest)
        try:
            if known is not None:
                scopes, name = known
                if SCOPE not in scopes:
                    return None
                params["c"] = name if params["kind"] == "portal" else ""
                return self.backend.fetch(sql, params) or (None,) * width
            row = self.backend.fetch(_keyed(sql), {**params, "key": digest})
        except self.backend.errors:
            self.backend.drop()
            return None  # Flask answers (and reports) database trouble
        if row is None or not row[1]:
            return None  # 401: Flask decides and words it
        scopes = self.backend.scopes(row[0])
        self.keys.remember(digest, scopes, row[2])
        return row[3:] if SCOPE in scopes else None  # 403: Flask words it

    # --- the answer -----------------------------------------------------------------------------------------

    def _with_etag(
        self,
        environ: dict[str, Any],
        start_response: StartResponse,
        headers: list[tuple[str, str]],
        tag: str,
        body: dict[str, Any],
    ) -> Iterable[bytes]:
        headers.append(("ETag", tag))
        if tag in environ.get("HTTP_IF_NONE_MATCH", ""):
            return self._respond(start_response, "304 NOT MODIFIED", headers, b"", content_type=None)
        return self._respond(start_response, "200 OK", headers, _json(body))

    @staticmethod
    def _headers(environ: dict[str, Any]) -> list[tuple[str, str]]:
        return list(_HTTPS_HEADERS if environ.get("wsgi.url_scheme") == "https" else _HTTP_HEADERS)

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


class HotOnly:
    """WSGI middleware of `serve`'s second pool: the status reads and health checks pass, nothing else does.

    A reverse proxy routes the status reads to that pool so they never queue behind a PDF or a list; anything
    else sent there by mistake is refused rather than served, so the pool stays free for what it is for.
    """

    ALLOWED = ("/healthz", "/readyz")
    MESSAGE = (
        "This address answers only the consent and processing status reads (GET); send other requests to the "
        "service's main address."
    )

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.refused = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path in self.ALLOWED or (
            environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and (CONSENT_PATH.match(path) or PROCESSING_PATH.match(path))
        ):
            return self.app(environ, start_response)
        self.refused += 1
        body = _json(envelope("not_found", self.MESSAGE))
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response("404 NOT FOUND", [*headers, *HotPath._headers(environ)])
        return [body]


_HTTP_HEADERS = (*SECURITY_HEADERS, ("Cache-Control", "no-store"))
_HTTPS_HEADERS = (*SECURITY_HEADERS, HSTS, ("Cache-Control", "no-store"))
_encode = json.JSONEncoder(separators=(",", ":")).encode  # as Flask writes JSON: compact, ASCII, in order


def _json(body: dict[str, Any]) -> bytes:
    return _encode(body).encode() + b"\n"


_NOT_RECORDED = _json(envelope("not_found", NOT_RECORDED))


@functools.cache
def _keyed(sql: str) -> str:
    """A statement read with the key's check: the client's name from its row (before the cache knows it)."""
    return _KEY.format(query=re.sub(r":c\b", _KEYED_CLIENT, sql))


def _asks_for_bokmal(environ: dict[str, Any]) -> bool:
    """Whether the client may want its error message in bokmål (?lang= or Accept-Language): then the view
    answers the error, as http.client_language decides; a status found is the same in every language."""
    header = environ.get("HTTP_ACCEPT_LANGUAGE", "").lower()
    return "lang=" in environ.get("QUERY_STRING", "") or any(tag in header for tag in ("nb", "no", "nn"))


def _subject(raw: str) -> str | None:
    """The canonical subject of a path segment, or None where the view must answer (and refuse) it."""
    # PATH_INFO is bytes decoded as latin-1 (PEP 3333); Werkzeug reads it as UTF-8, so do we.
    try:
        subject = rules.normalise_subject(raw.encode("latin-1").decode("utf-8"))
    except UnicodeError:
        return None
    return None if rules.subject_problem(subject) else subject


def hot_path_for(app: WSGIApp, url: Any, *, key_cache_seconds: float) -> HotPath | None:
    """The hot path for a database URL (SQLAlchemy URL), or None where it cannot run (an in-memory SQLite)."""
    if url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return HotPath(app, PostgresBackend(dsn), key_cache_seconds=key_cache_seconds)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return HotPath(app, SqliteBackend(url.database), key_cache_seconds=key_cache_seconds)
    return None
