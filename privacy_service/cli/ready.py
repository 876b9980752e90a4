"""Before a command that needs the database runs: is there one, with the schema this version expects?

A newcomer who runs `privacy-service ropa export` before `init`, or an operator who upgraded the software but
not the schema, gets one sentence saying what to run instead of an SQL traceback, and nothing is created: the
check looks before the app is made (which would write a secret key and an empty SQLite file).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from privacy_service.config import Settings
from privacy_service.migrate import alembic_config, current_revision, head_revision

# Commands that make the database (init, demo), need none (openapi; policies check copes without one) or
# belong to a library (limiter).
NO_DATABASE = frozenset({"init", "demo", "openapi", "limiter", "policies"})
# Started before `init` in a rolling upgrade: /readyz answers 503 until the schema is current.
ANY_REVISION = frozenset({"serve"})
_OPTIONS_WITH_VALUES = frozenset({"-e", "--env-file", "-A", "--app"})
INIT = "Run `privacy-service init` to create it and load policies/, or `privacy-service demo` for the demo."


def command_of(args: list[str]) -> str | None:
    """The command named on a command line (its first word after the group's options), None for help."""
    if any(a in ("--help", "-h") for a in args):
        return None
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _OPTIONS_WITH_VALUES:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def load_env_files(args: list[str]) -> None:
    """Load .env, .flaskenv and an -e file as Flask's command group will: the check sees the same settings."""
    from flask.cli import load_dotenv

    load_dotenv()
    for flag, value in zip(args, args[1:], strict=False):
        if flag in ("-e", "--env-file"):
            load_dotenv(value)


def instance_problem(command: str | None, settings: Settings | None = None) -> str | None:
    """What stands in the way of running `command` on this instance's database, in one sentence; None if
    nothing does (or the command needs no database)."""
    if command is None or command in NO_DATABASE:
        return None
    settings = settings or Settings()
    url = make_url(settings.resolved_database_url())
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not url.database or url.database == ":memory:":
            return None
        if not path.exists():
            return f"This instance has no database yet ({path}). {INIT}"
        revision = _sqlite_revision(path)
    else:
        revision, problem = _server_revision(url)
        if problem:
            return problem
    if revision is None:
        return f"The database has no privacy-service schema yet. {INIT}"
    head = head_revision()
    if revision == head or command in ANY_REVISION:
        return None
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if revision not in known:
        return (
            f"The database's schema ({revision}) is newer than this version of privacy-service knows "
            f"({head}): install the version that upgraded it, or point DATABASE_URL at this version's "
            "database."
        )
    return (
        f"The database's schema is at revision {revision}; this version of privacy-service needs {head}. "
        "Run `privacy-service init` to upgrade it (it keeps every record and may be run again)."
    )


def _sqlite_revision(path: Path) -> str | None:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)  # read-only: never creates or changes it
    try:
        return conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except (sqlite3.Error, TypeError):
        return None  # no such table (or no row): never initialised
    finally:
        conn.close()


def _server_revision(url: object) -> tuple[str | None, str | None]:
    engine = create_engine(url, connect_args={"connect_timeout": 5}, poolclass=NullPool)  # type: ignore[arg-type]
    try:
        with engine.connect() as conn:
            return current_revision(conn), None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        where = make_url(str(url)).render_as_string(hide_password=True)  # type: ignore[arg-type]
        return None, f"Cannot reach the database at {where}: {reason}"
    finally:
        engine.dispose()


def check(args: list[str]) -> str | None:
    """The problem with this command line's instance, if any (main() prints it and exits 1)."""
    load_env_files(args)
    return instance_problem(command_of(args))
