"""The OpenID Connect relying party: discovery, the authorization request, the code exchange and the ID
token's checks. Authlib makes the requests (PKCE S256, client authentication) and checks the ID token's
claims; its JOSE library, joserfc, checks the signature against the provider's published keys. No Flask here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    DecodeError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet, RSAKey
from joserfc.jws import JWSRegistry

# Asymmetric signatures only: `none` and the HMAC family (keyed with the client secret) are never accepted.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
PROVIDERS = ("idporten", "helseid")
LEEWAY_SECONDS = 30  # clock skew tolerated on exp, iat and nbf
TIMEOUT_SECONDS = 10


class LoginRefused(Exception):
    """The provider's answer does not prove who logged in; `reason` names the failed check."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


class ProviderUnavailable(Exception):
    """The identity provider did not answer, or answered with something unusable."""


@dataclass(frozen=True)
class OidcSettings:
    """How this service logs subjects in; made from the PRIVACY_OIDC_* settings."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    client_key_file: str = ""  # set: authenticate with private_key_jwt (RFC 7523) instead of the secret
    provider: str = "idporten"
    acr: str = "idporten-loa-substantial"
    acr_order: tuple[str, ...] = ("idporten-loa-low", "idporten-loa-substantial", "idporten-loa-high")
    pid_claim: str = "pid"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> OidcSettings | None:
        """Return the settings, or None when no issuer is set (subject login is off)."""
        issuer = (config.get("PRIVACY_OIDC_ISSUER") or "").rstrip("/")
        if not issuer:
            return None
        order = tuple(
            v.strip() for v in str(config.get("PRIVACY_OIDC_ACR_VALUES") or "").split(",") if v.strip()
        )
        settings = cls(
            issuer=issuer,
            client_id=config.get("PRIVACY_OIDC_CLIENT_ID") or "",
            client_secret=config.get("PRIVACY_OIDC_CLIENT_SECRET") or "",
            client_key_file=config.get("PRIVACY_OIDC_CLIENT_KEY_FILE") or "",
            redirect_uri=f"{str(config.get('PRIVACY_BASE_URL') or '').rstrip('/')}/me/callback",
            provider=config.get("PRIVACY_OIDC_PROVIDER") or "idporten",
            acr=config.get("PRIVACY_OIDC_ACR") or "idporten-loa-substantial",
            acr_order=order or cls.acr_order,
            pid_claim=config.get("PRIVACY_OIDC_PID_CLAIM") or "pid",
        )
        if not settings.client_id:
            raise RuntimeError("PRIVACY_OIDC_ISSUER is set but PRIVACY_OIDC_CLIENT_ID is not")
        if settings.provider not in PROVIDERS:
            raise RuntimeError(f"PRIVACY_OIDC_PROVIDER must be one of {', '.join(PROVIDERS)}")
        if settings.acr not in settings.acr_order:
            raise RuntimeError("PRIVACY_OIDC_ACR must be one of PRIVACY_OIDC_ACR_VALUES")
        return settings

    def acr_sufficient(self, acr: Any) -> bool:
        """Whether an assurance level is known and at least the required one."""
        if not isinstance(acr, str) or acr not in self.acr_order:
            return False
        return self.acr_order.index(acr) >= self.acr_order.index(self.acr)


@dataclass(frozen=True)
class PendingLogin:
    """What the browser carries from the redirect to the provider to the way back (signed, short-lived)."""

    state: str
    nonce: str
    code_verifier: str

    @classmethod
    def new(cls) -> PendingLogin:
        """Return fresh random values for one login attempt."""
        return cls(state=generate_token(32), nonce=generate_token(32), code_verifier=generate_token(64))


@dataclass(frozen=True)
class Identity:
    """Who the provider says logged in, after every check has passed."""

    pid: str
    acr: str
    method: str


class OidcClient:
    """One relying party for one provider: keeps the discovery document and the keys between logins."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._signing_key: RSAKey | None = None
        self._lock = threading.Lock()

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = requests.get(url, timeout=TIMEOUT_SECONDS)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as err:
            raise ProviderUnavailable(type(err).__name__) from err
        if not isinstance(data, dict):
            raise ProviderUnavailable("not a JSON object")
        return data

    def metadata(self) -> dict[str, Any]:
        """Return the provider's discovery document, fetched once."""
        if self._metadata is None:
            data = self._get_json(f"{self.settings.issuer}/.well-known/openid-configuration")
            # OpenID Connect Discovery §4.3: the document must name the issuer it was fetched from
            if data.get("issuer", "").rstrip("/") != self.settings.issuer:
                raise ProviderUnavailable("the discovery document names another issuer")
            with self._lock:
                self._metadata = data
        return self._metadata

    def _key_set(self, *, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            keys = KeySet.import_key_set(self._get_json(self.metadata()["jwks_uri"]))  # type: ignore[arg-type]
            with self._lock:
                self._keys = keys
        return self._keys

    def _session(self) -> OAuth2Session:
        if self.settings.client_key_file:  # a signed client assertion (private_key_jwt), as HelseID requires
            key = self._client_key()
            session = OAuth2Session(
                client_id=self.settings.client_id,
                client_secret=key,
                token_endpoint_auth_method="private_key_jwt",  # noqa: S106 - a method's name, not a secret
                redirect_uri=self.settings.redirect_uri,
                scope="openid",
                code_challenge_method="S256",
            )
            headers = {"kid": key.kid} if key.kid else None
            session.register_client_auth_method(
                PrivateKeyJWT(self.metadata()["token_endpoint"], headers=headers)
            )
            return session
        return OAuth2Session(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method's name, not a secret
            redirect_uri=self.settings.redirect_uri,
            scope="openid",
            code_challenge_method="S256",
        )

    def _client_key(self) -> RSAKey:
        """The client's private key (PEM or JWK), read once from PRIVACY_OIDC_CLIENT_KEY_FILE."""
        if self._signing_key is None:
            raw = Path(self.settings.client_key_file).read_text(encoding="utf-8")
            value: Any = json.loads(raw) if raw.lstrip().startswith("{") else raw
            self._signing_key = RSAKey.import_key(value)
        return self._signing_key

    def authorization_url(self, pending: PendingLogin, *, locale: str | None = None) -> str:
        """Return the provider's login address for this attempt (state, nonce, PKCE S256, acr_values)."""
        extra = {"ui_locales": locale} if locale else {}
        with self._session() as session:
            url, _ = session.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=pending.state,
                code_verifier=pending.code_verifier,
                nonce=pending.nonce,
                acr_values=self.settings.acr,
                **extra,
            )
        return url

    def finish(self, pending: PendingLogin, *, code: str) -> Identity:
        """Exchange the code and check the ID token; raise LoginRefused naming the first check that failed."""
        token = self._exchange(pending, code)
        claims = self._verified_claims(token, pending.nonce)
        if not self.settings.acr_sufficient(claims.get("acr")):
            raise LoginRefused("acr", 403)
        pid = claims.get(self.settings.pid_claim)
        if not isinstance(pid, str) or not pid.strip() or len(pid) > 64:
            raise LoginRefused("pid")
        return Identity(pid=pid.strip(), acr=claims["acr"], method=self.settings.provider)

    def _exchange(self, pending: PendingLogin, code: str) -> dict[str, Any]:
        try:
            with self._session() as session:
                token = session.fetch_token(
                    self.metadata()["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.code_verifier,
                    timeout=TIMEOUT_SECONDS,
                )
        except OAuthError as err:  # the provider refused the code (used, expired, or the PKCE check failed)
            raise LoginRefused("token_request") from err
        except (requests.RequestException, ValueError) as err:
            raise ProviderUnavailable(type(err).__name__) from err
        if not token.get("id_token"):
            raise LoginRefused("token_request")
        return dict(token)

    def _decode(self, id_token: str) -> jwt.Token:
        registry = JWSRegistry(algorithms=list(SIGNING_ALGORITHMS))
        try:
            return jwt.decode(id_token, self._key_set(), registry=registry)
        except InvalidKeyIdError:  # the provider may have rolled its keys since we fetched them
            return jwt.decode(id_token, self._key_set(refresh=True), registry=registry)

    def _verified_claims(self, token: dict[str, Any], nonce: str) -> CodeIDToken:
        try:
            decoded = self._decode(token["id_token"])
        except (UnsupportedAlgorithmError, BadSignatureError, InvalidKeyIdError, DecodeError) as err:
            raise LoginRefused("signature") from err
        except JoseError as err:
            raise LoginRefused("token") from err
        # OIDC Core §3.1.3.7: issuer and audience exact, nonce as sent, not expired
        options = {
            "iss": {"essential": True, "value": self.settings.issuer},
            "aud": {"essential": True, "value": self.settings.client_id},
            "exp": {"essential": True},
            "nonce": {"essential": True},
        }
        params = {
            "nonce": nonce,
            "client_id": self.settings.client_id,
            "access_token": token.get("access_token"),
        }
        claims = CodeIDToken(decoded.claims, decoded.header, options, params)
        try:
            claims.validate(leeway=LEEWAY_SECONDS)
        except ExpiredTokenError as err:
            raise LoginRefused("expired") from err
        except ClaimError as err:
            raise LoginRefused(_CLAIM_REASONS.get(err.claim, "token")) from err
        return claims


_CLAIM_REASONS = {"iss": "issuer", "aud": "audience", "azp": "audience", "nonce": "nonce", "exp": "expired"}
