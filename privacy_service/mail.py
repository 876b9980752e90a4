"""E-mail transport: build a MIME message; send it over SMTP, or write an .eml file when no SMTP is set."""

from __future__ import annotations

import os
import secrets
import smtplib
import ssl
import tempfile
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailError(Exception):
    """A message could not be sent; the text names the server, never the password or the recipient."""


def build_message(
    *,
    to: str,
    subject: str,
    text: str,
    sender: str,
    html: str | None = None,
    list_unsubscribe_url: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """Return a UTF-8 message; with list_unsubscribe_url, the RFC 8058 one-click headers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    if list_unsubscribe_url:
        message["List-Unsubscribe"] = f"<{list_unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text, charset="utf-8")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def _write_eml(message: EmailMessage, outbox_dir: Path) -> str:
    outbox_dir.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
    fd, tmp = tempfile.mkstemp(dir=outbox_dir, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(message.as_bytes())
    os.replace(tmp, outbox_dir / name)
    return f"file:{outbox_dir / name}"


def send_message(
    message: EmailMessage, *, smtp_url: str | None, outbox_dir: Path, timeout: float = 10
) -> str:
    """Send over SMTP (smtp://, smtp+starttls://, smtps://; user:password@ optional) or write an .eml file."""
    if not smtp_url:
        return _write_eml(message, outbox_dir)
    parts = urlsplit(smtp_url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise MailError(f"Unsupported mail URL scheme {parts.scheme!r}: use smtp, smtp+starttls or smtps.")
    host, port = parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        with client:
            if parts.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(message)
    except smtplib.SMTPResponseException as exc:
        raise MailError(f"SMTP server {host}:{port} answered {exc.smtp_code}.") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(
            f"SMTP server {host}:{port} could not be reached or refused ({type(exc).__name__})."
        ) from None
    return f"smtp:{host}:{port}"
