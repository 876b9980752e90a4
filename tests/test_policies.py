"""policies/ as configuration as code: validated, idempotent, versioned, and all or nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session

from privacy_service.audit import Actor, AuditEvent
from privacy_service.policies import PolicyError, load_policies, read_policies, receipt_contact_gap_texts
from privacy_service.ropa.models import ActivityVersion, ProcessingActivity
from privacy_service.ropa.service import activity_view

FIXTURE = Path(__file__).parent / "fixtures" / "policies"
SHIPPED = Path(__file__).resolve().parent.parent / "policies"
ACTOR = Actor("cli", "tests")


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(FIXTURE, target)
    return target


@pytest.fixture
def empty_app(make_app) -> Flask:  # type: ignore[no-untyped-def]
    return make_app("empty")


def _load(app: Flask, root: Path):  # type: ignore[no-untyped-def]
    with Session(app.extensions["engine"]) as session, session.begin():
        return load_policies(
            session, root=root, instance_path=Path(app.config["PRIVACY_INSTANCE_PATH"]), actor=ACTOR
        )


def _count(app: Flask, model: type) -> int:
    with Session(app.extensions["engine"]) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_the_shipped_policies_describe_the_seed_controllers() -> None:
    docs = read_policies(SHIPPED)
    slugs = {a["slug"] for a in docs["activities"]}
    assert {"accounts", "applications", "support", "surveys"} <= slugs
    orgs = {o["slug"]: o for o in docs["organisations"]}
    assert orgs["helsedir"]["org_number"] == "983544622"
    assert {"fhi", "kreftregisteret", "ehelse", "nhn", "datatilsynet"} <= set(orgs)
    by_slug = {a["slug"]: a for a in docs["activities"]}
    assert by_slug["surveys"]["legal_basis"] == "6(1)(a)"
    assert by_slug["accounts"]["legal_basis"] == "6(1)(e)"
    roles = {(p["organisation"], p["role"]) for p in by_slug["applications"]["processors"]}
    assert {("ehelse", "processor"), ("nhn", "sub_processor")} <= roles
    periods = {a["retention"].get("period") for a in docs["activities"]}
    assert {"P30D", "P3Y", "P2M", "P7D", "P90D", "P60D"} <= periods
    assert {"helsedata", "helsedirektoratet", "helsenorge"} <= {a["service"] for a in docs["activities"]}


def test_only_the_platforms_lack_the_contact_details_a_consent_receipt_gives() -> None:
    docs = read_policies(SHIPPED)
    gaps = receipt_contact_gap_texts(docs["organisations"], docs["activities"])
    # the platforms publish no e-mail or phone for data subjects: said, not guessed (organisations.yaml)
    platforms = ("meta-platforms-ireland", "twitter-international", "linkedin-ireland", "google-ireland")
    said = [f"controller {p} without its email, phone " for p in platforms]
    assert [g for g in gaps if not any(s in g for s in said)] == []
    assert len(gaps) == len(platforms)


def test_loading_twice_changes_nothing(empty_app: Flask, policies: Path) -> None:
    first = _load(empty_app, policies)
    assert first.counts["activities"]["created"] == 2
    events = _count(empty_app, AuditEvent)
    second = _load(empty_app, policies)
    assert second.changed == 0
    assert _count(empty_app, AuditEvent) == events
    assert _count(empty_app, ActivityVersion) == 2


def test_a_changed_file_produces_a_new_version(empty_app: Flask, policies: Path) -> None:
    _load(empty_app, policies)
    path = policies / "activities" / "tiny.yaml"
    path.write_text(path.read_text().replace("Slettes etter 30 dager.", "Slettes etter 31 dager."))
    report = _load(empty_app, policies)
    assert report.counts["activities"] == {"created": 0, "updated": 1, "unchanged": 1}
    with Session(empty_app.extensions["engine"]) as session:
        activity = session.scalar(select(ProcessingActivity).where(ProcessingActivity.slug == "call-log"))
        assert activity.version == 2
        assert activity.data["retention"]["text"]["nb"] == "Slettes etter 31 dager."
        kept = session.scalars(
            select(ActivityVersion).where(ActivityVersion.activity_id == activity.id)
        ).all()
        assert sorted(v.version for v in kept) == [1, 2]


@pytest.mark.parametrize(
    ("case", "old", "new", "expected"),
    [
        (
            "unknown legal basis",
            'legal_basis: "6(1)(e)"',
            'legal_basis: "6(1)(z)"',
            ["tiny.yaml", "activity 'call-log'", "legal_basis", "Unknown legal basis"],
        ),
        (
            "bad org number",
            '"994598759"',
            '"994598758"',
            ["organisations.yaml", "nhn", "org_number", "mod-11"],
        ),
        (
            "misspelt field",
            "purposes: [{nb: Gode",
            "purpose: [{nb: Gode",
            ["tiny.yaml", "call-log", "purpose"],
        ),
        (
            "special data without condition",
            "{key: phone, name: {nb: Telefonnummer, en: Phone number}}",
            "{key: phone, special: true, name: {nb: Telefonnummer, en: Phone number}}",
            ["tiny.yaml", "call-log", "art9_condition"],
        ),
        ("malformed YAML", "activities:\n", "activities: [\n", ["tiny.yaml", "not valid YAML"]),
        ("unknown processor", "{organisation: nhn,", "{organisation: ghost,", ["call-log", "ghost"]),
    ],
)
def test_a_bad_policy_file_names_file_activity_and_field_and_writes_nothing(
    empty_app: Flask, policies: Path, case: str, old: str, new: str, expected: list[str]
) -> None:
    for path in [policies / "organisations.yaml", policies / "activities" / "tiny.yaml"]:
        if old in path.read_text():
            path.write_text(path.read_text().replace(old, new, 1))
            break
    else:
        pytest.fail(f"{case}: fixture text not found")
    with pytest.raises(PolicyError) as err:
        _load(empty_app, policies)
    for fragment in expected:
        assert fragment in str(err.value), (case, str(err.value))
    assert _count(empty_app, ProcessingActivity) == 0
    assert _count(empty_app, AuditEvent) == 0


def test_init_command_loads_the_policies_and_reports_counts(make_app, tmp_path: Path, policies: Path) -> None:  # type: ignore[no-untyped-def]
    app = make_app("empty", PRIVACY_POLICIES=str(policies))
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "activities: 2 created" in result.output
    again = app.test_cli_runner().invoke(args=["init"])
    assert "activities: 0 created, 0 updated, 2 unchanged" in again.output


def test_init_command_fails_clearly_on_a_bad_file(make_app, policies: Path) -> None:  # type: ignore[no-untyped-def]
    (policies / "activities" / "tiny.yaml").write_text("service: tiny\nactivities: 3\n")
    app = make_app("empty", PRIVACY_POLICIES=str(policies))
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 2
    assert "tiny.yaml" in result.output


@pytest.mark.parametrize(
    ("case", "file", "old", "new", "expected"),
    [
        (
            "rule on an unknown table",
            "activities/helsedata.yaml",
            "table: support_enquiries, anchor: answered_at",
            "table: support_tickets, anchor: answered_at",
            [
                "helsedata.yaml",
                "activity 'support'",
                "retention rule 1",
                "no table helsedata-support.support_tickets",
            ],
        ),
        (
            "rule on another activity's table",
            "activities/helsedata.yaml",
            "{system: helsedata-support, table: support_enquiries",
            "{system: helsedata-portal, table: accounts",
            ["activity 'support'", "belongs to activity 'accounts'"],
        ),
        (
            "period that does not parse",
            "activities/helsedata.yaml",
            "period: P3M, action: delete",
            "period: 3 months, action: delete",
            ["helsedata.yaml", "activity 'support'", "retention.rules.0.period", "ISO-8601"],
        ),
        (
            "schedule that does not parse",
            "activities/helsedata.yaml",
            'schedule: "15 2 * * *"',
            'schedule: "every night"',
            ["activity 'support'", "schedule", "crontab"],
        ),
        (
            "a delete rule on records the disposal decision preserves",
            "activities/helsedata.yaml",
            "period: P25Y, action: deposit",
            "period: P25Y, action: delete",
            ["activity 'applications'", "Bevares (preserve): only a deposit rule"],
        ),
        (
            "hold with an empty scope",
            "holds.yaml",
            "    activity: applications\n",
            "",
            ["holds.yaml", "applications-archive", "activity", "Required for a hold on scope activity"],
        ),
    ],
)
def test_bad_retention_rules_and_holds_are_refused_and_nothing_is_written(
    empty_app: Flask, tmp_path: Path, case: str, file: str, old: str, new: str, expected: list[str]
) -> None:
    root = tmp_path / "shipped"
    shutil.copytree(SHIPPED, root)
    path = root / file
    assert old in path.read_text(), case
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(PolicyError) as err:
        _load(empty_app, root)
    for fragment in expected:
        assert fragment in str(err.value), (case, str(err.value))
    assert _count(empty_app, ProcessingActivity) == 0 and _count(empty_app, AuditEvent) == 0


def _rights(app: Flask, slug: str) -> dict[str, bool]:
    with Session(app.extensions["engine"]) as session:
        return {r.right: r.applies for r in activity_view(session, slug=slug).rights}


def test_an_activity_may_rest_on_several_legal_bases_and_the_strictest_decides(
    empty_app: Flask, policies: Path
) -> None:
    path = policies / "activities" / "tiny.yaml"
    path.write_text(
        path.read_text().replace(
            'legal_basis: "6(1)(e)"',
            'legal_bases: ["6(1)(e)", "6(1)(c)"]\n    art89_purposes: [statistics]',
            1,
        )
    )
    assert _load(empty_app, policies).counts["activities"]["created"] == 2
    with Session(empty_app.extensions["engine"]) as session:
        activity = activity_view(session, slug="call-log")
        assert activity.legal_basis == "6(1)(e)"  # the first is the primary: lists and filters use it
        assert activity.legal_bases == ("6(1)(e)", "6(1)(c)")
        assert activity.right("rectification").limit == "Personal Data Act § 17"
    # Art. 21(1) covers the public task, but not the legal obligation beside it
    assert _rights(empty_app, "call-log")["objection"] is False
    assert _load(empty_app, policies).changed == 0


def test_a_single_basis_given_as_a_list_of_one_is_stored_as_before(empty_app: Flask, policies: Path) -> None:
    _load(empty_app, policies)
    path = policies / "activities" / "tiny.yaml"
    path.write_text(
        path.read_text().replace(
            'legal_basis: "6(1)(e)"', 'legal_basis: "6(1)(e)"\n    legal_bases: ["6(1)(e)"]'
        )
    )
    assert _load(empty_app, policies).changed == 0  # same record, same hash, no new version
    assert _count(empty_app, ActivityVersion) == 2


@pytest.mark.parametrize(
    ("new", "fragment"),
    [
        pytest.param('legal_bases: ["6(1)(e)", "6(1)(z)"]', "Unknown legal basis", id="Art. 6(1) has no (z)"),
        pytest.param(
            'legal_basis: "6(1)(e)"\n    legal_bases: ["6(1)(c)", "6(1)(e)"]', "legal_basis first",
            id="the primary basis is listed first",
        ),
        pytest.param(
            'legal_bases: ["6(1)(e)", "6(1)(a)"]\n    consent_purpose: call-log', "consent (6(1)(a)) first",
            id="Art. 6(1)(a) consent is the primary basis",
        ),
        pytest.param(
            'legal_basis: "6(1)(e)"\n    art89_purposes: [marketing]', "Unknown Art. 89 purpose",
            id="Art. 89 purposes only",
        ),
    ],
)  # fmt: skip
def test_bad_legal_bases_name_the_field_and_write_nothing(
    empty_app: Flask, policies: Path, new: str, fragment: str
) -> None:
    path = policies / "activities" / "tiny.yaml"
    path.write_text(path.read_text().replace('legal_basis: "6(1)(e)"', new, 1))
    with pytest.raises(PolicyError) as err:
        _load(empty_app, policies)
    assert "call-log" in str(err.value) and fragment in str(err.value), str(err.value)
    assert _count(empty_app, ProcessingActivity) == 0
