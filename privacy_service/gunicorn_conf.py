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


# The longest request line gunicorn takes (its own maximum; the default is 4094). Filters with long free-text
# values fit, and the app answers them in its own error envelope rather than gunicorn's bare 414 page.
limit_request_line = 8190
