"""systems.yaml validation: SQL names are a security boundary, and every message names what to fix."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import ValidationError

from privacy_service.datamap.schemas import system_schema, systems_file_schema, validate_systems
from privacy_service.errors import ValidationFailed


def _errors(entry: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        system_schema.load(entry)
    return caught.value.messages


def _accounts(entry: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in entry["tables"] if t["table"] == "accounts")


def _applications(entry: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in entry["tables"] if t["table"] == "applications")


def test_every_shipped_system_is_valid(systems: list[dict[str, Any]]) -> None:
    for entry in systems:
        record = system_schema.load(entry)
        assert record["name"] == entry["name"]


def test_shipped_systems_use_only_categories_their_activities_declare(
    systems: list[dict[str, Any]], shipped_activities: dict[str, set[str]]
) -> None:
    records = validate_systems(systems, activities=shipped_activities)
    assert [r["name"] for r in records] == [
        "helsedata-portal",
        "helsedata-support",
        "helsedata-survey",
        "helsedir-office",
    ]


def test_optional_fields_get_their_defaults(system: dict[str, Any]) -> None:
    accounts = _accounts(system)
    for name in ("mask_columns", "restriction_column", "anchor_column", "identity"):
        accounts.pop(name, None)
    record = system_schema.load(system)
    loaded = next(t for t in record["tables"] if t["table"] == "accounts")
    assert loaded["mask_columns"] == []
    assert loaded["restriction_column"] is None
    assert loaded["anchor_column"] is None
    assert loaded["identity"] == {}


BAD_NAMES = [
    pytest.param("accounts; DROP TABLE accounts", id="statement-injection"),
    pytest.param('accounts" --', id="quote-and-comment"),
    pytest.param("1accounts", id="starts-with-digit"),
    pytest.param("user-accounts", id="dash"),
    pytest.param("kontoér", id="non-ascii"),
    pytest.param("a" * 64, id="64-characters"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize("name", BAD_NAMES)
@pytest.mark.parametrize("where", ["table", "key", "restriction_column", "anchor_column"])
def test_schema_rejects_a_table_field_that_is_not_a_plain_sql_name(
    system: dict[str, Any], where: str, name: str
) -> None:
    _accounts(system)[where] = name
    errors = _errors(system)
    assert "Not a valid SQL name" in errors["tables"][0][where][0]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_schema_rejects_identity_mask_and_mapped_columns_that_are_not_plain_sql_names(
    system: dict[str, Any], name: str
) -> None:
    applications = _applications(system)
    applications["identity"]["email"] = name
    applications["columns"][name] = "free_text"
    applications["mask_columns"] = [name]
    errors = _errors(system)["tables"][1]
    assert "Not a valid SQL name" in errors["identity"]["email"]["value"][0]
    assert "Not a valid SQL name" in errors["columns"][name]["key"][0]
    assert "Not a valid SQL name" in errors["mask_columns"][0][0]


def test_a_name_of_63_characters_is_accepted(system: dict[str, Any]) -> None:
    _accounts(system)["anchor_column"] = "a" * 63
    assert system_schema.load(system)


def test_schema_rejects_an_unknown_erasure_strategy(system: dict[str, Any]) -> None:
    _accounts(system)["erasure"] = "shred"
    assert "choose delete (the row) or mask (columns)" in _errors(system)["tables"][0]["erasure"][0]


def test_masking_without_columns_to_mask_is_refused(system: dict[str, Any]) -> None:
    _applications(system)["mask_columns"] = []
    message = _errors(system)["tables"][1]["mask_columns"][0]
    assert message == "Erasure by masking needs the columns to blank: list them here."


def test_mask_columns_are_refused_when_rows_are_deleted(system: dict[str, Any]) -> None:
    _accounts(system)["mask_columns"] = ["name"]
    assert "Only used with erasure: mask" in _errors(system)["tables"][0]["mask_columns"][0]


def test_the_key_column_cannot_be_masked(system: dict[str, Any]) -> None:
    applications = _applications(system)
    applications["columns"]["id"] = "free_text"
    applications["mask_columns"].append("id")
    assert "The key column cannot be masked" in _errors(system)["tables"][1]["mask_columns"][0]


def test_a_masked_column_must_be_mapped_to_a_category(system: dict[str, Any]) -> None:
    _applications(system)["mask_columns"].append("status")
    assert "status" in _errors(system)["tables"][1]["mask_columns"][0]


def test_schema_rejects_an_unknown_identity_kind(system: dict[str, Any]) -> None:
    _accounts(system)["identity"]["ssn"] = "national_id"
    message = _errors(system)["tables"][0]["identity"]["ssn"]["key"][0]
    assert message.startswith("Unknown identity kind ssn")


def test_a_portals_own_user_id_column_is_an_identity_kind(system: dict[str, Any]) -> None:
    _accounts(system)["identity"]["portal:min-portal.no"] = "id"
    assert system_schema.load(system)["tables"][0]["identity"]["portal:min-portal.no"] == "id"


@pytest.mark.parametrize("kind", ["portal:", "portal:a b", "portal:-x", "portals:x"])
def test_schema_rejects_a_portal_kind_without_a_client_name(system: dict[str, Any], kind: str) -> None:
    _accounts(system)["identity"][kind] = "id"
    message = _errors(system)["tables"][0]["identity"][kind]["key"][0]
    assert message.startswith(f"Unknown identity kind {kind}") and "portal:<client>" in message


def test_a_table_must_map_at_least_one_column(system: dict[str, Any]) -> None:
    _accounts(system)["columns"] = {}
    assert "at least one column" in _errors(system)["tables"][0]["columns"][0]


def test_a_typo_in_a_field_name_is_an_error(system: dict[str, Any]) -> None:
    _accounts(system)["anchor_colum"] = "last_login_at"
    assert _errors(system)["tables"][0]["anchor_colum"] == ["Unknown field."]


def test_a_system_needs_a_url_or_a_url_variable(system: dict[str, Any]) -> None:
    system["url"] = None
    system["url_env"] = None
    assert "Give url_env" in _errors(system)["url"][0]


def test_a_password_in_the_url_is_refused(system: dict[str, Any]) -> None:
    system["url"] = "postgresql+psycopg://privacy:hunter2@db.example.no/portal"
    assert "Never put a password in the file" in _errors(system)["url"][0]


def test_the_url_variable_must_be_an_environment_variable_name(system: dict[str, Any]) -> None:
    system["url_env"] = "portal url"
    assert "environment variable" in _errors(system)["url_env"][0]


def test_a_table_may_be_mapped_only_once_per_system(system: dict[str, Any]) -> None:
    system["tables"].append(dict(_accounts(system)))
    assert "only once" in _errors(system)["tables"][0]


def test_the_file_must_list_systems() -> None:
    with pytest.raises(ValidationError) as caught:
        systems_file_schema.load({"sytems": []})
    assert caught.value.messages == {
        "systems": ["Missing data for required field."],
        "sytems": ["Unknown field."],
    }


def test_an_error_names_the_system_the_table_and_the_field(
    systems: list[dict[str, Any]], shipped_activities: dict[str, set[str]]
) -> None:
    _applications(systems[0])["erasure"] = "mask-please"
    with pytest.raises(ValidationFailed) as caught:
        validate_systems(systems, activities=shipped_activities)
    assert caught.value.message.startswith(
        "system 'helsedata-portal', table 'applications', field 'erasure': Unknown erasure mask-please"
    )
    assert list(caught.value.fields) == ["system 'helsedata-portal', table 'applications', field 'erasure'"]


def test_an_unknown_activity_is_named_with_its_system_and_table(
    systems: list[dict[str, Any]], shipped_activities: dict[str, set[str]]
) -> None:
    systems[1]["tables"][0]["activity"] = "helpdesk"
    with pytest.raises(ValidationFailed) as caught:
        validate_systems(systems, activities=shipped_activities)
    assert caught.value.message == (
        "system 'helsedata-support', table 'support_enquiries', field 'activity': "
        "Unknown activity 'helpdesk'; declare it first."
    )


def test_a_category_the_activity_does_not_declare_is_named_with_the_column(
    systems: list[dict[str, Any]], shipped_activities: dict[str, set[str]]
) -> None:
    systems[2]["tables"][0]["columns"]["answers"] = "health"
    with pytest.raises(ValidationFailed) as caught:
        validate_systems(systems, activities=shipped_activities)
    assert caught.value.message == (
        "system 'helsedata-survey', table 'survey_responses', field 'columns.answers': Activity 'surveys' "
        "declares no data category 'health' (it declares: answers, email, name)."
    )


def test_every_problem_is_reported_at_once(
    systems: list[dict[str, Any]], shipped_activities: dict[str, set[str]]
) -> None:
    systems[1]["tables"][0]["activity"] = "helpdesk"
    systems[2]["tables"][0]["columns"]["answers"] = "health"
    systems.append(dict(systems[0]))
    with pytest.raises(ValidationFailed) as caught:
        validate_systems(systems, activities=shipped_activities)
    assert caught.value.message.endswith("(and 2 more)")
    assert len(caught.value.fields) == 3


def test_an_entry_that_is_not_a_mapping_is_named_by_position(shipped_activities: dict[str, set[str]]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_systems(["helsedata-portal"], activities=shipped_activities)
    assert caught.value.message.startswith("system #1: expected a mapping")
