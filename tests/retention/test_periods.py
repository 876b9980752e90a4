"""Period arithmetic: a row is due when anchor <= now - period, in calendar units."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from privacy_service.errors import ValidationFailed
from privacy_service.retention.rules import cutoff


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "period", "expected"),
    [
        ("2026-11-24T12:00", "P7D", "2026-11-17T12:00"),
        ("2026-11-24T12:00", "P30D", "2026-10-25T12:00"),
        ("2026-11-24T12:00", "P90D", "2026-08-26T12:00"),
        ("2026-03-31T00:00", "P1M", "2026-02-28T00:00"),  # month end clamped
        ("2026-05-31T00:00", "P2M", "2026-03-31T00:00"),
        ("2026-04-30T00:00", "P2M", "2026-02-28T00:00"),
        ("2024-03-29T00:00", "P1M", "2024-02-29T00:00"),  # leap year
        ("2025-02-28T00:00", "P1Y", "2024-02-28T00:00"),
        ("2028-02-29T00:00", "P1Y", "2027-02-28T00:00"),  # from a leap day
        ("2028-02-29T00:00", "P4Y", "2024-02-29T00:00"),
        ("2026-01-01T00:00", "P3Y", "2023-01-01T00:00"),
        ("2051-06-15T00:00", "P25Y", "2026-06-15T00:00"),
        ("2026-11-24T00:00", "P2W", "2026-11-10T00:00"),
        ("2026-11-24T00:00", "P1Y2M10D", "2025-09-14T00:00"),
    ],
)
def test_cutoffs(now: str, period: str, expected: str) -> None:
    assert cutoff(_at(now), period) == _at(expected)


def test_a_row_is_never_removed_before_its_full_period() -> None:
    # anchored on 31 January with P1M: counting forward would say 28 February; it is due from 1 March.
    anchor = _at("2026-01-31T00:00")
    assert not anchor <= cutoff(_at("2026-02-28T23:59"), "P1M")
    assert anchor <= cutoff(_at("2026-03-31T00:00"), "P1M")


@pytest.mark.parametrize("period", ["30 days", "P", "P1H", "PT5M", "", "-P1D"])
def test_bad_periods_are_refused(period: str) -> None:
    with pytest.raises(ValidationFailed):
        cutoff(_at("2026-01-01T00:00"), period)
