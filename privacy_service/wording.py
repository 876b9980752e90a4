"""Words for values a person reads in documents and mails: a text in the reader's language, yes/no, periods
spelled out, timestamps in Norwegian time, and the labels every document shares. No reportlab here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from privacy_service.catalogue import ByLanguage, words
from privacy_service.kernel import PERIOD_RE

OSLO = "Europe/Oslo"

_TEXTS = ByLanguage("doc")


def text(key: str, lang: str) -> str:
    """Return one of the shared document labels in the language (nb or en)."""
    return _TEXTS.get(lang, _TEXTS["en"])[key]


def localised(value: Any, lang: str) -> str:
    """Pick the text in the language from a {nb, en} mapping; plain values are returned as text."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("en") or value.get("nb") or "")
    return str(value)


def org_number_text(org: dict[str, Any] | None, lang: str) -> str:
    """An organisation's number, or words saying the sources do not state it."""
    return str((org or {}).get("org_number") or text("not_stated", lang))


def yes_no(value: Any, lang: str) -> str:
    """Render a flag as Yes/No (Ja/Nei); None stays empty."""
    return "" if value is None else text("yes" if value else "no", lang)


_UNITS = ByLanguage("unit")


def period_text(period: str | None, lang: str) -> str:
    """Spell out an ISO-8601 period such as P30D or P1Y6M ("30 days", "1 år 6 måneder")."""
    if not period:
        return ""
    match = PERIOD_RE.match(period)
    if not match or not any(match.groups()):
        return period
    parts = []
    for amount, (one, many) in zip(match.groups(), _UNITS.get(lang, _UNITS["en"]), strict=True):
        if amount:
            parts.append(f"{int(amount)} {one if int(amount) == 1 else many}")
    return " ".join(parts)


def format_datetime(value: datetime | str | None, lang: str = "en") -> str:
    """Show a timestamp in Norwegian time (dd.mm.yyyy for nb, ISO date for en); ISO text is parsed first."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(ZoneInfo(OSLO))
    except ZoneInfoNotFoundError:  # a slim system without tz data: stay in UTC, and say so
        value = value.astimezone(UTC)
    pattern = "%d.%m.%Y %H:%M %Z" if lang == "nb" else "%Y-%m-%d %H:%M %Z"
    return value.strftime(pattern)


def format_date(value: date | str | None, lang: str = "en") -> str:
    """Show a day as dd.mm.yyyy for nb and as the ISO date for en; ISO text is parsed first."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%d.%m.%Y") if lang == "nb" else value.isoformat()


_ACTOR_KINDS = ("user", "api_client", "cli", "system", "subject", "processor")


def actor_words(actor: Any, lang: str) -> str:
    """Who did something, in words ("saksbehandleren kari", "API-klienten portal"), from an actor's 'kind:id'
    form; a form it does not know is shown as it is."""
    kind, __, ident = str(actor or "").partition(":")
    if kind == "anonymous":
        return words("actor.anonymous", lang)
    if kind in _ACTOR_KINDS and ident:
        return words(f"actor.{kind}", lang, id=ident)
    return str(actor or "")
