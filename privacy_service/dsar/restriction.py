"""Art. 18(3): lifting a restriction, in two steps, the notice to the subject first.

The officer first sends the subject the standard notice (in the request's language, through the outbox, or by
letter when no address was proved); only then can the restriction be lifted, which sets the data systems'
restriction columns back to false and lifts the "restricted" processing flag the request set. Each activity
keeps its own state in `details["restriction"]`: notice_at/notice_by/notice_channel, then lifted_at/lifted_by,
reasons and rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session

from privacy_service.audit import Actor
from privacy_service.consent import service as consent
from privacy_service.datamap.actions import update_subject_rows
from privacy_service.dsar import lifecycle, messages
from privacy_service.dsar.models import DsarOutcome, DsarRequest
from privacy_service.errors import N_, Conflict, ValidationFailed, worded
from privacy_service.kernel import utcnow
from privacy_service.ropa import service as ropa
from privacy_service.wording import localised

NOTICE_CHANNELS = ("email", "letter")


class RestrictionNoticeMissing(Conflict):
    """Art. 18(3): the subject must be told before the restriction is lifted."""

    code = "restriction_notice_missing"


class NotRestricted(Conflict):
    """Only a carried-out restriction request has restrictions to lift."""

    code = "not_restricted"


class NoVerifiedAddress(Conflict):
    """The notice by e-mail needs an address the subject proved; otherwise it goes by letter."""

    code = "no_verified_address"


def restricted(session: Session, req: DsarRequest) -> list[DsarOutcome]:
    """The activities this request restricted and that are still restricted."""
    if req.type != "restriction" or req.decided_at is None:
        return []
    return [
        o
        for o in lifecycle.outcomes_of(session, req)
        if o.outcome in ("done", "partial") and not o.details.get("restriction", {}).get("lifted_at")
    ]


def _chosen(session: Session, req: DsarRequest, activities: list[str] | None) -> list[DsarOutcome]:
    """The still-restricted outcomes the officer names (all of them when none are named)."""
    if req.type != "restriction" or req.decided_at is None:
        raise NotRestricted(
            worded("Request %(ref)s is not a carried-out restriction request.", ref=req.reference)
        )
    found = {o.activity: o for o in restricted(session, req)}
    if not found:
        raise NotRestricted(worded("Request %(ref)s has no restriction left to lift.", ref=req.reference))
    unknown = sorted(set(activities or []) - set(found))
    if unknown:
        raise ValidationFailed(
            N_("The request has no restriction in that activity."),
            fields={
                "activities": [
                    worded("%(ref)s restricts nothing in '%(activity)s' now.", ref=req.reference, activity=a)
                    for a in unknown
                ]
            },
        )
    return [found[a] for a in activities] if activities else list(found.values())


def _state(outcome: DsarOutcome, **changes: Any) -> None:
    outcome.details = {
        **outcome.details,
        "restriction": {**outcome.details.get("restriction", {}), **changes},
    }
    outcome.updated_at = utcnow()


def send_notice(
    session: Session,
    req: DsarRequest,
    *,
    activities: list[str] | None,
    channel: str,
    actor: Actor,
    links: lifecycle.Links,
) -> list[str]:
    """Tell the subject the restriction will be lifted (Art. 18(3)): by e-mail to the proved address through
    the outbox, or, with channel "letter", record that the officer sent the same text by post."""
    if channel not in NOTICE_CHANNELS:
        raise ValidationFailed(
            N_("Unknown channel."),
            fields={"channel": [worded("One of: %(choices)s.", choices=", ".join(NOTICE_CHANNELS))]},
        )
    chosen = _chosen(session, req, activities)
    if channel == "email":
        if not lifecycle.verified_email(req):
            raise NoVerifiedAddress(
                worded(
                    "Request %(ref)s has no proved e-mail address: send the notice by letter and record "
                    "it with the channel 'letter'.",
                    ref=req.reference,
                )
            )
        lifecycle.tell(session, req, notice(session, req, chosen), links=links, verified_only=True)
    now = utcnow().isoformat()
    for outcome in chosen:
        _state(outcome, notice_at=now, notice_by=str(actor), notice_channel=channel)
    names = [o.activity for o in chosen]
    lifecycle.record(session, req, "restriction_lift_notified", actor,
                     details={"activities": names, "channel": channel})  # fmt: skip
    return names


def notice(session: Session, req: DsarRequest, outcomes: list[DsarOutcome]) -> tuple[str, str]:
    """The standard Art. 18(3) notice (subject, text) in the request's language."""
    names = [localised(ropa.activity_view(session, slug=o.activity).name, req.language) for o in outcomes]
    return messages.restriction_lift_mail(req.language, reference=req.reference, activities=names)


def lift(
    session: Session,
    req: DsarRequest,
    *,
    activities: list[str] | None,
    reasons: str,
    actor: Actor,
    instance_path: Path,
    secret: str,
) -> list[str]:
    """Lift the restriction of the named activities once the subject was told: the data systems' restriction
    column back to false, the "restricted" processing flag lifted. Refused (RestrictionNoticeMissing) for any
    activity whose notice was not sent first."""
    if not (reasons or "").strip():
        raise ValidationFailed(
            N_("Give the reasons for lifting the restriction."), fields={"reasons": [N_("Required.")]}
        )
    chosen = _chosen(session, req, activities)
    missing = [o.activity for o in chosen if not o.details.get("restriction", {}).get("notice_at")]
    if missing:
        raise RestrictionNoticeMissing(
            N_(
                "The subject must be told before the restriction is lifted (Art. 18(3)): "
                "send the notice first."
            ),
            fields={"activities": missing},
        )
    rows = 0
    identity = lifecycle.person_identity(session, req, secret=secret)  # the rows the restriction flagged
    for outcome in chosen:
        results = update_subject_rows(
            session,
            identity=identity,
            instance_path=instance_path,
            activity=outcome.activity,
            column=None,
            value=False,
        )
        done = sum(r.updated for r in results)
        consent.lift_flags(session, reference=req.reference, activity=outcome.activity, kind="restricted",
                           actor=actor)  # fmt: skip
        _state(
            outcome, lifted_at=utcnow().isoformat(), lifted_by=str(actor), reasons=reasons.strip(), rows=done
        )
        rows += done
    names = [o.activity for o in chosen]
    lifecycle.record(session, req, "restriction_lifted", actor, note=reasons.strip(),
                     details={"activities": names, "rows": rows})  # fmt: skip
    return names
