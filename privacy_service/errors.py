"""Domain errors and their mapping to the JSON error envelope (DESIGN.md §5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from privacy_service import catalogue


def N_(text: str) -> str:  # noqa: N802 - the gettext_noop name pybabel looks for
    """Mark an API message for the translation catalogue (`pybabel extract -k N_`). It stays the English
    text here; the error envelope words it in bokmål when the client asks for that (http.json_error)."""
    return text


# Messages marshmallow and webargs give without our schemas asking, as they read once formatted.
STANDARD_MESSAGES = (
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Field may not be null."),
    N_("Invalid input type."),
    N_("Invalid type."),
    N_("Invalid value."),
    N_("Not a valid string."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid boolean."),
    N_("Not a valid date."),
    N_("Not a valid datetime."),
    N_("Not a valid list."),
    N_("Not a valid mapping type."),
    N_("Not a valid email address."),
    N_("Not a valid URL."),
    N_("Not a valid UUID."),
    N_("Number too large."),
    N_("The request is not valid; see fields."),
    N_("Something went wrong on our side; the error has been logged."),
)


class Worded(str):
    """A message that names values (a reference, a date, a status): the English text, which is what the code,
    the logs and the tests read, keeping its template and values so that the error envelope and the pages can
    say it again in the reader's language (http.in_client_language, http.page_message)."""

    template: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class Code:
    """A code a message names (a status, a right), said in words from the documents catalogue (`prefix.code`)
    in the message's language; a code the catalogue does not know is said as it is."""

    prefix: str
    code: str

    def words(self, lang: str) -> str:
        """The code in words in `lang`."""
        try:
            return catalogue.words(f"{self.prefix}.{self.code}", lang)
        except catalogue.MissingText:
            return self.code


def worded(template: str, **params: Any) -> Worded:
    """A message with values, `worded(template, name=value)`: `pybabel extract -k worded` puts the template
    in the catalogue, and the envelope says it in bokmål with the same values. A value may be a Code (said in
    words in the message's language) or another worded message."""
    text = Worded(template % {name: english(value) for name, value in params.items()})
    text.template = template
    text.params = params
    return text


def said(text: str) -> Worded:
    """A message (marked N_ or worded) that is a value of another message, so that it is said in the same
    language as the message it is part of."""
    if isinstance(text, Worded):
        return text
    value = Worded(text)
    value.template, value.params = text, {}
    return value


def english(value: Any) -> Any:
    """A message value as English reads it."""
    return value.words("en") if isinstance(value, Code) else value


class DomainError(Exception):
    """A rule of the domain said no; carries an error code, an HTTP status and field messages."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class NotFound(DomainError):
    """The object does not exist."""

    code = "not_found"
    status = 404


class Conflict(DomainError):
    """The change conflicts with the current state."""

    code = "conflict"
    status = 409


class ValidationFailed(DomainError):
    """Input failed validation; fields name what is wrong."""

    code = "validation_error"
    status = 422


def envelope(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the error envelope body."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}
