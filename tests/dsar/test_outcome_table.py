"""Right × legal basis(es) × Art. 9 × Art. 89 purpose × hold × decision → outcome and the letter's words.

One table from the registry's record to the sentence Kari reads (issue 15): the rules (dsar/rules.py) decide
whether the right applies, the data and the holds give the planned outcome, the plan proposes or waits for
the officer (dsar/decisions.py), the officer's decision is carried out as act.py does, and the letter
(dsar/pdf.py) says it in bokmål and English. Every row is checked in both languages for the other language.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from privacy_service.audit import Actor
from privacy_service.dsar import act, decisions, rules
from privacy_service.dsar.answer import Answer
from privacy_service.dsar.letter import texts
from privacy_service.dsar.models import DsarOutcome, DsarRequest
from privacy_service.dsar.pdf import letter_blocks
from privacy_service.ropa.models import ProcessingActivity
from privacy_service.ropa.service import Activity

NPR = {
    "act": {"nb": "Helseregisterloven § 11", "en": "The Health Register Act section 11"},
    "appeal_body": {"nb": "Helse- og omsorgsdepartementet", "en": "The Ministry of Health and Care Services"},
}
HOLD = [{"id": 1, "kind": "legal", "basis": "Tvist, sak 26/1234", "public_text": None}]
ORGS = {
    "helsedir": {
        "name": {"nb": "Helsedirektoratet", "en": "Norwegian Directorate of Health"},
        "email": "postmottak@helsedir.no",
        "address": "Postboks 220 Skøyen, 0213 Oslo",
    }
}


def _record(bases: tuple[str, ...], art9: tuple[str, ...], purposes: tuple[str, ...], **extra: Any) -> dict:
    record: dict = {
        "name": {"nb": "Registeret", "en": "The register"},
        "controller": "helsedir",
        "legal_basis": bases[0],
        "legal_bases": list(bases),
        "art9_condition": art9[0] if art9 else None,
        "art9_conditions": list(art9),
        "art89_purposes": list(purposes),
        "retention": {"text": {"nb": "ti år.", "en": "ten years."}},
        **extra,
    }
    return record


# (right, bases, art9, purposes, extra record fields, rows, held, decision: None = as proposed | "uphold" |
#  (ground, reasons)) → (planned outcome, needs the officer, final outcome, bokmål fragment, English fragment)
CASES = [
    pytest.param("access", ("6(1)(e)",), (), (), {}, 2, 0, None,
                 "pending", False, "done", "Vi fant opplysninger om deg", "We found data about you",
                 id="Art. 15 public task: found"),
    pytest.param("access", ("6(1)(e)",), (), (), {}, 0, 0, None,
                 "no_data", False, "no_data", "Vi fant ingen opplysninger om deg i Registeret.",
                 "We found no data about you in The register.",
                 id="Art. 15 nothing found: one sentence"),
    pytest.param("access", ("6(1)(e)",), (), ("research",), {}, 2, 0,
                 ("pdl_17", "Registeret er til forskning."),
                 "pending", False, "refused", "arkiv-, forsknings- eller statistikkformålet",
                 "archiving, research or statistical purpose",
                 id="Art. 15 with § 17 research purpose: the officer may refuse"),
    pytest.param("access", ("6(1)(e)",), (), (), {}, 2, 0, ("art_15_4", "Andres rettigheter."),
                 "pending", False, "refused", "krenke andres rettigheter", "rights and freedoms of others",
                 id="Art. 15(4) refused"),
    pytest.param("erasure", ("6(1)(c)",), (), (), {}, 2, 0, None,
                 "refused", False, "refused", "plikt etter lov til å beholde opplysningene (ti år)",
                 "The law requires us to keep the data (ten years)", id="Art. 17(3)(b) legal obligation"),
    pytest.param("erasure", ("6(1)(e)",), (), (), {"disposal": {"decision": "Bevares"}}, 2, 0, None,
                 "refused", False, "refused", "arkivverdige", "preserved for the archive",
                 id="Art. 17(3)(d) archive-worthy"),
    pytest.param("erasure", ("6(1)(f)",), (), (), {}, 2, 1, "uphold",
                 "partial", False, "partial", "Delvis slettet", "Partly erased",
                 id="Art. 17 one of two rows held"),
    pytest.param("erasure", ("6(1)(f)",), (), (), {}, 2, 2, None,
                 "refused", False, "refused", "Alle opplysningene må beholdes", "All the data must be kept",
                 id="Art. 17 every row held"),
    pytest.param("erasure", ("6(1)(e)",), (), (), {}, 2, 0, "uphold",
                 "pending", True, "done", "Slettet.", "Erased.",
                 id="Art. 17 public task: the officer weighs, then upholds"),
    pytest.param("erasure", ("6(1)(e)",), ("9(2)(h)",), (), {"statutory_registry": NPR}, 2, 0,
                 ("hrl_25", "Vilkårene i § 25 er ikke dokumentert."),
                 "pending", True, "refused", "helseregisterloven § 25", "Health Register Act § 25",
                 id="Health Register Act § 25 refusal: an individual decision with appeal"),
    pytest.param("objection", ("6(1)(a)",), (), (), {}, 2, 0, None,
                 "not_applicable", False, "not_applicable", "bygger på samtykke",
                 "rests on your consent", id="Art. 21 not for consent: withdraw instead"),
    pytest.param("objection", ("6(1)(e)",), (), (), {}, 2, 0, ("art_21_1", "Oppgaven er lovpålagt."),
                 "pending", True, "refused", "tvingende berettigede grunner", "compelling legitimate grounds",
                 id="Art. 21(1) weighed and refused"),
    pytest.param("objection", ("6(1)(e)",), (), (), {"statutory_registry": NPR}, 0, 0, ("hrl_25", "Nei."),
                 "no_data", False, "no_data", "Vi fant ingen opplysninger om deg i Registeret.",
                 "We found no data about you in The register.",
                 id="Art. 21 refused where nothing was found: none found, never 'upheld'"),
    pytest.param("objection", ("6(1)(f)",), (), (), {}, 2, 0, "uphold",
                 "pending", True, "done", "tatt protesten din til følge", "upheld your objection",
                 id="Art. 21(1) weighed and upheld"),
    pytest.param("objection", ("6(1)(e)",), ("9(2)(j)",), ("statistics",), {}, 2, 0,
                 ("art_21_6", "Statistikk."), "pending", True, "refused", "forskning eller statistikk",
                 "research or statistics", id="Art. 21(6) statistics"),
    pytest.param("portability", ("6(1)(e)",), ("9(2)(a)",), (), {}, 2, 0, None,
                 "not_applicable", False, "not_applicable", "(art. 20 nr. 3)", "(Art. 20(3))",
                 id="Art. 20(3) public task even with explicit consent"),
    pytest.param("portability", ("6(1)(c)",), (), (), {}, 2, 0, None,
                 "not_applicable", False, "not_applicable", "(art. 20 nr. 1)", "(Art. 20(1))",
                 id="Art. 20(1) legal obligation"),
    pytest.param("portability", ("6(1)(a)", "6(1)(c)"), (), (), {}, 2, 0, None,
                 "not_applicable", False, "not_applicable", "(art. 20 nr. 1)", "(Art. 20(1))",
                 id="Art. 20 several bases: the most restrictive"),
    pytest.param("portability", ("6(1)(a)",), (), (), {}, 2, 0, None,
                 "pending", False, "done", "vedlagte filen", "attached file", id="Art. 20(1)(a) consent"),
    pytest.param("rectification", ("6(1)(e)",), (), ("archiving",), {}, 2, 0,
                 ("pdl_17", "Arkivet må være uendret."), "pending", False, "refused",
                 "personopplysningsloven § 17", "Personal Data Act § 17", id="Art. 16 with § 17 archiving"),
    pytest.param("restriction", ("6(1)(e)",), (), (), {}, 2, 0, None,
                 "pending", False, "done", "Behandlingen er begrenset", "The processing is restricted",
                 id="Art. 18 restricted"),
    pytest.param("consent_withdrawal", ("6(1)(e)",), (), (), {}, 2, 0, None,
                 "not_applicable", False, "not_applicable", "bygger ikke på samtykke",
                 "does not rest on consent", id="Art. 7(3) nothing to withdraw"),
    pytest.param("consent_withdrawal", ("6(1)(a)",), (), (), {}, 2, 0, None,
                 "pending", False, "done", "Samtykket er trukket tilbake", "The consent is withdrawn",
                 id="Art. 7(3) withdrawn"),
]  # fmt: skip

ENGLISH = re.compile(r"\b(the|and|we|you|your|data|because|not|found|kept|records?|refused|done)\b", re.I)
BOKMAL = re.compile(r"\b(og|vi|du|deg|ikke|fant|opplysningene|behandlingen|fordi|slettet)\b", re.I)


def _carried_out(right: str, record: dict, rows: int, held: int, decided: Any) -> tuple[DsarOutcome, bool]:
    """Plan one activity as plan.py does, propose as decisions.py does, and carry the decision out as act.py
    does (its data-map actions left out: what is done there is tested against the demo systems)."""
    activity = Activity.of(ProcessingActivity(slug="register", service="x", status="active", version=1,
                                              data=record))  # fmt: skip
    decision = rules.decide(right, activity)
    outcome = DsarOutcome(
        request_id=1,
        activity="register",
        outcome=rules.outcome(decision, mapped=True, rows=rows, held=held, right=right),
        applies=decision.applies,
        legal_ground=decision.article,
        reason=decision.reason,
        records=rows,
        held=held,
        details={"holds": HOLD} if held else {},
    )
    planned = outcome.outcome
    req = DsarRequest(type=right)
    decisions.propose(outcome, req, activity, actor=Actor("system", "planner"))
    waits = outcome.decision is None and planned in decisions.NEEDS_DECISION
    if decided == "uphold":
        outcome.decision = "uphold"
    elif decided is not None:
        outcome.decision, outcome.decision_ground, outcome.decision_reasons = "refuse", *decided
    if outcome.decision == "refuse" and outcome.outcome in (*act.ACTIONABLE, "not_checked"):
        act._refuse(outcome)
    elif outcome.outcome == "pending" and outcome.decision == "uphold":
        outcome.outcome = "done"
    return outcome, waits


def _letter(right: str, record: dict, outcome: DsarOutcome, lang: str) -> str:
    req = DsarRequest(
        id=1, reference="DSR-2026-000001", type=right, language=lang, channel="api", subject_key="k",
        subject_name="Kari Nordmann", received_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
        due_on=datetime(2027, 1, 1).date(), status_token_hash="x", created_by="officer",
    )  # fmt: skip
    answer = Answer(
        req, [outcome], {"register": record}, ORGS, generated_at=datetime(2026, 12, 5, 9, tzinfo=UTC)
    )
    return " ".join(texts(letter_blocks(answer)))


@pytest.mark.parametrize(
    ("right", "bases", "art9", "purposes", "extra", "rows", "held", "decided",
     "planned", "waits", "final", "nb", "en"),
    CASES,
)  # fmt: skip
def test_right_basis_art9_purpose_hold_decision_give_the_outcome_and_the_letter(  # type: ignore[no-untyped-def]
    right, bases, art9, purposes, extra, rows, held, decided, planned, waits, final, nb, en
) -> None:
    record = _record(bases, art9, purposes, **extra)
    outcome, waited = _carried_out(right, record, rows, held, decided)
    assert (rules.outcome(rules.decide(right, Activity.of(ProcessingActivity(
        slug="register", service="x", status="active", version=1, data=record))), mapped=True, rows=rows,
        held=held, right=right), waited) == (planned, waits)  # fmt: skip
    assert outcome.outcome == final
    if waits:  # the officer starts from a suggested refusal with the ground that fits the registry
        expected = (
            "hrl_25" if "statutory_registry" in record else {"erasure": "art_17_3_b"}.get(right, "art_21_1")
        )
        assert outcome.details["suggestion"]["ground"] == expected
    for lang, fragment in (("nb", nb), ("en", en)):
        letter = _letter(right, record, outcome, lang)
        assert fragment in letter, (lang, letter)
        other = ENGLISH if lang == "nb" else BOKMAL
        body = letter.replace("Helse- og omsorgsdepartementet", "").replace(
            "Postboks 220 Skøyen, 0213 Oslo", ""
        )
        body = body.replace("Helseregisterloven", "")  # the act's name, quoted in both languages
        body = body.replace(outcome.decision_reasons or "\0", "")  # the officer writes her reasons herself
        assert not other.findall(body), (lang, other.findall(body), letter)
        if outcome.outcome == "refused" and outcome.decision == "refuse":
            assert outcome.decision_reasons in letter  # the officer's reasons, in her words
        if outcome.outcome != "done":
            assert "tatt protesten din til følge" not in letter and "upheld your objection" not in letter
        if record.get("statutory_registry") and outcome.outcome == "refused":
            assert ("tre uker" if lang == "nb" else "three weeks") in letter  # the appeal notice
        else:
            assert "tre uker" not in letter and "three weeks" not in letter
        if held:
            assert "Tvist" not in letter and ("rettssak" in letter if lang == "nb" else "legal" in letter)
