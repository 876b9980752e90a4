"""The registry's legal rules, table-driven with the article in the id."""

from __future__ import annotations

import copy

import pytest
from marshmallow import ValidationError
from tests_support import minimal_activity

from privacy_service.kernel import rights_for, valid_org_number
from privacy_service.ropa.schemas import activity_schema, organisation_schema


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("983544622", True),  # Helsedirektoratet
        ("983744516", True),  # Folkehelseinstituttet
        ("993467049", True),  # Kreftregisteret
        ("974761467", True),  # Datatilsynet
        ("983544623", False),  # wrong check digit
        ("98354462", False),  # eight digits
        ("98354462a", False),
        ("", False),
    ],
)
def test_org_numbers_are_checked_with_mod_11(number: str, valid: bool) -> None:
    assert valid_org_number(number) is valid


def test_an_org_number_may_be_written_with_spaces_but_must_check_out() -> None:
    base = {"slug": "x", "name": {"nb": "X", "en": "X"}, "role": "controller"}
    assert organisation_schema.load({**base, "org_number": "983 544 622"})["org_number"] == "983544622"
    with pytest.raises(ValidationError) as err:
        organisation_schema.load({**base, "org_number": "983 544 621"})
    assert "mod-11" in err.value.messages["org_number"][0]


def _errors(**changes: object) -> dict:
    record = copy.deepcopy(minimal_activity())
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    try:
        activity_schema.load(record)
    except ValidationError as err:
        return err.messages
    return {}


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        pytest.param(
            {"legal_basis": "6(1)(g)"}, "legal_basis", "Unknown legal basis", id="Art. 6(1) has no (g)"
        ),
        pytest.param(
            {
                "data_categories": [
                    {"key": "health", "name": {"nb": "Helse", "en": "Health"}, "special": True}
                ]
            },
            "art9_condition",
            "Art. 9(2)",
            id="Art. 9(1) special categories need a 9(2) condition",
        ),
        pytest.param({"art9_condition": "9(2)(k)"}, "art9_condition", "Unknown", id="Art. 9(2) has no (k)"),
        pytest.param(
            {"legal_basis": "6(1)(a)", "national_basis": None},
            "consent_purpose",
            "consent purpose",
            id="Art. 6(1)(a) consent names its purpose",
        ),
        pytest.param(
            {"national_basis": None}, "national_basis", "Art. 6(3)", id="Art. 6(3) public task needs law"
        ),
        pytest.param({"purposes": []}, "purposes", "at least one", id="Art. 30(1)(b) purposes"),
        pytest.param({"retention": None}, "retention", "required", id="Art. 30(1)(f) retention"),
        pytest.param({"status": "deleted"}, "status", "Unknown status", id="status list"),
        pytest.param({"colour": "blue"}, "colour", "Unknown field", id="typo in a field name"),
        pytest.param({"slug": "Has Spaces"}, "slug", "lower-case", id="slug shape"),
    ],
)
def test_activity_validation(changes: dict, field: str, fragment: str) -> None:
    errors = _errors(**changes)
    assert field in errors, errors
    assert fragment.lower() in str(errors[field]).lower()


def test_a_complete_activity_passes() -> None:
    assert _errors() == {}


@pytest.mark.parametrize(
    ("basis", "art9", "objection", "portability", "withdrawal"),
    [
        pytest.param(
            "6(1)(a)", None, False, True, True, id="Art. 20(1) consent is portable; Art. 7(3) withdraw"
        ),
        pytest.param("6(1)(b)", None, False, True, False, id="Art. 20(1) contract is portable"),
        pytest.param("6(1)(c)", None, False, False, False, id="Art. 21 not for legal obligation"),
        pytest.param(
            "6(1)(e)", None, True, False, False, id="Art. 21(1) public task; Art. 20(3) not portable"
        ),
        pytest.param("6(1)(f)", None, True, False, False, id="Art. 21(1) legitimate interests"),
        pytest.param(
            "6(1)(e)",
            "9(2)(a)",
            True,
            False,
            True,
            id="Art. 9(2)(a) explicit consent; Art. 20(3) still public",
        ),
    ],
)
def test_rights_follow_from_the_legal_basis(basis, art9, objection, portability, withdrawal) -> None:  # type: ignore[no-untyped-def]
    rights = {r["right"]: r for r in rights_for(basis, art9_condition=art9)}
    assert rights["objection"]["applies"] is objection
    assert rights["portability"]["applies"] is portability
    assert rights["consent_withdrawal"]["applies"] is withdrawal
    assert all(rights[r]["applies"] for r in ("access", "rectification", "erasure", "restriction"))
    assert all(r["article"].startswith("Art.") and r["reason"] for r in rights.values())
