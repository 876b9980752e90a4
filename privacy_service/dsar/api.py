"""/api/v1/requests: data-subject requests from portal services and officers, and the officer actions."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from privacy_service.db import get_session, page_of
from privacy_service.dsar import service
from privacy_service.dsar.schemas import (
    OFFICER_CHANNELS,
    AppealInSchema,
    AppealListArgsSchema,
    AppealSchema,
    AppealStepInSchema,
    BlockedErasureSchema,
    CompleteInSchema,
    CreatedSchema,
    DecisionsInSchema,
    DraftArgsSchema,
    ExtendInSchema,
    LiftInSchema,
    LiftNoticeInSchema,
    ManualResultsInSchema,
    PackageArgsSchema,
    RecipientsInSchema,
    RejectInSchema,
    RequestInSchema,
    RequestListArgsSchema,
    RequestSchema,
    VerifyInSchema,
    WithdrawInSchema,
    WithholdingInSchema,
    WithholdingSchema,
)
from privacy_service.errors import N_, Code, Conflict, NotFound, worded
from privacy_service.http import Window, app_instance_path, app_links, page_args, paged, send_download
from privacy_service.idempotency import idempotent
from privacy_service.openapi import located
from privacy_service.security.access import AccessDenied, current_actor, current_principal, require

blp = Blueprint("requests", __name__, description="Data-subject requests (GDPR Art. 12–22)")


def request_view(session: Any, req: Any, *, with_timeline: bool = True) -> dict[str, Any]:
    """A request as the API shows it: the identity number never leaves the service."""
    return {
        "reference": req.reference,
        "type": req.type,
        "status": req.status,
        "channel": req.channel,
        "language": req.language,
        "subject": {
            "email": req.subject_email,
            "name": req.subject_name,
            "national_id_given": bool(req.subject_national_id),
        },  # fmt: skip
        "activities": req.activities,
        "details": req.details,
        "received_at": req.received_at,
        "identity_status": req.identity_status,
        "identity_method": req.identity_method,
        "identifiers": service.identifiers(req),
        "due_at": req.due_on,
        "overdue": service.is_overdue(req),
        "extension": {"months": req.extension_months, "reason": req.extension_reason}
        if req.extension_months
        else None,
        "rejection": {"ground": req.rejection_ground, "reason": req.rejection_reason}
        if req.rejection_ground
        else None,
        "outcomes": [outcome_view(o) for o in service.outcomes(session, req)],
        "draft": _draft_view(service.draft_of(session, req)),
        "withholdings": [withholding_view(w, req.language) for w in service.withholdings(session, req)],
        "timeline": service.timeline(session, req) if with_timeline else [],
        "appeals": [service.appeal_view(a, req.reference) for a in service.appeals_of(session, req)]
        if with_timeline
        else [],
        "processors": service.processor_requests(session, req) if with_timeline else [],
    }


def _draft_view(doc: Any) -> dict[str, Any] | None:
    if doc is None:
        return None
    return {"sha256": doc.sha256, "created_at": doc.created_at.isoformat(), "bytes": len(doc.content)}


def outcome_view(outcome: Any) -> dict[str, Any]:
    """One activity's line of the plan: the outcome, its legal ground, and (for erasure) the preview."""
    return {
        "activity": outcome.activity,
        "outcome": outcome.outcome,
        "applies": outcome.applies,
        "legal_ground": outcome.legal_ground,
        "reason": outcome.reason,
        "records": outcome.records,
        "held": outcome.held,
        "tables": outcome.details.get("tables", []),
        "holds": outcome.details.get("holds", []),
        "told": outcome.details.get("told", []),
        "recipients": outcome.details.get("recipients", []),
        "restriction": outcome.details.get("restriction"),
        "retries": outcome.details.get("retries", []),
        "decision": outcome.decision,
        "ground": outcome.decision_ground,
        "reasons": outcome.decision_reasons,
        "decided_by": outcome.decided_by,
        "decided_at": outcome.decided_at,
        "suggestion": outcome.details.get("suggestion"),
        "manual": {
            "result": outcome.manual_result,
            "records": outcome.manual_records,
            "controller": outcome.manual_controller,
            "recorded_by": outcome.manual_by,
            "recorded_at": outcome.manual_at,
        }
        if outcome.records is None
        else None,
    }


def withholding_view(w: Any, lang: str) -> dict[str, Any]:
    """Data kept out of the answer: where, what kind, the row keys the officer listed, ground and reasons."""
    return {
        "id": w.id,
        "activity": w.activity,
        "system": w.system,
        "table": w.table,
        "kind": service.withholding_kind(w),
        "column": w.column,
        "rows": w.row_keys,
        "ground": w.ground,
        "ground_text": service.ground_text(w.ground, lang),
        "reasons": w.reasons,
        "created_by": w.created_by,
        "created_at": w.created_at,
    }


def _own_only() -> str | None:
    """A client without requests:manage sees only the requests it submitted: the actor it submitted them as.
    Officers and requests:manage see all (None)."""
    principal = current_principal()
    if principal is not None and principal.via == "key" and "requests:manage" not in principal.scopes:
        return str(principal.actor)
    return None


def _visible(req: Any) -> Any:
    """The request, if the caller may see it; another client's request answers as if it did not exist."""
    own = _own_only()
    if own is not None and req.created_by != own:
        raise NotFound(worded("No request %(ref)s.", ref=req.reference))
    return req


def _scopes() -> frozenset[str]:
    principal = current_principal()
    return principal.scopes if principal else frozenset()


@blp.route("/requests")
class Requests(MethodView):
    @blp.arguments(RequestListArgsSchema, location="query", as_kwargs=True)
    @blp.response(200, RequestSchema(many=True))
    @require("requests:read")
    @paged
    def get(self, **filters: Any) -> Window:
        """The queue, soonest deadline first: ?status=, ?type=, ?overdue=true, ?due_within_days=N. A client
        sees the requests it submitted; requests:manage and officers see all."""
        session = get_session()
        page, per_page = page_args()
        found, total = page_of(
            session, service.requests_query(created_by=_own_only(), **filters), page=page, per_page=per_page
        )
        return Window([request_view(session, r, with_timeline=False) for r in found], total)

    @idempotent
    @located("requests.get_request", "reference", "reference")
    @blp.arguments(RequestInSchema)
    @blp.response(201, CreatedSchema)
    @require("requests:write")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Submit a request. With an e-mail address the subject gets a one-time link and code to confirm it
        (the deadline runs from then); `verified_by` needs the scope requests:write:verified; letters and
        calls (`channel`, `received_at`) need requests:manage."""
        scopes = _scopes()
        if data["verified_by"] and "requests:write:verified" not in scopes:
            raise AccessDenied(
                403, N_("An already-verified request needs the scope 'requests:write:verified'.")
            )
        if data["channel"] in OFFICER_CHANNELS and "requests:manage" not in scopes:
            raise AccessDenied(403, N_("Registering letters and calls needs the scope 'requests:manage'."))
        if data["verified_by"]:
            data["channel"] = "portal"
        session = get_session()
        created = service.create_request(
            session,
            data=data,
            actor=current_actor(),
            links=app_links(),
            verified_by="portal_verified" if data["verified_by"] else None,
            verified_note=data["verified_by"] or None,  # the login service: the pages word it
        )
        return {
            **request_view(session, created.request),
            "status_url": app_links().status_url(created.status_token),
        }


@blp.route("/requests/blocked-erasures")
@blp.response(200, BlockedErasureSchema(many=True))
@require("requests:read")
@paged
def blocked_erasures() -> list[dict[str, Any]]:
    """The erasures a hold blocked: reference, activity, rows held, the hold (kind and the text the subject
    reads, never its basis nor a subject identifier) and the retry's state. Releasing a hold retries them."""
    own = _own_only()
    found = service.blocked_erasures(get_session())
    if own is not None:
        mine = {r.reference for r in service.list_requests(get_session(), created_by=own, limit=None)}
        found = [b for b in found if b["reference"] in mine]
    return found


@blp.route("/requests/<reference>")
@blp.response(200, RequestSchema)
@require("requests:read")
def get_request(reference: str) -> dict[str, Any]:
    """One request with its timeline."""
    session = get_session()
    return request_view(session, _visible(service.get_request(session, reference=reference)))


def _done(req: Any) -> dict[str, Any]:
    return request_view(get_session(), req)


@blp.route("/requests/<reference>/verify", methods=["POST"])
@blp.arguments(VerifyInSchema, required=False)
@blp.response(200, RequestSchema)
@require("requests:manage")
def verify(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Verify the subject's identity by hand, or send them an e-mail check. By hand, say which of the
    request's identifiers was checked (`identifiers`) and name the document seen (`note`): only verified
    identifiers search the data."""
    session = get_session()
    if data["method"] == "email":
        req = service.ask_identity(session, reference=reference, actor=current_actor(), links=app_links())
    else:
        req = service.verify_by_officer(
            session,
            reference=reference,
            note=data["note"],
            identifiers=data["identifiers"],
            actor=current_actor(),
            secret=app_links().secret_key,
        )
    return _done(req)


@blp.route("/requests/<reference>/plan", methods=["POST"])
@blp.response(200, RequestSchema)
@require("requests:manage")
def make_plan(reference: str) -> dict[str, Any]:
    """Decide again, per activity, whether the right applies and what the data map holds (the erasure
    preview: rows to delete, to mask, and held with the hold's basis). Nothing is changed in the data."""
    req = service.plan_request(
        get_session(),
        reference=reference,
        actor=current_actor(),
        instance_path=app_instance_path(),
        secret=app_links().secret_key,
    )
    return _done(req)


@blp.route("/requests/<reference>/decisions", methods=["POST"])
@blp.arguments(DecisionsInSchema)
@blp.response(200, RequestSchema)
@require("requests:manage")
def decide(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Decide per activity before approval: uphold, or refuse with a `ground` from the closed list and
    `reasons`. An objection to 6(1)(e)/(f) processing waits for this; approval is refused until then."""
    req = service.decide_outcomes(
        get_session(), reference=reference, items=data["decisions"], actor=current_actor()
    )
    return _done(req)


@blp.route("/requests/<reference>/manual-results", methods=["POST"])
@blp.arguments(ManualResultsInSchema)
@blp.response(200, RequestSchema)
@require("requests:manage")
def manual_results(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Record what a search by hand found in an activity outside the data map: found_handled (with
    `records`), none_found, or sent_to_controller (with `controller`). Until then it is not_checked."""
    req = service.record_manual_results(
        get_session(), reference=reference, items=data["results"], actor=current_actor()
    )
    return _done(req)


@blp.route("/requests/<reference>/approve", methods=["POST"])
@blp.arguments(WithdrawInSchema, required=False)
@blp.response(200, RequestSchema)
@require("requests:manage")
def approve(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Approve the plan and carry it out through the data map (erasure never touches held rows); processors
    of changed activities are told (Art. 19). 409 `undecided_outcomes` while an activity waits for a
    decision or a search by hand (`fields.undecided`, `fields.not_checked`)."""
    req = service.approve(
        get_session(),
        reference=reference,
        actor=current_actor(),
        note=data["note"],
        instance_path=app_instance_path(),
        links=app_links(),
    )
    return _done(req)


@blp.route("/requests/<reference>/draft", methods=["POST"])
@blp.response(200, RequestSchema)
@require("requests:manage")
def make_draft(reference: str) -> dict[str, Any]:
    """Make the answer as a draft for the officer to read (GET …/draft): the letter as HTML and PDF, and the
    export. The subject is told nothing until the draft is sent (POST …/complete). 409 before approval."""
    req = service.make_draft(
        get_session(),
        reference=reference,
        actor=current_actor(),
        instance_path=app_instance_path(),
        secret=app_links().secret_key,
    )
    return _done(req)


@blp.route("/requests/<reference>/draft")
@blp.arguments(DraftArgsSchema, location="query", as_kwargs=True)
@blp.response(200, content_type="application/pdf")
@blp.alt_response(200, content_type="text/html", description="?format=html: the letter as HTML")
@blp.alt_response(200, content_type="application/zip", description="?format=zip: the export")
@require("requests:manage")
def read_draft(reference: str, format: str) -> Response:
    """The draft answer: the letter as PDF (default) or HTML, or the export the subject would get."""
    session = get_session()
    req = service.get_request(session, reference=reference)
    kind = {"pdf": "draft", "html": "draft_html", "zip": "draft_zip"}[format]
    doc = service.draft_of(session, req, kind)
    if doc is None:
        raise NotFound(worded("Request %(ref)s has no draft answer.", ref=req.reference))
    return send_document(doc)


@blp.route("/requests/<reference>/complete", methods=["POST"])
@blp.arguments(CompleteInSchema, required=False)
@blp.response(200, RequestSchema)
@require("requests:manage")
def complete(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Send the draft answer: it becomes the answer and the subject is told it is ready. 409 `no_draft`
    without a draft; with `draft` (the SHA-256 the draft showed), 409 `draft_changed` if it is not the
    current draft."""
    req = service.complete(
        get_session(),
        reference=reference,
        actor=current_actor(),
        note=data["note"],
        draft=data["draft"],
        instance_path=app_instance_path(),
        links=app_links(),
    )
    return _done(req)


@blp.route("/requests/<reference>/package")
@blp.arguments(PackageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, content_type="application/zip")
@blp.alt_response(200, content_type="application/pdf", description="?part=letter: the letter alone")
@require("requests:read")
def package(reference: str, part: str) -> Response:
    """The answer: a ZIP with the PDF letter, the data as JSON and CSV per table, and manifest.json
    (?part=letter for the PDF alone). 409 until the request is completed."""
    session = get_session()
    req = _visible(service.get_request(session, reference=reference))
    doc = service.document(session, req, "letter" if part == "letter" else "export")
    if doc is None:
        raise Conflict(
            worded(
                "Request %(ref)s has no answer yet (it is %(status)s).",
                ref=req.reference,
                status=Code("letter.status", req.status),
            )
        )
    return send_document(doc)


def send_document(doc: Any) -> Response:
    """A stored answer as a download (never cached: it holds personal data)."""
    return send_download(doc.content, mimetype=doc.media_type, filename=doc.filename)


@blp.route("/requests/<reference>/extend", methods=["POST"])
@blp.arguments(ExtendInSchema)
@blp.response(200, RequestSchema)
@require("requests:manage")
def extend(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Extend the deadline once by one or two months, within the first month; the subject is told why."""
    req = service.extend(get_session(), reference=reference, actor=current_actor(), links=app_links(), **data)
    return _done(req)


@blp.route("/requests/<reference>/reject", methods=["POST"])
@blp.arguments(RejectInSchema)
@blp.response(200, RequestSchema)
@require("requests:manage")
def reject(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Refuse to act (Art. 12(5), or identity not established), with reasons the subject is told."""
    req = service.reject(get_session(), reference=reference, actor=current_actor(), links=app_links(), **data)
    return _done(req)


@blp.route("/requests/<reference>/withdraw", methods=["POST"])
@blp.arguments(WithdrawInSchema, required=False)
@blp.response(200, RequestSchema)
@require("requests:manage")
def withdraw(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Record that the subject withdrew the request (by letter or call)."""
    req = service.withdraw(get_session(), reference=reference, actor=current_actor(), note=data["note"])
    return _done(req)


@blp.route("/requests/<reference>/withholdings")
class Withholdings(MethodView):
    @blp.response(200, WithholdingSchema(many=True))
    @require("requests:read")
    @paged
    def get(self, reference: str) -> list[dict[str, Any]]:
        """What is withheld from the request's answer, with grounds and reasons."""
        session = get_session()
        req = _visible(service.get_request(session, reference=reference))
        return [withholding_view(w, req.language) for w in service.withholdings(session, req)]

    @blp.arguments(WithholdingInSchema)
    @blp.response(201, WithholdingSchema)
    @require("requests:manage")
    def post(self, data: dict[str, Any], reference: str) -> dict[str, Any]:
        """Withhold a table, a `column` or `rows` (their key values) of an activity's data from an approved
        access or portability answer, with a `ground` (art_15_4, pdl_16_a … pdl_16_f) and `reasons`. The
        letter tells the subject what kind of data, how many records, the ground and the reasons; the ZIP
        leaves the data out. 409 unless the request is an approved access or portability request not yet
        completed."""
        session = get_session()
        withheld = service.withhold(session, reference=reference, data=data, actor=current_actor())
        return withholding_view(withheld, service.get_request(session, reference=reference).language)


@blp.route("/requests/<reference>/withholdings/<int:withholding_id>", methods=["DELETE"])
@blp.response(204)
@require("requests:manage")
def remove_withholding(reference: str, withholding_id: int) -> None:
    """Put withheld data back into the answer (409 once the request is completed)."""
    service.remove_withholding(
        get_session(), reference=reference, withholding_id=withholding_id, actor=current_actor()
    )


@blp.route("/requests/<reference>/appeals", methods=["POST"])
@blp.arguments(AppealInSchema)
@blp.response(201, AppealSchema)
@require("requests:manage")
def register_appeal(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Register an appeal against the refusals on statutory health registries of a completed request (an
    individual decision, forvaltningsloven § 28). 409 `not_appealable` when nothing such was refused; an
    appeal received after the three weeks is registered with `late: true` (§ 31)."""
    days = int(current_app.config.get("PRIVACY_APPEAL_PREPARE_DAYS", 21))
    req, appeal = service.register_appeal(
        get_session(), reference=reference, actor=current_actor(), prepare_days=days, **data
    )
    return service.appeal_view(appeal, req.reference)


@blp.route("/requests/<reference>/appeals/<int:appeal_id>/steps", methods=["POST"])
@blp.arguments(AppealStepInSchema)
@blp.response(200, AppealSchema)
@require("requests:manage")
def advance_appeal(data: dict[str, Any], reference: str, appeal_id: int) -> dict[str, Any]:
    """Take an appeal's next step: prepared, sent_to_appeal_body (with `decision_expected_on`), decided (with
    `outcome`); `date` defaults to today. 409 `appeal_step_not_allowed` out of order."""
    days = int(current_app.config.get("PRIVACY_APPEAL_DECISION_DAYS", 90))
    req, appeal = service.advance_appeal(
        get_session(), reference=reference, appeal_id=appeal_id, actor=current_actor(),
        decision_days=days, **data,
    )  # fmt: skip
    return service.appeal_view(appeal, req.reference)


@blp.route("/appeals")
@blp.arguments(AppealListArgsSchema, location="query", as_kwargs=True)
@blp.response(200, AppealSchema(many=True))
@require("requests:read")
@paged
def list_appeals(**filters: Any) -> list[dict[str, Any]]:
    """Appeals, soonest deadline first: ?overdue=true (past the deadline to prepare them, or the appeal
    body's expected decision), ?status=. A client sees appeals on the requests it submitted."""
    found = service.list_appeals(get_session(), created_by=_own_only(), **filters)
    return [service.appeal_view(a, ref) for a, ref in found]


@blp.route("/requests/<reference>/lift-restriction/notice", methods=["POST"])
@blp.arguments(LiftNoticeInSchema, required=False)
@blp.response(200, RequestSchema)
@require("requests:manage")
def lift_notice(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Art. 18(3), step one: tell the subject the restriction will be lifted (the standard notice in the
    request's language, through the outbox; `channel: letter` records that it went by post). 409
    `no_verified_address` for e-mail without a proved address, `not_restricted` if nothing is restricted."""
    req = service.send_lift_notice(
        get_session(),
        reference=reference,
        activities=data.get("activities"),
        channel=data.get("channel", "email"),
        actor=current_actor(),
        links=app_links(),
    )
    return _done(req)


@blp.route("/requests/<reference>/lift-restriction", methods=["POST"])
@blp.arguments(LiftInSchema)
@blp.response(200, RequestSchema)
@require("requests:manage")
def lift_restriction(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Art. 18(3), step two: lift the restriction (the data systems' restriction column back to false, the
    "restricted" processing flag lifted). 409 `restriction_notice_missing` until the notice was sent."""
    req = service.lift_restriction(
        get_session(),
        reference=reference,
        activities=data["activities"],
        reasons=data["reasons"],
        actor=current_actor(),
        instance_path=app_instance_path(),
        secret=app_links().secret_key,
    )
    return _done(req)


@blp.route("/requests/<reference>/recipients", methods=["POST"])
@blp.arguments(RecipientsInSchema)
@blp.response(200, RequestSchema)
@require("requests:manage")
def recipients_not_told(data: dict[str, Any], reference: str) -> dict[str, Any]:
    """Art. 19: record recipients that are not told, each with a reason (impossible |
    disproportionate_effort) and written reasons. A recipient without a contact address is listed as
    `pending` in the outcome's `recipients` until this is recorded."""
    req = service.record_recipients_not_told(
        get_session(), reference=reference, items=data["recipients"], actor=current_actor()
    )
    return _done(req)
