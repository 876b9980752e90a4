"""The officer's view of the data map: where each activity's personal data really lives."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale

from privacy_service.datamap import service
from privacy_service.db import get_session
from privacy_service.security.access import page

bp = Blueprint("datamap", __name__, url_prefix="/officer/datamap", template_folder="templates")


@bp.get("/")
@page("registry:read")
def systems() -> str:
    """List each data system and its mapped tables; name the active activities no table holds."""
    overview = service.map_overview(get_session())
    return render_template(
        "datamap/systems.html",
        systems=overview.systems,
        by_system=overview.tables,
        activities=overview.activities,
        unmapped=overview.unmapped,
        lang=str(get_locale() or "nb"),
    )
