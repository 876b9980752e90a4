"""Which purposes accept consent, and how statuses map to DPV: table-driven."""

from __future__ import annotations

import pytest

from privacy_service.consent import rules


@pytest.mark.parametrize(
    ("legal_basis", "activity_status", "status", "accepted"),
    [
        ("6(1)(a)", "active", "given", True),
        ("6(1)(a)", "active", "withdrawn", True),
        ("6(1)(a)", "draft", "given", False),
        ("6(1)(a)", "retired", "given", False),
        ("6(1)(a)", "retired", "withdrawn", True),  # withdrawal is always possible (Art. 7(3))
        ("6(1)(b)", "active", "given", False),
        ("6(1)(c)", "active", "given", False),
        ("6(1)(e)", "active", "withdrawn", False),
        ("6(1)(f)", "active", "given", False),
    ],
)
def test_consent_is_accepted_only_for_consent_based_activities(
    legal_basis: str, activity_status: str, status: str, accepted: bool
) -> None:
    refusal = rules.consent_refusal(legal_basis=legal_basis, activity_status=activity_status, status=status)
    assert (refusal is None) == accepted


@pytest.mark.parametrize(
    ("status", "given_before", "dpv"),
    [
        ("given", False, "dpv:ConsentGiven"),
        ("given", True, "dpv:RenewedConsentGiven"),
        ("withdrawn", False, "dpv:ConsentWithdrawn"),
        ("withdrawn", True, "dpv:ConsentWithdrawn"),
    ],
)
def test_dpv_statuses(status: str, given_before: bool, dpv: str) -> None:
    assert rules.dpv_status(status, given_before=given_before) == dpv


@pytest.mark.parametrize(
    ("subject", "ok"),
    [
        ("kari.nordmann@example.no", True),
        ("portal-user-123", True),
        ("15838512671", False),
        ("158385 12671", False),
        ("", False),
        ("a b", False),
        ("x/y", False),
        ("x" * 255, False),
    ],
)
def test_subject_identifiers(subject: str, ok: bool) -> None:
    assert (rules.subject_problem(rules.normalise_subject(subject)) is None) == ok
