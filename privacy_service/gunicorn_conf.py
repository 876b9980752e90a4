"""gunicorn settings for `privacy-service serve` (and the benchmarks): redacted access logs, a frozen heap.

Use: gunicorn -c python:privacy_service.gunicorn_conf 'privacy_service:create_app()'
"""

from __future__ import annotations

import gc
from typing import Any

logger_class = "privacy_service.logs.RedactingLogger"


def post_worker_init(worker: Any) -> None:
    """Move the loaded app out of the collector's sight: fewer, shorter collections on the request path."""
    gc.collect()
    gc.freeze()
