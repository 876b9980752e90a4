"""gunicorn settings for `privacy-service serve` (and the benchmarks): redacted access logs, a frozen heap,
and a refusal to start several workers that would each keep their own rate-limit counts.

Use: gunicorn -c python:privacy_service.gunicorn_conf 'privacy_service:create_app()'
"""

from __future__ import annotations

import gc
from typing import Any

logger_class = "privacy_service.logs.RedactingLogger"


def on_starting(server: Any) -> None:
    """Refuse several workers on a per-process rate-limit store, however gunicorn was started."""
    from privacy_service.config import Settings
    from privacy_service.security.ratelimit import PerProcessStore, refuse_per_process_store

    try:
        refuse_per_process_store(Settings().ratelimit_storage, server.cfg.workers)
    except PerProcessStore as exc:
        raise RuntimeError(exc.message) from exc  # gunicorn prints "Error: …" and exits with status 1


def post_worker_init(worker: Any) -> None:
    """Move the loaded app out of the collector's sight: fewer, shorter collections on the request path."""
    gc.collect()
    gc.freeze()


# The longest request line gunicorn takes (its own maximum; the default is 4094). Filters with long free-text
# values fit, and the app answers them in its own error envelope rather than gunicorn's bare 414 page.
limit_request_line = 8190
