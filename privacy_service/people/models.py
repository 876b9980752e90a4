"""A person, and each identifier proved (or only claimed) to be hers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from privacy_service.columns import tz_column
from privacy_service.kernel import utcnow


class Person(SQLModel, table=True):
    """One data subject, known by the identifiers linked to her. The row holds nothing else about her."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())


class PersonIdentifier(SQLModel, table=True):
    """One identifier of a person: an e-mail address, a national identity number (as a keyed hash only), or a
    portal's own user id (`portal`, with the API client that holds it).

    A verified identifier belongs to one person at most (the partial unique index); an unverified one is kept,
    shown to her as unverified, and never used to answer, search, erase or find her.
    """

    __tablename__ = "person_identifier"
    __table_args__ = (
        Index(
            "uq_person_identifier_verified",
            "kind",
            "client",
            "value",
            unique=True,
            postgresql_where=text("verified_by IS NOT NULL"),
            sqlite_where=text("verified_by IS NOT NULL"),
        ),
        Index("ix_person_identifier_person", "person_id", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    kind: str = Field(max_length=12)  # email | national_id | portal
    client: str = Field(default="", max_length=100)  # for kind portal: the API client's name; else ""
    # e-mail in lower case, the portal's user id, or for a national identity number its keyed hash
    value: str = Field(max_length=254)
    verified_by: str | None = Field(default=None, max_length=20)  # VERIFICATION_METHODS, None: not proved
    verified_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    login: str | None = Field(default=None, max_length=20)  # portal_verified: the login it vouched for
    linked_by: str = Field(max_length=200)
    linked_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
