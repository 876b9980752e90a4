"""Officer accounts and API clients."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from privacy_service.columns import json_column, tz_column
from privacy_service.kernel import utcnow


class User(SQLModel, table=True):
    """An officer who logs in to the officer pages."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, unique=True, index=True)
    full_name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=20)  # admin | officer | auditor
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    last_login_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    # Part of the id kept in the signed session cookie: logging out raises it, so a copy of the cookie taken
    # before the logout no longer opens anything, on any instance.
    session_version: int = 0

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"


class ApiClient(SQLModel, table=True):
    """A portal service or integration calling the API with a bearer key."""

    __tablename__ = "api_client"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    key_prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    # After a rotation the old key keeps working until previous_key_expires_at, so a portal can deploy the new
    # one without downtime; a revocation ends both at once.
    previous_key_hash: str | None = Field(default=None, max_length=64, index=True)
    previous_key_expires_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))
    scopes: list[str] = Field(default_factory=list, sa_column=json_column())
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    created_by: str = Field(default="", max_length=200)
    last_used_at: datetime | None = Field(default=None, sa_column=tz_column(nullable=True))


class RateLimitCounter(SQLModel, table=True):
    """One fixed-window rate-limit count, shared by every worker and instance on the database."""

    __tablename__ = "rate_limit_counter"

    # A keyed digest of the limiter's key, which holds the client's address or the username typed at the
    # login: the table keeps neither (Art. 5(1)(c)).
    key: str = Field(primary_key=True, max_length=64)
    count: int = 0
    # When the window ends: the next hit after it starts a new count; expired rows are purged now and then.
    expires_at: datetime = Field(sa_column=tz_column(index=True))
