"""Marshmallow schemas of /api/v1/subjects/links."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from privacy_service.errors import N_
from privacy_service.kernel import JsonBoolean, StrictSchema, valid_national_id

LOGINS = {"ID-porten": "idporten", "HelseID": "helseid"}
PORTAL_ID = validate.Regexp(
    r"^[^\s/\\@]{1,254}$",
    error=N_("A portal id is your own user id: 1–254 characters, no spaces, '/' or '@'."),
)


class LinkInSchema(StrictSchema):
    """POST /subjects/links: a portal's own user id, linked to identifiers its login proved."""

    portal_id = fields.String(
        required=True,
        validate=PORTAL_ID,
        metadata={"description": "Your service's own (pseudonymous) id of the user", "example": "u-7f3a9c"},
    )
    login = fields.String(
        required=True,
        validate=validate.OneOf(tuple(LOGINS)),
        metadata={"description": "How the user proved who she is in your service"},
    )
    national_id = fields.String(
        load_default=None,
        metadata={
            "description": "The login's pid claim (11 digits). Stored only as a keyed hash; never returned.",
            "example": "15038512345",
        },
    )
    email = fields.Email(
        load_default=None, validate=validate.Length(max=254), metadata={"example": "kari.nordmann@example.no"}
    )
    email_verified = JsonBoolean(
        load_default=False,
        metadata={"description": "Your service proved the address (a code or link sent to it)"},
    )

    @validates("national_id")
    def _national_id(self, value: str | None, **_: Any) -> None:
        if value is not None and not valid_national_id(value):
            raise ValidationError(N_("Not a valid national identity number (11 digits)."))

    @validates("portal_id")
    def _not_a_national_id(self, value: str, **_: Any) -> None:
        if value.isdigit() and len(value) == 11:
            raise ValidationError(N_("A national identity number cannot be a portal id."))

    @validates_schema
    def _something_proved(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("national_id") and not (data.get("email") and data.get("email_verified")):
            raise ValidationError(
                N_(
                    "Link the user to an identifier your service proved: national_id, or an email you "
                    "verified."
                ),
                "national_id",
            )


class LinkedIdentifierSchema(Schema):
    kind = fields.String(metadata={"enum": ["portal", "national_id", "email"]})
    verified = fields.Boolean()


class LinkOutSchema(Schema):
    portal_id = fields.String(metadata={"example": "u-7f3a9c"})
    identifiers = fields.List(
        fields.Nested(LinkedIdentifierSchema),
        metadata={
            "description": "What this call linked, by kind only: no values, nothing another client holds",
            "example": [
                {"kind": "portal", "verified": True},
                {"kind": "national_id", "verified": True},
                {"kind": "email", "verified": True},
            ],
        },
    )
