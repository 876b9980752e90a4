"""Issue 16: anonymisation that is anonymous, the longest period wins, anchors on the case's closure."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlmodel import Session

from privacy_service.audit import AuditEvent
from privacy_service.db import transaction
from privacy_service.policies import PolicyError, load_policies, read_policies
from privacy_service.ropa import service as ropa
from privacy_service.ropa.models import ProcessingActivity

from .conftest import query
from .test_runner import APPLICATIONS, DPO, NOW, SUPPORT, SURVEYS, _run

SHIPPED = Path(__file__).resolve().parents[2] / "policies"
SURVEY_RULE = "period: P1Y, action: delete,"
SUPPORT_RULE = "anchor: answered_at, period: P3M, action: delete,"
NAIVE_NOW = NOW.replace(tzinfo=None)


def _policies(tmp_path: Path, old: str, new: str) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(SHIPPED, root)
    path = root / "activities" / "helsedata.yaml"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    return root


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        pytest.param(
            "period: P1Y, action: anonymise, mask_columns: [name, email], keep_columns: [submitted_at],",
            ["surveys", "survey_responses", "'submitted_at'", "exact timestamp"],
            id="keeps-a-timestamp",
        ),
        pytest.param(
            "period: P1Y, action: anonymise, mask_columns: [name, email], keep_columns: [id],",
            ["surveys", "survey_responses", "key column 'id'"],
            id="keeps-the-key",
        ),
        pytest.param(
            "period: P1Y, action: anonymise, mask_columns: [name], keep_columns: [email],",
            ["surveys", "'email'", "personal data in the data map"],
            id="keeps-mapped-personal-data",
        ),
        pytest.param(
            "period: P1Y, action: anonymise, mask_columns: [name, email], coarsen: {answers: month},",
            ["surveys", "'answers'", "Only a timestamp can be coarsened"],
            id="coarsens-free-text",
        ),
        pytest.param(
            "period: P1Y, action: anonymise, mask_columns: [name, email], reviewed_free_text: [answers],",
            ["surveys", "reviewed the free text"],
            id="reviewed-free-text-without-a-note",
        ),
    ],
)
def test_policies_check_refuses_an_anonymisation_that_can_single_out(
    make_app, tmp_path: Path, new: str, expected: list[str]
) -> None:  # type: ignore[no-untyped-def]
    root = _policies(tmp_path, SURVEY_RULE, new)
    with pytest.raises(PolicyError) as err:
        read_policies(root)
    for fragment in expected:
        assert fragment in str(err.value), str(err.value)
    app = make_app("empty")
    result = app.test_cli_runner().invoke(args=["policies", "check", str(root)])
    assert result.exit_code != 0 and expected[-1] in result.output
    with pytest.raises(PolicyError), Session(app.extensions["engine"]) as session, session.begin():
        load_policies(session, root=root, instance_path=tmp_path, actor=DPO)
    with Session(app.extensions["engine"]) as session:  # nothing changed
        assert session.scalar(select(func.count()).select_from(ProcessingActivity)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        pytest.param("action: deposit", "conflict: deposit and delete", id="different-actions"),
        pytest.param(
            "anchor: answered_at, period: P3M, action: delete",
            "the same anchor and period twice",
            id="same-anchor-and-period",
        ),  # fmt: skip
    ],
)
def test_policies_check_refuses_rules_on_one_table_that_cannot_be_one_decision(
    tmp_path: Path, second: str, expected: str
) -> None:
    if "anchor" not in second:
        second = f"anchor: received_at, period: P5Y, {second}"
    extra = f'{SUPPORT_RULE}\n           schedule: "15 2 * * *"}}\n        - {{system: helsedata-support, '
    extra += f"table: support_enquiries, {second},"
    root = _policies(tmp_path, SUPPORT_RULE, extra)
    with pytest.raises(PolicyError) as err:
        read_policies(root)
    assert "activity 'support'" in str(err.value) and "retention rule 2" in str(err.value)
    assert expected in str(err.value), str(err.value)


def test_the_shipped_policies_pass_the_check() -> None:
    docs = read_policies(SHIPPED)
    surveys = next(a for a in docs["activities"] if a["slug"] == "surveys")
    assert [r["action"] for r in surveys["retention"]["rules"]] == ["delete"]
    for lang, words in (("nb", "slettes ett år etter"), ("en", "deleted one year after")):
        assert words in surveys["retention"]["text"][lang]
        said = surveys["retention"]["text"][lang]
        assert "anonymis" not in said.replace("ikke anonymisert", "").replace("not anonymised", "")


def test_the_survey_answers_are_deleted_after_a_year_not_masked(app, demo) -> None:  # type: ignore[no-untyped-def]
    cutoff = str(NAIVE_NOW - timedelta(days=365))
    old = "SELECT count(*) FROM survey_responses WHERE submitted_at <= :c"
    young_sql = "SELECT count(*) FROM survey_responses WHERE submitted_at > :c"
    young = query(demo, "helsedata_survey.db", young_sql, c=cutoff)[0][0]
    due = query(demo, "helsedata_survey.db", old, c=cutoff)[0][0]
    __, done = _run(app, demo, only=[SURVEYS])
    assert due > 0 and done[SURVEYS].acted == due and done[SURVEYS].error is None
    assert query(demo, "helsedata_survey.db", old, c=cutoff)[0][0] == 0  # gone, not blanked
    assert query(demo, "helsedata_survey.db", "SELECT count(*) FROM survey_responses")[0][0] == young


def _add_rule(app: Flask, slug: str, rule: dict[str, Any]) -> None:
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        record = ropa.activity_view(session, slug=slug).record
        rules = [*(dict(r) for r in record["retention"]["rules"]), rule]
        body = {**record, "retention": {**record["retention"], "rules": rules}}
        ropa.update_activity(session, slug=slug, data=body, actor=DPO, rules="apply")


def _insert(demo: Path, file: str, table: str, rows: list[dict[str, Any]]) -> list[int]:
    engine = create_engine(f"sqlite:///{demo / 'demo' / file}")
    ids = []
    with engine.begin() as conn:
        for row in rows:
            names = ", ".join(row)
            values = ", ".join(f":{k}" for k in row)
            ids.append(conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({values})"), row).lastrowid)
    engine.dispose()
    return ids


def test_two_rules_on_one_table_the_longest_period_wins(app, demo) -> None:  # type: ignore[no-untyped-def]
    _add_rule(app, "support", {"system": "helsedata-support", "table": "support_enquiries",
                               "anchor": "received_at", "period": "P5Y", "action": "delete"})  # fmt: skip

    def enquiry(years: int) -> dict[str, Any]:
        at = NAIVE_NOW - timedelta(days=365 * years + 2)
        return {
            "name": "X",
            "subject": "s",
            "body": "b",
            "received_at": at,
            "answered_at": at,
            "restricted": 0,
        }

    middle, ancient = _insert(demo, "helsedata_support.db", "support_enquiries", [enquiry(2), enquiry(6)])
    dry, planned = _run(app, demo, only=[SUPPORT], dry_run=True)
    __, done = _run(app, demo, only=[SUPPORT])
    left = {r[0] for r in query(demo, "helsedata_support.db", "SELECT id FROM support_enquiries")}
    assert middle in left and ancient not in left  # older than P3M but younger than P5Y: kept
    assert done[SUPPORT].error is None and done[SUPPORT].acted == planned[SUPPORT].acted >= 1
    assert done[SUPPORT].period == "P3M+P5Y"


def test_the_applications_count_from_the_decision_and_fall_back_to_submission(app, demo) -> None:  # type: ignore[no-untyped-def]
    def application(n: int, submitted_years: int, decided_years: int | None) -> dict[str, Any]:
        at = NAIVE_NOW - timedelta(days=365 * submitted_years)
        decided = None if decided_years is None else NAIVE_NOW - timedelta(days=365 * decided_years)
        return {"reference": f"HDS-1990-{n:04d}", "submitted_at": at, "decided_at": decided,
                "status": "approved", "restricted": 0}  # fmt: skip

    before, __ = _run(app, demo, only=[APPLICATIONS], dry_run=True)
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        from privacy_service.retention.runner import get_run

        base = get_run(session, before.id or 0)[1][0].candidates
    _insert(demo, "helsedata_portal.db", "applications", [
        application(1, 30, 2),  # submitted 30 years ago, decided 2 years ago: not due
        application(2, 30, None),  # never decided: 25 years from submission, due
        application(3, 27, 26),  # decided 26 years ago: due
    ])  # fmt: skip
    __, planned = _run(app, demo, only=[APPLICATIONS], dry_run=True)
    assert planned[APPLICATIONS].error is None
    assert planned[APPLICATIONS].candidates == base + 2


def _set_rules(app: Flask, slug: str, rules: list[dict[str, Any]]) -> None:
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        record = ropa.activity_view(session, slug=slug).record
        body = {**record, "retention": {**record["retention"], "rules": rules}}
        ropa.update_activity(session, slug=slug, data=body, actor=DPO, rules="apply")


ANONYMISE = {
    "system": "helsedata-survey",
    "table": "survey_responses",
    "anchor": "submitted_at",
    "period": "P1Y",
    "action": "anonymise",
    "mask_columns": ["name", "email"],
    "keep_columns": ["restricted"],
    "coarsen": {"submitted_at": "month", "consent_given_at": "month"},
    "reviewed_free_text": ["answers"],
    "note": "Answers reviewed by the DPO, case 26/81: no names or dates in them.",
}


def test_an_anonymise_rule_blanks_and_coarsens_every_column_it_names(app, demo) -> None:  # type: ignore[no-untyped-def]
    _set_rules(app, "surveys", [ANONYMISE])
    key = "surveys:helsedata-survey.survey_responses:anonymise"
    __, done = _run(app, demo, only=[key])
    assert done[key].error is None and done[key].acted > 0
    rows = query(
        demo,
        "helsedata_survey.db",
        "SELECT name, email, submitted_at, consent_given_at FROM survey_responses WHERE submitted_at <= :c",
        c=str(NAIVE_NOW - timedelta(days=366)),
    )
    assert len(rows) >= done[key].acted
    assert all(r[0] is None and r[1] is None for r in rows)
    assert all(
        str(r[2]).endswith("-01 00:00:00.000000") and str(r[3]).endswith("-01 00:00:00.000000") for r in rows
    )
    __, again = _run(app, demo, only=[key])
    assert again[key].candidates == 0  # done once, whole


def test_an_anonymise_rule_that_leaves_a_column_unnamed_fails_and_changes_nothing(app, demo) -> None:  # type: ignore[no-untyped-def]
    rule = {**ANONYMISE, "coarsen": {"submitted_at": "month"}}  # consent_given_at neither blanked nor kept
    _set_rules(app, "surveys", [rule])
    before = query(demo, "helsedata_survey.db", "SELECT * FROM survey_responses ORDER BY id")
    key = "surveys:helsedata-survey.survey_responses:anonymise"
    run, done = _run(app, demo, only=[key])
    assert run.status == "failed" and "consent_given_at unnamed" in done[key].error
    assert query(demo, "helsedata_survey.db", "SELECT * FROM survey_responses ORDER BY id") == before


def test_the_dashboard_counts_the_rules_on_one_table_as_one(app, demo) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.retention.outlook import outlook

    before = outlook(app.extensions["engine"], instance_path=demo)[SUPPORT]
    _add_rule(app, "support", {"system": "helsedata-support", "table": "support_enquiries",
                               "anchor": "received_at", "period": "P50Y", "action": "delete"})  # fmt: skip
    after = outlook(app.extensions["engine"], instance_path=demo)[SUPPORT]
    assert before["due_now"] > 0 and after == {"due_now": 0, "due_soon": 0, "held": 0}


def test_policies_check_refuses_to_anonymise_a_table_whose_key_finds_a_person(tmp_path: Path) -> None:
    new = "period: P1Y, action: anonymise, mask_columns: [name, email], keep_columns: [restricted],"
    root = _policies(tmp_path, SURVEY_RULE, new)
    systems = root / "systems.yaml"
    old = "        identity:\n          email: email\n        columns:\n          name: name\n"
    old += "          email: email\n          answers: answers\n"
    assert systems.read_text().count(old) == 1
    systems.write_text(
        systems.read_text().replace(
            old, old.replace("email: email\n", "email: email\n          account_id: id\n", 1), 1
        )
    )
    with pytest.raises(PolicyError) as err:
        read_policies(root)
    assert "activity 'surveys'" in str(err.value) and "The key 'id'" in str(err.value), str(err.value)


def test_an_anonymise_rule_keeping_unreviewed_free_text_fails_and_changes_nothing(app, demo) -> None:  # type: ignore[no-untyped-def]
    rule = {**ANONYMISE, "keep_columns": ["restricted", "answers"], "reviewed_free_text": []}
    _set_rules(app, "surveys", [rule])
    before = query(demo, "helsedata_survey.db", "SELECT * FROM survey_responses ORDER BY id")
    key = "surveys:helsedata-survey.survey_responses:anonymise"
    run, done = _run(app, demo, only=[key])
    assert run.status == "failed" and "'answers'" in done[key].error
    assert query(demo, "helsedata_survey.db", "SELECT * FROM survey_responses ORDER BY id") == before
