"""/api/v1/breaches: the breach register (GDPR Art. 33 and 34)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from privacy_service.db import get_session
from privacy_service.http import app_instance_path, paged, send_download
from privacy_service.idempotency import idempotent
from privacy_service.openapi import located
from privacy_service.registers import service
from privacy_service.registers.schemas import (
    AssessInSchema,
    BreachInSchema,
    BreachListArgsSchema,
    BreachSchema,
    NotifyAuthorityInSchema,
    NotifySubjectsInSchema,
    PdfArgsSchema,
)
from privacy_service.security.access import current_actor, require

blp = Blueprint("breaches", __name__, description="The breach register: record, assess, notify, close")

SCOPE = "breaches:manage"


@blp.route("/breaches")
class Breaches(MethodView):
    @blp.arguments(BreachListArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, BreachSchema(many=True))
    @require(SCOPE)
    @paged
    def get(self, status: str | None) -> list[service.Breach]:
        """Breaches, the most recently discovered first; ?status= narrows the list."""
        return service.list_breaches(get_session(), status=status)

    @idempotent
    @located("breaches.get_breach", "reference", "reference")
    @blp.arguments(BreachInSchema)
    @blp.response(201, BreachSchema)
    @require(SCOPE)
    def post(self, data: dict[str, Any]) -> service.Breach:
        """Record a breach; notify_authority_by is discovered_at + 72 hours (Art. 33(1))."""
        return service.create_breach(get_session(), data=data, actor=current_actor())


@blp.route("/breaches/<reference>")
@blp.response(200, BreachSchema)
@require(SCOPE)
def get_breach(reference: str) -> service.Breach:
    """One breach with its assessment and notifications."""
    return service.get_breach(get_session(), reference=reference)


@blp.route("/breaches/<reference>/assess", methods=["POST"])
@blp.arguments(AssessInSchema)
@blp.response(200, BreachSchema)
@require(SCOPE)
def assess(data: dict[str, Any], reference: str) -> service.Breach:
    """Record the risk assessment (no_risk | risk | high_risk) and its reasons."""
    return service.assess_breach(
        get_session(), reference=reference, risk_level=data["risk_level"], reasons=data["reasons"],
        actor=current_actor(),
    )  # fmt: skip


@blp.route("/breaches/<reference>/notify-authority", methods=["POST"])
@blp.arguments(NotifyAuthorityInSchema)
@blp.response(200, BreachSchema)
@require(SCOPE)
def notify_authority(data: dict[str, Any], reference: str) -> service.Breach:
    """Record the notification to Datatilsynet; later than 72 hours it needs delay_reasons."""
    return service.notify_authority(get_session(), reference=reference, actor=current_actor(), **data)


@blp.route("/breaches/<reference>/notify-subjects", methods=["POST"])
@blp.arguments(NotifySubjectsInSchema)
@blp.response(200, BreachSchema)
@require(SCOPE)
def notify_subjects(data: dict[str, Any], reference: str) -> service.Breach:
    """Mail every data subject the data map finds for the breach's activities once (bokmål, then English),
    or record the Art. 34(3) ground on which it is not required."""
    return service.notify_subjects(
        get_session(), reference=reference, actor=current_actor(), instance_path=app_instance_path(), **data
    )


@blp.route("/breaches/<reference>/close", methods=["POST"])
@blp.response(200, BreachSchema)
@require(SCOPE)
def close(reference: str) -> service.Breach:
    """Close a breach whose notifications are done (or not required)."""
    return service.close_breach(get_session(), reference=reference, actor=current_actor())


@blp.route("/breaches/<reference>/notification.pdf")
@blp.arguments(PdfArgsSchema, location="query", as_kwargs=True)
@blp.response(200, content_type="application/pdf")
@require(SCOPE)
def notification_pdf(reference: str, lang: str) -> Response:
    """The notification to Datatilsynet as a PDF with every Art. 33(3) item; ?lang=en for English."""
    pdf = service.notification_pdf(get_session(), reference=reference, lang=lang)
    return send_download(pdf, mimetype="application/pdf", filename=f"{reference.upper()}-{lang}.pdf")
