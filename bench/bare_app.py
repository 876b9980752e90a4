"""The baseline for bench_activities_api.py: bare Flask JSON endpoints, no auth, no database."""

from __future__ import annotations

import json
import os

from flask import Flask


def create_app() -> Flask:
    """A Flask app answering a tiny JSON body and a canned page of activity summaries."""
    app = Flask(__name__)
    canned_path = os.environ.get("BENCH_CANNED")
    canned = json.loads(open(canned_path).read()) if canned_path else {}  # noqa: SIM115

    @app.get("/hello")
    def hello() -> dict:
        return {"status": "ok"}

    @app.get("/canned")
    def canned_page() -> dict:
        return canned

    return app
