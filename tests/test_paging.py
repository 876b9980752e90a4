"""Every list of the API is paged one way (issue 20, item 1): `?page=` and `?per_page=`, answered with
`X-Total-Count` and an RFC 8288 `Link` header; a client that follows `rel="next"` gets every item once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests_support import bearer

ALL_READ = (
    "registry:read",
    "audit:read",
    "consent:read",
    "requests:read",
    "requests:manage",
    "retention:read",
    "retention:run",
    "breaches:manage",
)
LINK = re.compile(r'<([^>]+)>; rel="(\w+)"')


def _links(header: str) -> dict[str, str]:
    return {rel: url for url, rel in LINK.findall(header)}


def _items(body: Any) -> list[Any]:
    return body if isinstance(body, list) else body["items"]


def _lists(spec: dict[str, Any]) -> list[str]:
    """The paths of the list operations the description names (no path parameters)."""
    found = []
    for path, item in spec["paths"].items():
        answer = item.get("get", {}).get("responses", {}).get("200", {})
        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        listed = schema.get("type") == "array" or "X-Total-Count" in answer.get("headers", {})
        if listed and "{" not in path:
            found.append(path)
    return found


def test_every_list_is_described_with_the_one_scheme(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/openapi.json").get_json()
    for path, item in spec["paths"].items():
        operation = item.get("get")
        if operation is None:
            continue
        answer = operation["responses"].get("200", {})
        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") != "array" and "X-Total-Count" not in answer.get("headers", {}):
            continue
        query = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        assert {"page", "per_page"} <= query, path
        assert {"X-Total-Count", "Link"} <= set(answer["headers"]), path
    assert len(_lists(spec)) >= 19


def test_following_next_gives_every_item_once(client, make_key) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(make_key(*ALL_READ))
    spec = client.get("/api/openapi.json").get_json()
    walked = 0
    for path in _lists(spec):
        whole = client.get(f"{path}?per_page=1000", headers=headers)
        assert whole.status_code == 200, path
        total = int(whole.headers["X-Total-Count"])
        assert len(_items(whole.get_json())) == total, path
        seen: list[Any] = []
        url = f"{path}?per_page=2"
        while url:
            answer = client.get(url, headers=headers)
            assert answer.status_code == 200, url
            assert int(answer.headers["X-Total-Count"]) == total, url
            page = _items(answer.get_json())
            assert len(page) <= 2
            seen.extend(page)
            links = _links(answer.headers["Link"])
            assert {"first", "last"} <= set(links), url
            url = links.get("next", "").replace("http://localhost", "")
        assert seen == _items(whole.get_json()), path
        walked += total > 2
    assert walked >= 5  # lists with more than one page were walked: organisations, audit, dpias, rules…


def test_the_requests_queue_is_paged_in_the_database(client, make_key) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(make_key("requests:read", "requests:write"))
    for n in range(5):
        body = {"type": "access", "subject": {"email": f"person{n}@example.no"}}
        assert client.post("/api/v1/requests", json=body, headers=headers).status_code == 201
    second = client.get("/api/v1/requests?page=2&per_page=2", headers=headers)
    assert second.headers["X-Total-Count"] == "5"
    assert len(second.get_json()) == 2
    links = _links(second.headers["Link"])
    assert links["prev"].endswith("page=1&per_page=2")
    assert links["next"].endswith("page=3&per_page=2")
    assert links["last"].endswith("page=3&per_page=2")
    last = client.get("/api/v1/requests?page=3&per_page=2", headers=headers)
    assert len(last.get_json()) == 1 and "next" not in _links(last.headers["Link"])


def test_filters_stay_in_the_links(client, make_key) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(make_key("registry:read"))
    answer = client.get("/api/v1/activities?service=helsedata&per_page=1", headers=headers)
    links = _links(answer.headers["Link"])
    assert "service=helsedata" in links["next"] and "page=2" in links["next"]
    assert int(answer.headers["X-Total-Count"]) == answer.get_json()["total"] > 1


@pytest.mark.parametrize("query", ["page=0", "per_page=0", "per_page=1001", "page=x"])
def test_a_page_out_of_range_is_refused(client, make_key, query: str) -> None:  # type: ignore[no-untyped-def]
    answer = client.get(f"/api/v1/breaches?{query}", headers=bearer(make_key("breaches:manage")))
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "validation_error"
    assert set(answer.get_json()["error"]["fields"]) <= {"page", "per_page"}


def test_a_caller_without_access_hears_that_first(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/breaches?page=0").status_code == 401
    assert client.get("/api/v1/activities?page=0").status_code == 401


def test_the_audit_trail_keeps_its_old_limit(client, make_key) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(make_key("audit:read"))
    old = client.get("/api/v1/audit?limit=3", headers=headers)
    assert len(old.get_json()["items"]) == 3 and old.get_json()["per_page"] == 3
    assert "per_page=3" in _links(old.headers["Link"])["next"]
    assert "limit=" not in old.headers["Link"]


def test_a_link_is_percent_encoded_whatever_the_path_holds(app) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.http import page_links

    with app.test_request_context('/api/v1/requests/x>; rel="next"/withholdings?status=a b'):
        links = page_links(1, 2, 5)
    assert _links(links) == {
        "first": "/api/v1/requests/x%3E%3B%20rel%3D%22next%22/withholdings?status=a+b&page=1&per_page=2",
        "next": "/api/v1/requests/x%3E%3B%20rel%3D%22next%22/withholdings?status=a+b&page=2&per_page=2",
        "last": "/api/v1/requests/x%3E%3B%20rel%3D%22next%22/withholdings?status=a+b&page=3&per_page=2",
    }
