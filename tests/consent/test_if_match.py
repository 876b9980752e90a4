"""If-Match on a consent change (issue 20, item 2): a portal that decided on a stale view of a consent is
told so (412), and nothing is recorded."""

from __future__ import annotations

from typing import Any

import pytest
from tests_support import bearer

PATH = "/api/v1/consents/kari.nordmann@example.no/surveys"


@pytest.fixture
def writer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("consent:read", "consent:write"))


def _put(client: Any, headers: dict[str, str], status: str, **extra: str) -> Any:
    return client.put(PATH, json={"status": status}, headers={**headers, **extra})


def test_a_change_on_a_stale_tag_is_refused_and_records_nothing(client, writer) -> None:  # type: ignore[no-untyped-def]
    first = _put(client, writer, "given").headers["ETag"]
    second = _put(client, writer, "withdrawn", **{"If-Match": first})
    assert second.status_code == 200 and second.headers["ETag"] != first
    stale = _put(client, writer, "given", **{"If-Match": first})
    assert stale.status_code == 412
    assert stale.get_json()["error"]["code"] == "precondition_failed"
    now = client.get(PATH, headers=writer)
    assert now.get_json()["status"] == "withdrawn" and now.headers["ETag"] == second.headers["ETag"]
    history = client.get(f"{PATH}/history", headers=writer).get_json()["events"]
    assert [e["status"] for e in history] == ["given", "withdrawn"]
    # the current tag, weak or in a list, matches
    assert _put(client, writer, "given", **{"If-Match": f'"x", W/{now.headers["ETag"]}'}).status_code == 200


def test_star_matches_a_recorded_consent_and_nothing_else(client, writer) -> None:  # type: ignore[no-untyped-def]
    nothing = _put(client, writer, "given", **{"If-Match": "*"})
    assert nothing.status_code == 412  # nothing recorded: no current representation (RFC 9110 §13.1.1)
    assert client.get(PATH, headers=writer).status_code == 404
    assert _put(client, writer, "given").status_code == 200
    assert _put(client, writer, "withdrawn", **{"If-Match": "*"}).status_code == 200
