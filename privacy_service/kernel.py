"""The shared vocabulary every package speaks: the strict schema base and the JSON boolean, slug and
period patterns, the national-id and org-number checks, the legal-basis and Art. 9 lists, the data-subject
rights a legal basis gives, CSV neutralising, and the clock (aware UTC).

It imports nothing of the service, so any package may import it without making a circle.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from privacy_service.catalogue import ByCode, words
from privacy_service.errors import N_, worded

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

LEGAL_BASES = ByCode("legal_basis", ("6(1)(a)", "6(1)(b)", "6(1)(c)", "6(1)(d)", "6(1)(e)", "6(1)(f)"))

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


# Personal Data Act § 17: purposes under GDPR Art. 89 that limit some rights (the record's `art89_purposes`)
ART89_PURPOSES = ByCode("art89", ("archiving", "research", "statistics"))
PDA_17 = "Personal Data Act § 17"
# Why a right applies or not, as ids of the documents catalogue (`rights.reason.<id>`): the API gives the
# English text, documents and letters the reader's language (right_reason in ropa/service.py).
_EVERY = "every"
_S17_ACCESS = "s17_access"
_S17_IMPAIR = "s17_impair"
_PARTLY_CONSENT = "partly_consent"
REASON_IDS = (
    "every", "erasure", "objection_applies", "objection_consent", "objection_only_e_f", "portable",
    "portability_public_task", "portability_only_consent_contract", "consent", "no_consent", "partly_consent",
    "s17_access", "s17_impair",
)  # fmt: skip


def _right(right: str, article: str, applies: bool, reason: str, limit: str | None = None) -> dict:
    """One right as the API gives it: `reason` in English, `reason_id` to word it in another language."""
    return {
        "right": right,
        "article": article,
        "applies": applies,
        "reason": words(f"rights.reason.{reason}", "en"),
        "reason_id": reason,
        "limit": limit,
    }


def _codes(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """One code or several as a tuple without repeats, in the order given."""
    if not value:
        return ()
    items = (value,) if isinstance(value, str) else tuple(value)
    return tuple(dict.fromkeys(items))


def _basis_rights(basis: str, art9: tuple[str, ...], automated: bool) -> dict[str, tuple[bool, str]]:
    """Whether each right applies under one Art. 6(1) basis (with the activity's Art. 9(2) conditions)."""
    consent = basis == "6(1)(a)" or "9(2)(a)" in art9
    objection = basis in ("6(1)(e)", "6(1)(f)")
    # Art. 20(1)(a)/(b): consent (Art. 6(1)(a) or 9(2)(a)) or contract; Art. 20(3) excludes a public task, and
    # a legal obligation is not in Art. 20(1): 9(2)(a) consent to special categories does not change either.
    portable = automated and (
        basis in ("6(1)(a)", "6(1)(b)") or (consent and basis in ("6(1)(d)", "6(1)(f)"))
    )
    return {
        "objection": (objection, "objection_applies" if objection
                      else "objection_consent" if basis == "6(1)(a)" else "objection_only_e_f"),
        "portability": (portable, "portable" if portable
                        else "portability_public_task" if basis == "6(1)(e)"
                        else "portability_only_consent_contract"),
        "consent_withdrawal": (consent, "consent" if consent else "no_consent"),
    }  # fmt: skip


def rights_for(
    legal_basis: str | Sequence[str],
    *,
    art9_condition: str | Sequence[str] | None = None,
    art89_purposes: Sequence[str] = (),
    automated: bool = True,
) -> list[dict]:
    """Derive which data-subject rights apply from the legal basis or bases (DESIGN.md §3, §7).

    With several bases the rights follow the most restrictive: a right applies only if it applies under every
    basis, and the reason is the first basis's that excludes it. Consent withdrawal is the exception: consent
    given can always be withdrawn (Art. 7(3)), so it applies when any basis is consent. The Personal Data Act
    § 17 limit turns on the purpose (archiving, research, statistics), not on the Art. 9 condition: the right
    applies and names § 17 as a ground the officer may invoke.
    """
    bases, art9 = _codes(legal_basis), _codes(art9_condition)
    per_basis = [_basis_rights(b, art9, automated) for b in bases] or [_basis_rights("", art9, automated)]
    derived: dict[str, tuple[bool, str]] = {}
    for name in ("objection", "portability", "consent_withdrawal"):
        results = [r[name] for r in per_basis]
        if name == "consent_withdrawal":
            found = next((r for r in results if r[0]), results[0])
            only_consent = set(bases) <= {"6(1)(a)"} and set(art9) <= {"9(2)(a)"}
            derived[name] = (True, _PARTLY_CONSENT) if found[0] and not only_consent else found
        else:
            derived[name] = next((r for r in results if not r[0]), results[0])
    limited = bool(_codes(art89_purposes))
    s17 = PDA_17 if limited else None
    objection, portable, withdrawal = (
        derived["objection"],
        derived["portability"],
        derived["consent_withdrawal"],
    )
    return [
        _right("access", "Art. 15", True, _S17_ACCESS if limited else _EVERY, s17),
        _right("rectification", "Art. 16", True, _S17_IMPAIR if limited else _EVERY, s17),
        _right("erasure", "Art. 17", True, "erasure"),
        _right("restriction", "Art. 18", True, _S17_IMPAIR if limited else _EVERY, s17),
        _right("objection", "Art. 21", objection[0],
               _S17_IMPAIR if limited and objection[0] else objection[1], s17 if objection[0] else None),
        _right("portability", "Art. 20", *portable),
        _right("consent_withdrawal", "Art. 7(3)", *withdrawal),
    ]  # fmt: skip


def record_bases(record: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The Art. 6(1) bases and Art. 9(2) conditions a stored record names, the primary first."""
    bases = _codes([record.get("legal_basis") or "", *(record.get("legal_bases") or ())])
    art9 = _codes([record.get("art9_condition") or "", *(record.get("art9_conditions") or ())])
    return tuple(b for b in bases if b), tuple(c for c in art9 if c)


def record_rights(record: Mapping[str, Any]) -> list[dict]:
    """The rights that apply to a stored activity record: its bases, conditions and Art. 89 purposes."""
    bases, art9 = record_bases(record)
    return rights_for(bases, art9_condition=art9, art89_purposes=record.get("art89_purposes") or ())


# --- patterns ----------------------------------------------------------------------------------------------

SERVICES_RE = re.compile(r"^[a-z][a-z0-9-]{1,63}$")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# An ISO-8601 period in calendar units. The digit counts bound it below about 1,500 years, so counting any
# period back from today stays a valid date (an unbounded P99999999D overflowed the retention run).
PERIOD_RE = re.compile(r"^P(?!$)(?:(\d{1,3})Y)?(?:(\d{1,3})M)?(?:(\d{1,4})W)?(?:(\d{1,5})D)?$")

ISO_PERIOD = validate.Regexp(PERIOD_RE, error=N_("Use an ISO-8601 period such as P30D, P2M or P25Y."))
SLUG = validate.Regexp(SLUG_RE, error=N_("Use lower-case letters, digits and '-' (at most 64 characters)."))


# --- schemas and fields ------------------------------------------------------------------------------------


class StrictSchema(Schema):
    """Unknown fields are an error: a typo in a policy file must not pass silently."""

    class Meta:
        unknown = RAISE


class PageArgsSchema(Schema):
    """The query arguments of every paginated list, answered as {"items", "total", "page", "per_page"}.

    Other query arguments are left to the list's own schema (or ignored), as links carry them freely."""

    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=1_000_000, error=N_("Give a page number from 1 to 1000000.")),
    )
    per_page = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=1000, error=N_("Give a page size from 1 to 1000.")),
    )


_AT_MOST = {
    5000: N_("Must not be empty, and at most 5000 characters."),
    300: N_("Must not be empty, and at most 300 characters."),
}


def _in_one_language(most: int) -> fields.String:
    """The text in one language of a localised text: required, 1 to `most` characters."""
    said = _AT_MOST[most]
    return fields.String(
        required=True,
        validate=validate.Length(min=1, max=most, error=said),
        error_messages={
            "required": N_("Give the text in both Norwegian (nb) and English (en)."),
            "null": said,
        },
    )


class LocalisedSchema(StrictSchema):
    """A text in Norwegian bokmål and English."""

    nb = _in_one_language(5000)
    en = _in_one_language(5000)


def Localised(**kwargs: Any) -> fields.Nested:  # noqa: N802 - reads as a field type
    """A localised text field."""
    return fields.Nested(LocalisedSchema, **kwargs)


class LocalisedNameSchema(StrictSchema):
    """A name in bokmål and English, each at most 300 characters: what the registry's name columns hold."""

    nb = _in_one_language(300)
    en = _in_one_language(300)


def LocalisedName(**kwargs: Any) -> fields.Nested:  # noqa: N802 - reads as a field type
    """A localised name field (an organisation's or an activity's)."""
    return fields.Nested(LocalisedNameSchema, **kwargs)


class TextOrLocalised(fields.Field):
    """A text in bokmål and English ({nb, en}), or one plain text kept from records written before."""

    def __init__(
        self, *, max_length: int = 1000, metadata: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> None:
        # what the OpenAPI document says it takes: a bounded text, or the two languages
        either = [
            {"type": "string", "minLength": 1, "maxLength": max_length},
            {"$ref": "#/components/schemas/Localised"},
        ]
        if kwargs.get("allow_none") or kwargs.get("load_default", ...) is None:
            either.append({"type": "null"})
        super().__init__(metadata={"anyOf": either, **(metadata or {})}, **kwargs)
        self.max_length = max_length

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            if not value.strip():
                raise ValidationError(N_("Give a text."))
            texts = [value]
        else:
            value = Localised()._deserialize(value, attr, data, **kwargs)
            texts = list(value.values())
        if any(len(text) > self.max_length for text in texts):
            raise ValidationError(worded("Keep it to %(max_length)s characters.", max_length=self.max_length))
        return value

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


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
