"""Lines a reader should not meet: English in a bokmål text, bokmål in an English one, and codes in either
(snake_case values, ISO 8601 periods, crontab lines). Used on pages (tests/browser/test_accessibility.py),
PDFs read back with pypdf, and mails."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ENGLISH_WORDS = re.compile(
    r"\b(the|and|of|is|are|was|with|this|that|you|your|we|our|from|has|have|will|after|before|days|months"
    r"|years|none|not|yet|which|what|when|where|who|here|there|been|would|could|should|only|also|any"
    r"|each|every|other|than|then|these|those|into|about|must|may|can|The|This|You|Your|We|Our)\b"
)
BOKMAL_WORDS = re.compile(
    r"\b(og|ikke|som|til|av|med|det|den|har|kan|skal|vi|du|deg|din|dine|ditt|eller|fra|etter|på|hvis|ble"
    r"|blir|ved|må|når|hva|hvem|slik|dager|måneder|uker|år|gjelder|opplysninger|behandling|samtykke"
    r"|Ikke|Vi|Du|Når|Hva|Hvem)\b"
)
# an ISO 8601 period, a crontab line, a snake_case code
CODES = re.compile(r"\bP\d+[YMWD]\b|\b\d+ \d+ [*\d]+ \* [*\d]+\b|(?<![A-Za-z_])[a-z]+_[a-z_]+\b")
# addresses and links are neither language
# a name quoted in the other language ("Innsyn etter personopplysningsloven" in an English text)
_QUOTED = re.compile(r'"[^"]*"|“[^”]*”|«[^»]*»')
_NEUTRAL = re.compile(r"\S+@\S+|\S+\.(no|com|org|eu)\S*|https?://\S+")


def foreign_lines(lines: Iterable[str], lang: str, data: Iterable[str] = ()) -> list[str]:
    """The lines of a text in `lang` (nb or en) with words of the other language or codes in them. A line
    that is part of one of the `data` values (what a person wrote, in whatever language) is left out."""
    other = ENGLISH_WORDS if lang == "nb" else BOKMAL_WORDS
    values = [" ".join(value.split()) for value in data]
    found = []
    for line in lines:
        parts = [p for p in re.split(r"[•,;:()]\s*", line) if p.strip()]
        rest = " ".join(p for p in parts if not any(p.strip() in value for value in values))
        words = _NEUTRAL.sub(" ", _QUOTED.sub(" ", rest))
        if other.search(words) or CODES.search(words):
            found.append(line.strip()[:160])
    return found


POLICIES = Path(__file__).resolve().parent.parent / "policies"


@cache
def one_language_values() -> tuple[str, ...]:
    """The texts policies/ writes in one language only (names of systems, agreements, statutes...): a
    document prints them as they are in either language. A text written as {nb, en} is not among them, so
    a document that picks the wrong language of it is still caught."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if set(value) == {"nb", "en"}:
                return
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)
        elif isinstance(value, str) and " " in value:
            found.append(value)

    for path in sorted(POLICIES.rglob("*.yaml")):
        walk(yaml.safe_load(path.read_text()))
    return tuple(found)
