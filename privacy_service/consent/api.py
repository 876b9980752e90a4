"""/api/v1/consents, /api/v1/consents:query, /api/v1/consent-receipts, /api/v1/subjects/…/processing."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from privacy_service.consent import service
from privacy_service.consent.schemas import (
    ConsentChangeOutSchema,
    ConsentChangeSchema,
    ConsentStateSchema,
    HistorySchema,
    NoticeArgsSchema,
    NoticeInSchema,
    NoticeSchema,
    ProcessingArgsSchema,
    ProcessingSchema,
    QueryOutSchema,
    QuerySchema,
    ReceiptArgsSchema,
    ReceiptOutSchema,
    etag,
    state_json,
)
from privacy_service.db import end_read, get_session
from privacy_service.errors import N_, NotFound
from privacy_service.http import app_links, client_language, paged, send_download
from privacy_service.idempotency import idempotent
from privacy_service.openapi import answers_etag, if_match
from privacy_service.security.access import calling_client, current_actor, require

blp = Blueprint("consent", __name__, description="Consent records and the status API for portal services")


def _not_recorded(session: Any, purpose: str) -> NoReturn:
    """404 for a consent never recorded; a misspelt purpose first, as its own error (unknown_purpose)."""
    service.consent_activity(session, purpose)
    raise NotFound(N_("No consent is recorded for this subject and purpose."))


@blp.route("/consents/<subject>/<purpose>")
class Consent(MethodView):
    @answers_etag
    @blp.response(200, ConsentStateSchema)
    @blp.alt_response(304, description="Not modified (If-None-Match)")
    @require("consent:read")
    def get(self, subject: str, purpose: str) -> Any:
        """The current consent of a subject for a purpose; 404 when never recorded. Send If-None-Match.

        The subject is an e-mail address or your own user id; once linked (POST /subjects/links) the answer
        is the person's: the newest consent under any identifier proved to be hers, named as you asked."""
        subject = service.check_subject(subject)
        session = get_session()
        state = service.person_state(session, subject=subject, purpose=purpose, client=_client_name())
        if state is None:
            _not_recorded(session, purpose)
        tag = etag(state)
        if tag in request.headers.get("If-None-Match", ""):
            return Response(status=304, headers={"ETag": tag})
        return state_json(state), 200, {"ETag": tag}  # never the withdrawal link: a reader must not withdraw

    @if_match("optional")
    @idempotent
    @blp.arguments(ConsentChangeSchema)
    @blp.response(200, ConsentChangeOutSchema)
    @require("consent:write")
    def put(self, data: dict[str, Any], subject: str, purpose: str) -> Any:
        """Record that the subject gave or withdrew consent; the answer carries the receipt of the change.

        If-Match (optional): the ETag of the consent read; 412 when it changed since, so that a portal does
        not record a decision taken on a stale view. Idempotency-Key (optional): a repeated call gets the
        first answer (`Idempotent-Replayed: true`)."""
        session = get_session()
        end_read(session)  # the write starts its own transaction (SQLite lock)
        change = service.change_consent(
            session,
            subject=subject,
            purpose=purpose,
            status=data["status"],
            channel=data["channel"],
            notice_version=data["notice_version"],
            evidence=data["evidence"],
            actor=current_actor(),
            links=app_links(),
            lang=data["language"],
            notify_subject=data["notify_subject"],
            if_match=request.headers.get("If-Match"),
        )
        body = {
            **state_json(change.state, links=app_links()),
            "changed": change.changed,
            "receipt": change.event.receipt,
        }
        return body, 200, {"ETag": etag(change.state)}


@blp.route("/consents/<subject>/<purpose>/history")
@blp.response(200, HistorySchema)
@require("consent:read")
def consent_history(subject: str, purpose: str) -> dict[str, Any]:
    """Every consent event of a subject and purpose, oldest first, with its receipt id.

    A client sees the history of the consents it recorded (a consent recorded only by other clients answers
    404, as one never recorded); of the events others made it sees the kind of actor, not who, and no
    receipt id. An officer sees everything."""
    subject = service.check_subject(subject)
    session = get_session()
    events = service.history(session, subject=service.subject_key(subject, _client_name()), purpose=purpose)
    caller = calling_client()
    if caller is not None and not any(e.actor == str(caller) for e in events):
        events = []
    if not events:
        _not_recorded(session, purpose)
    return {
        "subject": subject,
        "purpose": purpose,
        "events": [
            {
                "event_id": e.id,
                "receipt_id": e.receipt_id if _own(e, caller) else None,
                "status": e.status,
                "dpv_status": e.dpv_status,
                "at": e.at.isoformat(),
                "notice_version": e.notice_version,
                "notice_sha256": e.notice_sha256,
                "channel": e.channel,
                "actor": e.actor if _own(e, caller) else e.actor.partition(":")[0],
            }
            for e in events
        ],
    }


def _own(event: Any, caller: Any) -> bool:
    return caller is None or event.actor == str(caller)


@blp.route("/consents:query", methods=["POST"])
@blp.arguments(QuerySchema)
@blp.response(200, QueryOutSchema)
@require("consent:read")
def consent_query(data: dict[str, Any]) -> Response:
    """The consent of up to 1,000 subject/purpose pairs in one call, in the order asked."""
    pairs = [(service.check_subject(p["subject"]), p["purpose"]) for p in data["pairs"]]
    found = service.query_states(get_session(), pairs, client=_client_name())
    items = [state_json(found.get(pair) or service.StateRow(*pair), brief=True) for pair in pairs]
    # Already in the QueryOutSchema shape: a schema dump per item would cost more than the query itself.
    return current_app.response_class(json.dumps({"items": items}), mimetype="application/json")


@blp.route("/consent-receipts/<receipt_id>")
@blp.arguments(ReceiptArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ReceiptOutSchema)
@blp.alt_response(200, content_type="application/pdf", description="The receipt as PDF")
@require("consent:read")
def consent_receipt(receipt_id: str, lang: str | None) -> Any:
    """One consent receipt as JSON, or as PDF with Accept: application/pdf, in the reader's language
    (`?lang=nb|en` or Accept-Language; by default the language the consent was given in). A client reads
    the receipts of the consents it recorded (another's answers 404, as an unknown id); an officer reads
    every receipt."""
    session = get_session()
    event = service.get_receipt(session, receipt_id=receipt_id)
    caller = calling_client()
    if caller is not None and not service.recorded_by(
        session, subject=event.subject, purpose=event.purpose, actor=str(caller)
    ):
        raise NotFound(N_("No consent receipt has this id."))
    if request.accept_mimetypes.best_match(["application/json", "application/pdf"]) == "application/pdf":
        name = f"consent-receipt-{event.receipt_id}.pdf"
        pdf = service.receipt_pdf(event, lang=lang or _reader_language())
        return send_download(pdf, mimetype="application/pdf", filename=name)
    return {"receipt": event.receipt}


def _reader_language() -> str | None:
    """The PDF's language without `?lang=`: bokmål or English as Accept-Language asks; None: as issued."""
    if "Accept-Language" not in request.headers:
        return None
    return client_language()


@blp.route("/subjects/<subject>/processing")
@blp.arguments(ProcessingArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ProcessingSchema)
@require("consent:read")
def subject_processing(subject: str, activity: str) -> dict[str, Any]:
    """May the subject's data be processed in the activity? Only `allowed` means yes; no_consent,
    consent_withdrawn, renewal_required (a consent given before a notice that asks subjects to consent again),
    restricted (Art. 18) and objected (Art. 21) all mean do not process. The subject is an e-mail address
    or your own user id; once linked (POST /subjects/links) a flag or consent recorded under any identifier
    proved to be the person's counts."""
    return service.processing_status(get_session(), subject=subject, activity=activity, client=_client_name())


def _client_name() -> str | None:
    """The calling API client's name: a subject that is not an e-mail address is its own user id."""
    caller = calling_client()
    return caller.id if caller is not None else None


@blp.route("/consent-notices")
class Notices(MethodView):
    @blp.arguments(NoticeArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, NoticeSchema(many=True))
    @require("consent:read")
    @paged
    def get(self, purpose: str | None) -> list[Any]:
        """The published consent notices, oldest first."""
        return service.list_notices(get_session(), purpose=purpose)

    @blp.arguments(NoticeInSchema)
    @blp.response(201, NoticeSchema)
    @blp.alt_response(200, schema=NoticeSchema, description="The same text was published already: unchanged")
    @require("registry:write")
    def post(self, data: dict[str, Any]) -> Any:
        """Publish a notice version; renewal_required flags current consents until subjects consent again."""
        session = get_session()
        notice, outcome = service.publish_notice(session, actor=current_actor(), **data)
        return notice, 201 if outcome == "created" else 200
