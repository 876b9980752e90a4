"""/api/v1/activities, versions, the error envelope and what bad input does (and does not) write."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlmodel import Session
from tests_support import bearer, minimal_activity

from privacy_service.audit import AuditEvent
from privacy_service.ropa.models import ActivityVersion, ProcessingActivity


@pytest.fixture
def writer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("registry:read", "registry:write", name="registry-editor"))


def _counts(app: Flask) -> tuple[int, int, int]:
    with Session(app.extensions["engine"]) as s:
        return (
            s.scalar(select(func.count()).select_from(ProcessingActivity)),
            s.scalar(select(func.count()).select_from(ActivityVersion)),
            s.scalar(select(func.count()).select_from(AuditEvent)),
        )


def test_list_filters_by_legal_basis_controller_special_categories_and_status(client, writer) -> None:  # type: ignore[no-untyped-def]
    everything = client.get("/api/v1/activities?per_page=1000", headers=writer).get_json()
    assert everything["total"] == len(everything["items"]) >= 10
    consent = client.get("/api/v1/activities?legal_basis=6(1)(a)&per_page=1000", headers=writer).get_json()
    assert "surveys" in {a["slug"] for a in consent["items"]}
    assert all(a["legal_basis"] == "6(1)(a)" for a in consent["items"])
    helsedata = client.get("/api/v1/activities?service=helsedata", headers=writer).get_json()
    assert {"accounts", "applications", "support", "surveys"} <= {a["slug"] for a in helsedata["items"]}
    special = client.get(
        "/api/v1/activities?special_categories=true&per_page=1000", headers=writer
    ).get_json()
    assert all(a["special_categories"] for a in special["items"])
    bad = client.get("/api/v1/activities?legal_basis=7(1)", headers=writer)
    assert bad.status_code == 422 and "legal_basis" in bad.get_json()["error"]["fields"]


def test_an_activity_carries_every_field_its_version_and_the_rights(client, writer) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/activities/surveys", headers=writer)
    body = response.get_json()
    assert response.headers["ETag"] == f'W/"v{body["version"]}"'
    assert body["legal_basis"] == "6(1)(a)" and body["consent_purpose"] == "surveys"
    for field in (
        "controller",
        "purposes",
        "data_subjects",
        "data_categories",
        "retention",
        "security_measures",
        "processors",
        "transfers",
        "recipients",
        "dpia",
        "updated_by",
        "updated_at",
    ):
        assert field in body, field
    rights = {r["right"]: r["applies"] for r in body["rights"]}
    assert rights["consent_withdrawal"] and rights["portability"] and not rights["objection"]


def test_create_update_and_retire_keep_every_version(app: Flask, client, writer) -> None:  # type: ignore[no-untyped-def]
    created = client.post("/api/v1/activities", json=minimal_activity(), headers=writer)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["version"] == 1
    changed = minimal_activity(
        legal_basis="6(1)(f)", national_basis=None, legitimate_interest={"nb": "Sikkerhet", "en": "Security"}
    )
    updated = client.put(
        "/api/v1/activities/test-activity", json=changed, headers={**writer, "If-Match": 'W/"v1"'}
    )
    assert updated.status_code == 200, updated.get_json()
    assert updated.get_json()["version"] == 2
    retired = client.delete("/api/v1/activities/test-activity", headers={**writer, "If-Match": 'W/"v2"'})
    assert retired.get_json()["status"] == "retired" and retired.get_json()["version"] == 3
    # A retired activity stays readable, with its history.
    assert client.get("/api/v1/activities/test-activity", headers=writer).get_json()["status"] == "retired"
    versions = client.get("/api/v1/activities/test-activity/versions", headers=writer).get_json()["versions"]
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert [v["change"] for v in versions] == ["retire", "update", "create"]
    assert all(v["changed_by"] == "api_client:registry-editor" for v in versions)
    v2_changes = {c["field"]: c for c in versions[1]["changes"]}
    assert (
        v2_changes["legal_basis"]["before"] == "6(1)(e)" and v2_changes["legal_basis"]["after"] == "6(1)(f)"
    )
    assert versions[2]["data"]["legal_basis"] == "6(1)(e)"
    assert (
        client.delete("/api/v1/activities/test-activity", headers={**writer, "If-Match": "*"}).status_code
        == 409
    )


def test_saving_an_unchanged_record_makes_no_new_version(app: Flask, client, writer) -> None:  # type: ignore[no-untyped-def]
    current = client.get("/api/v1/activities/accounts", headers=writer).get_json()
    before = _counts(app)
    record = {
        k: v
        for k, v in current.items()
        if k not in ("version", "created_at", "updated_at", "updated_by", "rights")
    }
    response = client.put("/api/v1/activities/accounts", json=record, headers={**writer, "If-Match": "*"})
    assert response.status_code == 200 and response.get_json()["version"] == current["version"]
    assert _counts(app) == before


def test_a_stale_if_match_is_refused_with_412(client, writer) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/activities", json=minimal_activity(), headers=writer)
    client.put(
        "/api/v1/activities/test-activity",
        json=minimal_activity(owner="Avdeling A"),
        headers={**writer, "If-Match": 'W/"v1"'},
    )
    stale = client.put(
        "/api/v1/activities/test-activity",
        json=minimal_activity(owner="Avdeling B"),
        headers={**writer, "If-Match": 'W/"v1"'},
    )
    assert stale.status_code == 412
    assert stale.get_json()["error"]["code"] == "version_conflict"


def test_a_change_without_if_match_is_refused_with_428_and_changes_nothing(client, writer) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/activities", json=minimal_activity(), headers=writer)
    blind = client.put("/api/v1/activities/test-activity", json=minimal_activity(owner="B"), headers=writer)
    assert blind.status_code == 428
    assert blind.get_json()["error"]["code"] == "precondition_required"
    assert "If-Match" in blind.get_json()["error"]["fields"]
    assert client.delete("/api/v1/activities/test-activity", headers=writer).status_code == 428
    kept = client.get("/api/v1/activities/test-activity", headers=writer)
    assert kept.get_json()["version"] == 1 and kept.get_json()["status"] != "retired"
    assert kept.headers["ETag"] == 'W/"v1"'
    # a missing activity is a 404 before anything else; `*` is an explicit "whatever it is now"
    assert (
        client.put("/api/v1/activities/nope", json=minimal_activity(slug="nope"), headers=writer).status_code
        == 404
    )
    stale = client.delete("/api/v1/activities/test-activity", headers={**writer, "If-Match": 'W/"v7"'})
    assert stale.status_code == 412 and stale.get_json()["error"]["code"] == "version_conflict"
    fresh = client.delete(
        "/api/v1/activities/test-activity", headers={**writer, "If-Match": kept.headers["ETag"]}
    )
    assert fresh.status_code == 200 and fresh.get_json()["status"] == "retired"


@pytest.mark.parametrize(
    ("case", "body", "field"),
    [
        ("unknown legal basis", {"legal_basis": "6(1)(x)"}, "legal_basis"),
        ("unknown controller", {"controller": "nobody"}, "controller"),
        (
            "special data without Art. 9",
            {"data_categories": [{"key": "h", "name": {"nb": "H", "en": "H"}, "special": True}]},
            "art9_condition",
        ),
        (
            "consent purpose is not the slug",
            {"legal_basis": "6(1)(a)", "consent_purpose": "other"},
            "consent_purpose",
        ),
        (
            "processor of an unknown organisation",
            {"processors": [{"organisation": "ghost", "role": "processor", "agreement_ref": "DBA-1"}]},
            "processors",
        ),
        (
            "a retention period too long to count back from today",
            {"retention": {"text": {"nb": "T", "en": "T"}, "period": "P99999999D"}},
            "retention",
        ),
    ],
)
def test_bad_records_get_field_messages_and_write_nothing(app, client, writer, case, body, field) -> None:  # type: ignore[no-untyped-def]
    before = _counts(app)
    response = client.post("/api/v1/activities", json=minimal_activity(**body), headers=writer)
    assert response.status_code == 422, case
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert field in error["fields"], error
    assert _counts(app) == before


def test_an_oversize_body_gets_413(app: Flask, client, writer) -> None:  # type: ignore[no-untyped-def]
    app.config["MAX_CONTENT_LENGTH"] = 2000
    before = _counts(app)
    record = minimal_activity(description={"nb": "x" * 5000, "en": "y"})
    response = client.post("/api/v1/activities", json=record, headers=writer)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
    assert _counts(app) == before


def test_a_body_that_is_not_json_gets_415(client, writer) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/activities", data="slug=x", headers={**writer, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_malformed_json_gets_400(client, writer) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/activities", data="{not json", headers={**writer, "Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert "error" in response.get_json()


def test_a_failure_inside_the_transaction_rolls_back_the_change_and_its_audit_event(
    app: Flask, client, writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import privacy_service.ropa.service as ropa_service

    before = _counts(app)

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ropa_service, "record_event", broken)
    response = client.post("/api/v1/activities", json=minimal_activity(), headers=writer)
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "disk full" not in response.get_data(as_text=True)
    assert _counts(app) == before


def test_unknown_activity_is_a_404_envelope(client, writer) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/activities/no-such-thing", headers=writer)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_openapi_describes_the_api_from_the_schemas(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {
        "/api/v1/activities",
        "/api/v1/activities/{slug}",
        "/api/v1/activities/{slug}/versions",
        "/api/v1/ropa",
        "/api/v1/audit/verify",
    } <= set(spec["paths"])
    schemas = spec["components"]["schemas"]
    assert "legal_basis" in schemas["Activity"]["properties"]
    assert client.get("/api/docs").status_code == 200
    with client.get("/api/docs/assets/swagger-ui-bundle.js") as assets:
        assert assets.status_code == 200 and assets.mimetype == "text/javascript"


def test_health_and_readiness(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["migrations"] == "current"


def test_organisations_can_be_updated_and_bad_org_numbers_are_refused(app: Flask, client, writer) -> None:  # type: ignore[no-untyped-def]
    org = {
        "slug": "kommune",
        "name": {"nb": "Oslo kommune", "en": "City of Oslo"},
        "org_number": "958 935 420",
        "role": "joint_controller",
        "email": "postmottak@oslo.kommune.no",
    }
    created = client.put("/api/v1/organisations/kommune", json=org, headers=writer)
    assert created.status_code == 200, created.get_json()
    assert created.get_json()["org_number"] == "958935420"
    before = _counts(app)
    bad = client.put("/api/v1/organisations/kommune", json={**org, "org_number": "958935421"}, headers=writer)
    assert bad.status_code == 422
    assert "mod-11" in bad.get_json()["error"]["fields"]["org_number"][0]
    assert _counts(app) == before


def test_a_name_longer_than_its_column_is_refused(app: Flask, client, writer) -> None:  # type: ignore[no-untyped-def]
    # found by schemathesis: a 5,000-character English name passed the schema, and PostgreSQL's varchar(300)
    # answered 500 (SQLite does not enforce lengths)
    org = {
        "slug": "kommune",
        "name": {"nb": "Oslo kommune", "en": "x" * 301},
        "org_number": None,
        "role": "processor",
    }
    before = _counts(app)
    answer = client.put("/api/v1/organisations/kommune", json=org, headers=writer)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"]["name"]["en"] == [
        "Must not be empty, and at most 300 characters."
    ]
    activity = minimal_activity(name={"nb": "x" * 301, "en": "Surveys"})
    answer = client.post("/api/v1/activities", json=activity, headers=writer)
    assert answer.status_code == 422 and "nb" in answer.get_json()["error"]["fields"]["name"]
    assert _counts(app) == before


def test_an_export_filter_with_control_characters_is_refused(client, writer) -> None:  # type: ignore[no-untyped-def]
    # found by schemathesis: the service name went into the Content-Disposition header and broke it (500)
    response = client.get("/api/v1/ropa?service=%2B%1B%F0%B2%B7%97", headers=writer)
    assert response.status_code == 422 and "service" in response.get_json()["error"]["fields"]
    fine = client.get("/api/v1/ropa?service=helsedata&format=csv", headers=writer)
    assert fine.status_code == 200 and 'filename="' in fine.headers["Content-Disposition"]


def test_times_in_answers_carry_their_offset_on_every_engine(client, writer) -> None:  # type: ignore[no-untyped-def]
    # found by schemathesis: SQLite read timestamps back without an offset, which is not an RFC 3339 date-time
    items = client.get("/api/v1/activities?per_page=5", headers=writer).get_json()["items"]
    assert items and all(i["updated_at"].endswith("+00:00") for i in items)


def test_a_method_a_path_does_not_take_gets_405_with_the_allowed_methods(client) -> None:  # type: ignore[no-untyped-def]
    response = client.open("/api/v1/activities", method="TRACE")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    page = client.open("/login", method="PUT")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]


@pytest.mark.parametrize(
    ("case", "method", "path", "body"),
    [
        (
            "in a JSON body",
            "POST",
            "/api/v1/activities",
            minimal_activity(description={"nb": "a\x00b", "en": "x"}),
        ),
        ("in a query", "GET", "/api/v1/activities?q=a%00b", None),
        ("in a path", "GET", "/api/v1/activities/a%00b", None),
    ],
)
def test_a_nul_character_is_refused_before_it_reaches_the_database(
    app, client, writer, case, method, path, body
) -> None:  # type: ignore[no-untyped-def]
    # PostgreSQL cannot store U+0000 in text or JSON: it used to fail inside the transaction with a 500.
    before = _counts(app)
    response = client.open(path, method=method, json=body, headers=writer)
    assert response.status_code == 400, case
    assert "U+0000" in response.get_json()["error"]["message"]
    assert _counts(app) == before


def test_numbers_beyond_the_database_integers_are_refused_not_500(client, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("registry:read", "audit:read", "consent:write", "retention:read"))
    assert client.delete("/api/v1/webhooks/5588025060", headers=key).status_code == 404
    assert client.get("/api/v1/retention/runs/2147483648", headers=key).status_code == 404
    assert client.get("/api/v1/activities?page=8044572046207002624", headers=key).status_code == 422
    assert client.get("/api/v1/audit?after_seq=4372931871", headers=key).status_code == 422
