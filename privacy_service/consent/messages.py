"""The e-mails consent sends to a subject, in bokmål and English (plain text; no Flask here)."""

from __future__ import annotations

from typing import Any

from privacy_service.wording import format_datetime

_DATATILSYNET = {
    "nb": "Du kan klage til Datatilsynet (www.datatilsynet.no) om du mener vi behandler opplysninger "
    "i strid med personvernreglene.",
    "en": "You may complain to the Norwegian Data Protection Authority (www.datatilsynet.no) if you "
    "believe we process your data unlawfully.",
}


def _lang(lang: str) -> str:
    return lang if lang in ("nb", "en") else "nb"


def receipt_mail(lang: str, *, activity: str, receipt: dict[str, Any], withdraw_url: str) -> tuple[str, str]:
    """The receipt for consent given: subject line and text."""
    lang = _lang(lang)
    when = format_datetime(receipt.get("iso27560", {}).get("event", {}).get("time"), lang)
    notice = receipt.get("iso27560", {}).get("notice", {})
    if lang == "nb":
        return (
            f"Kvittering: du har samtykket – {activity}",
            f"Du ga samtykke til «{activity}» {when}.\n\n"
            f"Kvitterings-ID: {receipt.get('consentReceiptID')}\n"
            f"Personvernerklæring (versjon {notice.get('version')}): {receipt.get('policyUrl')}\n\n"
            "Du kan trekke samtykket tilbake når som helst, like enkelt som du ga det:\n"
            f"{withdraw_url}\n\n{_DATATILSYNET['nb']}\n",
        )
    return (
        f"Receipt: you gave consent – {activity}",
        f"You gave consent to “{activity}” on {when}.\n\n"
        f"Receipt id: {receipt.get('consentReceiptID')}\n"
        f"Privacy notice (version {notice.get('version')}): {receipt.get('policyUrl')}\n\n"
        "You can withdraw your consent at any time, as easily as you gave it:\n"
        f"{withdraw_url}\n\n{_DATATILSYNET['en']}\n",
    )


def withdrawn_mail(
    lang: str, *, activity: str, erased: int | None, kept: list[tuple[int, str]]
) -> tuple[str, str]:
    """The confirmation of a withdrawal: what was erased, and what was kept under a hold and why (`kept`: rows
    and the hold's public text, never its internal basis)."""
    lang = _lang(lang)
    nb = lang == "nb"
    lines = [
        f"Samtykket ditt til «{activity}» er trukket tilbake. "
        "Vi behandler ikke lenger opplysningene dine til dette formålet."
        if nb
        else f"Your consent to “{activity}” has been withdrawn. "
        "We no longer process your data for this purpose."
    ]
    if erased is not None:
        lines.append(
            f"Vi har slettet {erased} registrering(er) med opplysninger om deg."
            if nb
            else f"We have erased {erased} record(s) holding data about you."
        )
    for count, why in kept:  # `why` is the hold's text for the subject
        lines.append(
            f"{count} registrering(er) er beholdt. {why}" if nb else f"{count} record(s) were kept. {why}"
        )
    lines.append(_DATATILSYNET[lang])
    subject = "Samtykket ditt er trukket tilbake" if nb else "Your consent has been withdrawn"
    return subject, "\n\n".join(lines) + "\n"
