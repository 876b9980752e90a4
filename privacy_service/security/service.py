"""Officer accounts and API keys: create, authenticate, authorise."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from privacy_service.audit import Actor, record_event
from privacy_service.errors import N_, Conflict, DomainError, NotFound, worded
from privacy_service.kernel import utcnow
from privacy_service.security.models import ApiClient, User

ROLES = ("admin", "officer", "auditor")

# Every scope the API knows. An officer's role grants the scopes listed in ROLE_SCOPES.
SCOPES = (
    "registry:read",
    "registry:write",
    "audit:read",
    "consent:read",
    "consent:write",
    "requests:read",
    "requests:write",
    "requests:write:verified",
    "subjects:link",
    "requests:manage",
    "holds:manage",
    "retention:read",
    "retention:run",
    "breaches:manage",
    "admin",
)

_READ = {"registry:read", "audit:read", "consent:read", "requests:read", "retention:read"}
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "auditor": frozenset(_READ),
    "officer": frozenset(
        _READ
        | {"registry:write", "consent:write", "requests:write", "requests:manage", "holds:manage"}
        | {"retention:run", "breaches:manage"}
    ),
    "admin": frozenset(SCOPES),
}

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    # A hash of a random password, so unknown usernames cost the same time as wrong passwords.
    # Made on first use, not at import: importing the package should not spend an argon2 round.
    return _hasher.hash(secrets.token_hex(16))


KEY_PREFIX = "psk_"


class InvalidCredentials(DomainError):
    """The username or password is wrong."""

    code = "invalid_credentials"
    status = 401


class InvalidInput(DomainError):
    """A value is not acceptable."""

    code = "invalid"
    status = 422


def hash_password(password: str) -> str:
    """Return the argon2id hash of a password."""
    return _hasher.hash(password)


def create_user(
    session: Session, *, username: str, password: str, role: str, full_name: str, actor: Actor
) -> User:
    """Create an officer account."""
    if role not in ROLES:
        raise InvalidInput(
            worded("Unknown role '%(role)s'; choose one of %(roles)s.", role=role, roles=", ".join(ROLES)),
            fields={"role": [N_("Unknown role.")]},
        )
    if len(password) < 12:
        raise InvalidInput(
            N_("The password must be at least 12 characters."), fields={"password": [N_("Too short.")]}
        )
    if session.scalar(select(User).where(User.username == username)):
        raise Conflict(worded("A user named '%(username)s' already exists.", username=username))
    user = User(username=username, password_hash=hash_password(password), role=role, full_name=full_name)
    session.add(user)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=str(user.id),
        details={"role": role},
    )
    return user


def authenticate_user(session: Session, *, username: str, password: str) -> User:
    """Return the active user with these credentials, or raise InvalidCredentials."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError) as exc:
        raise InvalidCredentials(N_("Wrong username or password.")) from exc
    if user is None or not user.active:
        raise InvalidCredentials(N_("Wrong username or password."))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def key_digest(key: str) -> str:
    """The stored form of an API key (SHA-256 hex): keys are long random secrets, no slow hash needed."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_client(
    session: Session, *, name: str, scopes: list[str], actor: Actor
) -> tuple[ApiClient, str]:
    """Create an API client; return it with its key, which is shown once and stored only hashed."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InvalidInput(
            worded("Unknown scopes: %(unknown)s.", unknown=", ".join(unknown))
            if unknown
            else N_("Give at least one scope."),
            fields={"scopes": [worded("Choose from %(scopes)s.", scopes=", ".join(SCOPES))]},
        )
    if session.scalar(select(ApiClient).where(ApiClient.name == name)):
        raise Conflict(worded("An API client named '%(name)s' already exists.", name=name))
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        name=name,
        key_prefix=key[:10],
        key_hash=key_digest(key),
        scopes=sorted(set(scopes)),
        created_by=str(actor),
    )
    session.add(client)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="api_client.create",
        object_type="api_client",
        object_id=str(client.id),
        details={"name": name, "scopes": client.scopes},
    )
    return client, key


def authenticate_key(session: Session, key: str) -> ApiClient | None:
    """Return the active client holding this key (its current one, or the one before a rotation until the
    grace period ends), or None."""
    if not key.startswith(KEY_PREFIX):
        return None
    digest = key_digest(key)
    client = session.scalar(
        select(ApiClient).where(or_(ApiClient.key_hash == digest, ApiClient.previous_key_hash == digest))
    )
    if client is None or not client.active:
        return None
    if hmac.compare_digest(client.key_hash, digest):
        return client
    expires = client.previous_key_expires_at
    if client.previous_key_hash and hmac.compare_digest(client.previous_key_hash, digest):
        return client if expires is not None and utcnow() < expires else None
    return None


# A process may keep accepted keys for a few seconds (the consent hot path does): every commit that rotates or
# revokes a key moves this counter on, and such a cache empties itself when it sees the counter move. Another
# process learns of it only when its cache entries expire (PRIVACY_KEY_CACHE_SECONDS).
_KEYS_CHANGED = "privacy.api_keys_changed"
_key_generation = [0]


def key_generation() -> int:
    """A number that changes whenever this process commits a key rotation or revocation."""
    return _key_generation[0]


@event.listens_for(OrmSession, "after_commit")
def _keys_committed(session: OrmSession) -> None:
    if session.info.pop(_KEYS_CHANGED, False):
        _key_generation[0] += 1


@event.listens_for(OrmSession, "after_rollback")
def _keys_rolled_back(session: OrmSession) -> None:
    session.info.pop(_KEYS_CHANGED, None)


def rotate_api_client(
    session: Session, *, name: str, grace: timedelta, actor: Actor
) -> tuple[ApiClient, str]:
    """Give a client a new key; the old one keeps working for `grace` (zero: it stops now).

    Returns the client and the new key, which is shown once and stored only hashed.
    """
    client = session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise NotFound(worded("No API client named '%(name)s'.", name=name))
    if not client.active:
        raise Conflict(worded("The API client '%(name)s' is revoked; create a new one.", name=name))
    if grace < timedelta(0) or grace > timedelta(days=30):
        raise InvalidInput(N_("The grace period is 0 to 30 days."), fields={"grace": [N_("0 to 30 days.")]})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    if grace:
        client.previous_key_hash, client.previous_key_expires_at = client.key_hash, utcnow() + grace
    else:
        client.previous_key_hash, client.previous_key_expires_at = None, None
    client.key_hash, client.key_prefix = key_digest(key), key[:10]
    session.info[_KEYS_CHANGED] = True
    record_event(
        session,
        actor=actor,
        action="api_client.rotate",
        object_type="api_client",
        object_id=str(client.id),
        details={"name": name, "grace_seconds": int(grace.total_seconds())},
    )
    return client, key


def revoke_api_client(session: Session, *, name: str, actor: Actor) -> ApiClient:
    """Deactivate an API client so its key stops working."""
    client = session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise NotFound(worded("No API client named '%(name)s'.", name=name))
    client.active = False
    session.info[_KEYS_CHANGED] = True
    client.previous_key_hash, client.previous_key_expires_at = None, None
    record_event(
        session, actor=actor, action="api_client.revoke", object_type="api_client", object_id=str(client.id)
    )
    return client


def ensure_user(session: Session, *, username: str, password: str, role: str, actor: Actor) -> User:
    """Create the user, or reset its password and role (used by `demo`)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        return create_user(
            session, username=username, password=password, role=role, full_name=username, actor=actor
        )
    user.password_hash, user.role, user.active = hash_password(password), role, True
    record_event(session, actor=actor, action="user.reset", object_type="user", object_id=str(user.id))
    return user
