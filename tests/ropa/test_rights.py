"""Which rights apply: right × legal basis or bases × Art. 9 condition × Art. 89 purpose, with the reason.

Table-driven with the article in the id (DESIGN.md §3, §7): portability never for a public task or a legal
obligation; several bases give the most restrictive answer; the Personal Data Act § 17 limit follows the
purpose (archiving, research, statistics), not Art. 9(2)(j), and is a ground the officer may invoke.
"""

from __future__ import annotations

import pytest

from privacy_service.dsar import rules
from privacy_service.kernel import record_rights, rights_for
from privacy_service.ropa.models import ProcessingActivity
from privacy_service.ropa.service import Activity
from privacy_service.ropa.texts import right_reason_text

PUBLIC_TASK = "Art. 20(3): does not apply to processing necessary for a public task."
CONSENT_OR_CONTRACT = "Art. 20(1): applies only to processing based on consent or contract."
PORTABLE = "Based on consent or contract and carried out by automated means."
EVERY = "Applies to every activity."
S17 = "Personal Data Act § 17"
ONLY_E_F = "Art. 21(1) covers only processing based on Art. 6(1)(e) or (f)."
PARTLY = "Part of the processing rests on consent"

OMBUD = ("6(1)(a)", "6(1)(b)", "6(1)(c)")  # the Patient and User Ombudsmen's statement
OMBUD_ART9 = ("9(2)(a)", "9(2)(j)")

# (right, bases, Art. 9 conditions, Art. 89 purposes) → (applies, a fragment of the reason, limit)
CASES = [
    # Art. 20: consent or contract only; never a public task (20(3)) or a legal obligation (20(1))
    pytest.param("portability", ("6(1)(a)",), (), (), True, PORTABLE, None, id="Art. 20(1)(a) consent"),
    pytest.param("portability", ("6(1)(b)",), (), (), True, PORTABLE, None, id="Art. 20(1)(b) contract"),
    pytest.param("portability", ("6(1)(e)",), (), (), False, PUBLIC_TASK, None, id="Art. 20(3) public task"),
    pytest.param(
        "portability", ("6(1)(e)",), ("9(2)(a)",), (), False, PUBLIC_TASK, None,
        id="Art. 20(3) public task even with 9(2)(a) explicit consent",
    ),
    pytest.param(
        "portability", ("6(1)(c)",), ("9(2)(a)",), (), False, CONSENT_OR_CONTRACT, None,
        id="Art. 20(1) legal obligation even with 9(2)(a) explicit consent",
    ),
    pytest.param(
        "portability", ("6(1)(f)",), ("9(2)(a)",), (), True, PORTABLE, None,
        id="Art. 20(1)(a) 9(2)(a) explicit consent beside legitimate interests",
    ),
    pytest.param(
        "portability", ("6(1)(f)",), (), (), False, CONSENT_OR_CONTRACT, None, id="Art. 20(1) 6(1)(f)"
    ),
    # several bases: the most restrictive wins, and the reason is the excluding basis's
    pytest.param(
        "portability", ("6(1)(a)", "6(1)(b)"), (), (), True, PORTABLE, None,
        id="Art. 20(1) consent and contract both portable",
    ),
    pytest.param(
        "portability", OMBUD, OMBUD_ART9, (), False, CONSENT_OR_CONTRACT, None,
        id="Art. 20(1) the Ombud's 6(1)(a)(b)(c): the legal obligation excludes it",
    ),
    pytest.param(
        "portability", ("6(1)(b)", "6(1)(e)"), (), (), False, PUBLIC_TASK, None,
        id="Art. 20(3) contract with a public task",
    ),
    pytest.param(
        "objection", ("6(1)(e)", "6(1)(f)"), (), (), True, "6(1)(e) or (f)", None,
        id="Art. 21(1) public task and legitimate interests",
    ),
    pytest.param(
        "objection", ("6(1)(e)", "6(1)(c)"), (), (), False, ONLY_E_F, None,
        id="Art. 21(1) not when a legal obligation is among the bases",
    ),
    pytest.param(
        "objection", OMBUD, OMBUD_ART9, (), False, "withdraw consent instead", None,
        id="Art. 21(1) the Ombud: consent first, withdraw instead",
    ),
    pytest.param(
        "consent_withdrawal", OMBUD, OMBUD_ART9, (), True, PARTLY, None,
        id="Art. 7(3) consent among several bases can be withdrawn, for its part",
    ),
    pytest.param(
        "consent_withdrawal", ("6(1)(a)",), (), (), True, "rests on consent.", None, id="Art. 7(3) consent"
    ),
    pytest.param(
        "consent_withdrawal", ("6(1)(c)",), (), (), False, "does not rest on consent", None,
        id="Art. 7(3) no consent",
    ),
    pytest.param(
        "consent_withdrawal", ("6(1)(e)",), ("9(2)(a)",), (), True, PARTLY, None,
        id="Art. 7(3) 9(2)(a) explicit consent beside a public task: withdrawal ends the consent part",
    ),
    pytest.param(
        "erasure", OMBUD, OMBUD_ART9, (), True, "Art. 17(3)", None, id="Art. 17 registry: exceptions decide"
    ),
    # Personal Data Act § 17: the purpose decides, not Art. 9(2)(j); the officer may invoke it
    pytest.param(
        "rectification", ("6(1)(e)",), ("9(2)(j)",), (), True, EVERY, None,
        id="Art. 16 9(2)(j) alone is no § 17 purpose",
    ),
    pytest.param(
        "rectification", ("6(1)(e)",), (), ("research",), True, "seriously impair", S17,
        id="Art. 16 research: § 17 the officer may invoke",
    ),
    pytest.param(
        "restriction", ("6(1)(e)",), (), ("statistics",), True, "seriously impair", S17,
        id="Art. 18 statistics: § 17",
    ),
    pytest.param(
        "objection", ("6(1)(e)",), (), ("archiving",), True, "seriously impair", S17,
        id="Art. 21 archiving in the public interest: § 17",
    ),
    pytest.param(
        "objection", ("6(1)(c)",), (), ("archiving",), False, ONLY_E_F, None,
        id="Art. 21 legal obligation: no right, so no § 17 limit",
    ),
    pytest.param(
        "access", ("6(1)(e)",), (), ("research", "statistics"), True, "disproportionate effort", S17,
        id="Art. 15 research: § 17 disproportionate effort",
    ),
    pytest.param("access", ("6(1)(e)",), ("9(2)(j)",), (), True, EVERY, None, id="Art. 15 no § 17 purpose"),
    pytest.param(
        "erasure", ("6(1)(e)",), (), ("research",), True, "Art. 17(3)", None, id="Art. 17 not in § 17"
    ),
    pytest.param(
        "portability", ("6(1)(a)",), (), ("research",), True, PORTABLE, None, id="Art. 20 not in § 17"
    ),
]  # fmt: skip


@pytest.mark.parametrize(("right", "bases", "art9", "purposes", "applies", "reason", "limit"), CASES)
def test_which_rights_apply(right, bases, art9, purposes, applies, reason, limit) -> None:  # type: ignore[no-untyped-def]
    found = {r["right"]: r for r in rights_for(bases, art9_condition=art9, art89_purposes=purposes)}[right]
    assert found["applies"] is applies
    assert reason in found["reason"]
    assert found["limit"] == limit
    assert right_reason_text(found["reason"], "nb") != found["reason"], "every reason has its bokmål"


def _record(bases: tuple[str, ...], art9: tuple[str, ...], purposes: tuple[str, ...]) -> dict:
    record: dict = {"name": {"nb": "x", "en": "x"}, "controller": "helsedir", "legal_basis": bases[0]}
    if len(bases) > 1:
        record["legal_bases"] = list(bases)
    if art9:
        record["art9_condition"] = art9[0]
    if len(art9) > 1:
        record["art9_conditions"] = list(art9)
    if purposes:
        record["art89_purposes"] = list(purposes)
    return record


@pytest.mark.parametrize(("right", "bases", "art9", "purposes", "applies", "reason", "limit"), CASES)
def test_a_request_meets_the_same_rule_through_the_registry(  # type: ignore[no-untyped-def]
    right, bases, art9, purposes, applies, reason, limit
) -> None:
    record = _record(bases, art9, purposes)
    assert {r["right"]: r for r in record_rights(record)}[right]["applies"] is applies
    activity = Activity.of(
        ProcessingActivity(slug="x", service="helsedata", status="active", version=1, data=record)
    )
    assert activity.legal_bases == bases
    assert activity.right(right).limit == limit
    decision = rules.decide(right, activity)
    if right in ("rectification", "restriction", "objection", "access"):
        # § 17 is never an automatic refusal: the right applies and the officer decides
        assert decision.applies is applies
        assert decision.refusal is False
