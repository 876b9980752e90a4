"""The public privacy notices, generated from the registry, as pages and PDF, and the filters pages share."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_babel import get_locale
from sqlalchemy.exc import SQLAlchemyError

from privacy_service.db import get_session
from privacy_service.kernel import ART9_CONDITIONS, LEGAL_BASES
from privacy_service.ropa import service
from privacy_service.security.access import current_principal, public

bp = Blueprint("public", __name__, template_folder="templates")


def _lang() -> str:
    return str(get_locale() or "nb")


@bp.get("/")
@public
def index() -> str:
    """The public start page: the privacy notices, the request form and Min side."""
    session = get_session()
    notices = [(svc, service.get_notice(session, service=svc)) for svc in service.list_services(session)]
    return render_template("ropa/index.html", notices=notices, lang=_lang())


SOFTWARE = "privacy-service"


def publisher() -> dict[str, Any]:
    """The organisation the public pages speak for (PRIVACY_CONTROLLER, or else the controller most notices
    name), as its record: name, address, e-mail, phone, DPO; {} before the registry is loaded."""
    if "publisher" not in g:
        g.publisher = {}
        try:
            session = get_session()
            organisations = service.list_organisations(session)
            slug = current_app.config.get("PRIVACY_CONTROLLER")
            if slug not in organisations:
                named = Counter(
                    service.get_notice(session, service=s).get("controller")
                    for s in service.list_services(session)
                )
                slug = min(named, key=lambda s: (-named[s], s or "")) if named else None
            g.publisher = organisations.get(slug or "", {})
        except SQLAlchemyError:
            pass  # the database is away: the error page (503) is still rendered, under the software's name
    return g.publisher


def site_name() -> str:
    """What a page's title ends with: the publisher's name on public pages, the software's for officers."""
    principal = current_principal()
    if principal is not None and principal.via == "session":
        return SOFTWARE
    return localised(publisher().get("name")) or SOFTWARE


@bp.app_context_processor
def _site() -> dict[str, Any]:
    return {"publisher": publisher, "site_name": site_name}


@bp.get("/privacy/<svc>")
@public
def notice(svc: str) -> str:
    """Show the public privacy notice of a service, generated from the registry."""
    doc = service.notice_document(get_session(), service=svc)
    return render_template(
        "ropa/notice.html",
        service=svc,
        notice=doc.header,
        organisations=doc.organisations,
        activities=doc.activities,
        lang=_lang(),
        legal_bases=LEGAL_BASES,
        art9=ART9_CONDITIONS,
    )


@bp.record_once
def _make_notice_cache(state: BlueprintSetupState) -> None:
    state.app.extensions["notice_pdfs"] = service.RenderCache()


@bp.get("/privacy/<svc>.pdf")
@public
def notice_pdf(svc: str) -> Response:
    """Download the public privacy notice of a service as PDF (rendered once per registry version)."""
    session, lang = get_session(), _lang()
    version = service.notice_version(session, service=svc)
    tag = service.notice_etag(version, lang)
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
    else:
        cache = current_app.extensions["notice_pdfs"]
        response = Response(service.notice_pdf(session, service=svc, lang=lang, version=version, cache=cache))
        response.mimetype = "application/pdf"
        response.headers["Content-Disposition"] = f'inline; filename="privacy-{svc}-{lang}.pdf"'
    response.set_etag(tag, weak=True)
    # private: the language may come from the session cookie, which a shared cache must never keep
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Accept-Language", "Cookie"))
    return response


@bp.app_template_filter("retention_rule")
def retention_rule(rule: dict, lang: str | None = None, trigger: str | None = None) -> str:
    """A retention rule as the record says it: "Slettes etter 30 dager; regnet fra: Samtalen er avsluttet"."""
    return service.retention_rule_words(rule, trigger or None, lang or _lang())


@bp.app_template_filter("safeguard")
def safeguard(value: str | None, lang: str | None = None) -> str:
    """A transfer's safeguard in words, in the page's language."""
    return service.safeguard_text(value, lang or _lang())


@bp.app_template_filter("org_number")
def org_number(org: dict[str, Any] | None, lang: str | None = None) -> str:
    """An organisation's number, or "not stated" in the page's language."""
    return service.org_number_text(org, lang or _lang())


@bp.app_template_filter("period")
def period(value: str | None, lang: str | None = None) -> str:
    """An ISO 8601 period in words ("30 dager"), never the code."""
    return service.period_text(value, lang or _lang()) or ""


@bp.app_template_filter("automated")
def automated(record: dict[str, Any], lang: str | None = None) -> list[tuple[str, str]]:
    """A record's automated decisions as (label, text) rows: the Art. 22(2) ground, logic, significance."""
    return service.automated_decision_rows(record, lang or _lang())


@bp.app_template_filter("art9")
def art9(code: str, lang: str | None = None) -> str:
    """An Art. 9(2) condition in the reader's words: "art. 9 nr. 2 g: viktige allmenne interesser"."""
    return service.art9_text(code, lang or _lang())


@bp.app_template_filter("loc")
def localised(value: Any, lang: str | None = None) -> str:
    """Pick the text in the page's language from a {nb, en} mapping."""
    if isinstance(value, dict):
        lang = lang or _lang()
        return value.get(lang) or value.get("nb") or value.get("en") or ""
    return "" if value is None else str(value)


@bp.app_template_filter("show")
def show_value(value: Any) -> str:
    """Render a record value as plain text for the version diff."""
    if value is None or value == [] or value == {}:
        return "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {show_value(v)}" for k, v in value.items() if v not in (None, [], {}))
    if isinstance(value, list):
        return " | ".join(show_value(v) for v in value)
    return str(value)
