"""The officer's view of the data map: where each activity's personal data really lives."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale

from privacy_service.datamap import labels, service
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
        words=labels,
        categories=lambda slug: _category_names(overview.activities.get(slug)),
        lang=str(get_locale() or "nb"),
    )


def _category_names(activity: object) -> dict[str, str]:
    """The activity's data categories by key, named in the reader's language."""
    lang = str(get_locale() or "nb")
    categories = (getattr(activity, "record", None) or {}).get("data_categories") or []
    return {c["key"]: str((c.get("name") or {}).get(lang) or c["key"]) for c in categories if c.get("key")}
