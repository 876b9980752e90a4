"""/api/v1/opendsr/callbacks: processors report the status of the OpenDSR requests we sent them
(docs/opendsr.md). The caller is the processor, proved by its signature over the body, not an API key."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint

from privacy_service.db import get_session
from privacy_service.dsar import opendsr
from privacy_service.dsar.opendsr_schemas import CallbackAnswerSchema, CallbackSchema
from privacy_service.security.access import signed_body

blp = Blueprint("opendsr", __name__, description="OpenDSR 2.0: status callbacks from processors")

EXAMPLE = {
    "controller_id": "helsedir",
    "expected_completion_time": "2026-12-20T12:00:00Z",
    "status_callback_url": "https://personvern.example.no/api/v1/opendsr/callbacks",
    "subject_request_id": "a7551968-d5d6-44b2-9831-815ac9017798",
    "request_status": "completed",
}
ERROR = {"$ref": "#/components/schemas/Error"}


def _error(text: str, code: str, message: str) -> dict[str, Any]:
    example = {"error": {"code": code, "message": message, "fields": {}}}
    return {"description": text, "content": {"application/json": {"schema": ERROR, "example": example}}}


# a view function, not a MethodView: the CSRF check reads its exemption from the view itself
@blp.route("/opendsr/callbacks", methods=["POST"])
@signed_body
@blp.doc(
    description="A processor's status callback (OpenDSR 2.0 § 8.6), signed as § 8.8 says: "
    "`X-OpenDSR-Processor-Domain` names the processor (it must be in the registry), and "
    "`X-OpenDSR-Signature` is the Base64 signature of the raw body over SHA-256 by the certificate the "
    "registry holds for that domain. The X-OpenGDPR-* names are accepted too (§ 10.1).",
    parameters=[
        {"in": "header", "name": "X-OpenDSR-Processor-Domain", "required": True, "schema": {"type": "string"},
         "description": "The processor's OpenDSR domain, as the registry names it"},
        {"in": "header", "name": "X-OpenDSR-Signature", "required": True, "schema": {"type": "string"},
         "description": "Base64 signature of the raw body over SHA-256 by the domain's certificate"},
    ],
    requestBody={"required": True, "content": {"application/json": {"schema": CallbackSchema,
                                                                     "example": EXAMPLE}}},
    responses={
        "400": _error("Not an OpenDSR callback for this service (`bad_callback`)", "bad_callback",
                      "The callback names another controller's callback URL."),
        "401": _error("No processor domain, one the registry does not know, or a certificate that is not "
                      "valid for it (`unknown_processor`)", "unknown_processor",
                      "The callback names no processor the registry knows."),
        "403": _error("Not signed, or not by the processor's certificate (`bad_signature`)", "bad_signature",
                      "The callback is not signed by the processor's certificate."),
        "404": _error("No request with this subject_request_id was sent to this processor (`not_found`)",
                      "not_found", "This processor was sent no request with this subject_request_id."),
        "409": _error("The request is completed or cancelled at the processor already (`conflict`)",
                      "conflict",
                      "The processor has reported this request completed or cancelled; it cannot change."),
    },
)  # fmt: skip
@blp.response(202, CallbackAnswerSchema, example={"subject_request_id": EXAMPLE["subject_request_id"],
                                                  "request_status": "completed"})  # fmt: skip
def callback() -> dict[str, Any]:
    """Record a processor's status callback."""
    row = opendsr.receive_callback(
        get_session(),
        body=request.get_data(cache=True),
        headers=request.headers,
        base_url=current_app.config.get("PRIVACY_BASE_URL", ""),
    )
    return {"subject_request_id": row.subject_request_id, "request_status": row.status}
