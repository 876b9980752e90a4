"""Signed, purpose-bound withdrawal links: the token names a consent record by its id, never the subject."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "privacy-service.consent-withdraw.v1"
MAX_AGE_DAYS = 400  # a link in a mail stays usable for more than a year of mailings


class TokenProblem(Exception):
    """The token is not one we issued, or it has expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # expired | invalid


def make_token(secret_key: str, *, state_id: int, purpose: str) -> str:
    """Return the token for withdrawing one consent record."""
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps({"s": state_id, "p": purpose})


def read_token(secret_key: str, token: str, *, max_age_days: int = MAX_AGE_DAYS) -> tuple[int, str]:
    """Return (state id, purpose) from a token, or raise TokenProblem."""
    serializer = URLSafeTimedSerializer(secret_key, salt=SALT)
    try:
        payload = serializer.loads(token, max_age=max_age_days * 86400)
    except SignatureExpired as err:
        raise TokenProblem("expired") from err
    except BadSignature as err:
        raise TokenProblem("invalid") from err
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("s"), int)
        or not isinstance(payload.get("p"), str)
    ):
        raise TokenProblem("invalid")
    return payload["s"], payload["p"]


@dataclass(frozen=True)
class Links:
    """What the service needs to write links into receipts and mails (no Flask here)."""

    base_url: str
    secret_key: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Self:
        """The links of an app's settings (PRIVACY_BASE_URL, SECRET_KEY)."""
        return cls(base_url=config["PRIVACY_BASE_URL"], secret_key=config["SECRET_KEY"])

    def withdraw_url(self, state_id: int, purpose: str) -> str:
        token = make_token(self.secret_key, state_id=state_id, purpose=purpose)
        return f"{self.base_url}/consent/withdraw/{token}"

    def policy_url(self, service: str) -> str:
        return f"{self.base_url}/privacy/{service}"
