"""The one function that renders a consent state writes exactly the fields of the schemas, in their order."""

from __future__ import annotations

from datetime import UTC, datetime

from privacy_service.consent.models import StateRow
from privacy_service.consent.schemas import (
    ConsentChangeOutSchema,
    ConsentStateSchema,
    QueryItemSchema,
    etag,
    state_json,
)
from privacy_service.consent.tokens import Links, read_token

STATE = StateRow(
    subject="kari.nordmann@example.no",
    purpose="surveys",
    id=7,
    status="given",
    dpv_status="dpv:ConsentGiven",
    since=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    notice_version="1",
    renewal_required=False,
    last_event_id=42,
)


def test_a_state_is_written_in_the_order_of_its_schema_as_the_fast_path_needs() -> None:
    body = state_json(STATE)
    assert list(body) == list(ConsentStateSchema().fields)
    assert body["since"] == "2026-01-02T03:04:05+00:00"
    assert "withdraw_url" not in body  # a read never carries the withdrawal link (issue 14)


def test_only_the_answer_to_a_write_carries_the_withdrawal_link() -> None:
    body = state_json(STATE, links=Links(base_url="http://localhost", secret_key="test"))
    assert (
        "withdraw_url" in ConsentChangeOutSchema().fields
        and "withdraw_url" not in ConsentStateSchema().fields
    )
    assert read_token("test", body["withdraw_url"].rsplit("/", 1)[1]) == (7, "surveys")


def test_a_query_item_has_the_query_schema_fields_and_nulls_when_never_recorded() -> None:
    assert list(state_json(STATE, brief=True)) == list(QueryItemSchema().fields)
    assert state_json(StateRow("never-seen", "surveys"), brief=True) == {
        "subject": "never-seen",
        "purpose": "surveys",
        "status": None,
        "since": None,
        "notice_version": None,
        "renewal_required": False,
    }


def test_the_etag_changes_with_the_event_and_with_a_renewal_request() -> None:
    assert etag(STATE) == '"e42"'
    assert etag(STATE._replace(renewal_required=True)) == '"e42r"'
    assert etag(STATE._replace(last_event_id=43)) == '"e43"'
