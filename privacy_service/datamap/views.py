"""The officer's view of the data map: where each activity's personal data really lives."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale

from privacy_service.datamap import service
from privacy_service.db import get_session
from privacy_service.ropa import service as ropa
from privacy_service.security.access import page

bp = Blueprint("datamap", __name__, url_prefix="/officer/datamap", template_folder="templates")


@bp.get("/")
@page("registry:read")
def systems() -> str:
    """List each data system and its mapped tables; name the active activities no table holds."""
    session = get_session()
    tables = service.mapped_tables(session)
    activities = {a.slug: a for a in ropa.activities_for(session, include_retired=False)}
    mapped = {t.activity_slug for __, t in tables}
    unmapped = [a for slug, a in sorted(activities.items()) if slug not in mapped]
    by_system: dict[str, list] = {}
    for system, table in tables:
        by_system.setdefault(system.name, []).append(table)
    return render_template(
        "datamap/systems.html",
        systems=service.list_systems(session),
        by_system=by_system,
        activities=activities,
        unmapped=unmapped,
        lang=str(get_locale() or "nb"),
    )
