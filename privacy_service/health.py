"""Liveness and readiness probes, and the assets of the API docs page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, send_from_directory, url_for
from sqlalchemy import text

from privacy_service.db import get_engine
from privacy_service.migrate import current_revision, head_revision
from privacy_service.security.access import public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> dict[str, Any]:
    """Answer that the process is alive."""
    return {"status": "ok"}


@bp.get("/readyz")
@public
def readyz() -> tuple[dict[str, Any], int]:
    """Answer whether the database is reachable and the schema is current."""
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
            current = current_revision(conn)
    except Exception:  # noqa: BLE001 - any failure means not ready
        return {"status": "unavailable", "database": "unreachable"}, 503
    head = head_revision()
    if current != head:
        return {"status": "unavailable", "database": "ok", "migrations": "pending"}, 503
    return {"status": "ready", "database": "ok", "migrations": "current"}, 200


@bp.get("/api/docs")
@public
def api_docs() -> str:
    """Show the interactive API documentation (Swagger UI, served from this host)."""
    return render_template("api_docs.html", spec_url=url_for("api-docs.openapi_json"))


@bp.get("/api/docs/assets/<path:filename>")
@public
def api_docs_assets(filename: str) -> Any:
    """Serve Swagger UI's files from the installed bundle (no CDN: the CSP allows only this host)."""
    import swagger_ui_bundle

    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
