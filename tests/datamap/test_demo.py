"""The synthetic helsedata data systems: deterministic, always with Kari Nordmann, matching systems.yaml."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from privacy_service.datamap.demo import KARI, SYSTEM_FILES, create_demo_data
from privacy_service.datamap.schemas import system_schema

TABLES = {
    "helsedata-portal": ["accounts", "applications"],
    "helsedata-support": ["support_enquiries"],
    "helsedata-survey": ["survey_responses"],
    "helsedir-office": [
        "call_log",
        "visitor_list",
        "media_enquiries",
        "event_registrations",
        "questionnaire_answers",
    ],
}


def _dump(instance: Path) -> dict[str, list[tuple]]:
    out = {}
    for system, tables in TABLES.items():
        with closing(sqlite3.connect(instance / "demo" / SYSTEM_FILES[system])) as conn:
            for table in tables:
                out[table] = conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    return out


def _rows(instance: Path, system: str, sql: str, *params: Any) -> list[tuple]:
    with closing(sqlite3.connect(instance / "demo" / SYSTEM_FILES[system])) as conn:
        return conn.execute(sql, params).fetchall()


def _mod11_valid(number: str) -> bool:
    digits = [int(c) for c in number]
    k1 = (11 - sum(w * d for w, d in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), digits[:9], strict=True)) % 11) % 11
    k2 = (11 - sum(w * d for w, d in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), digits[:10], strict=True)) % 11) % 11
    return len(number) == 11 and digits[9] == k1 and digits[10] == k2


def test_the_same_seed_gives_identical_rows(tmp_path: Path) -> None:
    create_demo_data(instance_path=tmp_path / "a", seed=7, people=40)
    create_demo_data(instance_path=tmp_path / "b", seed=7, people=40)
    assert _dump(tmp_path / "a") == _dump(tmp_path / "b")


def test_another_seed_gives_other_people_but_the_same_kari(tmp_path: Path) -> None:
    create_demo_data(instance_path=tmp_path / "a", seed=7, people=40)
    create_demo_data(instance_path=tmp_path / "b", seed=8, people=40)
    seven, eight = _dump(tmp_path / "a"), _dump(tmp_path / "b")
    assert seven != eight
    for table in seven:
        if table in TABLES["helsedir-office"]:
            continue  # the office records hold no row of Kari's
        assert seven[table][0] == eight[table][0]  # Kari's row is the first of every table


def test_a_rerun_recreates_the_systems_from_scratch(tmp_path: Path) -> None:
    first = create_demo_data(instance_path=tmp_path, seed=7, people=40)
    create_demo_data(instance_path=tmp_path, seed=9, people=5)
    again = create_demo_data(instance_path=tmp_path, seed=7, people=40)
    assert again["rows"] == first["rows"]
    assert len(_dump(tmp_path)["accounts"]) == first["rows"]["accounts"]


def test_the_summary_names_the_systems_the_row_counts_and_kari(tmp_path: Path) -> None:
    summary = create_demo_data(instance_path=tmp_path, seed=7, people=40)
    assert set(summary["systems"]) == set(TABLES)
    assert all(Path(path).is_file() for path in summary["systems"].values())
    assert set(summary["rows"]) == {t for tables in TABLES.values() for t in tables}
    assert all(count >= 1 for count in summary["rows"].values())
    assert summary["kari"]["application_reference"] == "HDS-2024-0001"
    assert (summary["seed"], summary["anchor"]) == (7, "2025-06-02")


def test_kari_has_an_account_an_application_an_enquiry_and_a_survey_answer(tmp_path: Path) -> None:
    create_demo_data(instance_path=tmp_path, seed=7, people=5)
    email = KARI["email"]
    [account] = _rows(
        tmp_path,
        "helsedata-portal",
        "SELECT id, name, phone, national_id FROM accounts WHERE email = ?",
        email,
    )
    assert account == (KARI["account_id"], "Kari Nordmann", "+47 912 34 567", KARI["national_id"])
    [application] = _rows(
        tmp_path,
        "helsedata-portal",
        "SELECT id, reference, account_id FROM applications WHERE email = ?",
        email,
    )
    assert application == (KARI["application_id"], "HDS-2024-0001", KARI["account_id"])
    [enquiry] = _rows(
        tmp_path, "helsedata-support", "SELECT id FROM support_enquiries WHERE email = ?", email
    )
    assert enquiry == (KARI["support_enquiry_id"],)
    [response] = _rows(
        tmp_path,
        "helsedata-survey",
        "SELECT id, consent_given_at FROM survey_responses WHERE email = ?",
        email,
    )
    assert response[0] == KARI["survey_response_id"]
    assert response[1] is not None


def test_karis_national_id_is_synthetic_and_well_formed() -> None:
    number = KARI["national_id"]
    assert _mod11_valid(number)
    assert int(number[2:4]) > 80  # the synthetic month: cannot be a real person's number


def test_every_national_id_is_synthetic_and_every_email_uses_a_reserved_domain(tmp_path: Path) -> None:
    create_demo_data(instance_path=tmp_path, seed=7, people=60)
    for number, email in _rows(tmp_path, "helsedata-portal", "SELECT national_id, email FROM accounts"):
        assert _mod11_valid(number), number
        assert 81 <= int(number[2:4]) <= 92, number
        assert email.rsplit("@", 1)[1] in ("example.no", "example.com", "example.org")


def test_some_survey_answers_are_given_without_an_email(tmp_path: Path) -> None:
    create_demo_data(instance_path=tmp_path, seed=7, people=200)
    [(anonymous,)] = _rows(
        tmp_path, "helsedata-survey", "SELECT count(*) FROM survey_responses WHERE email IS NULL"
    )
    assert anonymous > 0


def test_dates_follow_the_anchor_not_the_clock(tmp_path: Path) -> None:
    create_demo_data(instance_path=tmp_path, seed=7, people=40, anchor=date(2030, 1, 1))
    [(latest,)] = _rows(tmp_path, "helsedata-portal", "SELECT max(last_login_at) FROM accounts")
    assert "2029-06-01" < latest < "2030-01-01 12:00:01"


@pytest.mark.parametrize("system", list(TABLES))
def test_the_identity_columns_are_indexed(tmp_path: Path, system: str) -> None:
    create_demo_data(instance_path=tmp_path, seed=7, people=5)
    indexed = {
        (table, name)
        for table, name in _rows(
            tmp_path, system, "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index'"
        )
    }
    identity = {  # the identity columns systems.yaml maps for each table
        "call_log": "phone",
        "visitor_list": "phone",
    }
    for table in TABLES[system]:
        assert (table, f"ix_{table}_{identity.get(table, 'email')}") in indexed


def test_every_mapped_column_exists_in_the_demo_systems(
    tmp_path: Path, systems: list[dict[str, Any]]
) -> None:
    create_demo_data(instance_path=tmp_path, seed=7, people=5)
    for entry in systems:
        record = system_schema.load(entry)
        assert record["url"] == f"sqlite:///{{instance}}/demo/{SYSTEM_FILES[record['name']]}"
        for table in record["tables"]:
            columns = {
                row[1] for row in _rows(tmp_path, record["name"], f"PRAGMA table_info({table['table']})")
            }
            wanted = {table["key"], *table["columns"], *table["identity"].values(), *table["mask_columns"]}
            wanted |= {table["restriction_column"], table["anchor_column"]}
            assert wanted <= columns, (table["table"], wanted - columns)
