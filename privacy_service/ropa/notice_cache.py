"""The public notice PDFs, rendered once per service, language and registry version in each process.

Anyone may ask for a notice PDF, and rendering one takes a worker's CPU for a good part of a second: 16
anonymous callers asking again and again slowed every other request (consent reads from 5 ms to seconds).
The registry's version (records.notice_version) is part of the key, so a change to the registry is shown at
once, and the old renderings age out of the bounded cache. One caller renders a missing PDF while the others
asking for it wait for that rendering instead of rendering it too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

# Three services in two languages, with room for the versions that replace them.
MAX_ENTRIES = 32


class RenderCache:
    """A bounded, thread-safe, least-recently-used cache of rendered documents."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.renders = (
            0  # how many times a document was rendered (per process): the tests and benchmark read it
        )
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._rendering: dict[Hashable, threading.Lock] = {}

    def _cached(self, key: Hashable) -> bytes | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def get(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """Return the document under `key`, rendering it with `render()` if no one has yet."""
        body = self._cached(key)
        if body is not None:
            return body
        with self._lock:
            rendering = self._rendering.setdefault(key, threading.Lock())
        with rendering:  # whoever comes first renders; the others wait and take the result
            body = self._cached(key)
            if body is not None:
                return body
            try:
                body = render()
                with self._lock:
                    self.renders += 1
                    self._items[key] = body
                    while len(self._items) > self.max_entries:
                        self._items.popitem(last=False)
            finally:
                with self._lock:
                    self._rendering.pop(key, None)
        return body


def notice_etag(version: str, lang: str) -> str:
    """The weak ETag of a notice in a language: the same in every worker until the registry changes."""
    return f"notice-{lang}-{version[:32]}"
