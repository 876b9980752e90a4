"""How the registry's codes and records read in words, for the exports and PDFs that print them.

Legal bases and Art. 9 conditions with their articles, transfer safeguards, organisation names, machine
retention rules, and which organisation keeps the record. Plain data in, text out; it imports no other ropa
module, so export, jsonld and the PDFs all stand on it without leaning on each other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from functools import cache
from typing import Any

from privacy_service.catalogue import ByCode, ByLanguage, MissingText, both_languages, words
from privacy_service.kernel import ART89_PURPOSES, LEGAL_BASES, REASON_IDS, record_bases
from privacy_service.wording import format_date, localised, period_text, yes_no

ART9_TEXTS = ByCode(
    "art9",
    (
        "9(2)(a)",
        "9(2)(b)",
        "9(2)(c)",
        "9(2)(d)",
        "9(2)(e)",
        "9(2)(f)",
        "9(2)(g)",
        "9(2)(h)",
        "9(2)(i)",
        "9(2)(j)",
    ),
)
SAFEGUARD_TEXTS = ByCode("safeguard", ("adequacy", "scc", "bcr", "derogation", "none"))

AUTOMATED_GROUNDS = ByCode("automated_ground", ("22(2)(a)", "22(2)(b)", "22(2)(c)"))
_AUTOMATED_LABELS = ByLanguage("automated")
_NO_DETAILS = both_languages("automated_no_details")


def automated_decision_rows(record: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    """What a person is told about decisions made by automated means (Art. 13(2)(f), 15(1)(h)): the Art.
    22(2) ground with the law that allows it, the logic, and its significance, as label/text rows; empty for
    an activity without automated decisions."""
    if not record.get("automated_decisions"):
        return []
    decision = record.get("automated_decision")
    labels = _AUTOMATED_LABELS.get(lang, _AUTOMATED_LABELS["en"])
    if not decision:
        return [(labels["ground"], _NO_DETAILS.get(lang, _NO_DETAILS["en"]))]
    ground = localised(AUTOMATED_GROUNDS.get(decision["ground"]), lang) or decision["ground"]
    if decision.get("authority"):
        ground = f"{ground}: {localised(decision['authority'], lang)}"
    return [
        (labels["ground"], ground),
        (labels["logic"], localised(decision.get("logic"), lang)),
        (labels["significance"], localised(decision.get("significance"), lang)),
    ]


_NOT_STATED_NAMES = ByCode(
    "not_stated_field",
    (
        "legal_basis",
        "national_basis",
        "processors",
        "recipients",
        "transfers",
        "retention",
        "security_measures",
        "data_categories",
        "data_subjects",
        "source",
        "systems",
        "owner",
    ),
)


def not_stated_name(field: str, lang: str) -> str:
    """One field a record may mark as not stated, in words ("storage period")."""
    return localised(_NOT_STATED_NAMES.get(field), lang) or field


def art89_name(code: str, lang: str) -> str:
    """One Art. 89 purpose in words ("scientific or historical research")."""
    return localised(ART89_PURPOSES.get(code), lang) or code


def purpose_category_name(code: str, lang: str) -> str:
    """A Kantara Consent Receipt purpose category in words ("measuring and improving our services")."""
    try:
        return words(f"receipt_category.{code}", lang)
    except MissingText:
        return code


def not_stated_text(record: Mapping[str, Any], lang: str) -> str:
    """The fields a record's source does not state, in words ("legal basis, storage period"), or ""."""
    return ", ".join(
        localised(_NOT_STATED_NAMES.get(field), lang) or field for field in record.get("not_stated") or []
    )


def legal_basis_text(code: str | None, lang: str) -> str:
    """Return the legal basis with its article, e.g. "Consent (GDPR Art. 6(1)(a))"."""
    if not code:
        return ""
    return LEGAL_BASES.get(code, {}).get(lang) or f"GDPR Art. {code}"


def art9_text(code: str | None, lang: str) -> str:
    """Return the Art. 9(2) condition with its article, e.g. "Art. 9(2)(h): health or social care"."""
    if not code:
        return ""
    parts = code.replace("(", " ").replace(")", " ").split()
    nb_style = lang == "nb" and len(parts) == 3
    article = f"art. {parts[0]} nr. {parts[1]} {parts[2]}" if nb_style else f"Art. {code}"
    label = ART9_TEXTS.get(code, {}).get(lang)
    return f"{article}: {label}" if label else article


def legal_bases_text(record: dict[str, Any], lang: str) -> str:
    """Every Art. 6(1) basis of a record with its article, the primary first, joined by "; "."""
    return "; ".join(legal_basis_text(code, lang) for code in record_bases(record)[0])


def art9_conditions_text(record: dict[str, Any], lang: str) -> str:
    """Every Art. 9(2) condition of a record with its article, joined by "; "."""
    return "; ".join(art9_text(code, lang) for code in record_bases(record)[1])


def art89_text(record: dict[str, Any], lang: str) -> str:
    """The Art. 89 purposes an activity serves only (Personal Data Act § 17), in words; empty when none."""
    return ", ".join(localised(ART89_PURPOSES.get(p), lang) or p for p in record.get("art89_purposes") or [])


def system_text(system: Mapping[str, Any], lang: str) -> str:
    """A system the activity uses and where it runs, in the language ("Altinn, Digitalisation Agency"), with
    the country or region of storage when the record gives it ("Besta, Norsk helsenett SF (NO)")."""
    text = ", ".join(
        text for text in (localised(system.get(key), lang) for key in ("name", "location")) if text
    )
    return f"{text} ({system['located_in']})" if system.get("located_in") else text


def transfer_text(transfer: dict[str, Any], lang: str) -> str:
    """Return one third-country transfer as text: country – recipient (safeguard; details)."""
    safeguard = localised(SAFEGUARD_TEXTS.get(transfer.get("safeguard") or ""), lang) or transfer.get(
        "safeguard"
    )
    extra = "; ".join(str(v) for v in (safeguard, localised(transfer.get("details"), lang)) if v)
    head = " – ".join(localised(transfer.get(k), lang) for k in ("country", "recipient") if transfer.get(k))
    return f"{head} ({extra})" if extra else head


def org_name(organisations: dict[str, dict[str, Any]], slug: str | None, lang: str) -> str:
    """Return an organisation's name in the language, or the slug when it is not known."""
    if not slug:
        return ""
    org = organisations.get(slug)
    return localised(org.get("name"), lang) if org else slug


def main_controller(
    organisations: dict[str, dict[str, Any]], activities: list[dict[str, Any]], controller: str | None = None
) -> dict[str, Any] | None:
    """Return the organisation that keeps the record: the one named, else the activities' usual controller."""
    if controller and controller in organisations:
        return {"slug": controller, **organisations[controller]}
    counts = Counter(a.get("controller") for a in activities if a.get("controller") in organisations)
    if counts:
        slug = counts.most_common(1)[0][0]
        return {"slug": slug, **organisations[slug]}
    for slug, org in sorted(organisations.items()):
        if org.get("role") == "controller":
            return {"slug": slug, **org}
    return None


def special_categories(activity: dict[str, Any]) -> bool:
    """Tell whether any data category of the activity is special (Art. 9)."""
    return any(c.get("special") for c in activity.get("data_categories") or [])


_DONE = ByLanguage("record_done")


def retention_rule_words(rule: dict, trigger: str | None, lang: str = "en") -> str:
    """A retention rule as a reader of the record says it: "Slettes etter 30 dager; regnet fra: Samtalen".

    The moment is the activity's trigger in words, never the column the runner reads."""
    action = _DONE.get(lang, _DONE["en"]).get(rule.get("action", ""), rule.get("action", ""))
    after = "etter" if lang == "nb" else "after"
    text = f"{action} {after} {period_text(rule.get('period'), lang)}"
    if trigger:
        counted = "regnet fra" if lang == "nb" else "counted from"
        text += f"; {counted}: {trigger}"
    return text


# The DPIA register's statuses in words. ropa never imports the register (DESIGN.md §7): its caller passes an
# activity's assessment in as plain data ({"status", "required", "document_reference", "residual_risk",
# "prior_consultation", "consultation_outcome"}), and nothing passed means nobody assessed it.
DPIA_STATUSES = ByLanguage("dpia_status")
_RISKS = ByLanguage("risk")


def dpia_texts(
    a: Mapping[str, Any], assessment: Mapping[str, Any] | None, lang: str
) -> dict[str, str | None]:
    """Whether a DPIA is required, its status, reference, outcome and Art. 36 consultation, in words.

    Never "no" for an activity nobody assessed: without an assessment from the register, a record that
    itself says a DPIA is required reads "yes", and anything else reads "not assessed".
    """
    words = DPIA_STATUSES.get(lang, DPIA_STATUSES["en"])
    declared = a.get("dpia") or {}
    if assessment is None:
        required = yes_no(True, lang) if declared.get("required") else words["not_assessed"]
        consulted = yes_no(True, lang) if declared.get("prior_consultation") else None
        return {
            "required": required,
            "status": words["not_assessed"],
            "reference": declared.get("reference"),
            "outcome": declared.get("outcome"),
            "prior_consultation": consulted,
        }
    status = assessment.get("status") or "not_assessed"
    needed = assessment.get("required")
    risk = _RISKS.get(lang, _RISKS["en"]).get(assessment.get("residual_risk") or "")
    consulted = bool(assessment.get("prior_consultation"))
    return {
        "required": words["not_assessed"] if needed is None else yes_no(needed, lang),
        "status": words.get(status, status),
        "reference": assessment.get("document_reference") or declared.get("reference"),
        "outcome": "; ".join(v for v in (risk, declared.get("outcome")) if v) or None,
        "prior_consultation": ", ".join(
            str(v) for v in (yes_no(consulted, lang), assessment.get("consultation_outcome")) if v
        ),
    }


# The legitimate-interest assessments in words. As with the DPIA, the caller passes an activity's assessment
# in as plain data ({"conclusion", "assessed_on", "next_review_on"}); nothing passed means nobody assessed it.
LIA_WORDS = ByLanguage("lia")


def lia_text(a: Mapping[str, Any], assessment: Mapping[str, Any] | None, lang: str) -> str | None:
    """Whether the legitimate-interest assessment is done, when and its conclusion, in words.

    Only an activity relying on Art. 6(1)(f) has one to speak of; for others the record's own reference, if
    any, is all there is to say."""
    reference = localised(a.get("lia_reference"), lang) or None
    if "6(1)(f)" not in record_bases(a)[0]:
        return reference
    words = LIA_WORDS.get(lang, LIA_WORDS["en"])
    if assessment is None:
        found = words["not_done"]
    else:
        conclusion = words.get(assessment.get("conclusion") or "", "")
        found = words["done"].format(
            day=format_date(assessment.get("assessed_on"), lang), conclusion=conclusion
        )
        if assessment.get("next_review_on"):
            found += "; " + words["review"].format(day=format_date(assessment["next_review_on"], lang))
    return f"{found} ({reference})" if reference else found


def right_reason_text(reason: str, lang: str) -> str:
    """A reason the rules give for a right, in the reader's language: by its id (`reason_id`), or by the
    English text the API gives and requests keep in their outcomes."""
    reason_id = reason if reason in REASON_IDS else _reason_ids_by_english().get(reason)
    return words(f"rights.reason.{reason_id}", lang) if reason_id else reason


@cache
def _reason_ids_by_english() -> dict[str, str]:
    return {words(f"rights.reason.{reason_id}", "en"): reason_id for reason_id in REASON_IDS}


def reason_texts(lang: str) -> dict[str, str]:
    """Every reason the rules give, from its English text to the language's (for the record page)."""
    return {english: right_reason_text(english, lang) for english in _reason_ids_by_english()}
