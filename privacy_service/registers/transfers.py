"""Transfer assessments (GDPR Chapter V): the tool each transfer relies on and its impact assessment.

Every transfer in an activity's record (country, recipient, safeguard) is listed, assessed or not; a transfer
is keyed by its activity and a key derived from its country and recipient, so reordering the record keeps the
assessments. The record's safeguard names the tool (Art. 45, 46(2)(c), 47, 49); the assessment adds the point
of Art. 49(1) a derogation relies on and the transfer impact assessment (TIA). Every write records one audit
event in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, inspect, select
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.errors import N_, ValidationFailed, said, worded
from privacy_service.kernel import utcnow
from privacy_service.registers.transfer_models import TransferAssessment
from privacy_service.ropa import service as ropa_service
from privacy_service.wording import localised

TOOLS = {  # by ropa.rules.SAFEGUARDS, the safeguards a record may name
    "adequacy": "Art. 45 adequacy decision",
    "scc": "Art. 46(2)(c) standard contractual clauses",
    "bcr": "Art. 47 binding corporate rules",
    "derogation": "Art. 49(1) derogation",
    "none": "no Chapter V tool",
}
DEROGATION_POINTS = ("a", "b", "c", "d", "e", "f", "g")
TIA_CONCLUSIONS = ("adequate", "not_adequate", "not_required")
ASSESSMENT_FIELDS = (
    "derogation_point",
    "third_country_laws",
    "supplementary_measures",
    "tia_conclusion",
    "assessed_by",
    "assessed_on",
    "next_review_on",
)
NONE_RULE = "A transfer with no Chapter V tool can never be assessed adequate (Art. 44)."
NOT_REQUIRED_RULE = (
    "Only a transfer under an adequacy decision (Art. 45) needs no transfer impact assessment."
)
POINT_RULE = "A derogation needs the point of Art. 49(1), (a) to (g), it relies on."
POINT_ONLY_RULE = "A point of Art. 49(1) is only for a transfer that relies on a derogation."
TIA_RULE = (
    "Standard contractual clauses and BCR (Art. 46, 47) need a transfer impact assessment and its conclusion."
)
LAWS_RULE = "The transfer impact assessment needs the laws and practices of the third country."


class TransferRuleBroken(ValidationFailed):
    """The assessment breaks a rule of Chapter V."""

    code = "transfer_rule"


class UnknownTransfer(ValidationFailed):
    """The assessment names an activity, or a transfer of it, that the record does not have."""

    code = "unknown_transfer"


@dataclass(frozen=True)
class TransferView:
    """One transfer in the record of processing and its assessment, if any."""

    activity: str
    name: Mapping[str, str]
    index: int  # its place among the activity's transfers
    key: str
    country: Any  # text, or {nb, en}
    recipient: Any
    safeguard: str
    details: Any
    assessed: bool = False
    stale: bool = False  # the record's safeguard changed since the assessment
    derogation_point: str | None = None
    third_country_laws: str | None = None
    supplementary_measures: str | None = None
    tia_conclusion: str | None = None
    assessed_by: str | None = None
    assessed_on: date | None = None
    next_review_on: date | None = None
    updated_at: datetime | None = None

    @property
    def tool(self) -> str:
        """The Chapter V tool in words (English, as the API speaks)."""
        if self.safeguard == "derogation" and self.derogation_point:
            return f"Art. 49(1)({self.derogation_point}) derogation"
        return TOOLS.get(self.safeguard, self.safeguard)


def transfer_key(transfer: Mapping[str, Any]) -> str:
    """A stable key for a transfer, from its country and recipient (the record has no id for it); a text given
    in both languages is keyed by its English version."""
    country, recipient = localised(transfer.get("country"), "en"), localised(transfer.get("recipient"), "en")
    text = f"{country.strip().lower()}\n{recipient.strip().lower()}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _views(activity: ropa_service.Activity, rows: Mapping[tuple[str, str], TransferAssessment]) -> list:
    views = []
    for index, transfer in enumerate(activity.record.get("transfers") or []):
        key = transfer_key(transfer)
        row = rows.get((activity.slug, key))
        extra: dict[str, Any] = {}
        if row is not None:
            extra = {name: getattr(row, name) for name in ASSESSMENT_FIELDS}
            extra.update(
                assessed=True, stale=row.safeguard != transfer["safeguard"], updated_at=row.updated_at
            )
        views.append(
            TransferView(
                activity=activity.slug,
                name=dict(activity.name),
                index=index,
                key=key,
                country=transfer["country"],
                recipient=transfer["recipient"],
                safeguard=transfer["safeguard"],
                details=transfer.get("details"),
                **extra,
            )
        )
    return views


def _rows(session: Session) -> dict[tuple[str, str], TransferAssessment]:
    return {(r.activity, r.transfer_key): r for r in session.scalars(select(TransferAssessment))}


def list_transfers(session: Session) -> list[TransferView]:
    """Every transfer in the record (retired activities left out) with its assessment or none."""
    rows = _rows(session)
    activities = ropa_service.activities_for(session, include_retired=False)
    return [view for activity in activities for view in _views(activity, rows)]


def list_for_attention(session: Session) -> list[TransferView]:
    """The same list, the transfers needing the officer first: no tool, unassessed, stale."""
    return sorted(list_transfers(session), key=lambda v: (v.safeguard != "none", v.assessed and not v.stale))


def get_transfer(session: Session, *, activity: str, key: str) -> TransferView:
    """Return one transfer of an activity with its assessment; raise UnknownTransfer."""
    found = ropa_service.activities_for(session, slugs=[activity])
    views = _views(found[0], _rows(session)) if found else []
    for view in views:
        if view.key == key:
            return view
    raise UnknownTransfer(
        worded("The activity '%(activity)s' has no transfer '%(key)s'.", activity=activity, key=key),
        fields={"transfer": [N_("No such transfer in the activity's record.")]},
    )


def _blank(data: Mapping[str, Any], name: str) -> bool:
    return not (data.get(name) or "").strip()


def check_rules(safeguard: str, data: Mapping[str, Any]) -> dict[str, list[str]]:
    """What the assessment breaks for the transfer's safeguard, by field; empty when it may be saved."""
    problems: dict[str, list[str]] = {}
    conclusion, point = data.get("tia_conclusion"), data.get("derogation_point")
    if safeguard == "none" and conclusion == "adequate":
        problems["tia_conclusion"] = [NONE_RULE]
    elif conclusion == "not_required" and safeguard != "adequacy":
        problems["tia_conclusion"] = [NOT_REQUIRED_RULE]
    elif safeguard in ("scc", "bcr") and not conclusion:
        problems["tia_conclusion"] = [TIA_RULE]
    if safeguard == "derogation" and not point:
        problems["derogation_point"] = [POINT_RULE]
    elif safeguard != "derogation" and point:
        problems["derogation_point"] = [POINT_ONLY_RULE]
    if conclusion in ("adequate", "not_adequate") and _blank(data, "third_country_laws"):
        problems["third_country_laws"] = [LAWS_RULE]
    return problems


def save_assessment(session: Session, *, data: Mapping[str, Any], actor: Actor) -> TransferView:
    """Create or update the assessment of one transfer; one audit event records it."""
    view = get_transfer(session, activity=data["activity"], key=data["transfer"])
    problems = check_rules(view.safeguard, data)
    if problems:
        first = next(iter(problems.values()))[0]
        raise TransferRuleBroken(
            worded("The assessment cannot be saved: %(first)s", first=said(first)), fields=problems
        )
    query = select(TransferAssessment).where(
        TransferAssessment.activity == view.activity, TransferAssessment.transfer_key == view.key
    )
    row = session.scalar(query)
    created = row is None
    if row is None:
        row = TransferAssessment(
            activity=view.activity,
            transfer_key=view.key,
            country=localised(view.country, "en"),
            recipient=localised(view.recipient, "en"),
            safeguard=view.safeguard,
            assessed_by=data["assessed_by"],
            assessed_on=data["assessed_on"],
        )
        session.add(row)
    row.country, row.recipient = localised(view.country, "en"), localised(view.recipient, "en")
    row.safeguard = view.safeguard
    for name in ASSESSMENT_FIELDS:
        setattr(row, name, data.get(name))
    row.updated_at, row.updated_by = utcnow(), str(actor)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="transfer_assessment.created" if created else "transfer_assessment.updated",
        object_type="transfer_assessment",
        object_id=f"{view.activity}/{view.key}",
        details={"safeguard": row.safeguard, "tia_conclusion": row.tia_conclusion, "country": row.country},
    )
    return get_transfer(session, activity=view.activity, key=view.key)


def record_derogation_points(session: Session) -> dict[str, dict[int, str]]:
    """The point of Art. 49(1) each assessed derogation relies on, for the record of processing: activity
    slug -> the transfer's place in the record -> the point ("d"). An assessment made before the record's
    safeguard changed (stale) names none."""
    points: dict[str, dict[int, str]] = {}
    rows = _rows(session)
    activities = ropa_service.activities_for(session, include_retired=True)  # the record keeps the retired
    for view in (v for activity in activities for v in _views(activity, rows)):
        if view.assessed and not view.stale and view.safeguard == "derogation" and view.derogation_point:
            points.setdefault(view.activity, {})[view.index] = view.derogation_point
    return points


# --- the policy check ---------------------------------------------------------------------------------------


def assessed_transfers(engine: Engine) -> set[tuple[str, str]]:
    """The (activity, transfer key) pairs with an assessment; none when the database has no such table yet."""
    if not inspect(engine).has_table(TransferAssessment.__tablename__):
        return set()
    with Session(engine) as session:
        query = select(TransferAssessment.activity, TransferAssessment.transfer_key)
        return {(a, k) for a, k in session.execute(query)}


def transfer_gap_texts(activities: list[Mapping[str, Any]], assessed: set[tuple[str, str]]) -> list[str]:
    """Lines in plain words for `policies check`: transfers with no Chapter V tool, and unassessed ones."""
    lines = []
    for record in activities:
        if record.get("status", "active") == "retired":
            continue
        name = record.get("name") or {}
        label = f"{name.get('en') or name.get('nb') or ''} ({record['slug']})"
        for transfer in record.get("transfers") or []:
            where = f"{localised(transfer['recipient'], 'en')} in {localised(transfer['country'], 'en')}"
            if transfer.get("safeguard") == "none":
                lines.append(
                    f"Transfer without a Chapter V tool: {label} transfers to {where}. Without an adequacy "
                    "decision, appropriate safeguards or a derogation the transfer is not allowed (Art. 44)."
                )
            if (record["slug"], transfer_key(transfer)) not in assessed:
                tool = TOOLS.get(transfer.get("safeguard", ""), "")
                lines.append(
                    f"No transfer assessment: {label} transfers to {where} ({tool}). "
                    "Record the Chapter V tool and the transfer impact assessment."
                )
    return lines
