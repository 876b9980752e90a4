"""A real webhook receiver on loopback for the tests: records each delivery, can fail first, can be down."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pgcluster import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers 500 to the first `fail_first` deliveries, then 204; stop() takes it down, start() up again.
    With `redirect_to` it answers every POST 302 to that URL instead; with `hang` it never answers."""

    port: int = field(default_factory=free_port)
    fail_first: int = 0
    received: list[Received] = field(default_factory=list)
    refused: int = 0
    redirect_to: str | None = None
    hang: float = 0.0
    drip: float = 0.0  # seconds between the bytes of a never-ending status line
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/consent"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - a followed redirect may arrive as a GET
                receiver.received.append(Received(dict(self.headers.items()), b""))
                self.send_response(204)
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.hang:
                    time.sleep(receiver.hang)
                    return
                if receiver.drip:
                    for _ in range(200):
                        try:
                            self.wfile.write(b"H")
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(receiver.drip)
                    return
                if receiver.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", receiver.redirect_to)
                elif receiver.refused < receiver.fail_first:
                    receiver.refused += 1
                    self.send_response(500)
                else:
                    receiver.received.append(Received(dict(self.headers.items()), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def webhook_receiver(
    fail_first: int = 0, redirect_to: str | None = None, hang: float = 0.0, drip: float = 0.0
) -> Iterator[Receiver]:
    receiver = Receiver(fail_first=fail_first, redirect_to=redirect_to, hang=hang, drip=drip)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
