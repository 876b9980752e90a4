"""Consent purposes (the consent-based activities of the registry) and the notices published for them.

A published notice text never changes; the version a subject was shown is kept with every consent event.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.consent.models import ConsentNotice, ConsentState
from privacy_service.errors import N_, Conflict, NotFound, ValidationFailed, worded
from privacy_service.ropa import service as ropa


class UnknownPurpose(NotFound):
    code = "unknown_purpose"


def consent_activity(session: Session, purpose: str) -> ropa.Activity:
    """Return the registry's view of the activity a purpose names, or raise UnknownPurpose."""
    try:
        return ropa.activity_view(session, slug=purpose)
    except ropa.ActivityNotFound as err:
        raise UnknownPurpose(
            worded(
                "No processing activity '%(purpose)s' exists; "
                "a consent purpose is the slug of a consent-based activity.",
                purpose=purpose,
            ),
            fields={"purpose": [N_("Unknown purpose.")]},
        ) from err


def text_sha256(text: dict[str, str]) -> str:
    """The hash of a notice's text as shown (both languages, canonical JSON)."""
    body = json.dumps(text, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def publish_notice(
    session: Session,
    *,
    purpose: str,
    version: str,
    text: dict[str, str],
    renewal_required: bool,
    actor: Actor,
) -> tuple[ConsentNotice, str]:
    """Publish a notice version for a consent purpose; return it and created | unchanged.

    A published text never changes: the same version with another text is refused. A version marked as needing
    renewal flags every current consent to the purpose until the subject consents again.
    """
    activity = consent_activity(session, purpose)
    if activity.legal_basis != "6(1)(a)":
        raise ValidationFailed(
            N_("Only a consent-based activity has consent notices."),
            fields={
                "purpose": [
                    worded(
                        "The legal basis is Art. %(legal_basis)s, not consent.",
                        legal_basis=activity.legal_basis,
                    )
                ]
            },
        )
    digest = text_sha256(text)
    existing = session.scalar(
        select(ConsentNotice).where(ConsentNotice.purpose == purpose, ConsentNotice.version == version)
    )
    if existing is not None:
        if existing.text_sha256 == digest and existing.renewal_required == renewal_required:
            return existing, "unchanged"
        raise Conflict(
            worded(
                "Notice version '%(version)s' of '%(purpose)s' is already published with another text; "
                "a published notice never changes: publish a new version.",
                version=version,
                purpose=purpose,
            ),
            fields={"version": [N_("Already published.")]},
        )
    notice = ConsentNotice(
        purpose=purpose,
        version=version,
        text=text,
        text_sha256=digest,
        renewal_required=renewal_required,
        published_by=str(actor),
    )
    session.add(notice)
    session.flush()
    flagged = 0
    if renewal_required:
        result = session.execute(
            update(ConsentState)
            .where(ConsentState.purpose == purpose, ConsentState.status == "given")
            .values(renewal_required=True)
        )
        flagged = result.rowcount or 0
    record_event(
        session,
        actor=actor,
        action="consent_notice.publish",
        object_type="consent_notice",
        object_id=f"{purpose}@{version}",
        details={"sha256": digest, "renewal_required": renewal_required, "consents_flagged": flagged},
    )
    return notice, "created"


def list_notices(session: Session, *, purpose: str | None = None) -> list[ConsentNotice]:
    """Return published notices, oldest first (per purpose)."""
    stmt = select(ConsentNotice).order_by(ConsentNotice.purpose, ConsentNotice.id)
    if purpose is not None:
        stmt = stmt.where(ConsentNotice.purpose == purpose)
    return list(session.scalars(stmt))


def notice_for(session: Session, purpose: str, version: str | None) -> ConsentNotice:
    """Return the notice version a change names (default: the latest), or raise ValidationFailed."""
    notices = list_notices(session, purpose=purpose)
    if not notices:
        raise ValidationFailed(
            worded(
                "No consent notice is published for '%(purpose)s': "
                "publish the text subjects are shown first.",
                purpose=purpose,
            ),
            fields={"notice_version": [N_("No notice published for this purpose.")]},
        )
    if version is None:
        return notices[-1]
    for notice in notices:
        if notice.version == version:
            return notice
    known = ", ".join(n.version for n in notices)
    raise ValidationFailed(
        worded("Unknown notice version '%(version)s' for '%(purpose)s'.", version=version, purpose=purpose),
        fields={"notice_version": [worded("Not a published version (published: %(known)s).", known=known)]},
    )


def consent_purposes(session: Session) -> list[dict[str, Any]]:
    """Return the consent-based activities with their published notice versions."""
    notices: dict[str, list[ConsentNotice]] = {}
    for notice in list_notices(session):
        notices.setdefault(notice.purpose, []).append(notice)
    # Art. 6(1)(a): the consent-based ones, retired too (their consents and notices stay on record)
    activities = ropa.activities_for(session, legal_basis="6(1)(a)")
    return [{"activity": a, "notices": notices.get(a.slug, [])} for a in activities]
