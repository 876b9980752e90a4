"""Art. 19: every recipient the registry names for an activity whose data changed is told, or recorded as not
told with a reason from a closed list.

The recipients of an activity are its processors and sub-processors (organisations in the registry) and the
recipients the record of processing lists (Art. 30(1)(d)). A recipient with a contact address is told through
the outbox at once; one without stays "not told yet" on the request until the officer either gets it told or
records that telling it is impossible or would involve disproportionate effort (Art. 19, first sentence), with
written reasons. Each outcome carries its list in `details["recipients"]`; `details["told"]` stays the list of
organisation keys told, which the letter and the status page read (Art. 19, second sentence).

A processor the registry names with an OpenDSR endpoint is told by an OpenDSR request instead of the mail
(opendsr.py), and hears of access and portability requests that way too; its entry says it by
`"channel": "opendsr"`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlmodel import Session

from privacy_service import notify
from privacy_service.audit import Actor
from privacy_service.catalogue import ByLanguage, words
from privacy_service.dsar import lifecycle, opendsr
from privacy_service.dsar.models import DsarOutcome, DsarRequest
from privacy_service.errors import N_, Conflict, ValidationFailed, worded
from privacy_service.kernel import utcnow
from privacy_service.ropa import service as ropa

# Art. 19: the only reasons a recipient may go untold
NOT_TOLD_REASONS = ("impossible", "disproportionate_effort")
STATES = ("told", "not_told", "pending")  # pending: no contact address, the officer decides
CHANGED = ("done", "partial")


def _text_key(text: Any) -> str:
    """A stable key for a recipient the registry names in words only."""
    words = (text.get("nb") or text.get("en") or "") if isinstance(text, dict) else str(text)
    return "text:" + hashlib.sha256(words.encode()).hexdigest()[:12]


def named_recipients(session: Session, activity: str) -> list[dict[str, Any]]:
    """The activity's recipients as the registry names them: key, organisation (or None), name, contact."""
    view = ropa.activity_view(session, slug=activity)
    organisations = ropa.list_organisations(session)
    found: dict[str, dict[str, Any]] = {}
    for processor in view.processors:
        org = organisations.get(processor.organisation or "", {})
        found.setdefault(
            processor.organisation,
            {
                "key": processor.organisation,
                "organisation": processor.organisation,
                "name": org.get("name") or {"nb": processor.organisation, "en": processor.organisation},
                "kind": processor.role,
                "email": org.get("email") or None,
                "org": org,
            },
        )
    for text in view.recipients:
        key = _text_key(text)
        found.setdefault(
            key,
            {
                "key": key,
                "organisation": None,
                "name": dict(text),
                "kind": "recipient",
                "email": None,
                "org": {},
            },
        )
    return list(found.values())


def tell(session: Session, req: DsarRequest, outcome: DsarOutcome) -> list[str]:
    """Tell the outcome's recipients that its data changed (never whose); record per recipient what became of
    it, keeping an officer's earlier "not told". Returns the organisation keys told now."""
    earlier = {r["key"]: r for r in outcome.details.get("recipients", [])}
    now, told_now, listed = utcnow().isoformat(), [], []
    for named in named_recipients(session, outcome.activity):
        entry = {k: named[k] for k in ("key", "organisation", "name", "kind")}
        before = earlier.get(named["key"], {})
        if opendsr.endpoint_for(req, named["org"]):
            opendsr.queue(session, req, organisation=named["key"], activity=outcome.activity)
            entry.update(state="told", told_at=now, channel="opendsr")
            told_now.append(named["key"])
        elif named["email"]:
            _mail(session, req, outcome, to=named["email"])
            entry.update(state="told", told_at=now)
            told_now.append(named["key"])
        elif before.get("state") == "not_told":
            entry.update(
                {k: before.get(k) for k in ("state", "reason", "reasons", "recorded_by", "recorded_at")}
            )
        else:
            entry.update(state="pending")  # no contact address: listed for the officer, never silently passed
        listed.append(entry)
    told = sorted({*outcome.details.get("told", []), *told_now})
    outcome.details = {**outcome.details, "recipients": listed, "told": told}
    return told_now


def forward(session: Session, req: DsarRequest, outcome: DsarOutcome) -> list[str]:
    """Send an access or portability request on to the activity's processors that take OpenDSR requests
    (the processor answers them; Art. 28(3)(e)); returns the organisation keys sent to."""
    sent = []
    for named in named_recipients(session, outcome.activity):
        if named["organisation"] and opendsr.endpoint_for(req, named["org"]):
            opendsr.queue(session, req, organisation=named["key"], activity=outcome.activity)
            sent.append(named["key"])
    return sent


# What was done, in the words of the Art. 19 notice (bokmål first: the recipients are Norwegian bodies and
# their processors; English below it for those who work in English).
_DONE = ByLanguage("recipients_done")


def _mail(session: Session, req: DsarRequest, outcome: DsarOutcome, *, to: str) -> None:
    """The Art. 19 notice: which activity, what was done, the reference; never whose data."""
    try:
        name = ropa.activity_view(session, slug=outcome.activity).name
    except ropa.ActivityNotFound:
        name = {"nb": outcome.activity, "en": outcome.activity}
    parts = {
        lang: words(
            "mail.art19.body",
            lang,
            done=_DONE[lang].get(req.type) or words("mail.art19.changed", lang),
            activity=name.get(lang) or name.get("en") or name.get("nb"),
            reference=req.reference,
        )
        for lang in ("nb", "en")
    }
    subject = " / ".join(words("mail.art19.subject", lang, reference=req.reference) for lang in ("nb", "en"))
    text = f"{parts['nb']}\n---\n\n{parts['en']}"
    notify.enqueue_email(session, event="dsar.art19", to=to, subject=subject, text=text)


def record_not_told(session: Session, req: DsarRequest, *, items: list[dict[str, Any]], actor: Actor) -> None:
    """Record, per recipient not told, why (a reason of NOT_TOLD_REASONS) and the written reasons."""
    if req.decided_at is None:
        raise Conflict(
            worded(
                "Request %(ref)s has not been carried out: no recipient has been told yet.", ref=req.reference
            )
        )
    outcomes = {o.activity: o for o in lifecycle.outcomes_of(session, req)}
    problems: dict[str, list[str]] = {}
    for n, item in enumerate(items):
        outcome = outcomes.get(item["activity"])
        listed = {r["key"]: r for r in (outcome.details.get("recipients", []) if outcome else [])}
        entry = listed.get(item["recipient"])
        if entry is None:
            problems[str(n)] = [f"Activity {item['activity']!r} of {req.reference} lists no such recipient."]
        elif entry["state"] == "told":
            problems[str(n)] = [N_("This recipient has been told already.")]
        elif item["reason"] not in NOT_TOLD_REASONS:
            problems[str(n)] = [f"The reason must be one of: {', '.join(NOT_TOLD_REASONS)}."]
        elif not (item.get("reasons") or "").strip():
            problems[str(n)] = [N_("Give the written reasons why this recipient is not told.")]
    if problems:
        raise ValidationFailed(N_("The recipients are not valid."), fields={"recipients": problems})
    now = utcnow().isoformat()
    for item in items:
        outcome = outcomes[item["activity"]]
        listed = [
            {**r, "state": "not_told", "reason": item["reason"], "reasons": item["reasons"].strip(),
             "recorded_by": str(actor), "recorded_at": now}
            if r["key"] == item["recipient"] else r
            for r in outcome.details.get("recipients", [])
        ]  # fmt: skip
        outcome.details = {**outcome.details, "recipients": listed}
        outcome.updated_at = utcnow()
    summary = [{"activity": i["activity"], "recipient": i["recipient"], "reason": i["reason"]} for i in items]
    lifecycle.record(
        session, req, "recipients_not_told", actor, visible=False, details={"recipients": summary}
    )


def untold(session: Session, req: DsarRequest) -> list[dict[str, Any]]:
    """The recipients still waiting for the officer (no contact address, nothing recorded), per activity."""
    return [
        {"activity": o.activity, **r}
        for o in lifecycle.outcomes_of(session, req)
        for r in o.details.get("recipients", [])
        if r.get("state") == "pending"
    ]
