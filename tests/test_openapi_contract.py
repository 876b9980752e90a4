"""The OpenAPI description says who may call each operation, every error it answers, and the headers of
the HTTP contract (issue 20, item 1), read from the same access rules the service enforces."""

from __future__ import annotations

from typing import Any

import pytest
from tests_support import bearer, minimal_activity

from privacy_service.security.access import rule_for

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def spec(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return client.get("/api/openapi.json").get_json()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, m, op) for path, item in spec["paths"].items() for m, op in item.items() if m in METHODS]


def test_every_operation_names_its_scheme_and_the_scope_it_enforces(app, spec) -> None:  # type: ignore[no-untyped-def]
    assert set(spec["components"]["securitySchemes"]) == {"apiKey", "officerSession"}
    assert spec["components"]["securitySchemes"]["apiKey"] == {
        **spec["components"]["securitySchemes"]["apiKey"],
        "type": "http",
        "scheme": "bearer",
    }
    adapter = app.url_map.bind("localhost")
    operations = _operations(spec)
    assert len(operations) > 80
    for path, method, operation in operations:
        flask_path = path.replace("{", "<").replace("}", ">")
        endpoint, _ = adapter.match(_sample(flask_path), method=method.upper())
        access = rule_for(app.view_functions[endpoint], method.upper())
        assert access is not None, path
        if access.public:
            assert operation["security"] == [], path
            continue
        schemes = {name for entry in operation["security"] for name in entry}
        expected = {name for name, on in (("apiKey", access.keys), ("officerSession", access.sessions)) if on}
        assert schemes == expected, (path, method)
        assert operation["x-required-scope"] == access.scope, (path, method)
        assert f"Scope: `{access.scope}`" in operation["description"], (path, method)


def _sample(flask_path: str) -> str:
    """A concrete path for a templated one, so the URL map names its endpoint."""
    out = []
    for part in flask_path.split("/"):
        out.append("1" if part.startswith("<") and part.endswith(">") else part)
    return "/".join(out)


def test_every_error_is_described_with_the_envelope(spec) -> None:  # type: ignore[no-untyped-def]
    assert "Error" in spec["components"]["schemas"]
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        expected = {"500", "401", "403"}
        if "{" in path:
            expected.add("404")
        if method != "get":
            expected.add("422")
        assert expected <= set(responses), (path, method, sorted(responses))
        for code in expected - {"422"}:
            assert responses[code]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }


def test_the_http_contract_headers_are_described(spec) -> None:  # type: ignore[no-untyped-def]
    def params(path: str, method: str) -> dict[str, dict[str, Any]]:
        return {
            p["name"]: p for p in spec["paths"][path][method].get("parameters", []) if p.get("in") == "header"
        }

    for path, method in [
        ("/api/v1/requests", "post"),
        ("/api/v1/breaches", "post"),
        ("/api/v1/activities", "post"),
        ("/api/v1/consents/{subject}/{purpose}", "put"),
    ]:
        assert params(path, method)["Idempotency-Key"]["required"] is False, path
        answered = next(r for c, r in spec["paths"][path][method]["responses"].items() if c.startswith("2"))
        assert "Idempotent-Replayed" in answered["headers"], path
    for method in ("put", "delete"):
        assert params("/api/v1/activities/{slug}", method)["If-Match"]["required"] is True
        assert {"412", "428"} <= set(spec["paths"]["/api/v1/activities/{slug}"][method]["responses"])
    assert params("/api/v1/consents/{subject}/{purpose}", "put")["If-Match"]["required"] is False
    assert "ETag" in spec["paths"]["/api/v1/activities/{slug}"]["get"]["responses"]["200"]["headers"]
    assert (
        "ETag" in spec["paths"]["/api/v1/consents/{subject}/{purpose}"]["get"]["responses"]["200"]["headers"]
    )
    for path in ("/api/v1/requests", "/api/v1/breaches", "/api/v1/activities"):
        assert "Location" in spec["paths"][path]["post"]["responses"]["201"]["headers"], path


def test_what_the_description_promises_is_answered(client, make_key) -> None:  # type: ignore[no-untyped-def]
    writer = bearer(make_key("registry:read", "registry:write", "requests:read", "requests:write"))
    made = client.post("/api/v1/activities", json=minimal_activity(slug="located"), headers=writer)
    assert made.status_code == 201 and made.headers["Location"].endswith("/api/v1/activities/located")
    assert client.get(made.headers["Location"], headers=writer).get_json()["slug"] == "located"
    subject = {"email": "kari.nordmann@example.no"}
    request = client.post("/api/v1/requests", json={"type": "access", "subject": subject}, headers=writer)
    assert request.status_code == 201
    assert (
        client.get(request.headers["Location"], headers=writer).get_json()["reference"]
        == (request.get_json()["reference"])
    )


def test_the_description_is_valid_openapi_3_1(spec) -> None:  # type: ignore[no-untyped-def]
    from openapi_spec_validator import validate

    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_every_json_body_has_an_example_that_its_schema_accepts(spec) -> None:  # type: ignore[no-untyped-def]
    from openapi_schema_validator import OAS31Validator

    bodies = 0
    for path, method, operation in _operations(spec):
        answers = [operation.get("requestBody", {}), *operation["responses"].values()]
        assert operation["responses"]["default"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }, (path, method)  # any error not named by its code has the envelope too
        for body in answers:
            content = body.get("content", {}).get("application/json")
            if content is None or "schema" not in content:
                continue
            bodies += 1
            assert "example" in content, (path, method)
            schema = {**content["schema"], "components": spec["components"]}
            problems = [e.message for e in OAS31Validator(schema).iter_errors(content["example"])]
            assert not problems, (path, method, problems[:3])
    assert bodies > 400


def test_the_examples_tell_a_developer_something(spec) -> None:  # type: ignore[no-untyped-def]
    """Kari's consent and request, the status a portal reads, the error a wrong key gets."""
    consent = spec["paths"]["/api/v1/consents/{subject}/{purpose}"]["put"]
    assert consent["requestBody"]["content"]["application/json"]["example"]["status"] == "given"
    answer = consent["responses"]["200"]["content"]["application/json"]["example"]
    assert answer["subject"] == "kari.nordmann@example.no" and answer["purpose"] == "surveys"
    assert answer["status"] == "given" and answer["since"].endswith("Z")
    created = spec["paths"]["/api/v1/requests"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["example"]["reference"] == "DSR-2026-000123"
    forbidden = spec["paths"]["/api/v1/breaches"]["get"]["responses"]["403"]["content"]["application/json"]
    assert forbidden["example"]["error"] == {
        "code": "forbidden",
        "message": "This needs the scope 'breaches:manage'.",
        "fields": {},
    }


def test_every_operation_has_a_summary_and_a_unique_operation_id(spec) -> None:  # type: ignore[no-untyped-def]
    ids = [operation["operationId"] for _, _, operation in _operations(spec)]
    assert len(ids) == len(set(ids))
    for path, method, operation in _operations(spec):
        assert operation.get("summary", "").strip(), (path, method)
        assert operation["operationId"].isidentifier(), (path, method)
