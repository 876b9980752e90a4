"""Officer accounts and API keys."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from privacy_service.cli.common import CLI_ACTOR, fail
from privacy_service.db import get_engine, transaction
from privacy_service.errors import DomainError


@click.group("user")
def user_group() -> None:
    """Officer accounts."""


@user_group.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "officer", "auditor"]))
@click.option("--full-name", default="")
@click.option(
    "--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="PRIVACY_NEW_USER_PASSWORD"
)
@with_appcontext
def user_create(username: str, role: str, full_name: str, password: str) -> None:
    """Create an officer account (the password is asked for, or read from PRIVACY_NEW_USER_PASSWORD)."""
    from privacy_service.security.service import create_user

    try:
        with transaction(get_engine()) as session:
            user = create_user(
                session, username=username, password=password, role=role, full_name=full_name, actor=CLI_ACTOR
            )
            click.echo(f"created {user.role} {user.username}")
    except DomainError as exc:
        fail(exc)


@click.group("api-key")
def api_key_group() -> None:
    """API clients and their keys."""


@api_key_group.command("create")
@click.option("--name", required=True)
@click.option("--scopes", required=True, help="Comma-separated, e.g. consent:read,consent:write")
@with_appcontext
def api_key_create(name: str, scopes: str) -> None:
    """Create an API client; its key is printed once, alone on the last line."""
    from privacy_service.security.service import create_api_client

    try:
        with transaction(get_engine()) as session:
            client, key = create_api_client(
                session,
                name=name,
                scopes=[s.strip() for s in scopes.split(",") if s.strip()],
                actor=CLI_ACTOR,
            )
            scope_text = ",".join(client.scopes)
    except DomainError as exc:
        fail(exc)
    click.echo(
        f"API client {name} created with scopes {scope_text}. Store the key now; it is not shown again:"
    )
    click.echo(key)


@api_key_group.command("revoke")
@click.option("--name", required=True)
@with_appcontext
def api_key_revoke(name: str) -> None:
    """Revoke an API client's key."""
    from privacy_service.security.service import revoke_api_client

    try:
        with transaction(get_engine()) as session:
            revoke_api_client(session, name=name, actor=CLI_ACTOR)
    except DomainError as exc:
        fail(exc)
    click.echo(f"revoked {name}")


@api_key_group.command("rotate")
@click.option("--name", required=True)
@click.option(
    "--grace-hours",
    default=24.0,
    show_default=True,
    type=click.FloatRange(0, 720),
    help="How long the old key keeps working (0: it stops now).",
)
@with_appcontext
def api_key_rotate(name: str, grace_hours: float) -> None:
    """Give an API client a new key; its new key is printed once, alone on the last line."""
    from privacy_service.security.service import rotate_api_client

    try:
        with transaction(get_engine()) as session:
            client, key = rotate_api_client(
                session, name=name, grace=timedelta(hours=grace_hours), actor=CLI_ACTOR
            )
            until = client.previous_key_expires_at
    except DomainError as exc:
        fail(exc)
    old = f"the old key works until {until:%Y-%m-%d %H:%M} UTC" if until else "the old key no longer works"
    click.echo(f"API client {name} has a new key; {old}. Store the key now; it is not shown again:")
    click.echo(key)


@api_key_group.command("list")
@with_appcontext
def api_key_list() -> None:
    """List the API clients: name, key prefix, scopes, state, last use (never the keys)."""
    from sqlalchemy import select

    from privacy_service.security.models import ApiClient

    with transaction(get_engine()) as session:
        for client in session.scalars(select(ApiClient).order_by(ApiClient.name)):
            state = "active" if client.active else "revoked"
            if client.active and client.previous_key_expires_at:
                state += f", old key until {client.previous_key_expires_at:%Y-%m-%d %H:%M} UTC"
            click.echo(f"{client.name}\t{client.key_prefix}…\t{','.join(client.scopes)}\t{state}")
