"""Loading the data map and finding a subject's rows through it (on SQLite and PostgreSQL registries)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from privacy_service.audit import AuditEvent, count_events
from privacy_service.datamap.connector import system_url
from privacy_service.datamap.demo import KARI
from privacy_service.datamap.models import DataSystem, DataTable
from privacy_service.datamap.service import (
    DataSystemError,
    find_subject_rows,
    list_systems,
    tables_for_activity,
)
from privacy_service.errors import ValidationFailed

Load = Callable[[list[dict[str, Any]]], dict[str, int]]
ALL_TABLES = {"accounts", "applications", "support_enquiries", "survey_responses"}


def _events(session: Session, action: str) -> list[AuditEvent]:
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
    )


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_loading_creates_each_system_with_its_tables_and_an_audit_event(
    session: Session, load: Load, systems: list[dict[str, Any]]
) -> None:
    assert load(systems) == {"created": 4, "updated": 0, "unchanged": 0}
    assert [s.name for s in list_systems(session)] == [
        "helsedata-portal",
        "helsedata-support",
        "helsedata-survey",
        "helsedir-office",
    ]
    assert _count(session, DataTable) == 9
    events = _events(session, "datamap.system.create")
    assert [e.object_id for e in events] == [
        "helsedata-portal",
        "helsedata-support",
        "helsedata-survey",
        "helsedir-office",
    ]
    assert events[0].details["tables_added"] == ["accounts", "applications"]


def test_a_table_keeps_everything_the_file_says(session: Session, load: Load, systems: list) -> None:
    load(systems)
    [(system, table)] = tables_for_activity(session, activity="applications")
    assert system.name == "helsedata-portal"
    assert system.url_env == "PRIVACY_DS_HELSEDATA_PORTAL_URL"
    assert table.key_column == "id"
    assert table.identity == {"email": "email", "phone": "phone", "account_id": "account_id"}
    assert table.columns["cv_summary"] == "cv"
    assert table.erasure == "mask"
    assert "free_text" in table.mask_columns
    assert (table.restriction_column, table.anchor_column) == ("restricted", "submitted_at")


def test_loading_the_same_file_twice_writes_nothing_the_second_time(
    session: Session, load: Load, systems: list[dict[str, Any]]
) -> None:
    load(systems)
    events, stamps = count_events(session), [s.updated_at for s in list_systems(session)]
    assert load(systems) == {"created": 0, "updated": 0, "unchanged": 4}
    assert count_events(session) == events
    assert [s.updated_at for s in list_systems(session)] == stamps


def test_a_changed_system_is_updated_with_one_audit_event(
    session: Session, load: Load, systems: list[dict[str, Any]]
) -> None:
    load(systems)
    events = count_events(session)
    systems[0]["tables"][1]["mask_columns"].remove("position")
    systems[0]["description"] = "The portal database"
    assert load(systems) == {"created": 0, "updated": 1, "unchanged": 3}
    assert count_events(session) == events + 1
    [event] = _events(session, "datamap.system.update")
    assert event.object_id == "helsedata-portal"
    assert event.details["fields"] == ["description"]
    assert event.details["tables_changed"] == ["applications"]
    [(_, table)] = tables_for_activity(session, activity="applications")
    assert "position" not in table.mask_columns


def test_a_table_removed_from_the_file_leaves_the_map(
    session: Session, load: Load, systems: list[dict[str, Any]]
) -> None:
    load(systems)
    systems[0]["tables"] = [t for t in systems[0]["tables"] if t["table"] != "applications"]
    assert load(systems)["updated"] == 1
    assert tables_for_activity(session, activity="applications") == []
    assert _events(session, "datamap.system.update")[0].details["tables_removed"] == ["applications"]


def test_reordering_tables_is_not_a_change(
    session: Session, load: Load, systems: list[dict[str, Any]]
) -> None:
    load(systems)
    systems[0]["tables"].reverse()
    assert load(systems)["unchanged"] == 4


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        pytest.param(
            lambda s: s[2]["tables"][0].update(activity="helpdesk"), "field 'activity'", id="activity"
        ),
        pytest.param(
            lambda s: s[2]["tables"][0]["columns"].update(answers="health"),
            "field 'columns.answers'",
            id="category",
        ),
    ],
)
def test_an_unknown_activity_or_category_writes_nothing(
    session: Session, load: Load, systems: list[dict[str, Any]], edit: Callable, field: str
) -> None:
    edit(systems)  # the first two systems are valid; none of them may be written
    with pytest.raises(ValidationFailed) as caught:
        load(systems)
    assert caught.value.message.startswith(f"system 'helsedata-survey', table 'survey_responses', {field}")
    assert _count(session, DataSystem) == 0
    assert count_events(session) == 0


def test_a_bad_change_leaves_the_loaded_map_as_it_was(
    session: Session, load: Load, systems: list[dict[str, Any]]
) -> None:
    load(systems)
    events = count_events(session)
    systems[0]["description"] = "changed"
    systems[1]["tables"][0]["columns"]["body"] = "health"
    with pytest.raises(ValidationFailed):
        load(systems)
    assert list_systems(session)[0].description != "changed"
    assert count_events(session) == events


def test_the_url_comes_from_its_environment_variable_when_set(
    session: Session, load: Load, systems: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    load(systems)
    portal = list_systems(session)[0]
    monkeypatch.setenv("PRIVACY_DS_HELSEDATA_PORTAL_URL", "postgresql+psycopg://portal@db.example.no/portal")
    assert (
        system_url(portal, instance_path=Path("/srv")) == "postgresql+psycopg://portal@db.example.no/portal"
    )


def test_the_default_url_points_into_the_instance_folder(
    session: Session,
    load: Load,
    systems: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("PRIVACY_DS_HELSEDATA_PORTAL_URL", raising=False)
    load(systems)
    url = system_url(list_systems(session)[0], instance_path=tmp_path)
    assert url == f"sqlite:///{tmp_path.resolve()}/demo/helsedata_portal.db"


def test_a_system_without_any_url_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIVACY_DS_X_URL", raising=False)
    with pytest.raises(DataSystemError, match="set the variable PRIVACY_DS_X_URL"):
        system_url(DataSystem(name="x", url_env="PRIVACY_DS_X_URL"), instance_path=Path("."))


# --- finding a subject ------------------------------------------------------------------------------------


@pytest.fixture
def find(session: Session, load: Load, systems: list[dict[str, Any]], instance: Path) -> Callable[..., list]:
    """Load the shipped map over the demo systems and return find_subject_rows bound to them."""
    load(systems)
    return lambda activity=None, **identity: find_subject_rows(
        session, identity=identity, instance_path=instance, activity=activity
    )


def test_kari_is_found_in_all_four_tables_by_her_email_in_any_case(find: Callable[..., list]) -> None:
    found = find(email="  KARI.Nordmann@Example.NO ")
    assert {f.table for f in found} == ALL_TABLES
    for match in found:
        assert [row[match.key] for row in match.rows] == [1]
        assert match.rows[0]["email"] == KARI["email"]
    assert {f.activity for f in found} == {"accounts", "applications", "support", "surveys"}


def test_rows_hold_only_the_key_and_mapped_columns_with_their_categories(find: Callable[..., list]) -> None:
    found = {f.table: f for f in find(email=KARI["email"])}
    accounts = found["accounts"]
    assert set(accounts.rows[0]) == {"id", "name", "email", "phone"}  # national_id is not a category
    assert accounts.categories == {"name": "name", "email": "email", "phone": "phone"}
    applications = found["applications"]
    assert applications.categories["organisation_number"] == "affiliation"
    assert applications.rows[0]["cv_summary"].startswith("Ph.d.")
    assert "status" not in applications.rows[0]
    assert found["support_enquiries"].categories["body"] == "enquiry"


def test_kari_is_found_by_national_id_only_where_it_is_mapped(find: Callable[..., list]) -> None:
    found = find(national_id=KARI["national_id"])
    assert [(f.system, f.table) for f in found] == [("helsedata-portal", "accounts")]


def test_a_phone_number_is_found_however_it_is_written(find: Callable[..., list]) -> None:
    for written in ("+47 912 34 567", "91234567", "0047 912-34-567"):
        assert {f.table for f in find(phone=written)} == {"accounts", "applications", "support_enquiries"}


def test_an_account_id_finds_the_account_and_its_applications(find: Callable[..., list]) -> None:
    assert {f.table for f in find(account_id="1")} == {"accounts", "applications"}
    assert find(account_id="not-a-number") == []


def test_identities_of_different_kinds_are_alternatives(find: Callable[..., list]) -> None:
    found = find(email="nobody@example.no", national_id=KARI["national_id"])
    assert [f.table for f in found] == ["accounts"]


def test_several_values_of_a_kind_each_search_and_say_which_found_the_row(find: Callable[..., list]) -> None:
    found = find(email=["nobody@example.no", KARI["email"].upper()])
    assert {f.table for f in found} == ALL_TABLES
    for match in found:  # found by the kind's later value, not its first: a person's linked address
        assert match.matched == {"email": 1} and match.matched_later == {"email": 1}
    first = find(email=[KARI["email"], "nobody@example.no"])
    assert all(f.matched == {"email": 1} and f.matched_later == {} for f in first)


def test_a_portal_id_kind_is_known_even_where_no_table_holds_it(find: Callable[..., list]) -> None:
    assert find(**{"portal:minportal": ["u-77"]}) == []
    assert [f.table for f in find(**{"portal:minportal": "u-77", "national_id": KARI["national_id"]})] == [
        "accounts"
    ]


def test_the_search_can_be_limited_to_one_activity(find: Callable[..., list]) -> None:
    [found] = find(activity="surveys", email=KARI["email"])
    assert (found.system, found.table, found.key) == ("helsedata-survey", "survey_responses", "id")


def test_someone_unknown_has_no_rows(find: Callable[..., list]) -> None:
    assert find(email="ola.nordmann@example.no") == []


def test_identity_values_are_bound_never_spliced_into_sql(find: Callable[..., list]) -> None:
    assert find(email="x' OR '1'='1", national_id="1 OR 1=1") == []


@pytest.mark.parametrize(
    "identity",
    [{}, {"email": "  "}, {"email": []}, {"ssn": "15838512671"}, {"portal:": "u-77"}, {"portal:a b": "1"}],
)
def test_a_search_needs_a_known_identity(find: Callable[..., list], identity: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed):
        find(**identity)


def test_a_table_missing_from_its_system_is_named(
    session: Session, load: Load, systems: list[dict[str, Any]], instance: Path
) -> None:
    systems[1]["tables"][0]["table"] = "enquiries"
    load(systems)
    with pytest.raises(DataSystemError, match="'helsedata-support' has no table 'enquiries'"):
        find_subject_rows(session, identity={"email": KARI["email"]}, instance_path=instance)


def test_a_missing_database_file_is_reported_not_created(
    session: Session, load: Load, systems: list[dict[str, Any]], tmp_path: Path
) -> None:
    load(systems)
    empty = tmp_path / "elsewhere"
    (empty / "demo").mkdir(parents=True)
    with pytest.raises(DataSystemError, match="database file does not exist"):
        find_subject_rows(session, identity={"email": KARI["email"]}, instance_path=empty)
    assert list((empty / "demo").iterdir()) == []


def test_a_description_keeps_both_languages_and_a_plain_one_stays_plain(
    session: Session, load: Load, systems: list[dict[str, Any]]
) -> None:
    systems[1]["description"] = "Support desk"  # a plain text, as systems.yaml wrote before
    load(systems)
    by_name = {s.name: s for s in list_systems(session)}
    assert by_name["helsedata-portal"].description == {
        "nb": "Databasen til helsedata.no-portalen: brukerkontoer og søknader om tilgang til helsedata",
        "en": "helsedata.no portal database: user accounts and applications for access to health data",
    }
    assert by_name["helsedata-support"].description == "Support desk"
