"""What every command shares: the actor it acts as, how a domain error ends it, where the app is."""

from __future__ import annotations

import os
import sys

import click

from privacy_service.audit import Actor
from privacy_service.errors import DomainError

CLI_ACTOR = Actor("cli", os.environ.get("USER", "operator"))


def fail(exc: DomainError) -> None:
    """End the command with the error and its field messages on stderr (exit status 2)."""
    click.echo(f"error: {exc.message}", err=True)
    for name, messages in (exc.fields or {}).items():
        click.echo(f"  {name}: {'; '.join(map(str, messages))}", err=True)
    sys.exit(2)


APP_FACTORY = "privacy_service:create_app()"  # found by name, as gunicorn finds it: no import circle
