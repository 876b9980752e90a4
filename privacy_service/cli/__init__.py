"""The `privacy-service` command (also `flask --app privacy_service`): every group and command, registered on
the app's CLI by the app factory."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, ScriptInfo

from privacy_service.cli import ready
from privacy_service.cli.accounts import api_key_group, user_group
from privacy_service.cli.common import APP_FACTORY
from privacy_service.cli.operate import (
    demo_command,
    init_command,
    outbox_group,
    policies_group,
    scheduler_command,
    serve_command,
)
from privacy_service.cli.records import audit_group, dsar_group, retention_group, ropa_group


def register_commands(app: Flask) -> None:
    """Attach the commands to the app's CLI group."""
    for command in (
        init_command,
        policies_group,
        serve_command,
        demo_command,
        user_group,
        api_key_group,
        ropa_group,
        audit_group,
        outbox_group,
        retention_group,
        dsar_group,
        scheduler_command,
    ):
        app.cli.add_command(command)


def main() -> None:
    """Entry point of the `privacy-service` command."""
    problem = ready.check(sys.argv[1:])
    if problem:
        click.echo(f"privacy-service: {problem}", err=True)
        sys.exit(1)
    FlaskGroup(add_default_commands=False, add_version_option=False)(
        prog_name="privacy-service", obj=ScriptInfo(app_import_path=APP_FACTORY)
    )
