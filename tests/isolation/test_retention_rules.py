"""Issue 14, item 5: `registry:write` could delete data without `retention:run`.

Retention rules live in the activity record, so before the fix a registry key could set a one-day period and
an every-minute schedule on the support activity, and the scheduler's next run deleted nearly the whole
support table. Now a change to what the rules delete needs retention:run, and even then waits as a pending
rule change until a dry run of it has been made on the activity as it is, and someone applies it.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from tests_support import bearer, minimal_activity

from privacy_service.audit import latest_events
from privacy_service.datamap.demo import create_demo_data
from privacy_service.db import transaction
from privacy_service.retention import scheduler as sched

SUPPORT = "/api/v1/activities/support"
CHANGES = "/api/v1/retention/rule-changes"
KEPT = ("version", "created_at", "updated_at", "updated_by", "rights")


@pytest.fixture
def demo(app: Flask) -> Path:
    """Demo data dated from today, so the scheduler's runs (which count from now) find rows of every age."""
    instance = Path(app.config["PRIVACY_INSTANCE_PATH"])
    create_demo_data(instance_path=instance, seed=5, people=60, anchor=date.today())
    return instance


def _support_rows(instance: Path) -> dict[int, str | None]:
    engine = create_engine(f"sqlite:///{instance / 'demo' / 'helsedata_support.db'}")
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT id, answered_at FROM support_enquiries")).all())
    finally:
        engine.dispose()


def _young(rows: dict[int, str | None]) -> set[int]:
    """Rows answered between 2 and 80 days ago: the shipped P3M rule keeps them, a P1D rule deletes them."""
    now = datetime.now()
    lo, hi = str(now - timedelta(days=80)), str(now - timedelta(days=2))
    return {i for i, at in rows.items() if at is not None and lo < str(at) < hi}


def _run_the_schedulers_jobs(app: Flask) -> None:
    """Sync the scheduler's job store with the rules and run every rule job once, as the scheduler does at
    each rule's slot (each job runs its rule for the latest time its schedule fired)."""
    scheduler = sched.make_scheduler(app)
    scheduler.start(paused=True)
    sched.sync_jobs(scheduler, app)
    jobs = [job for job in scheduler.get_jobs() if job.id.startswith("retention:")]
    scheduler.shutdown(wait=True)
    with app.app_context():
        for job in jobs:
            job.func(*job.args)


def _body(client: Any, headers: dict[str, str]) -> tuple[dict[str, Any], str]:
    got = client.get(SUPPORT, headers=headers)
    return {k: v for k, v in got.get_json().items() if k not in KEPT}, got.headers["ETag"]


def _shorten(body: dict[str, Any]) -> dict[str, Any]:
    body["retention"]["rules"][0].update(period="P1D", schedule="* * * * *")
    return body


def _actions(app: Flask) -> list[str]:
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return [e.action for e in reversed(latest_events(session, limit=500))]


def test_a_registry_key_cannot_shorten_a_rule_and_the_scheduler_deletes_nothing_more(
    app, client, make_key, demo
) -> None:  # type: ignore[no-untyped-def]
    registry = {**bearer(make_key("registry:read", "registry:write")), "If-Match": "*"}
    young = _young(_support_rows(demo))
    assert young, "the demo data should have support enquiries answered weeks ago"
    body, etag = _body(client, registry)
    refused = client.put(SUPPORT, json=_shorten(body), headers={**registry, "If-Match": etag})
    assert refused.status_code == 403, refused.get_json()
    error = refused.get_json()["error"]
    assert "retention:run" in error["message"] and error["code"] == "forbidden"
    after, etag_after = _body(client, registry)
    assert etag_after == etag and after["retention"]["rules"][0]["period"] == "P3M"
    _run_the_schedulers_jobs(app)
    assert young <= set(_support_rows(demo)), "the scheduler deleted rows the P3M rule keeps"
    assert "activity.update" not in _actions(app)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda r: r[0].update(period="P1D"), id="period"),
        pytest.param(lambda r: r[0].update(action="anonymise", mask_columns=["name"]), id="action"),
        pytest.param(lambda r: r[0].update(anchor="received_at"), id="anchor"),
        pytest.param(lambda r: r[0].update(schedule="* * * * *"), id="schedule"),
        pytest.param(lambda r: r.append({**r[0], "action": "anonymise", "mask_columns": ["name"]}), id="add"),
        pytest.param(lambda r: r.clear(), id="remove"),
    ],
)
def test_every_kind_of_rule_change_needs_retention_run(client, make_key, change) -> None:  # type: ignore[no-untyped-def]
    registry = {**bearer(make_key("registry:read", "registry:write")), "If-Match": "*"}
    body, etag = _body(client, registry)
    change(body["retention"]["rules"])
    refused = client.put(SUPPORT, json=body, headers=registry)
    assert refused.status_code == 403 and "retention:run" in refused.get_json()["error"]["message"]
    assert _body(client, registry)[1] == etag


def test_retiring_or_creating_with_rules_needs_retention_run_and_other_edits_do_not(client, make_key) -> None:  # type: ignore[no-untyped-def]
    registry = {**bearer(make_key("registry:read", "registry:write")), "If-Match": "*"}
    assert client.delete(SUPPORT, headers=registry).status_code == 403  # retiring stops its rules
    ruled = minimal_activity(slug="ruled")
    ruled["retention"]["rules"] = [
        {"system": "helsedata-support", "table": "support_enquiries", "period": "P1D", "action": "delete"}
    ]
    assert client.post("/api/v1/activities", json=ruled, headers=registry).status_code == 403
    assert client.post("/api/v1/activities", json=minimal_activity(), headers=registry).status_code == 201
    # an edit that leaves the rules as they are (a note on a rule is words, not a change) passes
    body, __ = _body(client, registry)
    body["name"]["en"] = "Support enquiries (renamed)"
    body["retention"]["rules"][0]["note"] = "Reviewed by the DPO"
    edited = client.put(SUPPORT, json=body, headers=registry)
    assert edited.status_code == 200 and "pending_rule_change" not in edited.get_json()
    assert edited.get_json()["name"]["en"] == "Support enquiries (renamed)"


def test_with_retention_run_the_old_rule_applies_until_a_dry_run_is_applied(
    app, client, make_key, demo
) -> None:  # type: ignore[no-untyped-def]
    dpo = {
        **bearer(make_key("registry:read", "registry:write", "retention:read", "retention:run")),
        "If-Match": "*",
    }
    young = _young(_support_rows(demo))
    body, __ = _body(client, dpo)
    body["name"]["en"] = "Support enquiries (renamed)"
    proposed = client.put(SUPPORT, json=_shorten(body), headers=dpo)
    assert proposed.status_code == 202, proposed.get_json()
    written = proposed.get_json()
    change = written["pending_rule_change"]
    assert change["status"] == "pending" and change["rules"][0]["period"] == "P1D"
    # the rest of the edit is saved; the record keeps the rule in force
    assert written["name"]["en"] == "Support enquiries (renamed)"
    assert written["retention"]["rules"][0]["period"] == "P3M"
    rules = client.get("/api/v1/retention/rules", headers=dpo).get_json()
    assert {r["period"] for r in rules if r["activity"] == "support"} == {"P3M"}
    _run_the_schedulers_jobs(app)
    assert young <= set(_support_rows(demo)), "the pending rule ran before it was applied"

    apply = f"{CHANGES}/{change['id']}/apply"
    early = client.post(apply, json={}, headers=dpo)
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "dry_run_needed"
    dry = client.post(f"{CHANGES}/{change['id']}/dry-run", json={}, headers=dpo)
    assert dry.status_code == 200, dry.get_json()
    [result] = dry.get_json()["dry_run_result"]
    assert result["period"] == "P1D" and result["error"] is None
    assert result["acted"] >= len(young) and result["acted"] + result["held"] == result["candidates"]
    assert young <= set(_support_rows(demo)), "a dry run touched data"

    # an edit after the dry run makes it stale: the figures may no longer be what the rule will do
    body, __ = _body(client, dpo)
    body["name"]["en"] = "Support enquiries"
    assert client.put(SUPPORT, json=body, headers=dpo).status_code == 200
    assert client.post(apply, json={}, headers=dpo).status_code == 409
    assert client.post(f"{CHANGES}/{change['id']}/dry-run", json={}, headers=dpo).status_code == 200
    applied = client.post(apply, json={}, headers=dpo)
    assert applied.status_code == 200 and applied.get_json()["status"] == "applied"
    assert _body(client, dpo)[0]["retention"]["rules"][0]["period"] == "P1D"
    _run_the_schedulers_jobs(app)
    assert not young & set(_support_rows(demo)), "the applied rule did not run"

    steps = [a for a in _actions(app) if a in ("activity.rule_change", "activity.update") or (
        a.startswith("rule_change.") and a != "rule_change.load")]  # fmt: skip
    assert steps == [
        "activity.update",
        "rule_change.propose",
        "rule_change.dry_run",
        "activity.update",
        "rule_change.dry_run",
        "activity.rule_change",
        "rule_change.apply",
    ]


def test_a_rule_change_can_be_discarded_or_replaced_and_then_not_applied(client, make_key) -> None:  # type: ignore[no-untyped-def]
    dpo = {
        **bearer(make_key("registry:read", "registry:write", "retention:read", "retention:run")),
        "If-Match": "*",
    }
    reader = bearer(make_key("retention:read"))
    body, __ = _body(client, dpo)
    first = client.put(SUPPORT, json=_shorten(body), headers=dpo).get_json()["pending_rule_change"]
    body["retention"]["rules"][0]["period"] = "P2D"
    second = client.put(SUPPORT, json=body, headers=dpo).get_json()["pending_rule_change"]
    listed = client.get(f"{CHANGES}?activity=support", headers=reader).get_json()
    assert [(c["id"], c["status"]) for c in listed] == [
        (second["id"], "pending"),
        (first["id"], "superseded"),
    ]
    # only retention:run may dry-run, apply or discard
    assert client.post(f"{CHANGES}/{second['id']}/discard", json={}, headers=reader).status_code == 403
    discarded = client.post(f"{CHANGES}/{second['id']}/discard", json={}, headers=dpo)
    assert discarded.status_code == 200 and discarded.get_json()["status"] == "discarded"
    for change in (first, second):
        closed = client.post(f"{CHANGES}/{change['id']}/apply", json={}, headers=dpo)
        assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "rule_change_closed"
    assert client.post(f"{CHANGES}/999999/dry-run", json={}, headers=dpo).status_code == 404
    assert _body(client, dpo)[0]["retention"]["rules"][0]["period"] == "P3M"


def test_a_rule_that_fails_its_dry_run_cannot_be_applied(client, make_key, demo) -> None:  # type: ignore[no-untyped-def]
    dpo = {
        **bearer(make_key("registry:read", "registry:write", "retention:read", "retention:run")),
        "If-Match": "*",
    }
    body, __ = _body(client, dpo)
    body["retention"]["rules"][0]["anchor"] = "no_such_column"
    change = client.put(SUPPORT, json=body, headers=dpo).get_json()["pending_rule_change"]
    dry = client.post(f"{CHANGES}/{change['id']}/dry-run", json={}, headers=dpo).get_json()
    assert dry["dry_run_result"][0]["error"]
    refused = client.post(f"{CHANGES}/{change['id']}/apply", json={}, headers=dpo)
    assert refused.status_code == 409 and "no_such_column" in refused.get_json()["error"]["message"]


def test_reviving_a_retired_activity_brings_its_rules_back_only_through_a_rule_change(
    app, client, make_key
) -> None:  # type: ignore[no-untyped-def]
    dpo = {
        **bearer(make_key("registry:read", "registry:write", "retention:read", "retention:run")),
        "If-Match": "*",
    }
    registry = {**bearer(make_key("registry:read", "registry:write")), "If-Match": "*"}
    assert client.delete(SUPPORT, headers=dpo).status_code == 200  # stops its rules at once: deletes nothing
    assert "rule_change.retire" in _actions(app)
    body, __ = _body(client, registry)
    assert body["retention"]["rules"], "a retired activity keeps its rules on record"
    body["status"] = "active"
    assert client.put(SUPPORT, json=body, headers=registry).status_code == 403
    revived = client.put(SUPPORT, json=body, headers=dpo)
    assert revived.status_code == 202 and revived.get_json()["status"] == "active"
    assert revived.get_json()["retention"]["rules"] == []  # none run until the change is applied
    rules = client.get("/api/v1/retention/rules", headers=dpo).get_json()
    assert not [r for r in rules if r["activity"] == "support"]


def test_an_operators_policy_load_applies_a_rule_change_and_prints_its_dry_run(make_app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    policies = tmp_path / "policies"
    shutil.copytree(Path(__file__).resolve().parents[2] / "policies", policies)
    path = policies / "activities" / "helsedata.yaml"
    shipped = "table: support_enquiries, anchor: answered_at, period: P3M"
    assert shipped in path.read_text()
    path.write_text(path.read_text().replace(shipped, shipped.replace("P3M", "P2M")))
    app = make_app("loaded", PRIVACY_POLICIES=str(policies))
    create_demo_data(
        instance_path=Path(app.config["PRIVACY_INSTANCE_PATH"]), seed=5, people=20, anchor=date.today()
    )
    before = _support_rows(Path(app.config["PRIVACY_INSTANCE_PATH"]))
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "retention rules changed (in force now): support" in result.output
    assert "support:helsedata-support.support_enquiries:delete: after P2M, due" in result.output
    assert _support_rows(Path(app.config["PRIVACY_INSTANCE_PATH"])) == before  # a dry run: nothing touched
    assert "rule_change.load" in _actions(app)


def test_an_officer_reviving_an_activity_on_the_edit_page_leaves_its_rules_waiting(client, login) -> None:  # type: ignore[no-untyped-def]
    from tests.ropa.test_views import _edit_form

    login("officer")  # the officer role may run retention: the change is proposed, not refused
    for status in ("retired", "active"):
        form = _edit_form(client, "support")
        form["status"] = status
        saved = client.post("/officer/activities/support/edit?lang=nb", data=form, follow_redirects=True)
        assert saved.status_code == 200, saved.get_data(as_text=True)
    page = saved.get_data(as_text=True)
    assert "venter på en prøvekjøring" in page  # the nb text of the pending rule change
    rules = client.get("/api/v1/retention/rules").get_json()
    assert not [r for r in rules if r["activity"] == "support"]
    changes = client.get(f"{CHANGES}?activity=support&status=pending").get_json()
    assert changes[0]["rules"][0]["period"] == "P3M"
