"""The e-mails consent sends to a subject, in bokmål and English (plain text; no Flask here). Their words are
the documents catalogue's `mail.consent_*` texts (privacy_service/catalogue.py)."""

from __future__ import annotations

from typing import Any

from privacy_service.catalogue import both_languages, words
from privacy_service.wording import format_datetime

_DATATILSYNET = both_languages("consent_mail.datatilsynet")


def _lang(lang: str) -> str:
    return lang if lang in ("nb", "en") else "nb"


def receipt_mail(lang: str, *, activity: str, receipt: dict[str, Any], withdraw_url: str) -> tuple[str, str]:
    """The receipt for consent given: subject line and text."""
    lang = _lang(lang)
    notice = receipt.get("iso27560", {}).get("notice", {})
    params = {
        "activity": activity,
        "when": format_datetime(receipt.get("iso27560", {}).get("event", {}).get("time"), lang),
        "receipt_id": receipt.get("consentReceiptID"),
        "version": notice.get("version"),
        "policy_url": receipt.get("policyUrl"),
        "withdraw_url": withdraw_url,
        "complain": _DATATILSYNET[lang],
    }
    return words("mail.consent_given.subject", lang, **params), words(
        "mail.consent_given.body", lang, **params
    )


def withdrawn_mail(
    lang: str, *, activity: str, erased: int | None, kept: list[tuple[int, str]]
) -> tuple[str, str]:
    """The confirmation of a withdrawal: what was erased, and what was kept under a hold and why (`kept`: rows
    and the hold's public text, never its internal basis)."""
    lang = _lang(lang)
    lines = [words("mail.consent_withdrawn.ended", lang, activity=activity)]
    if erased is not None:
        lines.append(words(f"mail.consent_withdrawn.erased.{_one_or_many(erased)}", lang, count=erased))
    for count, why in kept:  # `why` is the hold's text for the subject
        lines.append(words(f"mail.consent_withdrawn.kept.{_one_or_many(count)}", lang, count=count, why=why))
    lines.append(_DATATILSYNET[lang])
    return words("mail.consent_withdrawn.subject", lang), "\n\n".join(lines) + "\n"


def _one_or_many(count: int) -> str:
    return "one" if count == 1 else "many"
