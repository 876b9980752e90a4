"""The e-mails a request sends to its subject, in bokmål and English. They carry the reference and links,
never the subject's data (a mail may be read by others on the way). Their words are the documents
catalogue's `mail.*` texts (privacy_service/catalogue.py)."""

from __future__ import annotations

from datetime import date

from privacy_service.catalogue import ByLanguage, both_languages, words
from privacy_service.wording import format_date

_COMPLAIN = both_languages("request_mail.complain")

GROUNDS = ByLanguage("refusal_ground")


def _lang(lang: str) -> str:
    return lang if lang in ("nb", "en") else "nb"


def _mail(name: str, lang: str, **params: object) -> tuple[str, str]:
    """The subject line and text of the mail `name` in the language, with the complaint sentence at hand."""
    lang = _lang(lang)
    params.setdefault("complain", _COMPLAIN[lang])
    return words(f"mail.{name}.subject", lang, **params), words(f"mail.{name}.body", lang, **params)


def verification_mail(
    lang: str, *, reference: str, link: str, code: str, hours: int, find_url: str
) -> tuple[str, str]:
    """Ask the subject to confirm the address: a link, or a code to type on the status page. It says what
    confirming does: the answer will come to this address."""
    return _mail(
        "verification", lang, reference=reference, link=link, code=code, hours=hours, find_url=find_url
    )


def footer(lang: str, *, reference: str, link: str) -> str:
    """The last lines of every later mail about a request: its reference and where to follow it."""
    return words("mail.footer", _lang(lang), reference=reference, link=link)


def find_mail(lang: str, *, reference: str, link: str, days: int) -> tuple[str, str]:
    """A fresh link to a request's status page, asked for on the "find my request" page."""
    return _mail("find", lang, reference=reference, link=link, days=days)


def extension_mail(lang: str, *, reference: str, due_on: date, reason: str) -> tuple[str, str]:
    """Tell the subject the deadline is extended, and why (Art. 12(3))."""
    due = format_date(due_on, _lang(lang))
    return _mail("extension", lang, reference=reference, due=due, reason=reason)


def rejection_mail(lang: str, *, reference: str, ground: str, reason: str) -> tuple[str, str]:
    """Tell the subject we will not act, why, and where to complain (Art. 12(4))."""
    ground_text = GROUNDS[_lang(lang)][ground]
    return _mail("rejection", lang, reference=reference, ground=ground_text, reason=reason)


def unverified_reason(lang: str, *, days: int) -> str:
    """Why a request nobody confirmed was closed, as the subject reads it."""
    return words("mail.unverified_reason", _lang(lang), days=days)


def reminder_mail(
    items: list[tuple[str, str, date, str]], *, today: date, lang: str = "nb"
) -> tuple[str, str]:
    """The privacy team's digest: references, kinds of request and deadlines only, in the team's language."""
    lang = _lang(lang)
    overdue = [i for i in items if i[3] == "overdue"]
    late = words("mail.reminder.overdue", lang)
    lines = [
        (words("mail.reminder.line", lang, reference=ref, kind=words(f"record.right_names.{kind}", lang),
               due=format_date(due, lang)) + (f"  {late}" if stage == "overdue" else ""))
        for ref, kind, due, stage in sorted(items, key=lambda i: i[2])
    ]  # fmt: skip
    counts = {"overdue": len(overdue), "soon": len(items) - len(overdue)}
    return (
        words("mail.reminder.subject", lang, **counts),
        words("mail.reminder.body", lang, today=format_date(today, lang), lines="\n".join(lines)),
    )


def answered_mail(lang: str, *, reference: str, link: str, days: int) -> tuple[str, str]:
    """The answer is ready: no data in the mail, only the link to it (for this address alone), and how long
    the answer is kept for download (`days`)."""
    return _mail("answered", lang, reference=reference, link=link, days=days)


def restriction_lift_mail(lang: str, *, reference: str, activities: list[str]) -> tuple[str, str]:
    """Tell the subject, before it happens, that a restriction she asked for will be lifted (Art. 18(3));
    `activities` are the activities' names in her language."""
    names = "\n".join(f"- {name}" for name in activities)
    return _mail("restriction_lift", lang, reference=reference, names=names)
