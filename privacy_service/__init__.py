"""privacy-service: records of processing, requests, consent and retention for public controllers."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from privacy_service import db
from privacy_service.config import Settings
from privacy_service.http import (
    Api,
    Int32Converter,
    actor_text,
    code_words,
    refuse_deep_json,
    refuse_nul_characters,
    register_error_handlers,
    require_json_body,
)
from privacy_service.openapi import ContractPlugin
from privacy_service.security.access import Rule, current_principal, enforce_access, undeclared_endpoints
from privacy_service.security.web import apply_rate_limits, init_security
from privacy_service.wording import format_datetime

LANGUAGES = ("nb", "en")


def select_locale() -> str:
    """Pick the language: ?lang=, then the session's choice, then the browser's preference."""
    lang = request.args.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
        return lang
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    return request.accept_languages.best_match(LANGUAGES, default="nb") or "nb"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application: settings, database, extensions, the URL map, tasks and jobs, commands."""
    app = _configure(config)
    db.init_app(app)
    from privacy_service.dsar.service import Links  # one link builder for the app's whole life

    app.extensions["links"] = Links.from_config(app.config)
    app.extensions["instance_path"] = Path(app.config["PRIVACY_INSTANCE_PATH"])
    from privacy_service.registers import lias, transfers
    from privacy_service.registers.dpias import record_assessments

    # the record of processing prints each activity's DPIA and LIA, and names a derogation's point of
    # Art. 49(1), from the registers; ropa never imports them (§7)
    app.extensions["record_dpias"] = record_assessments
    app.extensions["record_lias"] = lias.record_assessments
    app.extensions["record_transfer_points"] = transfers.record_derogation_points
    _init_extensions(app)
    api = Api(
        app, spec_kwargs={"info": {"description": "GDPR records of processing and data-subject rights."}}
    )
    ContractPlugin(app).install(api)  # security, errors, headers and examples (openapi.py)
    _register_blueprints(app, api)
    _register_tasks_and_jobs(app)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":  # one transaction per request, committed at its end (db.unit_of_work)
            app.view_functions[endpoint] = db.unit_of_work(view)
    apply_rate_limits(app)
    _declare_docs_endpoints(app)
    missing = undeclared_endpoints(app)
    if missing:
        raise RuntimeError(f"endpoints without an access rule: {', '.join(missing)}")

    _install_fast_paths(app)
    _trust_proxies(app)  # outermost: every layer sees the client's address

    from privacy_service.cli import register_commands

    register_commands(app)
    return app


def _configure(config: dict[str, Any] | None) -> Flask:
    """The app with its settings: the environment (PRIVACY_*), then the framework's, then `config`."""
    settings = Settings()
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=False)
    app.url_map.converters["int"] = Int32Converter
    app.config.update(settings.flask_config())
    app.config.update(
        API_TITLE="privacy-service",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE="nb",
        BABEL_TRANSLATION_DIRECTORIES="translations",
    )
    app.config.update(config or {})
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if config and "SQLALCHEMY_DATABASE_URI" not in config and "DATABASE_URL" in config:
        app.config["SQLALCHEMY_DATABASE_URI"] = Settings(
            database_url=config["DATABASE_URL"]
        ).resolved_database_url()
    return app


def _init_extensions(app: Flask) -> None:
    """Babel, CSRF, logins, security headers and limits, error pages, and the checks every request passes."""
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["dt"] = format_datetime  # date and time in Europe/Oslo, as the PDFs write it
    app.jinja_env.filters["actor"] = actor_text  # who did it, in words
    app.jinja_env.globals["word"] = code_words  # a code in words: word('activity_status', 'active')
    csrf = CSRFProtect(app)
    login_manager = LoginManager(app)
    init_security(app, csrf=csrf, login_manager=login_manager)
    register_error_handlers(app)
    app.before_request(refuse_deep_json)  # first: the others parse the body
    app.before_request(refuse_nul_characters)
    app.before_request(require_json_body)
    app.before_request(enforce_access)
    app.before_request(lambda: _check_csrf(csrf))

    @app.context_processor
    def _template_globals() -> dict[str, Any]:
        return {"principal": current_principal(), "languages": LANGUAGES}


def _check_csrf(csrf: CSRFProtect) -> None:
    # API keys are not ambient credentials, so Bearer calls need no CSRF token; sessions always do.
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE") or request.endpoint in (None, "static"):
        return
    principal = current_principal()
    if principal is not None and principal.via == "key":
        return
    if getattr(current_app.view_functions[request.endpoint], "_csrf_exempt", False):  # see link_credential
        return
    csrf.protect()


def _install_fast_paths(app: Flask) -> None:
    """Answer the consent and processing status reads before Flask (consent/hotpath.py), and the activity
    answers kept for the registry's version (ropa/fastpath.py)."""
    from privacy_service.consent.hotpath import hot_path_for

    seconds = float(app.config.get("PRIVACY_KEY_CACHE_SECONDS", 5))
    hot = None
    if app.config.get("PRIVACY_CONSENT_FASTPATH", True):
        hot = hot_path_for(app.wsgi_app, app.extensions["engine"].url, key_cache_seconds=seconds)
    if hot is not None:
        app.wsgi_app = hot  # type: ignore[method-assign]
        app.extensions["hot_path"] = hot
    if hot is not None and app.config.get("PRIVACY_ACTIVITY_FASTPATH", True):
        # kept activity answers on the hot path's connection and key cache (ropa/fastpath.py)
        from privacy_service.ropa.api import answer_cache
        from privacy_service.ropa.fastpath import ActivityAnswers

        answers = ActivityAnswers(app.wsgi_app, answer_cache(app), reader=hot.backend, keys=hot.keys)
        app.wsgi_app = answers  # type: ignore[method-assign]
        app.extensions["activity_fast_path"] = answers
    if app.config.get("PRIVACY_HOT_POOL"):
        from privacy_service.consent.hotpath import HotOnly

        app.wsgi_app = HotOnly(app.wsgi_app)  # type: ignore[method-assign]


def _trust_proxies(app: Flask) -> None:
    """Behind N reverse proxies, read the client's address and scheme from their X-Forwarded-* headers."""
    hops = int(app.config.get("PRIVACY_TRUSTED_PROXIES") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def close_app(app: Flask) -> None:
    """Release the app's database connections (tests, benchmarks and embedding code call this)."""
    hot = app.extensions.get("hot_path")
    if hot is not None:
        hot.close()
    app.extensions["engine"].dispose()
    from privacy_service.datamap.service import dispose_engines

    dispose_engines()  # the data systems' pooled connections, shared by the process


def _register_blueprints(app: Flask, api: Api) -> None:
    from privacy_service import health
    from privacy_service.audit_api import blp as audit_blp
    from privacy_service.consent import api as consent_api
    from privacy_service.consent import public_views as consent_public_views
    from privacy_service.consent import views as consent_views
    from privacy_service.datamap import views as datamap_views
    from privacy_service.dsar import api as dsar_api
    from privacy_service.dsar import opendsr_api
    from privacy_service.dsar import public_views as dsar_public_views
    from privacy_service.dsar import views as dsar_views
    from privacy_service.notify_api import blp as webhooks_blp
    from privacy_service.people import api as people_api
    from privacy_service.registers import api as registers_api
    from privacy_service.registers import (
        dpia_api,
        dpia_views,
        lia_api,
        lia_views,
        processing_api,
        processing_views,
        start_views,
        transfer_api,
        transfer_views,
    )
    from privacy_service.registers import views as registers_views
    from privacy_service.retention import api as retention_api
    from privacy_service.retention import views as retention_views
    from privacy_service.ropa import api as ropa_api
    from privacy_service.ropa import public_views as ropa_public_views
    from privacy_service.ropa import views as ropa_views
    from privacy_service.security import views as auth_views
    from privacy_service.subjects import views as subject_views

    app.register_blueprint(health.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(ropa_views.bp)
    app.register_blueprint(ropa_public_views.bp)
    app.register_blueprint(datamap_views.bp)
    app.register_blueprint(consent_public_views.bp)
    app.register_blueprint(consent_views.bp)
    app.register_blueprint(retention_views.bp)
    app.register_blueprint(dsar_public_views.bp)
    app.register_blueprint(dsar_views.bp)
    app.register_blueprint(subject_views.bp)
    app.register_blueprint(start_views.bp)
    app.register_blueprint(registers_views.bp)
    app.register_blueprint(dpia_views.bp)
    app.register_blueprint(processing_views.bp)
    app.register_blueprint(lia_views.bp)
    app.register_blueprint(transfer_views.bp)
    api.register_blueprint(ropa_api.blp, url_prefix="/api/v1")
    api.register_blueprint(audit_blp, url_prefix="/api/v1")
    api.register_blueprint(consent_api.blp, url_prefix="/api/v1")
    api.register_blueprint(webhooks_blp, url_prefix="/api/v1")
    api.register_blueprint(retention_api.blp, url_prefix="/api/v1")
    api.register_blueprint(dsar_api.blp, url_prefix="/api/v1")
    api.register_blueprint(opendsr_api.blp, url_prefix="/api/v1")
    api.register_blueprint(registers_api.blp, url_prefix="/api/v1")
    api.register_blueprint(dpia_api.blp, url_prefix="/api/v1")
    api.register_blueprint(people_api.blp, url_prefix="/api/v1")
    api.register_blueprint(processing_api.blp, url_prefix="/api/v1")
    api.register_blueprint(lia_api.blp, url_prefix="/api/v1")
    api.register_blueprint(transfer_api.blp, url_prefix="/api/v1")


def _register_tasks_and_jobs(app: Flask) -> None:
    """The outbox tasks (work queued with a change, done after it commits) and the periodic jobs the
    scheduler process runs for this app: every package's are named here, none registers itself on import."""
    from privacy_service import idempotency, notify
    from privacy_service.audit_anchor import anchor_job
    from privacy_service.consent import jobs as consent_jobs
    from privacy_service.dsar import jobs as dsar_jobs
    from privacy_service.retention.jobs import register_periodic

    for tasks in (consent_jobs.TASKS, dsar_jobs.TASKS):
        for name, handler in tasks.items():
            notify.register_task(name, handler)
    for name, (schedule, job) in dsar_jobs.JOBS.items():
        register_periodic(app, name, schedule, job)
    register_periodic(app, "audit.anchor", "30 2 * * *", anchor_job)  # daily, also when nobody verifies
    register_periodic(app, "idempotency.purge", "50 3 * * *", idempotency.purge_job)  # keys kept 24 hours


def _declare_docs_endpoints(app: Flask) -> None:
    # The OpenAPI description and its docs page are public on purpose: portal developers read them.
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith("api-docs."):
            app.view_functions[endpoint] = _public_view(view)


def _public_view(view: Any) -> Any:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    wrapper._access = Rule(public=True)  # type: ignore[attr-defined]
    return wrapper
