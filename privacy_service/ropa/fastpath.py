"""The activity list and single activities answered before Flask from the kept answers, in one statement.

A kept answer (answer_cache.py) still cost a request through Flask: its hooks, the key's look-up and the
version's read took about 1.2 ms of CPU, more than twice a bare Flask endpoint writing the same page. This
WSGI middleware answers `GET /api/v1/activities[?…]` and `GET /api/v1/activities/{slug}` when the answer is
kept for the registry's current version: it checks the API key and reads the version with one statement (or
reads only the version while the key is remembered), and sends the bytes, ETag and headers the view sent, or
a 304. Anything else goes on to Flask, which stays the reference and fills the cache: a miss, another
method, a session caller, a key or scope it refuses, a database error.

The connection and the key cache are the consent hot path's (injected by the app factory: ropa knows none
of its readers), so accepted keys are remembered for PRIVACY_KEY_CACHE_SECONDS, and a revocation or rotation
committed in the same process empties that memory at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Protocol

from privacy_service.ropa.answer_cache import Answer, AnswerCache, activity_key, etag_matches, list_key
from privacy_service.security.service import KEY_PREFIX, key_digest
from privacy_service.security.web import HSTS, SECURITY_HEADERS

LIST_PATH = "/api/v1/activities"
ACTIVITY_PATH = re.compile(r"^/api/v1/activities/([a-z0-9][a-z0-9-]{0,63})$")
SCOPE = "registry:read"
VERSION_SQL = "SELECT version FROM registry_version"
# The caller's key (its current one: a key in its rotation's grace period goes to Flask) and the version.
KEY_SQL = (
    "SELECT c.scopes, c.active, (SELECT version FROM registry_version)"
    " FROM api_client c WHERE c.key_hash = :key"
)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Reader(Protocol):
    """One persistent connection per thread (consent.hotpath.Backend)."""

    errors: tuple[type[Exception], ...]

    def fetch(self, text: str, params: dict[str, Any]) -> tuple | None: ...
    def scopes(self, value: Any) -> list[str]: ...
    def drop(self) -> None: ...


class Keys(Protocol):
    """The scopes of keys accepted lately (consent.hotpath.KeyCache)."""

    def scopes(self, digest: str) -> frozenset[str] | None: ...
    def remember(self, digest: str, scopes: Iterable[str]) -> None: ...


class ActivityAnswers:
    """WSGI middleware sending kept activity answers; everything else passes to the app."""

    def __init__(self, app: WSGIApp, cache: AnswerCache, *, reader: Reader, keys: Keys) -> None:
        self.app, self.cache, self.reader, self.keys = app, cache, reader, keys
        self.answered = 0  # requests answered here rather than by Flask (per process)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "GET":
            auth = environ.get("HTTP_AUTHORIZATION", "")
            if auth.startswith("Bearer " + KEY_PREFIX):
                key = _key(environ.get("PATH_INFO", ""), environ)
                answer = self._kept(key, auth) if key is not None else None
                if answer is not None:
                    return self._respond(environ, start_response, answer)
        return self.app(environ, start_response)

    def _kept(self, key: Hashable, auth: str) -> Answer | None:
        """The answer kept for the registry's current version, if the key may read it; else None."""
        digest = key_digest(auth[7:].strip())
        scopes = self.keys.scopes(digest)
        try:
            if scopes is None:
                row = self.reader.fetch(KEY_SQL, {"key": digest})
                if row is None or not row[1]:
                    return None  # 401: Flask decides and words it
                scopes = frozenset(self.reader.scopes(row[0]))
                self.keys.remember(digest, scopes)
                version = row[2]
            else:
                row = self.reader.fetch(VERSION_SQL, {})
                version = row[0] if row else None
        except self.reader.errors:
            self.reader.drop()
            return None  # Flask answers (and reports) database trouble
        if SCOPE not in scopes or version is None:
            return None  # 403: Flask words it
        return self.cache.get(version, key)

    def _respond(self, environ: dict[str, Any], start_response: StartResponse, answer: Answer) -> list[bytes]:
        self.answered += 1
        fixed = _HTTPS_HEADERS if environ.get("wsgi.url_scheme") == "https" else _HTTP_HEADERS
        if etag_matches(answer.etag, environ.get("HTTP_IF_NONE_MATCH")):
            start_response("304 NOT MODIFIED", [("ETag", answer.etag), *fixed])
            return [b""]
        start_response(
            "200 OK",
            [
                ("ETag", answer.etag),
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(answer.body))),
                *answer.headers,
                *fixed,
            ],
        )
        return [answer.body]


def _key(path: str, environ: dict[str, Any]) -> Hashable | None:
    if path == LIST_PATH:
        return list_key(environ.get("QUERY_STRING", ""))
    match = ACTIVITY_PATH.match(path)
    return activity_key(match.group(1)) if match is not None else None


# What Flask's hooks add to every API answer (security/web.py); Flask's "Vary: Cookie" is left out, as the
# consent hot path leaves it out: these answers never read the cookie.
_HTTP_HEADERS = (*SECURITY_HEADERS, ("Cache-Control", "no-store"))
_HTTPS_HEADERS = (*SECURITY_HEADERS, HSTS, ("Cache-Control", "no-store"))
