"""/api/v1/processor-records: the record of processing carried out as a processor (GDPR Art. 30(2))."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from privacy_service.db import get_session
from privacy_service.http import paged, send_download
from privacy_service.registers import service
from privacy_service.registers.processing_schemas import (
    ProcessorRecordInSchema,
    ProcessorRecordListArgsSchema,
    ProcessorRecordSchema,
    ProtocolArgsSchema,
)
from privacy_service.security.access import current_actor, require

blp = Blueprint(
    "processor_records", __name__, description="Records of processing carried out as a processor (Art. 30(2))"
)

READ, WRITE = "registry:read", "registry:write"


@blp.route("/processor-records")
class ProcessorRecords(MethodView):
    @blp.arguments(ProcessorRecordListArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, ProcessorRecordSchema(many=True))
    @require(READ)
    @paged
    def get(self, status: str | None) -> list[service.ProcessorRecord]:
        """Processor records, the active first; ?status= narrows the list."""
        return service.list_processor_records(get_session(), status=status)

    @blp.arguments(ProcessorRecordInSchema)
    @blp.response(201, ProcessorRecordSchema)
    @require(WRITE)
    def post(self, data: dict[str, Any]) -> service.ProcessorRecord:
        """Record a processing carried out on behalf of one or more controllers."""
        return service.create_processor_record(get_session(), data=data, actor=current_actor())


@blp.route("/processor-records/<int:record_id>")
class ProcessorRecordOne(MethodView):
    @blp.response(200, ProcessorRecordSchema)
    @require(READ)
    def get(self, record_id: int) -> service.ProcessorRecord:
        """One processor record."""
        return service.get_processor_record(get_session(), record_id=record_id)

    @blp.arguments(ProcessorRecordInSchema)
    @blp.response(200, ProcessorRecordSchema)
    @require(WRITE)
    def put(self, data: dict[str, Any], record_id: int) -> service.ProcessorRecord:
        """Replace a processor record; end it with status ended and ended_on."""
        return service.update_processor_record(
            get_session(), record_id=record_id, data=data, actor=current_actor()
        )


@blp.route("/processor-records/protocol.pdf")
@blp.arguments(ProtocolArgsSchema, location="query", as_kwargs=True)
@blp.response(200, content_type="application/pdf")
@require(READ)
def protocol_pdf(lang: str, processor: str | None) -> Response:
    """The record of processing carried out as a processor as a PDF; ?lang=en, ?processor=<slug>."""
    pdf = service.processor_protocol_pdf(get_session(), processor=processor, lang=lang)
    return send_download(pdf, mimetype="application/pdf", filename=f"art30-2-{processor or 'all'}-{lang}.pdf")
