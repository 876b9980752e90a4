"""The officer's decision per activity, and the search by hand for activities outside the data map.

Before approval each outcome the right applies to is upheld, or refused with a ground from one closed list
(GROUNDS) and written reasons. Where the rules need no weighing the plan proposes "uphold"; an objection to
processing under Art. 6(1)(e) or (f) starts undecided, because Art. 21(1) asks the controller to weigh the
subject's grounds. An activity outside the data map is "not_checked" until a search by hand is recorded
(MANUAL_RESULTS): nothing nobody searched is ever reported as done.

The suggested refusal names the Health Register Act § 25 for activities the registry flags as statutory
health registries (`statutory_registry`), Art. 17(3)(b) for an erasure from public-task processing, and
Art. 21(1) for an objection; the officer edits it or upholds.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from privacy_service.audit import Actor
from privacy_service.catalogue import ByCode, both_languages
from privacy_service.dsar import lifecycle
from privacy_service.dsar.models import DsarOutcome, DsarRequest
from privacy_service.errors import N_, Code, Conflict, ValidationFailed, worded
from privacy_service.kernel import utcnow
from privacy_service.ropa.service import Activity

DECISIONS = ("uphold", "refuse")
# The grounds an officer may refuse on: key -> article, and the words a letter uses (article in brackets).
GROUNDS: dict[str, dict[str, str]] = {
    "art_21_1": {
        "article": "Art. 21(1)",
        "nb": "tvingende berettigede grunner som går foran dine interesser (art. 21 nr. 1)",
        "en": "compelling legitimate grounds that override your interests (Art. 21(1))",
    },
    "art_21_6": {
        "article": "Art. 21(6)",
        "nb": "forskning eller statistikk av allmenn interesse (art. 21 nr. 6)",
        "en": "research or statistics carried out in the public interest (Art. 21(6))",
    },
    "art_17_3_b": {
        "article": "Art. 17(3)(b)",
        "nb": "en rettslig forpliktelse eller en offentlig oppgave krever opplysningene (art. 17 nr. 3 b)",
        "en": "a legal obligation or a task in the public interest requires the data (Art. 17(3)(b))",
    },
    "art_17_3_c": {
        "article": "Art. 17(3)(c)",
        "nb": "allmenne folkehelsehensyn (art. 17 nr. 3 c)",
        "en": "reasons of public interest in the area of public health (Art. 17(3)(c))",
    },
    "art_17_3_d": {
        "article": "Art. 17(3)(d)",
        "nb": "arkivformål i allmennhetens interesse, forskning eller statistikk (art. 17 nr. 3 d)",
        "en": "archiving in the public interest, research or statistics (Art. 17(3)(d))",
    },
    "art_17_3_e": {
        "article": "Art. 17(3)(e)",
        "nb": "rettskrav skal fastsettes, gjøres gjeldende eller forsvares (art. 17 nr. 3 e)",
        "en": "the establishment, exercise or defence of legal claims (Art. 17(3)(e))",
    },
    "art_15_4": {
        "article": "Art. 15(4)",
        "nb": "en kopi ville krenke andres rettigheter og friheter (art. 15 nr. 4)",
        "en": "a copy would adversely affect the rights and freedoms of others (Art. 15(4))",
    },
    "pdl_16_a": {
        "article": "Personal Data Act § 16(1)(a)",
        "nb": "Norges utenrikspolitiske interesser eller nasjonale forsvars- og sikkerhetsinteresser "
        "(personopplysningsloven § 16 første ledd bokstav a)",
        "en": "Norway's foreign policy or national defence and security interests (Personal Data Act "
        "§ 16(1)(a))",
    },
    "pdl_16_b": {
        "article": "Personal Data Act § 16(1)(b)",
        "nb": "hemmelighold er påkrevd for å forebygge, etterforske, avsløre eller rettsforfølge straffbare "
        "handlinger (personopplysningsloven § 16 første ledd bokstav b)",
        "en": "secrecy is required to prevent, investigate, detect or prosecute criminal offences (Personal "
        "Data Act § 16(1)(b))",
    },
    "pdl_16_c": {
        "article": "Personal Data Act § 16(1)(c)",
        "nb": "det er utilrådelig av hensyn til din helse eller forholdet til dine nærmeste "
        "(personopplysningsloven § 16 første ledd bokstav c)",
        "en": "it would be inadvisable for your health or your relationship with those close to you "
        "(Personal Data Act § 16(1)(c))",
    },
    "pdl_16_d": {
        "article": "Personal Data Act § 16(1)(d)",
        "nb": "opplysningene er underlagt lovbestemt taushetsplikt (personopplysningsloven § 16 første ledd "
        "bokstav d)",
        "en": "the data is subject to a statutory duty of confidentiality (Personal Data Act § 16(1)(d))",
    },
    "pdl_16_e": {
        "article": "Personal Data Act § 16(1)(e)",
        "nb": "opplysningene finnes bare i dokumenter til intern saksforberedelse som ikke er gitt til andre "
        "(personopplysningsloven § 16 første ledd bokstav e)",
        "en": "the data is only in documents prepared for internal case preparation and not given to anyone "
        "else (Personal Data Act § 16(1)(e))",
    },
    "pdl_16_f": {
        "article": "Personal Data Act § 16(1)(f)",
        "nb": "åpenbare og grunnleggende private eller offentlige interesser går foran "
        "(personopplysningsloven § 16 første ledd bokstav f)",
        "en": "obvious and fundamental private or public interests prevail (Personal Data Act § 16(1)(f))",
    },
    "pdl_17": {
        "article": "Personal Data Act § 17",
        "nb": "retten ville gjøre det umulig eller alvorlig hindre arkiv-, forsknings- eller "
        "statistikkformålet (personopplysningsloven § 17)",
        "en": "the right would make the archiving, research or statistical purpose impossible or seriously "
        "impair it (Personal Data Act § 17)",
    },
    "hrl_25": {
        "article": "Health Register Act § 25",
        "nb": "reglene for de lovpålagte helseregistrene (helseregisterloven § 25)",
        "en": "the rules for the statutory health registries (Health Register Act § 25)",
    },
}
# What a search by hand found: the words a letter uses for it.
MANUAL_RESULTS = ByCode("manual_result", ("found_handled", "none_found", "sent_to_controller"))
NEEDS_DECISION = ("pending", "partial", "not_checked")  # the right applies: the officer decides
SUGGESTED_REFUSAL = both_languages("suggested.refusal")

# Rectification and erasure in NPR, KPR and IPLOS follow the Health Register Act § 25: the subject must give
# reasons and document that its conditions are met (the Directorate's privacy statement).
SUGGESTED_HRL_25 = both_languages("suggested.hrl_25")
SUGGESTED_TASK = both_languages("suggested.task")


class UndecidedOutcomes(Conflict):
    """Approval needs a decision on every activity and a search by hand on every activity outside the map."""

    code = "undecided_outcomes"


def manual(outcome: DsarOutcome) -> bool:
    """Whether the activity is outside the data map (it is checked by hand)."""
    return outcome.records is None


def needs_weighing(right: str, activity: Activity) -> bool:
    """What the officer weighs rather than the rules: an objection to public-task or legitimate-interest
    processing (Art. 21(1)); an erasure from public-task processing (what the task still needs is kept,
    Art. 17(3)(b)); rectification, erasure and objection in a statutory health registry (Health Register Act
    § 25: the subject must show that its conditions are met)."""
    bases = set(activity.legal_bases)
    if activity.statutory_registry and right in ("rectification", "erasure", "objection"):
        return True
    if right == "objection":
        return bool(bases & {"6(1)(e)", "6(1)(f)"})
    return right == "erasure" and "6(1)(e)" in bases


def suggestion(right: str, activity: Activity) -> dict[str, Any]:
    """The ground and reasons the officer starts from when the rules leave the decision to her."""
    if activity.statutory_registry and right in ("rectification", "erasure", "objection"):
        name = activity.name
        reasons = {
            lang: text.format(registry=name.get(lang) or name.get("nb") or activity.slug)
            for lang, text in SUGGESTED_HRL_25.items()
        }
        return {"ground": "hrl_25", "reasons": reasons}
    if right == "erasure":
        return {"ground": "art_17_3_b", "reasons": SUGGESTED_TASK}
    return {"ground": "art_21_1", "reasons": SUGGESTED_REFUSAL}


def propose(outcome: DsarOutcome, req: DsarRequest, activity: Activity, *, actor: Actor) -> None:
    """The plan's proposal: uphold where the rules need no weighing; otherwise the activity waits for the
    officer, with a suggested refusal text. Outside the data map the activity is not checked yet."""
    if outcome.outcome not in NEEDS_DECISION:
        return
    if manual(outcome):
        outcome.outcome = "not_checked"
    if needs_weighing(req.type, activity):
        outcome.details = {**outcome.details, "suggestion": suggestion(req.type, activity)}
        return
    outcome.decision, outcome.decided_by, outcome.decided_at = "uphold", str(actor), utcnow()


def carry_over(outcome: DsarOutcome, earlier: DsarOutcome | None) -> None:
    """A new plan keeps the officer's decision and the search by hand made on the earlier one."""
    if earlier is None or outcome.outcome not in NEEDS_DECISION:
        return
    if earlier.decision is not None:
        outcome.decision, outcome.decision_ground = earlier.decision, earlier.decision_ground
        outcome.decision_reasons, outcome.decided_by = earlier.decision_reasons, earlier.decided_by
        outcome.decided_at = earlier.decided_at
    if manual(outcome) and earlier.manual_result is not None:
        _set_manual(outcome, earlier.manual_result, earlier.manual_records, earlier.manual_controller,
                    by=earlier.manual_by or "", at=earlier.manual_at)  # fmt: skip


def _by_activity(session: Session, req: DsarRequest, items: list[dict[str, Any]]) -> dict[str, DsarOutcome]:
    """The request's outcomes the items name; unknown activities are a validation error."""
    if req.status != "awaiting_decision":
        raise Conflict(
            worded(
                "Request %(ref)s is %(status)s: only a planned request waiting "
                "for a decision can be decided.",
                ref=req.reference,
                status=Code("letter.status", req.status),
            )
        )
    found = {o.activity: o for o in lifecycle.outcomes_of(session, req)}
    unknown = sorted({i["activity"] for i in items} - set(found))
    if unknown:
        raise ValidationFailed(
            N_("The request does not cover that activity."),
            fields={
                "activities": [
                    worded("Request %(ref)s has no activity '%(activity)s'.", ref=req.reference, activity=a)
                    for a in unknown
                ]
            },
        )
    return found


def decide(session: Session, req: DsarRequest, *, items: list[dict[str, Any]], actor: Actor) -> None:
    """Record the officer's decision on each named activity: uphold, or refuse with a ground and reasons."""
    found = _by_activity(session, req, items)
    problems: dict[str, list[str]] = {}
    for item in items:
        outcome, reasons = found[item["activity"]], (item.get("reasons") or "").strip()
        if outcome.outcome not in NEEDS_DECISION:
            problems[item["activity"]] = [f"No decision is needed: the rules decided ({outcome.outcome})."]
        elif item["decision"] == "refuse" and item.get("ground") not in GROUNDS:
            problems[item["activity"]] = [f"A refusal needs a ground, one of: {', '.join(GROUNDS)}."]
        elif item["decision"] == "refuse" and not reasons:
            problems[item["activity"]] = [N_("A refusal needs written reasons; the subject is told them.")]
    if problems:
        raise ValidationFailed(N_("The decisions are not valid."), fields={"decisions": problems})
    now = utcnow()
    for item in items:
        outcome = found[item["activity"]]
        refuse = item["decision"] == "refuse"
        outcome.decision, outcome.decided_by, outcome.decided_at = item["decision"], str(actor), now
        outcome.decision_ground = item["ground"] if refuse else None
        outcome.decision_reasons = (item.get("reasons") or "").strip() or None
        outcome.updated_at = now
    summary = {i["activity"]: i["ground"] if i["decision"] == "refuse" else "uphold" for i in items}
    lifecycle.record(session, req, "decided", actor, visible=False, details={"decisions": summary})


def record_manual(session: Session, req: DsarRequest, *, items: list[dict[str, Any]], actor: Actor) -> None:
    """Record what a search by hand found for each named activity outside the data map."""
    found = _by_activity(session, req, items)
    problems: dict[str, list[str]] = {}
    for item in items:
        outcome = found[item["activity"]]
        if not manual(outcome):
            problems[item["activity"]] = [N_("The activity is in the data map: the service searches it.")]
        elif outcome.outcome not in (*NEEDS_DECISION, "no_data", "forwarded") or not outcome.applies:
            problems[item["activity"]] = [f"No search is needed: the rules decided ({outcome.outcome})."]
        elif item["result"] == "found_handled" and not item.get("records"):
            problems[item["activity"]] = [N_("Say how many records were found and handled.")]
        elif item["result"] == "sent_to_controller" and not (item.get("controller") or "").strip():
            problems[item["activity"]] = [N_("Name the controller the request was sent to.")]
    if problems:
        raise ValidationFailed(N_("The results are not valid."), fields={"results": problems})
    now = utcnow()
    for item in items:
        _set_manual(found[item["activity"]], item["result"], item.get("records"), item.get("controller"),
                    by=str(actor), at=now)  # fmt: skip
    summary = {i["activity"]: i["result"] for i in items}
    lifecycle.record(session, req, "checked_by_hand", actor, visible=False, details={"results": summary})


def _set_manual(
    outcome: DsarOutcome, result: str, records: int | None, controller: str | None, *, by: str, at: Any
) -> None:
    outcome.manual_result, outcome.manual_by, outcome.manual_at = result, by, at
    outcome.manual_records = records if result == "found_handled" else None
    outcome.manual_controller = (controller or "").strip() or None if result == "sent_to_controller" else None
    outcome.outcome = {
        "found_handled": "pending",
        "none_found": "no_data",
        "sent_to_controller": "forwarded",
    }[result]
    outcome.updated_at = utcnow()


def check_decided(session: Session, req: DsarRequest) -> None:
    """Raise UndecidedOutcomes unless every activity is decided and every one outside the map was searched."""
    outcomes = lifecycle.outcomes_of(session, req)
    unchecked = [o.activity for o in outcomes if o.outcome == "not_checked" and o.decision != "refuse"]
    undecided = [o.activity for o in outcomes if o.outcome in NEEDS_DECISION and o.decision is None]
    if unchecked or undecided:
        raise UndecidedOutcomes(
            worded(
                "Request %(ref)s cannot be approved yet: %(undecided)s activity(ies) wait for a decision and "
                "%(unchecked)s outside the data map for a search by hand.",
                ref=req.reference,
                undecided=len(undecided),
                unchecked=len(unchecked),
            ),
            fields={"undecided": undecided, "not_checked": unchecked},
        )


def ground_text(key: str | None, lang: str) -> str:
    """The words for a refusal ground, with the article in brackets."""
    ground = GROUNDS.get(key or "")
    return ground[lang if lang in ("nb", "en") else "nb"] if ground else ""


def manual_text(outcome: DsarOutcome, lang: str) -> str:
    """The words for what the search by hand found."""
    words = MANUAL_RESULTS.get(outcome.manual_result or "")
    if words is None:
        return ""
    text = words[lang if lang in ("nb", "en") else "nb"]
    return text.format(n=outcome.manual_records or 0, controller=outcome.manual_controller or "")
