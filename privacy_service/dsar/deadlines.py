"""The answer deadline of a data-subject request (GDPR Art. 12(3)), counted as Regulation 1182/71 counts.

- A period in months starts the day after the event (the day of receipt is not counted, Art. 3(1)) and ends
  at the end of the day in the last month with the same date as the event; where that month has no such date,
  on its last day (Art. 3(2)(c)).
- A period ending on a Saturday, Sunday or public holiday ends on the next working day (Art. 3(4)); public
  holidays are Norway's (the `holidays` package), dates are Europe/Oslo.
- Where the controller has asked for information to identify the subject (Art. 12(6)), the clock starts when
  that information arrives: the event is then the date it arrived, not the date of receipt.
- One extension, to three months from the start in all (Art. 12(3) second sentence).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

OSLO = ZoneInfo("Europe/Oslo")
ANSWER_MONTHS = 1
MAX_EXTENSION_MONTHS = 2


def local_date(moment: datetime) -> date:
    """The Europe/Oslo calendar date of a moment (naive moments are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(OSLO).date()


def add_months(start: date, months: int) -> date:
    """The same date `months` later; the month's last day where it has no such date (1182/71 Art. 3(2)(c))."""
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=64)
def _norwegian_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("NO", years=year)


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a Norwegian public holiday."""
    return day.weekday() < 5 and day not in _norwegian_holidays(day.year)


def holiday_name(day: date) -> str | None:
    """The public holiday on a date, if any (for the timeline's explanation of a moved deadline)."""
    return _norwegian_holidays(day.year).get(day)


def next_working_day(day: date) -> date:
    """The day itself when it is a working day, else the first working day after it (Art. 3(4))."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def due_date(start: date, *, months: int = ANSWER_MONTHS) -> date:
    """The last day to answer: `months` after `start` (the receipt, or the identity's arrival), moved off
    weekends and public holidays."""
    return next_working_day(add_months(start, months))


def deadline(
    received: date,
    *,
    identity_arrived: date | None = None,
    extension_months: int = 0,
) -> date:
    """The answer deadline of a request, with the identity pause and an extension taken into account."""
    if not 0 <= extension_months <= MAX_EXTENSION_MONTHS:
        raise ValueError("An extension is at most two months.")
    start = max(received, identity_arrived) if identity_arrived else received
    return due_date(start, months=ANSWER_MONTHS + extension_months)


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (negative when `end` is before `start`)."""
    sign = 1 if end >= start else -1
    low, high = sorted((start, end))
    days, day = 0, low
    while day < high:
        day += timedelta(days=1)
        days += is_working_day(day)
    return sign * days
