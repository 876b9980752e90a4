"""The breach register's logic (GDPR Art. 33 and 34): record, assess, notify Datatilsynet and the subjects,
close. Every step writes its audit event in the caller's transaction and only flushes; a refused step writes
nothing (every check runs before the first change)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from privacy_service import notify
from privacy_service.audit import Actor, record_event
from privacy_service.catalogue import words
from privacy_service.datamap import service as datamap
from privacy_service.errors import N_, Code, Conflict, NotFound, ValidationFailed, said, worded
from privacy_service.kernel import as_utc, utcnow
from privacy_service.registers.models import Breach
from privacy_service.ropa import service as ropa
from privacy_service.wording import OSLO

# Art. 33(1): "without undue delay and, where feasible, not later than 72 hours after having become aware".
# Real hours, counted in UTC: a change of daylight-saving time in Oslo neither adds nor takes an hour.
AUTHORITY_DEADLINE = timedelta(hours=72)
REFERENCE_PREFIX = "AVVIK"


class BreachNotFound(NotFound):
    """No breach has this reference."""

    code = "breach_not_found"


class DiscoveredInFuture(ValidationFailed):
    """A breach cannot be discovered later than now."""

    code = "discovered_in_future"


class UnknownActivity(ValidationFailed):
    """A breach or an assessment names an activity that is not in the records of processing."""

    code = "unknown_activity"


class LateWithoutReasons(ValidationFailed):
    """Art. 33(1): a notification later than 72 hours must give the reasons for the delay."""

    code = "delay_reasons_required"


class NotAssessed(Conflict):
    """The breach must be assessed (risk level and reasons) before anyone is notified."""

    code = "not_assessed"


class WrongStatus(Conflict):
    """The step does not fit the breach's status (closed, already notified, obligations outstanding)."""

    code = "wrong_status"


def deadline_for(discovered_at: datetime) -> datetime:
    """The latest time to notify Datatilsynet: discovery plus exactly 72 hours, in UTC."""
    return (as_utc(discovered_at) or discovered_at) + AUTHORITY_DEADLINE


@dataclass(frozen=True)
class Countdown:
    """How the 72 hours stand: whole hours left, or hours overdue; `running` is False once the authority is
    notified, when no notification is needed (no risk), or when the breach is closed."""

    running: bool
    hours_left: int
    overdue_hours: int


def countdown(breach: Breach, *, now: datetime | None = None) -> Countdown:
    """Where the breach stands against its 72-hour deadline."""
    now = now or utcnow()
    stopped = breach.authority_notified_at or breach.closed_at or breach.risk_level == "no_risk"
    seconds = (as_utc(breach.notify_authority_by) - now).total_seconds()  # type: ignore[operator]
    if seconds >= 0:
        return Countdown(not stopped, int(seconds // 3600), 0)
    return Countdown(not stopped, 0, int(-seconds // 3600) + (1 if -seconds % 3600 else 0))


# --- reading ------------------------------------------------------------------------------------------------


def list_breaches(session: Session, *, status: str | None = None) -> list[Breach]:
    """Breaches, the most recently discovered first."""
    query = select(Breach).order_by(Breach.discovered_at.desc(), Breach.id.desc())  # type: ignore[attr-defined]
    if status:
        query = query.where(Breach.status == status)
    return list(session.scalars(query))


def get_breach(session: Session, *, reference: str) -> Breach:
    """One breach by its reference; raise BreachNotFound."""
    breach = session.scalar(select(Breach).where(Breach.reference == reference.upper()))
    if breach is None:
        raise BreachNotFound(worded("No breach '%(reference)s'.", reference=reference))
    return breach


def count_breaches(session: Session) -> int:
    """How many breaches the register holds."""
    return session.scalar(select(func.count()).select_from(Breach)) or 0


# --- the steps ----------------------------------------------------------------------------------------------


def _check_activities(session: Session, slugs: list[str]) -> None:
    unknown = []
    for slug in slugs:
        try:
            ropa.activity_view(session, slug=slug)
        except NotFound:
            unknown.append(slug)
    if unknown:
        names = ", ".join(repr(s) for s in unknown)
        raise UnknownActivity(
            worded("Unknown processing activity: %(names)s.", names=names),
            fields={
                "activities": [
                    worded("No processing activity '%(activity)s' in the records of processing.", activity=s)
                    for s in unknown
                ]
            },
        )


def _next_number(session: Session, year: int) -> int:
    last = session.scalar(select(func.max(Breach.number)).where(Breach.year == year))
    return (last or 0) + 1


def _audit(session: Session, breach: Breach, actor: Actor, action: str, **details: Any) -> None:
    # references, levels and counts only: no addresses and no free text about people in the audit trail
    record_event(
        session,
        actor=actor,
        action=action,
        object_type="breach",
        object_id=breach.reference,
        details={"status": breach.status, **details},
    )


def create_breach(
    session: Session, *, data: dict[str, Any], actor: Actor, now: datetime | None = None
) -> Breach:
    """Record a breach when it is discovered; the 72 hours to notify Datatilsynet run from `discovered_at`."""
    now = now or utcnow()
    discovered = as_utc(data["discovered_at"])
    occurred = as_utc(data.get("occurred_at"))
    assert discovered is not None
    if discovered > now:
        raise DiscoveredInFuture(
            N_("The breach cannot be discovered in the future: give the time it was discovered."),
            fields={"discovered_at": [N_("Must not be later than now.")]},
        )
    if occurred is not None and occurred > discovered:
        raise ValidationFailed(
            N_("The breach cannot have occurred after it was discovered."),
            fields={"occurred_at": [N_("Must not be later than discovered_at.")]},
        )
    activities = list(dict.fromkeys(data.get("activities") or []))
    _check_activities(session, activities)
    year = discovered.astimezone(ZoneInfo(OSLO)).year  # the controller's year, not UTC's
    number = _next_number(session, year)
    breach = Breach(
        reference=f"{REFERENCE_PREFIX}-{year}-{number:04d}", year=year, number=number,
        title=data["title"], description=data["description"], discovered_at=discovered, occurred_at=occurred,
        notify_authority_by=deadline_for(discovered), data_categories=list(data.get("data_categories") or []),
        subject_categories=list(data.get("subject_categories") or []),
        approx_subjects=data.get("approx_subjects"), approx_records=data.get("approx_records"),
        activities=activities, consequences=data.get("consequences") or "",
        measures=data.get("measures") or "", created_at=now, created_by=str(actor),
    )  # fmt: skip
    session.add(breach)
    session.flush()
    _audit(session, breach, actor, "breach.create", activities=activities)
    return breach


def assess_breach(
    session: Session,
    *,
    reference: str,
    risk_level: str,
    reasons: str,
    actor: Actor,
    now: datetime | None = None,
) -> Breach:
    """Record the risk assessment; for no_risk the reasons say why Datatilsynet is not told (Art. 33(1))."""
    breach = get_breach(session, reference=reference)
    if breach.status not in ("open", "assessed"):
        raise WrongStatus(
            worded(
                "Breach %(ref)s is %(status)s: it can no longer be re-assessed.",
                ref=breach.reference,
                status=Code("breach_status", breach.status),
            )
        )
    breach.risk_level, breach.risk_reasons = risk_level, reasons
    breach.assessed_at, breach.status = now or utcnow(), "assessed"
    session.flush()
    _audit(session, breach, actor, "breach.assess", risk_level=risk_level)
    return breach


def _assessed(session: Session, reference: str, step: str) -> Breach:
    breach = get_breach(session, reference=reference)
    if breach.status == "closed":
        raise WrongStatus(worded("Breach %(ref)s is closed.", ref=breach.reference))
    if breach.status == "open" or breach.risk_level is None:
        raise NotAssessed(
            worded(
                "Assess breach %(ref)s (risk level and reasons) before %(step)s.",
                ref=breach.reference,
                step=said(step),
            )
        )
    return breach


def notify_authority(
    session: Session,
    *,
    reference: str,
    notified_at: datetime,
    authority_reference: str | None,
    delay_reasons: str | None,
    actor: Actor,
    now: datetime | None = None,
) -> Breach:
    """Record the notification to Datatilsynet; later than 72 hours it must give the reasons (Art. 33(1))."""
    breach = _assessed(session, reference, N_("notifying Datatilsynet"))
    if breach.authority_notified_at is not None:
        raise WrongStatus(
            worded("Datatilsynet was already notified of breach %(ref)s.", ref=breach.reference)
        )
    when = as_utc(notified_at)
    assert when is not None
    if when > (now or utcnow()):
        raise ValidationFailed(
            N_("The notification cannot be recorded before it is made."),
            fields={"notified_at": [N_("Must not be later than now.")]},
        )
    if when < as_utc(breach.discovered_at):  # type: ignore[operator]
        raise ValidationFailed(
            N_("Datatilsynet cannot be notified before the breach was discovered."),
            fields={"notified_at": [N_("Must not be earlier than discovered_at.")]},
        )
    late = when > as_utc(breach.notify_authority_by)  # type: ignore[operator]
    if late and not (delay_reasons or "").strip():
        raise LateWithoutReasons(
            N_(
                "The notification is later than 72 hours after discovery: give the reasons for the delay "
                "(GDPR Art. 33(1))."
            ),
            fields={"delay_reasons": [N_("Required when notified_at is later than notify_authority_by.")]},
        )
    breach.authority_notified_at, breach.authority_reference = when, authority_reference or None
    breach.delay_reasons = (delay_reasons or "").strip() or None
    breach.status = "notified"
    session.flush()
    _audit(session, breach, actor, "breach.notify_authority", late=late)
    return breach


def _recipients(session: Session, breach: Breach, instance_path: Path) -> list[str]:
    """The distinct e-mail addresses in the tables the data map holds for the breach's activities, one per
    mailbox however it is written (case-insensitive)."""
    found = datamap.identity_values(
        session, kind="email", activities=set(breach.activities), instance_path=instance_path
    )
    unique: dict[str, str] = {}
    for address in found:
        unique.setdefault(address.casefold(), address)
    return list(unique.values())


def _mail(breach: Breach, texts: dict[str, str], controller: dict[str, Any]) -> tuple[str, str]:
    """The notice to a subject (Art. 34), in bokmål and then in English: whom the breach touched is not known
    to be one or the other, so both are in every mail."""
    subject = " / ".join(
        words("mail.breach.subject", lang, reference=breach.reference) for lang in ("nb", "en")
    )
    dpo = controller.get("dpo") or {}
    # Art. 34(2) with 33(3)(b): whom the subject can ask, whatever the officer's text says
    reach = ", ".join(str(v) for v in (dpo.get("name"), dpo.get("email"), dpo.get("phone")) if v)
    parts = {}
    for lang in ("nb", "en"):
        ask = words("mail.breach.ask", lang, reach=reach) + "\n\n" if reach else ""
        where = words("mail.breach.reference", lang, reference=breach.reference)
        parts[lang] = f"{texts[lang].strip()}\n\n{ask}{where}"
    return subject, f"{parts['nb']}\n\n{words('mail.in_english', 'en')}\n\n{parts['en']}\n"


def notify_subjects(
    session: Session,
    *,
    reference: str,
    actor: Actor,
    instance_path: Path,
    texts: dict[str, str] | None = None,
    not_required: str | None = None,
    not_required_reason: str | None = None,
    now: datetime | None = None,
) -> Breach:
    """Tell the subjects (Art. 34): one mail per address the data map finds for the breach's activities, in
    bokmål then English; or record why it is not required (Art. 34(3)(a), (b) or (c))."""
    breach = _assessed(session, reference, N_("notifying the data subjects"))
    if breach.subjects_notified_at is not None or breach.subjects_not_required is not None:
        raise WrongStatus(
            worded("The data subjects of breach %(ref)s were already dealt with.", ref=breach.reference)
        )
    if not_required:
        if not (not_required_reason or "").strip():
            raise ValidationFailed(
                N_("Say why notifying the data subjects is not required."),
                fields={"not_required_reason": [N_("Required with not_required.")]},
            )
        breach.subjects_not_required, breach.subjects_not_required_reason = not_required, not_required_reason
        session.flush()
        _audit(session, breach, actor, "breach.subjects_not_required", ground=not_required)
        return breach
    if not texts or not (texts.get("nb") or "").strip() or not (texts.get("en") or "").strip():
        raise ValidationFailed(
            N_(
                "Give the text to the data subjects in bokmål and English, "
                "or the ground for not telling them."
            ),
            fields={"texts": [N_("Give both nb and en.")]},
        )
    addresses = _recipients(session, breach, instance_path)  # read before anything is written
    subject, body = _mail(breach, texts, dpo_contact(session, breach))
    for address in addresses:
        notify.enqueue_email(session, event="breach.subjects", to=address, subject=subject, text=body)
    breach.subject_text = {"nb": texts["nb"], "en": texts["en"]}
    breach.subjects_notified_at, breach.subjects_sent_count = now or utcnow(), len(addresses)
    session.flush()
    _audit(session, breach, actor, "breach.notify_subjects", sent=len(addresses))  # the count, not addresses
    return breach


def close_breach(session: Session, *, reference: str, actor: Actor, now: datetime | None = None) -> Breach:
    """Close a breach whose obligations are met: assessed; Datatilsynet notified unless there is no risk
    (Art. 33(1)); the subjects told or the exception recorded when the risk is high (Art. 34(1))."""
    breach = get_breach(session, reference=reference)
    if breach.status == "closed":
        raise WrongStatus(worded("Breach %(ref)s is already closed.", ref=breach.reference))
    if breach.status == "open" or breach.risk_level is None:
        raise NotAssessed(worded("Assess breach %(ref)s before closing it.", ref=breach.reference))
    if breach.risk_level != "no_risk" and breach.authority_notified_at is None:
        raise WrongStatus(
            worded(
                "Notify Datatilsynet of breach %(ref)s before closing it (Art. 33(1)).", ref=breach.reference
            )
        )
    subjects_done = breach.subjects_notified_at is not None or breach.subjects_not_required is not None
    if breach.risk_level == "high_risk" and not subjects_done:
        raise WrongStatus(
            worded(
                "Notify the data subjects of breach %(ref)s, or record why it is not required, "
                "before closing it (Art. 34).",
                ref=breach.reference,
            )
        )
    breach.status, breach.closed_at = "closed", now or utcnow()
    session.flush()
    _audit(session, breach, actor, "breach.close")
    return breach


def dpo_contact(session: Session, breach: Breach) -> dict[str, Any]:
    """The controller answering for the breach (its first activity's, else the first controller in the
    registry), as the organisation record with its DPO: Art. 33(3)(b)."""
    organisations = ropa.list_organisations(session)
    slug = None
    if breach.activities:
        slug = ropa.activity_view(session, slug=breach.activities[0]).controller
    if slug is None or slug not in organisations:
        slug = next((s for s, o in organisations.items() if o.get("role") == "controller"), None)
    return organisations.get(slug or "", {})
