"""The deadline calendar: Regulation 1182/71 months, weekends, Norwegian public holidays, pause, extension."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from privacy_service.dsar.deadlines import (
    add_months,
    deadline,
    holiday_name,
    is_working_day,
    local_date,
    working_days_between,
)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 15), 1, date(2026, 2, 15)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),  # February has no 31st: its last day
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),  # over the year end
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
    ],
)
def test_months_end_on_the_same_date_or_the_months_last_day(start, months, expected) -> None:  # type: ignore[no-untyped-def]
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("received", "expected", "why"),
    [
        (date(2026, 11, 2), date(2026, 12, 2), "a Wednesday: no move"),
        (date(2026, 10, 3), date(2026, 11, 3), "a Tuesday"),
        (date(2026, 1, 31), date(2026, 3, 2), "28 February 2026 is a Saturday: Monday 2 March"),
        (date(2026, 3, 1), date(2026, 4, 1), "Wednesday before Easter is a working day"),
        (
            date(2026, 3, 2),
            date(2026, 4, 7),
            "2 April is Maundy Thursday, then Good Friday, weekend, Easter Monday",
        ),
        (date(2026, 4, 17), date(2026, 5, 18), "17 May 2026 is a Sunday and a holiday: Monday 18 May"),
        (date(2027, 4, 17), date(2027, 5, 18), "17 May 2027 is a Monday holiday: Tuesday 18 May"),
        (date(2026, 11, 25), date(2026, 12, 28), "25 Dec Fri, 26 Sat, 27 Sun: Monday 28th"),
        (date(2026, 12, 1), date(2027, 1, 4), "1 January 2027 is a holiday, then a weekend"),
        (date(2026, 4, 14), date(2026, 5, 15), "Ascension Day 2026 (14 May): Friday 15 May"),
    ],
)
def test_one_month_moved_off_weekends_and_norwegian_holidays(received, expected, why) -> None:  # type: ignore[no-untyped-def]
    assert deadline(received) == expected, why


def test_the_clock_starts_when_the_identity_arrives() -> None:
    received = date(2026, 11, 2)
    assert deadline(received, identity_arrived=date(2026, 11, 9)) == date(2026, 12, 9)
    assert deadline(received, identity_arrived=date(2026, 11, 2)) == deadline(received)
    # an identity recorded before receipt (a registered letter dated earlier) never shortens the period
    assert deadline(received, identity_arrived=date(2026, 10, 1)) == deadline(received)


@pytest.mark.parametrize(
    ("extension", "expected"),
    [(0, date(2026, 12, 2)), (1, date(2027, 1, 4)), (2, date(2027, 2, 2))],  # 2 Jan 2027 is a Saturday
)
def test_an_extension_counts_from_the_same_start(extension, expected) -> None:  # type: ignore[no-untyped-def]
    assert deadline(date(2026, 11, 2), extension_months=extension) == expected


def test_an_extension_beyond_two_months_is_refused() -> None:
    with pytest.raises(ValueError, match="two months"):
        deadline(date(2026, 11, 2), extension_months=3)


def test_receipt_dates_are_oslo_dates() -> None:
    assert local_date(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == date(2026, 12, 1)  # CET is UTC+1
    assert local_date(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == date(2026, 7, 1)  # CEST is UTC+2
    assert local_date(datetime(2026, 6, 30, 21, 30)) == date(2026, 6, 30)  # naive means UTC


def test_working_days_and_holiday_names() -> None:
    assert not is_working_day(date(2026, 5, 17)) and holiday_name(date(2026, 5, 17))
    assert is_working_day(date(2026, 5, 19)) and holiday_name(date(2026, 5, 19)) is None
    assert (
        working_days_between(date(2026, 12, 24), date(2026, 12, 28)) == 1
    )  # 24th Thu to Mon 28th: only 28th
    assert working_days_between(date(2026, 12, 28), date(2026, 12, 24)) == -1
