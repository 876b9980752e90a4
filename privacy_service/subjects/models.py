"""The subject's login sessions: one row per login, so a logout or an expiry ends every copy of the cookie."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from privacy_service.columns import tz_column
from privacy_service.kernel import utcnow


class SubjectSession(SQLModel, table=True):
    """A data subject logged in through the identity provider.

    The cookie holds a random token; the row holds only its SHA-256, so a copy of the table opens nothing.
    The national identity number is kept because requests made in this session search the data with it
    (Art. 15, 12(6)); the row is deleted at logout and when it expires.
    """

    __tablename__ = "subject_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    pid: str = Field(max_length=64)
    # HMAC of the pid under the instance's secret: finds a subject's sessions without reading pids
    pid_key: str = Field(max_length=64, index=True)
    acr: str = Field(max_length=100)
    method: str = Field(max_length=20)  # idporten | helseid
    logged_in_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=tz_column())
    expires_at: datetime = Field(sa_column=tz_column(index=True))
