"""Data-subject requests, the front door: every action on a request and its preconditions, and what the
API, the pages, the jobs and the command line read. They call this module only.

Every write here is one transaction with its audit event (the caller commits). The helpers below the door
(lifecycle, identity, plan, act, answer, pdf) act on the request this module has loaded; none of them imports
it, so no circle forms. A request's identity check is its own: a second request from the same address gets its
own challenge and never inherits the first one's verification.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from marshmallow import ValidationError as MarshmallowError
from sqlalchemy import func, select, text
from sqlmodel import Session

from privacy_service import notify
from privacy_service.audit import Actor
from privacy_service.datamap import service as datamap
from privacy_service.dsar import (
    act,
    answer,
    appeals,
    blocked,
    decisions,
    identity,
    lifecycle,
    messages,
    plan,
    recipients,
    restriction,
    statistics,
    withholding,
)
from privacy_service.dsar.answer import document, downloadable, purge_old_answers, withholding_kind
from privacy_service.dsar.deadlines import MAX_EXTENSION_MONTHS, OSLO, deadline, local_date
from privacy_service.dsar.decisions import GROUNDS, MANUAL_RESULTS, UndecidedOutcomes, ground_text
from privacy_service.dsar.identity import ChallengeProblem
from privacy_service.dsar.lifecycle import (
    PLAN_TASK,
    Created,
    Links,
    counts,
    get_request,
    identifiers,
    is_overdue,
    list_requests,
    request_by_status_token,
    requests_query,
    timeline,
)
from privacy_service.dsar.lifecycle import outcomes_of as outcomes
from privacy_service.dsar.models import (
    OPEN_STATUSES,
    REJECTION_GROUNDS,
    DsarEvent,
    DsarRequest,
    DsarWithholding,
)
from privacy_service.dsar.opendsr import TASK as OPENDSR_TASK
from privacy_service.dsar.opendsr import deliver as send_opendsr
from privacy_service.dsar.opendsr import statuses as processor_requests
from privacy_service.dsar.pdf import render_letter, render_letter_html
from privacy_service.dsar.recipients import NOT_TOLD_REASONS
from privacy_service.dsar.restriction import NOTICE_CHANNELS
from privacy_service.dsar.schemas import RequestInSchema
from privacy_service.dsar.statistics import month_starts
from privacy_service.errors import N_, Code, Conflict, ValidationFailed, worded
from privacy_service.kernel import as_utc, utcnow
from privacy_service.retention.service import RELEASED_TASK as HOLD_RELEASED_TASK
from privacy_service.ropa import service as ropa

appeals_of, appeal_view, appeal_counts = appeals.appeals_of, appeals.view, appeals.counts
list_appeals, appealable, activity_names = appeals.list_appeals, appeals.appealable, appeals.activity_names

__all__ = [  # what the API, the pages, the jobs and the command line use besides the actions below
    "appeal_counts",
    "appeal_view",
    "appealable",
    "activity_names",
    "appeals_of",
    "list_appeals",
    "OPEN_STATUSES",
    "OSLO",
    "PLAN_TASK",
    "OPENDSR_TASK",
    "processor_requests",
    "send_opendsr",
    "GROUNDS",
    "WITHHOLDING_GROUNDS",
    "HOLD_RELEASED_TASK",
    "MANUAL_RESULTS",
    "NOT_TOLD_REASONS",
    "NOTICE_CHANNELS",
    "ChallengeProblem",
    "Created",
    "UndecidedOutcomes",
    "Links",
    "counts",
    "month_starts",
    "document",
    "downloadable",
    "get_request",
    "ground_text",
    "identifiers",
    "is_overdue",
    "local_date",
    "list_requests",
    "requests_query",
    "outcomes",
    "purge_old_answers",
    "request_by_status_token",
    "timeline",
    "withholding_kind",
]


WITHHOLDING_GROUNDS = withholding.GROUNDS


class NoDraft(Conflict):
    """Completing sends the draft the officer read: there must be one, and it must be the one they read."""

    code = "no_draft"


class DraftChanged(Conflict):
    code = "draft_changed"


class NotPlannable(Conflict):
    """A plan needs an open request whose identity is confirmed."""


UNVERIFIED_CLOSE_DAYS = 14  # an unverified request closes after two weeks, with a message
REMIND_DAYS = 7  # officers hear of a request a week before it falls due, and again when it is overdue


# --- intake -------------------------------------------------------------------------------------------------


def load_request(raw: dict[str, Any]) -> dict[str, Any]:
    """A request from another front door (Min side) checked as the API checks it (RequestIn), or
    ValidationFailed with the fields."""
    try:
        return RequestInSchema().load(raw)
    except MarshmallowError as err:
        raise ValidationFailed(N_("The request is not valid."), fields=err.normalized_messages()) from err


def create_request(
    session: Session,
    *,
    data: dict[str, Any],
    actor: Actor,
    links: Links,
    verified_by: str | None = None,
    verified_note: str | None = None,
) -> Created:
    """Register a request (validated by RequestIn). Web and API requests with an e-mail get a challenge;
    letters and calls wait for an officer to verify them by hand. An authenticated channel passes
    `verified_by`: "idporten" or "helseid" (the subject logged in here: the national identity number is the
    pid claim, which proves the national identity number only) or "portal_verified" (a portal with
    requests:write:verified whose user logged in through ID-porten or HelseID vouches for each identifier it
    sends).
    Such a request needs no e-mail check and its deadline counts from receipt."""
    plan.check_scope(session, data)
    subject = data["subject"]
    received = as_utc(data.get("received_at")) or utcnow()
    token = secrets.token_urlsafe(32)
    req = DsarRequest(
        reference=lifecycle.next_reference(session, local_date(received).year),
        type=data["type"],
        channel=data["channel"],
        language=data.get("language") or "nb",
        subject_email=subject.get("email"),
        subject_name=subject.get("name"),
        subject_national_id=subject.get("national_id"),
        subject_key=lifecycle.subject_key(
            links.secret_key, email=subject.get("email"), national_id=subject.get("national_id")
        ),
        activities=list(data.get("activities") or []),
        details=dict(data.get("details") or {}),
        received_at=received,
        due_on=deadline(local_date(received)),
        status_token_hash=lifecycle.digest(token),
        created_by=str(actor),
    )
    session.add(req)
    session.flush()
    lifecycle.record(
        session,
        req,
        "received",
        actor,
        details={"type": req.type, "channel": req.channel, "due_on": req.due_on.isoformat()},
        at=received,
    )
    if verified_by:
        proved = ("email", "national_id") if verified_by == "portal_verified" else ("national_id",)
        identity.verified(
            session, req, actor, method=verified_by, proved=proved, note=verified_note,
            secret=links.secret_key, submitter=True, at=received,
        )  # fmt: skip
    elif req.subject_email and req.channel in ("web", "api", "portal", "email"):
        identity.challenge(session, req, actor, links=links, at=received)
    return Created(req, token)


# --- identity (Art. 12(6)) ----------------------------------------------------------------------------------


def verify_by_officer(
    session: Session, *, reference: str, note: str, identifiers: list[str], actor: Actor, secret: str
) -> DsarRequest:
    """An officer has established the subject's identity by other means (a letter, a call, ID shown): the
    note names the document seen, and `identifiers` says which of the request's identifiers it proved;
    only those will search the data, and they are linked as one person (`secret`: the instance secret)."""
    fields: dict[str, list[str]] = {}
    if not (note or "").strip():
        fields["note"] = [N_("Name the document seen (for example a passport shown at the counter).")]
    if not identifiers:
        fields["identifiers"] = [N_("Say which identifier was checked: email, national_id or both.")]
    if fields:
        raise ValidationFailed(N_("Say what was checked, and how."), fields=fields)
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    given = {i["kind"] for i in lifecycle.identifiers(req)}
    if missing := sorted(set(identifiers) - given):
        raise ValidationFailed(
            N_("The request does not name that identifier."),
            fields={
                "identifiers": [
                    worded("Request %(ref)s gives no %(kind)s.", ref=req.reference, kind=kind)
                    for kind in missing
                ]
            },
        )
    if req.identity_status == "verified" and all(
        i["verified_by"] for i in lifecycle.identifiers(req) if i["kind"] in identifiers
    ):
        raise Conflict(worded("Request %(ref)s is verified already.", ref=req.reference))
    if req.status not in OPEN_STATUSES:
        raise Conflict(worded("Request %(ref)s is closed.", ref=req.reference))
    identity.close_challenges(session, req)
    if req.identity_status == "verified":  # a second identifier proved later: plan again with it
        identity.proved_later(session, req, actor, method="officer", proved=tuple(identifiers), note=note,
                              secret=secret)  # fmt: skip
    else:
        identity.verified(session, req, actor, method="officer", proved=tuple(identifiers), note=note.strip(),
                          secret=secret)  # fmt: skip
    return req


def ask_identity(session: Session, *, reference: str, actor: Actor, links: Links) -> DsarRequest:
    """Ask the subject of a letter or call to confirm by e-mail (the deadline waits for the answer)."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    if req.status != "received":
        raise Conflict(
            worded(
                "Request %(ref)s is %(status)s; no check is needed now.",
                ref=req.reference,
                status=Code("letter.status", req.status),
            )
        )
    _check_address_open(session, req, links)
    identity.challenge(session, req, actor, links=links, at=utcnow())
    return req


def resend_challenge(session: Session, *, reference: str, actor: Actor, links: Links) -> DsarRequest:
    """Send a new check (the old link and code stop working). A new check brings no new daily tries."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    if req.status not in ("received", "awaiting_identity"):
        raise Conflict(
            worded(
                "Request %(ref)s is %(status)s; no check is needed now.",
                ref=req.reference,
                status=Code("letter.status", req.status),
            )
        )
    _check_address_open(session, req, links)
    now = utcnow()
    identity.close_challenges(session, req, at=now)
    identity.challenge(session, req, actor, links=links, at=now)
    return req


def _check_address_open(session: Session, req: DsarRequest, links: Links) -> None:
    key = lifecycle.address_key(links.secret_key, req.subject_email or "")
    identity.check_address_open(session, key, day=local_date(utcnow()))


def check_link(session: Session, *, token: str, now: datetime | None = None) -> DsarRequest:
    """The request a confirmation link would confirm now, or ChallengeProblem (the page before the button)."""
    found, req = identity.challenge_request(session, token=token)
    identity.check_usable(found, req, now)
    identity.check_address_open(session, found.address_key, day=local_date(now or utcnow()))
    return req


def verify_link(session: Session, *, token: str, now: datetime | None = None) -> DsarRequest:
    """Confirm the subject's e-mail address by the link: single use, expiring. The link proves the mailbox,
    not the submitter: the answer goes to the address, and the status page does not show it."""
    found, req = identity.challenge_request(session, token=token)
    identity.check_usable(found, req, now)
    identity.check_address_open(session, found.address_key, day=local_date(now or utcnow()))
    found.used_at = now or utcnow()
    subject = Actor("subject", req.reference)
    # the link proves the mailbox alone: one identifier, nothing to link
    identity.verified(
        session, req, subject, method="email_code", proved=("email",), note=None, secret=None, at=now
    )
    return req


def verify_code(
    session: Session, *, status_token: str, code: str, secret_key: str, now: datetime | None = None
) -> tuple[DsarRequest, bool]:
    """Confirm by the six-digit code on the status page; return (request, accepted). Whoever types the
    right code holds both the status link and the mailbox, so the status page will show the answer.

    Each attempt is counted in the database before the code is compared, by single statements that
    concurrent guesses cannot overwrite: five per check, and MAX_DAILY_FAILURES wrong codes per address and
    day across all its checks and requests (resends and new requests bring no new tries). The counts are
    written even though the check fails (the caller commits a refusal too)."""
    now = now or utcnow()
    req = lifecycle.request_by_status_token(session, token=status_token)
    found = identity.latest_challenge(session, req)
    identity.check_usable(found, req, now)
    subject = Actor("subject", req.reference)
    day = local_date(now)
    failures_today = identity.reserve_daily_failure(session, found, day=day)
    if failures_today is None:
        raise identity.address_locked()
    if not identity.count_attempt(session, found):
        raise ChallengeProblem(
            "locked", N_("Too many wrong codes: ask for a new one.")
        )  # the caller rolls back
    if not identity.code_matches(found, code=code, secret_key=secret_key):
        lifecycle.record(session, req, "identity_attempt_failed", subject,
                         details={"attempts": found.attempts}, visible=False)  # fmt: skip
        if found.attempts >= identity.MAX_CODE_ATTEMPTS:
            _lock(session, req, subject, reason="check")
        if failures_today >= identity.MAX_DAILY_FAILURES:
            _lock(session, req, subject, reason="daily")
        return req, False
    identity.give_back_daily_failure(session, found, day=day)
    found.used_at = now
    identity.verified(session, req, subject, method="email_code", proved=("email",), note=None,
                      secret=secret_key, submitter=True, at=now)  # fmt: skip
    return req, True


def _lock(session: Session, req: DsarRequest, actor: Actor, *, reason: str) -> None:
    """Record (once per request and bound) that guessing stopped, with its audit event; the officer sees it
    on the timeline and can still verify by hand."""
    kind = "identity_locked"
    seen = session.scalar(
        select(func.count()).where(
            DsarEvent.request_id == req.id, DsarEvent.kind == kind, DsarEvent.note == reason
        )
    )
    if not seen:
        lifecycle.record(session, req, kind, actor, note=reason, details={"bound": reason}, visible=False)


# --- getting back to a request -----------------------------------------------------------------------------


def send_find_link(session: Session, *, reference: str, email: str, links: Links) -> bool:
    """Mail a fresh link to the request's status and answer, if `email` is the address the request was
    verified from; say nothing either way to the asker (the page answers the same), return whether a mail
    went. A request with no verified address is reached through the officers."""
    req = session.scalar(select(DsarRequest).where(DsarRequest.reference == reference.strip().upper()))
    verified = lifecycle.verified_email(req) if req is not None else None
    if req is None or verified is None or verified.strip().lower() != email.strip().lower():
        return False
    mail = messages.find_mail(
        req.language, reference=req.reference, link=links.mailbox_url(req), days=lifecycle.MAILBOX_DAYS
    )
    lifecycle.tell(session, req, mail, verified_only=True)
    lifecycle.record(session, req, "link_sent", Actor("subject", req.reference), visible=False)
    return True


def request_by_mailbox_link(session: Session, *, token: str, secret_key: str) -> DsarRequest:
    """The request a link in a mail to its verified address names, or NotFound."""
    return lifecycle.request_by_mailbox_token(session, secret_key=secret_key, token=token)


def answer_visible_to_submitter(req: DsarRequest) -> bool:
    """Whether the status page (the submitter's link) may show the answer: only when the submitter proved
    to be the verified person."""
    return req.submitter_verified and downloadable(req)


# --- the plan, the decision and the answer ------------------------------------------------------------------


def plan_request(
    session: Session, *, reference: str, actor: Actor, instance_path: Path, secret: str
) -> DsarRequest:
    """Decide again, per activity, whether the right applies and what the data map holds; nothing changes in
    the data. Only an open request whose identity is confirmed can be planned."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    if req.status not in ("in_progress", "awaiting_decision"):
        raise NotPlannable(
            worded(
                "Request %(ref)s is %(status)s: confirm the identity first.",
                ref=req.reference,
                status=Code("letter.status", req.status),
            )
        )
    plan.make_plan(session, req, instance_path=instance_path, actor=actor, secret=secret)
    return req


def plan_queued(session: Session, *, reference: str, instance_path: Path, secret: str) -> None:
    """Make the plan the identity check queued; a request withdrawn or rejected meanwhile is left alone."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    if req.status not in ("in_progress", "awaiting_decision"):
        return
    plan.make_plan(session, req, instance_path=instance_path, actor=Actor("system", "planner"), secret=secret)


def approve(
    session: Session,
    *,
    reference: str,
    actor: Actor,
    instance_path: Path,
    links: Links,
    note: str | None = None,
) -> DsarRequest:
    """Carry out the plan an officer approved; raise Conflict unless the request waits for a decision, and
    UndecidedOutcomes while an activity waits for a decision or, outside the data map, a search by hand."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    if req.status != "awaiting_decision":
        raise Conflict(
            worded(
                "Request %(ref)s is %(status)s: only a planned request waiting "
                "for a decision can be approved.",
                ref=req.reference,
                status=Code("letter.status", req.status),
            )
        )
    decisions.check_decided(session, req)
    act.carry_out(session, req, actor=actor, instance_path=instance_path, links=links, note=note)
    return req


def decide_outcomes(
    session: Session, *, reference: str, items: list[dict[str, Any]], actor: Actor
) -> DsarRequest:
    """Record the officer's decision per activity: uphold, or refuse with a ground from GROUNDS and
    reasons."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    decisions.decide(session, req, items=items, actor=actor)
    return req


def rule_reason(reason: str, lang: str) -> str:
    """Why a right applies or not, as the rules give it, in the reader's language."""
    return ropa.right_reason_text(reason, lang)


def rejection_texts(lang: str) -> dict[str, str]:
    """The Art. 12(5)/(6) grounds for rejecting a whole request, in the reader's words (as the mail says)."""
    return dict(messages.GROUNDS["en" if lang == "en" else "nb"])


def record_manual_results(
    session: Session, *, reference: str, items: list[dict[str, Any]], actor: Actor
) -> DsarRequest:
    """Record what a search by hand found for activities outside the data map (MANUAL_RESULTS)."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    decisions.record_manual(session, req, items=items, actor=actor)
    return req


def withhold(session: Session, *, reference: str, data: dict[str, Any], actor: Actor) -> DsarWithholding:
    """Keep a table, a column or rows out of an approved access or portability answer, with a ground
    (Art. 15(4), Personal Data Act § 16(1)(a)–(f)) and reasons; the letter tells the subject."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    return withholding.add(session, req, data=data, actor=actor)


def remove_withholding(session: Session, *, reference: str, withholding_id: int, actor: Actor) -> DsarRequest:
    """Put withheld data back into the answer, before the request is completed."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    withholding.remove(session, req, withholding_id=withholding_id, actor=actor)
    return req


def withholdings(session: Session, req: DsarRequest) -> list[DsarWithholding]:
    """What the officer withholds from the request's answer."""
    return withholding.listed(session, req)


def withholdable_tables(session: Session, req: DsarRequest) -> list[dict[str, Any]]:
    """The tables (with their data columns) the officer may withhold from in the request's answer."""
    return withholding.tables_of(session, req)


def make_draft(
    session: Session, *, reference: str, actor: Actor, instance_path: Path, secret: str
) -> DsarRequest:
    """Make the answer as a draft (the letter as PDF and HTML, and the export) for the officer to read; the
    subject is told nothing. A new draft replaces the last one. Drafting before approval is refused."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    if req.decided_at is None or req.status != "in_progress":
        raise Conflict(
            worded(
                "Request %(ref)s is %(status)s: only an approved request that is "
                "not yet answered can have a draft answer.",
                ref=req.reference,
                status=Code("letter.status", req.status),
            )
        )
    collected = answer.collect(session, req, instance_path=instance_path, secret=secret)
    letter = render_letter(collected)
    draft = answer.store_draft(
        session,
        req,
        letter=letter,
        export=answer.build_export(collected, letter),
        html=str(render_letter_html(collected)),
    )
    lifecycle.record(session, req, "drafted", actor, visible=False, details={"sha256": draft.sha256})
    return req


def draft_of(session: Session, req: DsarRequest, kind: str = "draft") -> Any:
    """The request's draft letter (`draft`), its HTML (`draft_html`) or export (`draft_zip`), or None."""
    return answer.document(session, req, kind)


def complete(
    session: Session,
    *,
    reference: str,
    actor: Actor,
    instance_path: Path,
    links: Links,
    note: str | None = None,
    draft: str | None = None,
) -> DsarRequest:
    """Send the draft the officer read: it becomes the stored answer (letter and export, unchanged) and the
    verified address is sent a link to it (the mail holds no personal data; an address nobody proved gets
    nothing). Refused before approval, without a draft, and when `draft` (the SHA-256 of the draft letter the
    officer read) is not the current draft."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    if req.decided_at is None:
        raise Conflict(
            worded("Request %(ref)s has no approved plan: approve it before completing.", ref=req.reference)
        )
    current = answer.document(session, req, "draft")
    if req.status == "in_progress" and current is None:
        raise NoDraft(
            worded(
                "Request %(ref)s has no draft answer: make the draft and read it before sending it.",
                ref=req.reference,
            )
        )
    if draft is not None and current is not None and draft != current.sha256:
        raise DraftChanged(
            worded(
                "The draft answer of %(ref)s has changed since it was read: read the new draft.",
                ref=req.reference,
            ),
            fields={"draft": [current.sha256]},
        )
    lifecycle.move(req, "completed")
    answer.publish_draft(session, req)
    lifecycle.record(session, req, "completed", actor, note=(note or "").strip() or None,
                     details={"sha256": current.sha256 if current else None})  # fmt: skip
    if lifecycle.verified_email(req):
        mail = messages.answered_mail(
            req.language, reference=req.reference, link=links.mailbox_url(req), days=answer.ANSWER_DAYS
        )
        lifecycle.tell(session, req, mail, verified_only=True)
    return req


def register_appeal(
    session: Session,
    *,
    reference: str,
    received_on: date,
    actor: Actor,
    activities: list[str] | None = None,
    note: str | None = None,
    prepare_days: int = appeals.PREPARE_DAYS,
) -> tuple[DsarRequest, Any]:
    """Register an appeal against the request's refusals on statutory health registries (NotAppealable
    unless the request is completed with such a refusal); a late one is flagged, not refused."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    appeal = appeals.register(session, req, received_on=received_on, actor=actor, activities=activities,
                              note=note, prepare_days=prepare_days)  # fmt: skip
    return req, appeal


def advance_appeal(
    session: Session, *, reference: str, appeal_id: int, step: str, actor: Actor, **data: Any
) -> tuple[DsarRequest, Any]:
    """Take an appeal's next step (prepared, sent_to_appeal_body, decided), with its date and note."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    return req, appeals.advance(session, req, appeal_id=appeal_id, step=step, actor=actor, **data)


def withdraw(session: Session, *, reference: str, actor: Actor, note: str | None = None) -> DsarRequest:
    """The subject withdraws the request (from the status page, or through an officer)."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    lifecycle.move(req, "withdrawn")
    identity.close_challenges(session, req)
    plan.release_request_evidence(session, req, actor)
    lifecycle.record(session, req, "withdrawn", actor, note=(note or "").strip() or None)
    return req


def extend(
    session: Session, *, reference: str, months: int, reason: str, actor: Actor, links: Links | None = None
) -> DsarRequest:
    """Extend once, by up to two months, within the first period; the subject is told why (Art. 12(3))."""
    fields: dict[str, list[str]] = {}
    if months not in range(1, MAX_EXTENSION_MONTHS + 1):
        fields["months"] = [N_("One or two months.")]
    if not (reason or "").strip():
        fields["reason"] = [N_("Give the reason; the subject is told.")]
    if fields:
        raise ValidationFailed(N_("The extension is not valid."), fields=fields)
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    if req.status not in OPEN_STATUSES:
        raise Conflict(worded("Request %(ref)s is closed.", ref=req.reference))
    if req.extension_months:
        raise Conflict(
            worded(
                "Request %(ref)s has been extended already; the law allows one extension.", ref=req.reference
            )
        )
    today = local_date(utcnow())
    if today > req.due_on:
        raise Conflict(
            worded(
                "The first period of %(ref)s ended on %(due_on)s: it can no longer be extended.",
                ref=req.reference,
                due_on=req.due_on,
            )
        )
    start = local_date(req.identity_arrived_at or req.received_at) if req.identity_asked_at else None
    req.extension_months, req.extension_reason = months, reason.strip()
    req.due_on = deadline(local_date(req.received_at), identity_arrived=start, extension_months=months)
    details = {"months": months, "due_on": req.due_on.isoformat()}
    lifecycle.record(session, req, "extended", actor, note=req.extension_reason, details=details)
    mail = messages.extension_mail(
        req.language, reference=req.reference, due_on=req.due_on, reason=req.extension_reason
    )
    lifecycle.tell(session, req, mail, links=links)
    return req


def reject(
    session: Session,
    *,
    reference: str,
    ground: str,
    reason: str,
    actor: Actor,
    links: Links | None = None,
) -> DsarRequest:
    """Refuse to act, with the ground (Art. 12(5) or identity not established) and the reasons."""
    fields: dict[str, list[str]] = {}
    if ground not in REJECTION_GROUNDS:
        fields["ground"] = [f"One of: {', '.join(REJECTION_GROUNDS)}."]
    if not (reason or "").strip():
        fields["reason"] = [N_("Give the reasons; the subject is told, with the right to complain.")]
    if fields:
        raise ValidationFailed(N_("The rejection is not valid."), fields=fields)
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    lifecycle.move(req, "rejected")
    req.rejection_ground, req.rejection_reason = ground, reason.strip()
    plan.release_request_evidence(session, req, actor)
    lifecycle.record(session, req, "rejected", actor, note=req.rejection_reason, details={"ground": ground})
    mail = messages.rejection_mail(
        req.language, reference=req.reference, ground=ground, reason=req.rejection_reason
    )
    lifecycle.tell(session, req, mail, links=links)
    return req


def close_unverified(
    session: Session, *, now: datetime | None = None, days: int = UNVERIFIED_CLOSE_DAYS
) -> int:
    """Close requests whose identity check went unanswered for `days`, telling the subject why."""
    now = now or utcnow()
    stale = list(
        session.scalars(
            select(DsarRequest)
            .where(
                DsarRequest.status == "awaiting_identity",
                DsarRequest.identity_asked_at < now - timedelta(days=days),
            )
            .with_for_update()
        )
    )
    for req in stale:
        lifecycle.move(req, "rejected")
        req.rejection_ground = "identity_not_established"
        req.rejection_reason = messages.unverified_reason(req.language, days=days)
        identity.close_challenges(session, req, at=now)
        lifecycle.record(session, req, "closed_unverified", lifecycle.SCHEDULER, details={"days": days})
        mail = messages.rejection_mail(
            req.language,
            reference=req.reference,
            ground="identity_not_established",
            reason=req.rejection_reason,
        )
        lifecycle.tell(session, req, mail)
    return len(stale)


def remind_officers(
    session: Session, *, to: str, today: date | None = None, days: int = REMIND_DAYS
) -> list[str]:
    """Mail the privacy team one digest of the open requests falling due within `days` or overdue, once per
    request and deadline (a new deadline after an extension is reminded again). Returns the references."""
    today = today or local_date(utcnow())
    if session.get_bind().dialect.name == "postgresql":  # two schedulers: one digest
        session.execute(text("SELECT pg_advisory_xact_lock(7262005)"))
    due = lifecycle.list_requests(session, due_within_days=days, today=today, limit=None)
    fresh = []
    for req in due:
        stage = "overdue" if req.due_on < today else "due_soon"
        already = session.scalar(
            select(func.count()).where(
                DsarEvent.request_id == req.id,
                DsarEvent.kind == "reminder",
                DsarEvent.note == f"{stage} {req.due_on.isoformat()}",
            )
        )
        if not already:
            fresh.append((req, stage))
    for req, stage in fresh:
        note = f"{stage} {req.due_on.isoformat()}"
        lifecycle.record(
            session, req, "reminder", lifecycle.SCHEDULER, note=note, details={"stage": stage}, visible=False
        )
    if fresh:
        subject, body = messages.reminder_mail(
            [(r.reference, r.type, r.due_on, stage) for r, stage in fresh], today=today
        )
        notify.enqueue_email(session, event="dsar.reminder", to=to, subject=subject, text=body)
    return [r.reference for r, __ in fresh]


# --- reading ------------------------------------------------------------------------------------------------


def requests_of_person(session: Session, *, national_id: str) -> list[DsarRequest]:
    """A logged-in person's requests (Min side): those whose national identity number was proved to be hers,
    and those verified from an e-mail address proved on one of them; newest first."""
    own = list(
        session.scalars(
            select(DsarRequest).where(
                DsarRequest.subject_national_id == national_id,
                DsarRequest.national_id_verified_by.is_not(None),
            )
        )
    )
    emails = {e.lower() for r in own if (e := lifecycle.verified_email(r))}
    more = (
        session.scalars(
            select(DsarRequest).where(
                func.lower(DsarRequest.subject_email).in_(emails), DsarRequest.email_verified_by.is_not(None)
            )
        )
        if emails
        else []
    )
    found = {r.id: r for r in [*own, *more]}
    return sorted(found.values(), key=lambda r: (r.received_at, r.id or 0), reverse=True)


def verified_emails(requests: list[DsarRequest]) -> list[str]:
    """The e-mail addresses proved on these requests, once each."""
    return sorted({e.lower() for r in requests if (e := lifecycle.verified_email(r))})


def request_by_id(session: Session, request_id: Any) -> DsarRequest | None:
    """The request with this row id (a signed download link names it), or None."""
    return session.get(DsarRequest, request_id) if isinstance(request_id, int) else None


def form_choices(session: Session) -> tuple[list[ropa.Activity], list[str]]:
    """What the public form offers: the active activities, and the data items the data map knows."""
    columns = sorted({c for __, t in datamap.mapped_tables(session) for c in t.columns})
    return ropa.active_activities(session), columns


# --- the rights' further duties (Art. 18(3), Art. 19, erasure after a hold) ---------------------------------


def send_lift_notice(
    session: Session,
    *,
    reference: str,
    activities: list[str] | None,
    actor: Actor,
    links: Links,
    channel: str = "email",
) -> DsarRequest:
    """Tell the subject that the restriction of the named activities (default: all still restricted) will be
    lifted (Art. 18(3)): the standard notice in her language through the outbox, or recorded as sent by
    letter. Lifting is refused until this is done."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    restriction.send_notice(session, req, activities=activities, channel=channel, actor=actor, links=links)
    return req


def lift_restriction(
    session: Session,
    *,
    reference: str,
    activities: list[str] | None,
    reasons: str,
    actor: Actor,
    instance_path: Path,
    secret: str,
) -> DsarRequest:
    """Lift the restriction of the named activities (default: all still restricted) after the notice: the
    data systems' restriction column back to false and the "restricted" flag lifted. 409
    restriction_notice_missing while an activity's notice has not been sent."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    restriction.lift(
        session,
        req,
        activities=activities,
        reasons=reasons,
        actor=actor,
        instance_path=instance_path,
        secret=secret,
    )
    return req


def restricted_activities(session: Session, req: DsarRequest) -> list[Any]:
    """The outcomes a carried-out restriction request still restricts (for the detail page)."""
    return restriction.restricted(session, req)


def record_recipients_not_told(
    session: Session, *, reference: str, items: list[dict[str, Any]], actor: Actor
) -> DsarRequest:
    """Record, per recipient the officer does not tell, the reason (impossible or disproportionate effort,
    Art. 19) and the written reasons."""
    req = lifecycle.get_request(session, reference=reference, for_update=True)
    recipients.record_not_told(session, req, items=items, actor=actor)
    return req


def retry_blocked_erasures(session: Session, *, hold_id: int, instance_path: Path, secret: str) -> list[str]:
    """Erase what a released hold kept in the erasures it blocked; return the references retried."""
    return blocked.retry_after_release(session, hold_id=hold_id, instance_path=instance_path, secret=secret)


def retry_unblocked_erasures(session: Session, *, instance_path: Path, secret: str) -> list[str]:
    """Retry the blocked erasures whose holds have all ended or been released (the daily job)."""
    return blocked.retry_unblocked(session, instance_path=instance_path, secret=secret)


def blocked_erasures(session: Session) -> list[dict[str, Any]]:
    """The erasures a hold blocked, with the hold's kind and public text and the state of the retry."""
    return blocked.blocked_erasures(session)


def requests_per_month(session: Session, *, today: date, months: int = 12) -> dict[date, Any]:
    """Requests received per Oslo month and right, the last `months` months."""
    return statistics.requests_per_month(session, today=today, months=months)


def answer_times(session: Session, *, today: date, months: int = 12) -> list[statistics.AnswerMonth]:
    """Per month of the answer: the median days taken and allowed, and how many answers were late."""
    return statistics.answer_times(session, today=today, months=months)


def search_requests(session: Session, *, query: str) -> list[DsarRequest]:
    """Requests by reference, the subject's whole e-mail address or a part of the name."""
    return statistics.search_requests(session, query=query)


def request_log(session: Session, *, year: int) -> list[dict[str, Any]]:
    """The year's requests for the annual report, without personal data."""
    return statistics.request_log(session, year=year)
