"""Every mail a subject gets about a request or a consent, in bokmål and in English: in her language only,
never a slug, enum value or key (issue 15's letter-language test, for mails). The letters themselves are
checked in test_letter.py; the appeal notice in test_appeals.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest

from privacy_service.consent import messages as consent_messages
from privacy_service.dsar import messages

ENGLISH = re.compile(
    r"\b(the|and|we|you|your|data|request|because|not|confirm|answer|withdrawn|kept)\b", re.I
)
BOKMAL = re.compile(r"\b(og|vi|du|deg|ikke|henvendelsen|opplysningene|svaret|samtykket|bekreft)\b", re.I)
SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
LINK = "https://personvern.example.no/requests/mine/abc"
REF = "DSR-2026-000001"

MAILS: dict[str, Callable[[str], tuple[str, str]]] = {
    "verification": lambda lang: messages.verification_mail(
        lang, reference=REF, link=LINK, code="123456", hours=24, find_url=LINK
    ),
    "find": lambda lang: messages.find_mail(lang, reference=REF, link=LINK, days=60),
    "extension": lambda lang: messages.extension_mail(
        lang, reference=REF, due_on=date(2027, 2, 1), reason="—"
    ),
    **{
        f"rejection {ground}": (
            lambda lang, ground=ground: messages.rejection_mail(
                lang, reference=REF, ground=ground, reason="—"
            )
        )
        for ground in ("manifestly_unfounded", "excessive", "identity_not_established")
    },
    "unverified": lambda lang: ("", messages.unverified_reason(lang, days=14)),
    "answered": lambda lang: messages.answered_mail(lang, reference=REF, link=LINK, days=30),
    "restriction lifted": lambda lang: messages.restriction_lift_mail(
        lang, reference=REF, activities=["Brukerkonto på helsedata.no" if lang == "nb" else "User accounts"]
    ),
    "footer": lambda lang: ("", messages.footer(lang, reference=REF, link=LINK)),
    "consent receipt": lambda lang: consent_messages.receipt_mail(
        lang,
        activity="Brukerundersøkelse" if lang == "nb" else "User survey",
        receipt={"consentReceiptID": "r-1", "policyUrl": LINK, "iso27560": {"notice": {"version": "1"}}},
        withdraw_url=LINK,
    ),
    "consent withdrawn": lambda lang: consent_messages.withdrawn_mail(
        lang,
        activity="Brukerundersøkelse" if lang == "nb" else "User survey",
        erased=2,
        kept=[(1, "—")],
    ),
}


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize("mail", sorted(MAILS))
def test_every_mail_is_in_the_readers_language_without_keys(mail: str, lang: str) -> None:
    subject, text = MAILS[mail](lang)
    whole = re.sub(r"https?://\S+|\S+@\S+|www\.\S+", " ", f"{subject}\n{text}")
    whole = whole.replace("Datatilsynet", " ").replace("Postboks 458 Sentrum", " ")
    other = ENGLISH if lang == "nb" else BOKMAL
    assert other.findall(whole) == [], whole
    assert SNAKE.findall(whole) == [], whole
    assert REF in whole or mail in ("unverified", "consent receipt", "consent withdrawn")
