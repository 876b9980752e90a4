"""The activity list's page as the API writes it, read straight into plain data; the registry's version.

The API serves pages from a cache keyed by the registry's version (answer_cache.py), and builds a missing one
here: the ten columns a summary shows, in the list's order (the (service, slug) index), into the dicts
ActivityListSchema would dump, without loading rows as objects or dumping them through marshmallow. A test
keeps the two identical.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Session

from privacy_service.ropa.models import ProcessingActivity
from privacy_service.ropa.records import ActivityFilter, filter_activities

_VERSION = text("SELECT version FROM registry_version")
_A = ProcessingActivity
_SUMMARY = (
    _A.slug,
    _A.service,
    _A.status,
    _A.name_nb,
    _A.name_en,
    _A.controller,
    _A.legal_basis,
    _A.special_categories,
    _A.version,
    _A.updated_at,
    _A.updated_by,
)


def registry_version(session: Session) -> int | None:
    """Return the registry's version (bumped by every change to it), or None on a schema without one."""
    return session.scalar(_VERSION)


def activity_page(
    session: Session, *, filters: ActivityFilter, page: int = 1, per_page: int = 100
) -> dict[str, Any]:
    """Return one page of the activity list (summaries, total, page, per_page) as the API answers it."""
    query = filter_activities(select(*_SUMMARY), filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(_A.service, _A.slug).offset((page - 1) * per_page).limit(per_page))
    items = [
        {
            "slug": slug,
            "service": service,
            "status": status,
            "name": {"nb": name_nb, "en": name_en},
            "controller": controller,
            "legal_basis": legal_basis,
            "special_categories": special_categories,
            "version": version,
            "updated_at": updated_at.isoformat(),  # as marshmallow's DateTime writes it
            "updated_by": updated_by,
        }
        for (
            slug,
            service,
            status,
            name_nb,
            name_en,
            controller,
            legal_basis,
            special_categories,
            version,
            updated_at,
            updated_by,
        ) in rows
    ]
    return {"items": items, "total": total, "page": page, "per_page": per_page}
