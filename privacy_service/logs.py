"""Access logs without personal data: subject ids, e-mail addresses and link tokens are redacted.

Portal services put a subject (a pseudonymous id or an e-mail address) in consent paths, and withdrawal links
carry a token; gunicorn's access log would write both. `serve` runs gunicorn with RedactingLogger.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_SUBJECT_SEGMENT = re.compile(r"(/api/v1/(?:consents|subjects)/)[^/?\s]+")
_TOKEN_SEGMENT = re.compile(r"(/(?:consent/withdraw|requests/(?:verify|status|download))/)[^/?\s]+")
_EMAIL = re.compile(r"[^\s/?&=]*(?:@|%40)[^\s/?&=]*", re.IGNORECASE)
_NATIONAL_ID = re.compile(r"(?<!\d)\d{6}\s?\d{5}(?!\d)")
_SECRET_ATOMS = ("authorization", "cookie", "api-key", "api_key")


def redact(text: str | None) -> str | None:
    """Return a path, query or URL with subjects, tokens, e-mail addresses and identity numbers masked."""
    if not text:
        return text
    text = _SUBJECT_SEGMENT.sub(r"\1[subject]", text)
    text = _TOKEN_SEGMENT.sub(r"\1[token]", text)
    text = _EMAIL.sub("[email]", text)
    return _NATIONAL_ID.sub("[id]", text)


class RedactingLogger(Logger):
    """gunicorn's logger with the request line, path, query and referer redacted."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():  # the request line, path, query, referer and every {…}e environ atom
            if isinstance(value, str) and (key in ("r", "U", "q", "f") or key.endswith("}e")):
                atoms[key] = redact(value)
        for key in atoms:  # keys and session cookies, as request-header ({…}i) or environ ({…}e) atoms
            if key.startswith("{") and any(word in key for word in _SECRET_ATOMS):
                atoms[key] = "[redacted]"
        return atoms
