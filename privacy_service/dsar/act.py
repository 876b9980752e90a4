"""Acting on an approved request through the data map, and telling recipients (Art. 19).

`carry_out` runs on a request the front door has loaded and found waiting for a decision. Per planned
activity it erases (never a held row: the request's own request_pending hold is the one hold erasure may
pass), rectifies, restricts, records an upheld objection, or withdraws consent; an activity the officer
refused is left alone and names the refusal's ground; an activity outside the data map is done only if
the search by hand found and handled records. Each activity's outcome then says what was done, and the
recipients of the activities whose data changed are told through the outbox, or listed for the officer
(recipients.py); the subject sees who was told.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import Session

from privacy_service import webhooks
from privacy_service.audit import Actor
from privacy_service.consent import service as consent
from privacy_service.datamap.actions import erase_subject_rows, update_subject_rows
from privacy_service.dsar import decisions, ledger, lifecycle, opendsr, persons, plan, recipients
from privacy_service.dsar.models import DsarChallenge, DsarOutcome, DsarRequest
from privacy_service.dsar.rules import ACTING_RIGHTS
from privacy_service.kernel import utcnow
from privacy_service.retention.service import protector

ACTIONABLE = ("pending", "partial")
# the consent channel a withdrawal by request came through
CONSENT_CHANNELS = {
    "web": "web",
    "letter": "paper",
    "phone": "phone",
    "email": "email",
    "in_person": "in_person",
}


def carry_out(
    session: Session,
    req: DsarRequest,
    *,
    actor: Actor,
    instance_path: Path,
    links: lifecycle.Links,
    note: str | None = None,
) -> None:
    """Carry out the plan an officer approved, activity by activity, and record the decision."""
    told: set[str] = set()
    acted: list[str] = []
    identity = lifecycle.person_identity(session, req, secret=links.secret_key)  # the person, as planned
    for outcome in lifecycle.outcomes_of(session, req):
        if outcome.decision == "refuse" and outcome.outcome in (*ACTIONABLE, "not_checked"):
            _refuse(outcome)
        if outcome.outcome not in ACTIONABLE:
            continue
        if decisions.manual(outcome):  # not in the data map: done only as the search by hand recorded it
            outcome.outcome = "done" if outcome.manual_result == "found_handled" else outcome.outcome
        else:
            _act(session, req, outcome, identity, instance_path=instance_path, links=links, actor=actor)
        outcome.updated_at = utcnow()
        if req.type in ACTING_RIGHTS and outcome.outcome in ("done", "partial"):
            acted.append(outcome.activity)
            told.update(recipients.tell(session, req, outcome))
        elif req.type in opendsr.TYPES and outcome.outcome in ("done", "partial"):
            recipients.forward(session, req, outcome)  # access, portability: processors that take OpenDSR
    req.decided_at, req.decided_by = utcnow(), str(actor)
    if req.type == "erasure":
        erased = [o.activity for o in lifecycle.outcomes_of(session, req) if o.outcome in ("done", "partial")]
        if erased:
            _after_erasure(session, req, erased, actor=actor, instance_path=instance_path, links=links)
    lifecycle.move(req, "in_progress")
    details: dict[str, Any] = {"activities": acted, "told": sorted(told)}
    lifecycle.record(session, req, "approved", actor, note=(note or "").strip() or None, details=details)
    if told:
        lifecycle.record(session, req, "recipients_told", actor, details={"organisations": sorted(told)})
    if queued := opendsr.queued_now(session, req):  # sent by the outbox once this commits
        lifecycle.record(session, req, "opendsr_queued", actor, visible=False, details={
            "organisations": [r.organisation for r in queued], "type": req.type})  # fmt: skip
    if waiting := recipients.untold(session, req):  # no contact address: the officer decides (Art. 19)
        lifecycle.record(session, req, "recipients_pending", actor, visible=False,
                         details={"recipients": len(waiting)})  # fmt: skip
    plan.release_request_evidence(session, req, actor)


def _refuse(outcome: DsarOutcome) -> None:
    """The officer refused the right for this activity: nothing is done, and the answer names the ground."""
    ground = decisions.GROUNDS[outcome.decision_ground or ""]
    outcome.outcome, outcome.legal_ground = "refused", ground["article"]
    outcome.reason = outcome.decision_reasons or ground["en"]


def _clients_knowing(session: Session, req: DsarRequest) -> set[str]:
    """The API clients that already know this subject: they recorded a consent of her proved address, or
    submitted a request for one of her proved identifiers (only they hear of her erasure)."""
    email, national_id = lifecycle.verified_email(req), lifecycle.verified_national_id(req)
    found = consent.recording_clients(session, subjects=sorted({email, email.lower()})) if email else set()
    matches = []
    if email:
        matches.append(
            (func.lower(DsarRequest.subject_email) == email.lower())
            & DsarRequest.email_verified_by.is_not(None)
        )
    if national_id:
        matches.append(
            (DsarRequest.subject_national_id == national_id)
            & DsarRequest.national_id_verified_by.is_not(None)
        )
    if matches:
        creators = session.scalars(select(DsarRequest.created_by).distinct().where(or_(*matches)))
        found |= {client for actor in creators if (client := webhooks.client_of(actor))}
    return found


def _after_erasure(
    session: Session,
    req: DsarRequest,
    activities: list[str],
    *,
    actor: Actor,
    instance_path: Path,
    links: lifecycle.Links,
) -> None:
    """Record the erasure in the ledger (keyed hashes only), tell the portals that know the subject (in their
    own pseudonym of her, and a portal that linked her in its own user ids) so they end her sessions, forget
    her links, and stop her other open confirmation links."""
    entry = ledger.record_erasure(
        req, activities=activities, secret_key=links.secret_key, instance_path=instance_path, at=utcnow()
    )
    email, creator = lifecycle.verified_email(req), webhooks.client_of(req.created_by)
    person_ids = persons.persons_of(session, req, secret=links.secret_key)
    linked = persons.portal_ids(session, person_ids)  # read before her links are forgotten below
    only: dict[str, dict[str, Any]] = {client: {"portal_ids": ids} for client, ids in linked.items()}
    if creator:
        only.setdefault(creator, {})["reference"] = req.reference
    webhooks.enqueue_event(
        session,
        event="subject.erased",
        data={"activities": sorted(activities)},
        clients=_clients_knowing(session, req) | set(linked),
        subject_email=email,
        client_only=only,
    )
    persons.forget_persons(session, req, person_ids, actor=actor, secret=links.secret_key)
    others = session.scalars(
        select(DsarChallenge)
        .join(DsarRequest, DsarRequest.id == DsarChallenge.request_id)
        .where(DsarRequest.subject_key == req.subject_key, DsarChallenge.used_at.is_(None))
    )
    revoked = 0
    for challenge in others:
        challenge.used_at, revoked = utcnow(), revoked + 1
    lifecycle.record(session, req, "erasure_recorded", actor, visible=False,
                     details={"ledger_hashes": len(entry["hashes"]), "links_revoked": revoked})  # fmt: skip


def _act(
    session: Session,
    req: DsarRequest,
    outcome: DsarOutcome,
    identity: dict[str, list[str]],
    *,
    instance_path: Path,
    links: lifecycle.Links,
    actor: Actor,
) -> None:
    """Carry out the request's right on one activity of the data map, on the rows of every verified identifier
    of the person (`identity`: lifecycle.person_identity)."""
    details = dict(outcome.details)
    if req.type == "erasure":
        _erase(session, req, outcome, details, identity, instance_path=instance_path)
    elif req.type in ("rectification", "restriction"):
        _update(session, req, outcome, details, identity, instance_path=instance_path, actor=actor)
    elif req.type == "objection":
        if subject := _flag_subject(req, identity):
            consent.set_flag(session, subject=subject, activity=outcome.activity, kind="objected",
                             actor=actor, reference=req.reference)  # fmt: skip
        outcome.outcome = "done"
    elif req.type == "consent_withdrawal":
        outcome.outcome = _withdraw_consent(
            session, req, outcome.activity, identity, links=links, actor=actor
        )
    else:  # access and portability: the answer collects the data when it is made
        outcome.outcome = "done"
    outcome.details = details


def _flag_subject(req: DsarRequest, identity: dict[str, list[str]]) -> str | None:
    """The consent subject a restriction or an upheld objection is flagged under (Art. 18, 21): the proved
    address, else one of the person's verified addresses or portal ids. Reads of the person see a flag under
    any of them, so a request proved by national identity number alone is flagged too. None: the person has
    no subject a flag could be recorded under."""
    subjects = lifecycle.answering_subjects(identity)
    return lifecycle.verified_email(req) or (subjects[0] if subjects else None)


def _erase(
    session: Session,
    req: DsarRequest,
    outcome: DsarOutcome,
    details: dict[str, Any],
    identity: dict[str, list[str]],
    *,
    instance_path: Path,
) -> None:
    results = erase_subject_rows(
        session,
        identity=identity,
        instance_path=instance_path,
        activity=outcome.activity,
        protect=protector(session, identity=identity, ignore_reference=req.reference),
    )
    held = sum(n for r in results for n in r.held.values())
    details["erased"] = [{"table": f"{r.system}.{r.table}", "strategy": r.strategy, "erased": r.erased,
                          "held": r.held} for r in results]  # fmt: skip
    outcome.records, outcome.held = sum(r.erased for r in results), held
    outcome.outcome = "partial" if held else "done"


def _update(
    session: Session,
    req: DsarRequest,
    outcome: DsarOutcome,
    details: dict[str, Any],
    identity: dict[str, list[str]],
    *,
    instance_path: Path,
    actor: Actor,
) -> None:
    rectify = req.type == "rectification"
    results = update_subject_rows(
        session,
        identity=identity,
        instance_path=instance_path,
        activity=outcome.activity,
        column=req.details.get("field") if rectify else None,
        value=req.details.get("value") if rectify else True,
    )
    details["updated"] = [{"table": f"{r.system}.{r.table}", "column": r.column, "rows": r.updated}
                          for r in results]  # fmt: skip
    outcome.records = sum(r.updated for r in results)
    if not rectify and (subject := _flag_subject(req, identity)):
        consent.set_flag(session, subject=subject, activity=outcome.activity, kind="restricted",
                         actor=actor, reference=req.reference)  # fmt: skip
    outcome.outcome = "done" if outcome.records or not rectify else "no_data"


def _withdraw_consent(
    session: Session,
    req: DsarRequest,
    purpose: str,
    identity: dict[str, list[str]],
    *,
    links: lifecycle.Links,
    actor: Actor,
) -> str:
    """Withdraw the consent to the purpose under each of the person's verified subjects that holds one (her
    consent is the newest under any of them); the outcome: done, or no_data if none was ever recorded."""
    found = False
    for subject in lifecycle.answering_subjects(identity):
        state = consent.get_state(session, subject=subject, purpose=purpose)
        found = found or state is not None
        if state is None or state.status == "withdrawn":
            continue
        consent.change_stored_consent(
            session,
            key=subject,
            purpose=purpose,
            status="withdrawn",
            channel=CONSENT_CHANNELS.get(req.channel, "api"),
            actor=actor,
            links=links,
            evidence={"request": req.reference},
            lang=req.language,
        )
    return "done" if found else "no_data"
