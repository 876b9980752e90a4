"""What the retention pages call hold kinds and scopes, rule actions, run triggers and statuses, and how they
say a schedule ("every night at 02.15") instead of its crontab line, in the reader's language."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from privacy_service.datamap.labels import IDENTITY_KINDS as IDENTITY_KINDS  # the data map's words
from privacy_service.http import lazy_code_words
from privacy_service.wording import period_text as period_text  # a period in words, for the pages

HOLD_KINDS = lazy_code_words("retention.hold_kind", ("archive_law", "legal", "request_pending", "other"))
HOLD_SCOPES = {
    "activity": _l("A whole activity"),
    "table": _l("One table"),
    "subject": _l("One person"),
    "records": _l("Named records"),
}
ACTIONS = {"delete": _l("Delete"), "anonymise": _l("Anonymise"), "deposit": _l("Deposit with the archive")}
TRIGGERS = lazy_code_words("retention.trigger", ("scheduler", "officer", "api", "cli", "rule_change"))
RUN_STATUSES = lazy_code_words("retention.run_status", ("running", "completed", "failed", "interrupted"))
DEPOSIT_STATUSES = lazy_code_words("deposit_status", ("pending_receipt", "received", "rejected"))
_WEEKDAYS = {
    "0": _l("Sunday"),
    "1": _l("Monday"),
    "2": _l("Tuesday"),
    "3": _l("Wednesday"),
    "4": _l("Thursday"),
    "5": _l("Friday"),
    "6": _l("Saturday"),
    "7": _l("Sunday"),
    "sun": _l("Sunday"),
    "mon": _l("Monday"),
    "tue": _l("Tuesday"),
    "wed": _l("Wednesday"),
    "thu": _l("Thursday"),
    "fri": _l("Friday"),
    "sat": _l("Saturday"),
}


def label(labels: dict[str, Any], value: str | None) -> str:
    """The words for a code, or the code itself when it has none (a value a newer version wrote)."""
    return "" if value is None else str(labels.get(value, value))


def schedule_text(cron: str) -> str:
    """A crontab line in words: "every night at 02.15", "every Monday at 06.00", "on day 1 of every month at
    03.00"; a line these words cannot say is described by when it runs next (the dashboard shows that)."""
    parts = cron.split()
    if len(parts) != 5 or not (parts[0].isdigit() and parts[1].isdigit()):
        return _("on its own schedule")
    minute, hour, day, month, weekday = parts
    at = f"{int(hour):02d}.{int(minute):02d}"
    if (day, month, weekday) == ("*", "*", "*"):
        return _("every night at %(at)s", at=at) if int(hour) < 6 else _("every day at %(at)s", at=at)
    if (day, month) == ("*", "*") and weekday.lower() in _WEEKDAYS:
        return _("every %(weekday)s at %(at)s", weekday=_WEEKDAYS[weekday.lower()], at=at)
    if day.isdigit() and (month, weekday) == ("*", "*"):
        return _("on day %(day)s of every month at %(at)s", day=int(day), at=at)
    return _("on its own schedule")
