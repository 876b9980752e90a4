"""Time the public notice PDF per request: rendered every time (as before) against cached, and a 304.

Run by hand: python bench/bench_notice_pdf.py [--requests 30] [--service helsedata]
In process, through the Flask test client, on a throwaway SQLite database holding the shipped policies; the
HTML notice page is timed alongside, to show whether it would need the same cache. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402

from privacy_service import close_app, create_app  # noqa: E402
from privacy_service.audit import Actor  # noqa: E402
from privacy_service.db import make_engine, transaction  # noqa: E402
from privacy_service.migrate import upgrade  # noqa: E402
from privacy_service.policies import load_policies  # noqa: E402
from privacy_service.ropa.notice_cache import RenderCache  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def make_app(folder: Path) -> Flask:
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(engine) as session:
        load_policies(session, root=REPO / "policies", instance_path=folder, actor=Actor("cli", "bench"))
    engine.dispose()
    return create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "PRIVACY_INSTANCE_PATH": str(folder),
            "PRIVACY_NOTICE_PDF_RATE_LIMIT": "",  # no limit: the benchmark asks far more often than a person
        }
    )


def per_request_ms(call: Callable[[], int], n: int) -> float:
    """Median milliseconds of n calls, after one warm-up call; every call must answer 200 or 304."""
    call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        status = call()
        times.append((time.perf_counter() - start) * 1000)
        assert status in (200, 304), status
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--service", default="helsedata")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder))
        client = app.test_client()
        pdf = f"/privacy/{args.service}.pdf?lang=en"
        try:
            app.extensions["notice_pdfs"] = RenderCache(max_entries=0)  # keeps nothing: renders every call
            uncached = per_request_ms(lambda: client.get(pdf).status_code, args.requests)
            app.extensions["notice_pdfs"] = RenderCache()
            cached = per_request_ms(lambda: client.get(pdf).status_code, args.requests)
            tag = client.get(pdf).headers["ETag"]
            revalidated = per_request_ms(
                lambda: client.get(pdf, headers={"If-None-Match": tag}).status_code, args.requests
            )
            page = per_request_ms(
                lambda: client.get(f"/privacy/{args.service}?lang=en").status_code, args.requests
            )
        finally:
            close_app(app)
    print(f"notice PDF of {args.service}, median of {args.requests} requests each")
    print(f"  rendered every call  {uncached:8.1f} ms")
    print(f"  cached               {cached:8.1f} ms   ({uncached / cached:.0f}x faster)")
    print(f"  If-None-Match (304)  {revalidated:8.1f} ms   ({uncached / revalidated:.0f}x faster)")
    print(f"HTML notice page       {page:8.1f} ms   (not cached)")


if __name__ == "__main__":
    main()
