"""Settings from environment variables, in one dataclass with documented defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

DEFAULT_BASE_URL = "http://localhost:5000"  # `demo --port N` moves it to port N


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass
class Settings:
    """Everything the service reads from its environment (DESIGN.md §5)."""

    # Folder for the SQLite database, the mail outbox and demo data systems.
    instance_path: Path = field(
        default_factory=lambda: Path(_env("PRIVACY_INSTANCE_PATH", "instance")).resolve()
    )
    # SQLAlchemy URL; default SQLite under the instance folder.
    database_url: str | None = field(default_factory=lambda: _env("DATABASE_URL"))
    # The policies/ folder loaded by `privacy-service init`.
    policies_path: Path | None = field(
        default_factory=lambda: Path(p).resolve() if (p := _env("PRIVACY_POLICIES")) else None
    )
    # Signs sessions and tokens; unset: a random key is kept in instance/secret_key (one per instance).
    secret_key: str | None = field(default_factory=lambda: _env("PRIVACY_SECRET_KEY"))
    # smtp://user:pass@host:port; unset: mails are written to instance/outbox as .eml files.
    smtp_url: str | None = field(default_factory=lambda: _env("PRIVACY_SMTP_URL"))
    # The From address of the mails the service sends.
    mail_from: str = field(default_factory=lambda: _env("PRIVACY_MAIL_FROM", "personvern@localhost") or "")
    # The privacy team's mailbox: deadline reminders for data-subject requests go here (default: mail_from).
    officer_email: str | None = field(default_factory=lambda: _env("PRIVACY_OFFICER_EMAIL"))
    # The organisation (its slug in policies/organisations.yaml) the public pages speak for: its name heads
    # them and its contact details close them. Unset: the controller most privacy notices name.
    controller: str | None = field(default_factory=lambda: _env("PRIVACY_CONTROLLER"))
    # Public address used in links and the JSON-LD export.
    base_url: str = field(default_factory=lambda: _env("PRIVACY_BASE_URL", DEFAULT_BASE_URL) or "")
    # Where rate limits are counted: database:// (the service's own database, shared by every worker and
    # instance), redis://host:6379, or memory:// for a single process (`serve` then refuses several workers).
    ratelimit_storage: str = field(
        default_factory=lambda: _env("PRIVACY_RATELIMIT_STORAGE", "database://") or ""
    )
    # How often one address may fetch the public notice PDFs (Flask-Limiter notation, e.g. "30 per minute"):
    # plenty for people, too few for a script that would keep the workers busy.
    notice_pdf_rate_limit: str = field(
        default_factory=lambda: _env("PRIVACY_NOTICE_PDF_RATE_LIMIT", "30 per minute") or ""
    )
    # How long a worker keeps accepting an API key it has checked before, without asking the database again
    # (the consent and processing status reads). A key revoked in another worker stops working within this
    # many seconds; 0 checks every request.
    key_cache_seconds: float = field(
        default_factory=lambda: float(_env("PRIVACY_KEY_CACHE_SECONDS", "5") or 0)
    )
    # Set by `serve` for its second pool: this process answers only the consent and processing status reads
    # (and /healthz, /readyz); every other request gets a 404 naming the main address's job.
    hot_pool: bool = field(default_factory=lambda: _env("PRIVACY_HOT_POOL", "0") == "1")
    # Largest request body accepted, in bytes.
    max_content_length: int = field(
        default_factory=lambda: int(_env("PRIVACY_MAX_CONTENT_LENGTH", str(1024 * 1024)) or 0)
    )
    # How many reverse proxies in front of the service set X-Forwarded-For/-Proto/-Host (0: none trusted).
    # Rate limits and audit events use the client address the nearest trusted proxy reports.
    trusted_proxies: int = field(default_factory=lambda: int(_env("PRIVACY_TRUSTED_PROXIES", "0") or 0))
    # Send cookies only over HTTPS; set to 0 for plain-HTTP local use.
    secure_cookies: bool = field(default_factory=lambda: _env("PRIVACY_SECURE_COOKIES", "0") == "1")
    # Subject login with OpenID Connect (ID-porten or HelseID, see the README). Unset issuer: no login button,
    # /me answers 404, and requests are verified by e-mail only.
    oidc_issuer: str | None = field(default_factory=lambda: _env("PRIVACY_OIDC_ISSUER"))
    oidc_client_id: str | None = field(default_factory=lambda: _env("PRIVACY_OIDC_CLIENT_ID"))
    oidc_client_secret: str | None = field(default_factory=lambda: _env("PRIVACY_OIDC_CLIENT_SECRET"))
    # A private key file (PEM or JWK): the client then authenticates with private_key_jwt (HelseID requires
    # it) instead of the secret.
    oidc_client_key_file: str | None = field(default_factory=lambda: _env("PRIVACY_OIDC_CLIENT_KEY_FILE"))
    # idporten | helseid: recorded as how an identity was verified
    oidc_provider: str = field(default_factory=lambda: _env("PRIVACY_OIDC_PROVIDER", "idporten") or "")
    # The lowest assurance level (`acr`) accepted, and every level the provider uses from lowest to highest.
    oidc_acr: str = field(default_factory=lambda: _env("PRIVACY_OIDC_ACR", "idporten-loa-substantial") or "")
    oidc_acr_values: str = field(
        default_factory=lambda: (
            _env("PRIVACY_OIDC_ACR_VALUES", "idporten-loa-low,idporten-loa-substantial,idporten-loa-high")
            or ""
        )
    )
    # The ID token claim holding the national identity number (HelseID: helseid://claims/identity/pid).
    oidc_pid_claim: str = field(default_factory=lambda: _env("PRIVACY_OIDC_PID_CLAIM", "pid") or "")
    # A subject's session ends after this many minutes without a request, and at the latest after the second.
    subject_idle_minutes: int = field(
        default_factory=lambda: int(_env("PRIVACY_SUBJECT_IDLE_MINUTES", "30") or 30)
    )
    subject_max_minutes: int = field(
        default_factory=lambda: int(_env("PRIVACY_SUBJECT_MAX_MINUTES", "120") or 120)
    )
    # Signs the audit chain's anchors (audit_anchor.py). Keep it from the database's administrators, and apart
    # from PRIVACY_SECRET_KEY (kept with the backups' keys); unset: anchors are signed with a key derived from
    # the secret key, and `audit verify` says the anchor is not keyed.
    audit_anchor_key: str | None = field(default_factory=lambda: _env("PRIVACY_AUDIT_ANCHOR_KEY"))
    # The append-only file the chain's head is written to on every verify and daily (default:
    # <instance>/audit-anchor.log). Put it on storage the database administrators cannot rewrite.
    audit_anchor_file: str | None = field(default_factory=lambda: _env("PRIVACY_AUDIT_ANCHOR_FILE"))
    # A mailbox outside the database administrators' reach: the daily anchor job mails it the anchor line it
    # wrote, or the fault it found (through the outbox). Unset: no mail.
    audit_anchor_mail: str | None = field(default_factory=lambda: _env("PRIVACY_AUDIT_ANCHOR_MAIL"))

    # Webhooks (webhooks.py): https only unless ALLOW_HTTP=1; receivers on loopback, private or link-local
    # addresses only with ALLOW_PRIVATE=1 (tests, a developer's machine); the most active subscriptions one
    # client may hold; how many deliveries the webhook lane makes at once.
    webhook_allow_http: bool = field(default_factory=lambda: _env("PRIVACY_WEBHOOK_ALLOW_HTTP", "0") == "1")
    webhook_allow_private: bool = field(
        default_factory=lambda: _env("PRIVACY_WEBHOOK_ALLOW_PRIVATE", "0") == "1"
    )
    webhook_max_subscriptions: int = field(
        default_factory=lambda: int(_env("PRIVACY_WEBHOOK_MAX_SUBSCRIPTIONS", "10") or 10)
    )
    webhook_concurrency: int = field(
        default_factory=lambda: int(_env("PRIVACY_WEBHOOK_CONCURRENCY", "4") or 4)
    )

    # Appeals against refusals on statutory health registries (dsar/appeals.py): the days we allow ourselves
    # from receiving an appeal to reversing the decision or sending the case on ("without undue delay",
    # forvaltningsloven § 33), and the days the appeal body is expected to take unless the officer gives one.
    appeal_prepare_days: int = field(
        default_factory=lambda: int(_env("PRIVACY_APPEAL_PREPARE_DAYS", "21") or 21)
    )
    appeal_decision_days: int = field(
        default_factory=lambda: int(_env("PRIVACY_APPEAL_DECISION_DAYS", "90") or 90)
    )

    # How often the scheduler process brings its jobs in line with the retention rules (an applied change).
    scheduler_resync_seconds: float = field(
        default_factory=lambda: float(_env("PRIVACY_SCHEDULER_RESYNC_SECONDS", "60") or 60)
    )

    def resolved_policies_path(self) -> Path:
        """Return the policies folder: the setting, ./policies, the source tree's, or the wheel's copy."""
        if self.policies_path:
            return self.policies_path
        for candidate in (Path("policies").resolve(), Path(__file__).resolve().parent.parent / "policies"):
            if candidate.is_dir():
                return candidate
        return Path(__file__).resolve().parent / "_policies"

    def resolved_database_url(self) -> str:
        """Return the database URL, defaulting to SQLite in the instance folder."""
        if self.database_url:
            url = self.database_url
            if url.startswith("postgres://"):
                url = "postgresql://" + url.removeprefix("postgres://")
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{self.instance_path / 'privacy.db'}"

    def _instance_secret(self) -> str:
        path = self.instance_path / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return path.read_text().strip()

    def flask_config(self) -> dict[str, Any]:
        """Return the Flask config mapping for these settings."""
        return {
            "SECRET_KEY": self.secret_key or self._instance_secret(),
            "SQLALCHEMY_DATABASE_URI": self.resolved_database_url(),
            "PRIVACY_INSTANCE_PATH": str(self.instance_path),
            "PRIVACY_POLICIES": str(self.resolved_policies_path()),
            "PRIVACY_SMTP_URL": self.smtp_url,
            "PRIVACY_MAIL_FROM": self.mail_from,
            "PRIVACY_OFFICER_EMAIL": self.officer_email or self.mail_from,
            "PRIVACY_BASE_URL": self.base_url.rstrip("/"),
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage,
            "PRIVACY_NOTICE_PDF_RATE_LIMIT": self.notice_pdf_rate_limit,
            "PRIVACY_TRUSTED_PROXIES": self.trusted_proxies,
            "PRIVACY_CONTROLLER": self.controller,
            "PRIVACY_KEY_CACHE_SECONDS": self.key_cache_seconds,
            "PRIVACY_HOT_POOL": self.hot_pool,
            "MAX_CONTENT_LENGTH": self.max_content_length,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.secure_cookies,
            "SESSION_COOKIE_NAME": "privacy_session",
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SAMESITE": "Lax",
            "PERMANENT_SESSION_LIFETIME": 8 * 3600,
            "PRIVACY_OIDC_ISSUER": (self.oidc_issuer or "").rstrip("/") or None,
            "PRIVACY_OIDC_CLIENT_ID": self.oidc_client_id,
            "PRIVACY_OIDC_CLIENT_SECRET": self.oidc_client_secret,
            "PRIVACY_OIDC_CLIENT_KEY_FILE": self.oidc_client_key_file,
            "PRIVACY_OIDC_PROVIDER": self.oidc_provider,
            "PRIVACY_OIDC_ACR": self.oidc_acr,
            "PRIVACY_OIDC_ACR_VALUES": self.oidc_acr_values,
            "PRIVACY_OIDC_PID_CLAIM": self.oidc_pid_claim,
            "PRIVACY_SCHEDULER_RESYNC_SECONDS": self.scheduler_resync_seconds,
            "PRIVACY_WEBHOOK_ALLOW_HTTP": self.webhook_allow_http,
            "PRIVACY_WEBHOOK_ALLOW_PRIVATE": self.webhook_allow_private,
            "PRIVACY_WEBHOOK_MAX_SUBSCRIPTIONS": self.webhook_max_subscriptions,
            "PRIVACY_WEBHOOK_CONCURRENCY": self.webhook_concurrency,
            "PRIVACY_SUBJECT_IDLE_MINUTES": self.subject_idle_minutes,
            "PRIVACY_SUBJECT_MAX_MINUTES": self.subject_max_minutes,
            "PRIVACY_AUDIT_ANCHOR_KEY": self.audit_anchor_key,
            "PRIVACY_AUDIT_ANCHOR_FILE": self.audit_anchor_file,
            "PRIVACY_AUDIT_ANCHOR_MAIL": self.audit_anchor_mail,
            "PRIVACY_APPEAL_PREPARE_DAYS": self.appeal_prepare_days,
            "PRIVACY_APPEAL_DECISION_DAYS": self.appeal_decision_days,
        }


def setting_names() -> list[str]:
    """Return the names of all settings (for documentation)."""
    return [f.name for f in fields(Settings)]
