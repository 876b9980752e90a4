"""Domain errors and their mapping to the JSON error envelope (DESIGN.md §5)."""

from __future__ import annotations

from typing import Any


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
