"""The baselines for the benchmarks: bare Flask JSON endpoints, no auth; one plain database look-up."""

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

    db_url = os.environ.get("BENCH_DB_URL")
    if db_url:
        import psycopg

        conn: dict[str, psycopg.Connection] = {}

        @app.get("/lookup/<subject>/<purpose>")
        def lookup(subject: str, purpose: str) -> dict:
            # One persistent connection per worker, a prepared statement: the floor a look-up can reach.
            if "c" not in conn:
                conn["c"] = psycopg.connect(db_url, autocommit=True, prepare_threshold=0)
            row = (
                conn["c"]
                .execute(
                    "SELECT status, since, notice_version FROM consent_state"
                    " WHERE subject = %s AND purpose = %s",
                    (f"portal/{subject}", purpose),  # the client "portal": its key
                )
                .fetchone()
            )
            return {"subject": subject, "purpose": purpose, "status": row[0] if row else None}

    return app
