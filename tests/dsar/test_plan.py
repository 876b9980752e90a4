"""The plan: per activity, whether the right applies and under which article, and what the data map finds."""

from __future__ import annotations

from typing import Any

import pytest
from tests_support import bearer

from privacy_service import notify
from privacy_service.audit import Actor
from privacy_service.db import transaction
from privacy_service.dsar import rules
from privacy_service.retention.holds import set_hold
from privacy_service.ropa.models import ProcessingActivity
from privacy_service.ropa.service import Activity

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "national_id": "15838512671"}


def _activity(basis: str, **extra: Any) -> Activity:
    record = {"name": {"nb": "x", "en": "x"}, "controller": "hdir", "legal_basis": basis, **extra}
    return Activity.of(
        ProcessingActivity(slug="x", service="helsedata", status="active", version=1, data=record)
    )


BEVARES = {"disposal": {"decision": "Bevares"}}


@pytest.mark.parametrize(
    ("right", "activity", "applies", "article", "refusal"),
    [
        ("access", _activity("6(1)(e)"), True, "Art. 15", False),
        ("access", _activity("6(1)(c)", **BEVARES), True, "Art. 15", False),
        ("rectification", _activity("6(1)(e)"), True, "Art. 16", False),
        # Personal Data Act § 17 turns on the purpose, not on Art. 9(2)(j), and is the officer's to invoke
        ("rectification", _activity("6(1)(e)", art9_condition="9(2)(j)"), True, "Art. 16", False),
        ("rectification", _activity("6(1)(e)", art89_purposes=["research"]), True, "Art. 16", False),
        ("erasure", _activity("6(1)(a)"), True, "Art. 17", False),
        ("erasure", _activity("6(1)(b)"), True, "Art. 17", False),
        ("erasure", _activity("6(1)(f)"), True, "Art. 17", False),
        ("erasure", _activity("6(1)(e)"), True, "Art. 17(1)(a), 17(3)(b)", False),
        ("erasure", _activity("6(1)(c)"), False, "Art. 17(3)(b)", True),
        ("erasure", _activity("6(1)(e)", **BEVARES), False, "Art. 17(3)(d)", True),
        # several bases: the legal obligation among them keeps the data (the most restrictive wins)
        ("erasure", _activity("6(1)(a)", legal_bases=["6(1)(a)", "6(1)(c)"]), False, "Art. 17(3)(b)", True),
        ("restriction", _activity("6(1)(c)"), True, "Art. 18", False),
        ("objection", _activity("6(1)(e)"), True, "Art. 21", False),
        ("objection", _activity("6(1)(f)"), True, "Art. 21", False),
        ("objection", _activity("6(1)(a)"), False, "Art. 21", False),
        ("objection", _activity("6(1)(c)"), False, "Art. 21", False),
        ("portability", _activity("6(1)(a)"), True, "Art. 20", False),
        ("portability", _activity("6(1)(b)"), True, "Art. 20", False),
        ("portability", _activity("6(1)(e)"), False, "Art. 20", False),
        ("portability", _activity("6(1)(c)"), False, "Art. 20", False),
        ("consent_withdrawal", _activity("6(1)(a)"), True, "Art. 7(3)", False),
        ("consent_withdrawal", _activity("6(1)(e)"), False, "Art. 7(3)", False),
        ("consent_withdrawal", _activity("6(1)(e)", art9_condition="9(2)(a)"), True, "Art. 7(3)", False),
    ],
)
def test_right_by_legal_basis(right, activity, applies, article, refusal) -> None:  # type: ignore[no-untyped-def]
    decision = rules.decide(right, activity)
    assert (decision.applies, decision.article, decision.refusal) == (applies, article, refusal)
    assert decision.reason


@pytest.mark.parametrize(
    ("applies", "refusal", "mapped", "rows", "held", "right", "expected"),
    [
        (True, False, True, 0, 0, "erasure", "no_data"),
        (False, True, True, 0, 0, "erasure", "no_data"),  # nothing to refuse
        (True, False, True, 3, 0, "erasure", "pending"),
        (True, False, True, 3, 1, "erasure", "partial"),  # a hold keeps one row
        (True, False, True, 3, 3, "erasure", "refused"),  # holds keep everything
        (True, False, True, 3, 3, "access", "pending"),  # holds do not limit access
        (False, True, True, 2, 0, "erasure", "refused"),
        (False, False, True, 2, 0, "portability", "not_applicable"),
        (True, False, False, 0, 0, "access", "pending"),  # not in the data map: checked by hand
        (False, False, False, 0, 0, "objection", "not_applicable"),
    ],
)
def test_outcome_from_decision_and_data(applies, refusal, mapped, rows, held, right, expected) -> None:  # type: ignore[no-untyped-def]
    decision = rules.Decision(applies, "Art. x", "why", refusal=refusal)
    assert rules.outcome(decision, mapped=mapped, rows=rows, held=held, right=right) == expected


def _verified_request(client, make_key, **body: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    key = bearer(make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage"))
    response = client.post(
        "/api/v1/requests", json={"subject": KARI, "verified_by": "ID-porten", **body}, headers=key
    )
    assert response.status_code == 201, response.get_json()
    return {"ref": response.get_json()["reference"], "key": key}


def _deliver(app) -> None:  # type: ignore[no-untyped-def]
    counts = notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))
    assert counts["failed"] == 0 and counts["retrying"] == 0, counts


def _plan(client, made: dict[str, Any]) -> dict[str, dict[str, Any]]:  # type: ignore[no-untyped-def]
    body = client.get(f"/api/v1/requests/{made['ref']}", headers=made["key"]).get_json()
    return {o["activity"]: {**o, "status": body["status"]} for o in body["outcomes"]}


def test_karis_erasure_plan_keeps_the_archived_application(app, client, make_key, demo) -> None:  # type: ignore[no-untyped-def]
    scope = ["accounts", "applications", "support", "surveys", "website-visits"]
    made = _verified_request(client, make_key, type="erasure", activities=scope)
    _deliver(app)  # the plan is an outbox task queued by the verification
    plan = _plan(client, made)
    assert plan["accounts"]["status"] == "awaiting_decision"
    assert plan["accounts"]["outcome"] == "pending" and plan["accounts"]["records"] == 1
    assert plan["applications"]["outcome"] == "refused"
    assert plan["applications"]["legal_ground"] == "Art. 17(3)(d)" and plan["applications"]["records"] == 1
    assert plan["surveys"]["outcome"] == "pending" and plan["surveys"]["legal_ground"] == "Art. 17"
    assert plan["website-visits"]["records"] is None and plan["website-visits"]["outcome"] == "not_checked"
    assert plan["support"]["tables"][0]["strategy"] in ("delete", "mask")


def test_a_legal_hold_makes_erasure_partial_and_names_its_basis(app, client, make_key, demo) -> None:  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        hold = set_hold(
            session,
            data={"kind": "legal", "scope": "records", "system": "helsedata-support",
                  "table_name": "support_enquiries", "record_keys": ["1"], "basis": "Complaint case 26/1234"},
            actor=Actor("user", "dpo"),
        )  # fmt: skip
    made = _verified_request(client, make_key, type="erasure", activities=["support"])
    _deliver(app)
    support = _plan(client, made)["support"]
    assert support["held"] == 1 and support["holds"] == [
        {"id": hold.id, "kind": "legal", "basis": "Complaint case 26/1234", "public_text": None}
    ]  # the preview is for officers: it names the basis; the letter takes only the public text
    assert support["outcome"] in ("partial", "refused")
    assert support["outcome"] == ("refused" if support["records"] == 1 else "partial")


def test_objection_and_portability_follow_the_legal_basis(app, client, make_key, demo) -> None:  # type: ignore[no-untyped-def]
    objection = _verified_request(client, make_key, type="objection", activities=["accounts", "surveys"])
    portability = _verified_request(client, make_key, type="portability", activities=["accounts", "surveys"])
    _deliver(app)
    o, p = _plan(client, objection), _plan(client, portability)
    assert o["accounts"]["outcome"] == "pending" and o["surveys"]["outcome"] == "not_applicable"
    assert "withdraw" in o["surveys"]["reason"]
    assert p["accounts"]["outcome"] == "not_applicable" and "20(3)" in p["accounts"]["reason"]
    assert p["surveys"]["outcome"] == "pending"


def test_an_unknown_person_gets_no_data_and_replanning_needs_an_open_request(
    app, client, make_key, demo
) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage"))
    ref = client.post("/api/v1/requests", headers=key, json={
        "type": "access", "subject": {"email": "nobody@example.no"}, "verified_by": "HelseID",
        "activities": ["accounts", "support"]}).get_json()["reference"]  # fmt: skip
    replanned = client.post(f"/api/v1/requests/{ref}/plan", headers=key, json={})
    assert replanned.status_code == 200, replanned.get_json()
    outcomes = {o["activity"]: o["outcome"] for o in replanned.get_json()["outcomes"]}
    assert outcomes == {"accounts": "no_data", "support": "no_data"}
    client.post(f"/api/v1/requests/{ref}/reject", headers=key, json={"ground": "excessive", "reason": "test"})
    assert client.post(f"/api/v1/requests/{ref}/plan", headers=key, json={}).status_code == 409
