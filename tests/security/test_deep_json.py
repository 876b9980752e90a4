"""A JSON body nested deeper than any real one is refused with a 400 before anything parses it.

Parsed, 1,000 levels make json (or marshmallow) recurse until Python gives up: every such request, from
anyone, was a 500 with a traceback in the log, before authentication.
"""

from __future__ import annotations

import logging

import pytest
from tests_support import bearer

from privacy_service.http import MAX_JSON_DEPTH

WRITES = [
    ("post", "/api/v1/activities"),
    ("post", "/api/v1/requests"),
    ("post", "/api/v1/consents:query"),
    ("put", "/api/v1/consents/kari.nordmann@example.no/surveys"),
]


def nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize("shape", [nested_list, nested_object], ids=["array", "object"])
def test_a_deeply_nested_body_is_a_400_envelope_with_and_without_a_key(
    client, make_key, caplog, depth, shape
) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("registry:write", "requests:write", "consent:read", "consent:write"))
    caplog.set_level(logging.INFO)
    for headers in ({}, key):
        for method, path in WRITES:
            response = getattr(client, method)(
                path, data=shape(depth), content_type="application/json", headers=headers
            )
            assert response.status_code == 400, (path, response.get_data(as_text=True)[:300])
            error = response.get_json()["error"]
            # the shape of every other unreadable JSON body
            assert error["code"] == "bad_request" and error["fields"] == {"json": ["Invalid JSON body."]}
            assert str(MAX_JSON_DEPTH) in error["message"]
    assert_no_traceback(caplog)


def test_a_deeply_nested_body_in_utf16_is_refused_too(client, caplog) -> None:  # type: ignore[no-untyped-def]
    # json.loads reads UTF-16 and UTF-32 as well, so the check must not look at UTF-8 bytes only
    body = nested_list(1_000).encode("utf-16-le")
    response = client.post("/api/v1/activities", data=body, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["fields"] == {
        "json": ["Invalid JSON body."]
    }
    assert_no_traceback(caplog)


def test_a_deeply_nested_json_body_to_a_page_is_a_400_page(client, caplog) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/requests/new", data=nested_list(1_000), content_type="application/json")
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert_no_traceback(caplog)
    for lang, words in (("nb", "Forespørselen kunne ikke leses."), ("en", "The request could not be read.")):
        page = client.post(
            f"/requests/new?lang={lang}", data=nested_list(1_000), content_type="application/json"
        )
        assert words in page.get_data(as_text=True) and "JSON" not in page.get_data(as_text=True)


def test_brackets_inside_strings_and_bodies_up_to_the_bound_pass_the_check(client, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("consent:read"))
    # 64 levels, and 1,000 brackets that are text, are left to the route, which judges them on their merits
    for body in (nested_list(MAX_JSON_DEPTH), '{"pairs": "' + "[" * 1_000 + '"}'):
        response = client.post(
            "/api/v1/consents:query", data=body, content_type="application/json", headers=key
        )
        assert response.status_code == 422, response.get_data(as_text=True)[:300]
