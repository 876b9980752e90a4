"""The activity API's answers, kept serialised per process and keyed by the registry's version.

A page of the activity list took a database sort and a marshmallow dump of 100 nested objects on every
request, while the registry changes a few times a day. Every change to the registry bumps a counter in the
same transaction (models.RegistryVersion), so a request reads that counter (one cheap statement) and serves
the bytes kept for the same version and query: a change made by any process is seen by the next request in
every process, and the answers kept are dropped when another version is seen. The cache is bounded
by entries and by bytes, least recently used first out.

Nothing here knows Flask or WSGI: the API (ropa/api.py) fills the cache and answers from it.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

MAX_ENTRIES = 512
MAX_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Answer:
    """A serialised 200 answer, its strong ETag and the other headers it carries (a list's paging)."""

    body: bytes
    etag: str
    headers: tuple[tuple[str, str], ...] = ()


def answer_etag(version: int, body: bytes) -> str:
    """The strong ETag of an answer: the registry version it was read at and a digest of its bytes."""
    return f'"r{version}-{hashlib.sha256(body).hexdigest()[:20]}"'


def etag_matches(etag: str, if_none_match: str | None) -> bool:
    """Whether an If-None-Match header names this ETag (weak comparison, RFC 9110 §13.1.2), or is `*`."""
    if not if_none_match:
        return False
    bare = etag.removeprefix("W/")
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == bare:
            return True
    return False


def list_key(query_string: str) -> tuple[str, str]:
    """The key of a page of the activity list: its query string as sent (distinct filters, distinct keys)."""
    return ("list", query_string)


def activity_key(slug: str) -> tuple[str, str]:
    """The key of one activity's answer."""
    return ("activity", slug)


class AnswerCache:
    """A bounded, thread-safe, least-recently-used cache of answers of one registry version at a time."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.version = -1  # the registry version of the answers kept
        self.size = 0  # bytes held
        self.hits = self.misses = 0  # per process: the tests and the benchmark read them
        self._items: OrderedDict[Hashable, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, version: int, key: Hashable) -> Answer | None:
        """The answer kept for `key` at this registry version, if any."""
        with self._lock:
            if version != self.version:
                self._see(version)
                self.misses += 1
                return None
            answer = self._items.get(key)
            if answer is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return answer

    def put(self, version: int, key: Hashable, answer: Answer) -> None:
        """Keep an answer read at this registry version, if that is still the version the last read saw."""
        cost = len(answer.body)
        with self._lock:
            if version != self.version or cost > self.max_bytes:
                return  # the registry changed while this answer was made: keep none of another version
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            self._items[key] = answer
            self.size += cost
            while len(self._items) > self.max_entries or self.size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped.body)

    def clear(self) -> None:
        """Forget every answer."""
        with self._lock:
            self._items.clear()
            self.size = 0

    def _see(self, version: int) -> None:
        # Another version: every answer kept is out of date. Lower ones too: a database restored from a
        # backup counts again from its own version, and answers kept under a number it reaches again must
        # not be the old database's.
        self._items.clear()
        self.size, self.version = 0, version
