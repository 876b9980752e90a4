"""The shared vocabulary every package speaks: the strict schema base and the JSON boolean, slug and
period patterns, the national-id and org-number checks, the legal-basis and Art. 9 lists, the data-subject
rights a legal basis gives, CSV neutralising, and the clock (aware UTC).

It imports nothing of the service, so any package may import it without making a circle.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from marshmallow import RAISE, Schema, fields, validate

# --- time ------------------------------------------------------------------------------------------------


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Return a datetime from input as aware UTC (a naive one is taken as UTC); values read from the database
    are aware UTC already (columns.UtcDateTime)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# --- legal bases and rights (GDPR Art. 6, 9, 15-22, 7(3)) ---------------------------------------------------

LEGAL_BASES: dict[str, dict[str, str]] = {
    "6(1)(a)": {
        "en": "Consent (GDPR Art. 6(1)(a))",
        "nb": "Samtykke (personvernforordningen art. 6 nr. 1 a)",
    },
    "6(1)(b)": {"en": "Contract (GDPR Art. 6(1)(b))", "nb": "Avtale (personvernforordningen art. 6 nr. 1 b)"},
    "6(1)(c)": {
        "en": "Legal obligation (GDPR Art. 6(1)(c))",
        "nb": "Rettslig forpliktelse (personvernforordningen art. 6 nr. 1 c)",
    },
    "6(1)(d)": {
        "en": "Vital interests (GDPR Art. 6(1)(d))",
        "nb": "Vitale interesser (personvernforordningen art. 6 nr. 1 d)",
    },
    "6(1)(e)": {
        "en": "Public task or official authority (GDPR Art. 6(1)(e))",
        "nb": "Allmennhetens interesse eller offentlig myndighet (personvernforordningen art. 6 nr. 1 e)",
    },
    "6(1)(f)": {
        "en": "Legitimate interests (GDPR Art. 6(1)(f))",
        "nb": "Berettiget interesse (personvernforordningen art. 6 nr. 1 f)",
    },
}

ART9_CONDITIONS: dict[str, str] = {
    "9(2)(a)": "explicit consent",
    "9(2)(b)": "employment and social security law",
    "9(2)(c)": "vital interests",
    "9(2)(d)": "not-for-profit body",
    "9(2)(e)": "made public by the data subject",
    "9(2)(f)": "legal claims",
    "9(2)(g)": "substantial public interest",
    "9(2)(h)": "health or social care",
    "9(2)(i)": "public health",
    "9(2)(j)": "archiving, research or statistics",
}

# the data-subject rights, in the order notices and letters list them (GDPR Art. 15–21, 7(3))
RIGHTS = (
    "access",
    "rectification",
    "erasure",
    "restriction",
    "objection",
    "portability",
    "consent_withdrawal",
)


_MOD11_WEIGHTS = (3, 2, 7, 6, 5, 4, 3, 2)


def valid_org_number(number: str) -> bool:
    """Check a Norwegian organisation number (9 digits, mod-11 control digit)."""
    if not re.fullmatch(r"\d{9}", number):
        return False
    remainder = sum(int(d) * w for d, w in zip(number[:8], _MOD11_WEIGHTS, strict=True)) % 11
    check = 0 if remainder == 0 else 11 - remainder
    return check != 10 and check == int(number[8])


_NID_WEIGHTS = ((3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))


def valid_national_id(number: str) -> bool:
    """Check a Norwegian national identity number (fødselsnummer, D-number, H- or synthetic test number):
    11 digits whose two control digits follow mod-11."""
    if not re.fullmatch(r"\d{11}", number or ""):
        return False
    digits = [int(c) for c in number]
    for position, weights in zip((9, 10), _NID_WEIGHTS, strict=True):
        check = (11 - sum(w * d for w, d in zip(weights, digits, strict=False)) % 11) % 11
        if check == 10 or check != digits[position]:
            return False
    return True


def _right(right: str, article: str, applies: bool, reason: str) -> dict:
    return {"right": right, "article": article, "applies": applies, "reason": reason}


def rights_for(legal_basis: str, *, art9_condition: str | None = None, automated: bool = True) -> list[dict]:
    """Derive which data-subject rights apply from the legal basis (DESIGN.md §3)."""
    consent = legal_basis == "6(1)(a)" or art9_condition == "9(2)(a)"
    objection = legal_basis in ("6(1)(e)", "6(1)(f)")
    portable = (consent or legal_basis == "6(1)(b)") and automated
    every = "Applies to every activity."
    return [
        _right("access", "Art. 15", True, every),
        _right("rectification", "Art. 16", True, every),
        _right("erasure", "Art. 17", True,
               "Applies unless an exception in Art. 17(3) covers the data (e.g. an archive duty)."),
        _right("restriction", "Art. 18", True, every),
        _right("objection", "Art. 21", objection,
               "The processing rests on Art. 6(1)(e) or (f)." if objection
               else "Consent-based: withdraw consent instead (Art. 7(3))." if consent
               else "Art. 21(1) covers only processing based on Art. 6(1)(e) or (f)."),
        _right("portability", "Art. 20", portable,
               "Based on consent or contract and carried out by automated means." if portable
               else "Art. 20(3): does not apply to processing necessary for a public task."
               if legal_basis == "6(1)(e)"
               else "Art. 20(1): applies only to processing based on consent or contract."),
        _right("consent_withdrawal", "Art. 7(3)", consent,
               "The processing rests on consent." if consent else "The processing does not rest on consent."),
    ]  # fmt: skip


# --- patterns ----------------------------------------------------------------------------------------------

SERVICES_RE = re.compile(r"^[a-z][a-z0-9-]{1,63}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# An ISO-8601 period in calendar units. The digit counts bound it below about 1,500 years, so counting any
# period back from today stays a valid date (an unbounded P99999999D overflowed the retention run).
PERIOD_RE = re.compile(r"^P(?!$)(?:(\d{1,3})Y)?(?:(\d{1,3})M)?(?:(\d{1,4})W)?(?:(\d{1,5})D)?$")

ISO_PERIOD = validate.Regexp(PERIOD_RE, error="Use an ISO-8601 period such as P30D, P2M or P25Y.")
SLUG = validate.Regexp(SLUG_RE, error="Use lower-case letters, digits and '-' (at most 64 characters).")


# --- schemas and fields ------------------------------------------------------------------------------------


class StrictSchema(Schema):
    """Unknown fields are an error: a typo in a policy file must not pass silently."""

    class Meta:
        unknown = RAISE


_TEXT = validate.Length(min=1, max=5000, error="Must not be empty, and at most 5000 characters.")
_TEXT_MESSAGES = {
    "required": "Give the text in both Norwegian (nb) and English (en).",
    "null": "Must not be empty, and at most 5000 characters.",
}


class LocalisedSchema(StrictSchema):
    """A text in Norwegian bokmål and English."""

    nb = fields.String(required=True, validate=_TEXT, error_messages=_TEXT_MESSAGES)
    en = fields.String(required=True, validate=_TEXT, error_messages=_TEXT_MESSAGES)


def Localised(**kwargs: Any) -> fields.Nested:  # noqa: N802 - reads as a field type
    """A localised text field."""
    return fields.Nested(LocalisedSchema, **kwargs)


class JsonBoolean(fields.Boolean):
    """A JSON boolean: true or false only.

    marshmallow's Boolean also takes 0, 1, "yes" and "on" (and `0 in {False}` holds in Python), which a JSON
    body never means. Query strings keep the lenient field.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if value is True or value is False:
            return value
        raise self.make_error("invalid", input=value)


# --- CSV ---------------------------------------------------------------------------------------------------


def neutralise(value: str) -> str:
    """A CSV cell as text a spreadsheet shows and never runs."""
    # A cell that starts with = + - @ is run as a formula by spreadsheet programs (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
