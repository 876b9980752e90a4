"""The migrations build the schema the models describe, on both engines."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import privacy_service.all_models  # noqa: F401  (every table on SQLModel.metadata)
from privacy_service.db import make_engine
from privacy_service.migrate import alembic_config, current_revision, head_revision


def test_the_migrated_schema_matches_the_models(make_db_url: Callable[..., str]) -> None:
    engine = make_engine(make_db_url("empty"))
    try:
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_the_newest_migration_goes_down_and_up_again(make_db_url: Callable[..., str]) -> None:
    engine = make_engine(make_db_url("empty"))
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "-1")
            command.upgrade(cfg, "head")
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    finally:
        engine.dispose()


def test_a_plain_system_description_becomes_json_and_one_in_two_languages_blocks_the_way_down(
    make_db_url: Callable[..., str],
) -> None:
    engine = make_engine(make_db_url("empty"))
    cfg = alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0028")
            conn.execute(
                sa.text(
                    "INSERT INTO data_system (name, description, content_hash, updated_at) "
                    "VALUES ('portal', 'The portal database', '', CURRENT_TIMESTAMP)"
                )
            )
            command.upgrade(cfg, "0029")
            table = sa.table("data_system", sa.column("name"), sa.column("description", sa.JSON()))
            assert conn.execute(sa.select(table.c.description)).scalar_one() == "The portal database"
            conn.execute(
                table.update().values(description={"nb": "Portalbasen", "en": "The portal database"})
            )
            with pytest.raises(RuntimeError, match="two languages"):
                command.downgrade(cfg, "0028")
    finally:
        engine.dispose()


def test_a_portals_user_ids_move_to_its_own_key_and_two_portals_sharing_an_id_block_the_way_down(
    make_db_url: Callable[..., str],
) -> None:
    """0034: consents recorded by portals under their user ids move to `<client>/<id>`; where two portals
    recorded the same id each gets its own state from its newest event; a flag set under a linked portal id
    follows the portal; e-mail addresses stay as they are."""
    engine = make_engine(make_db_url("empty"))
    cfg = alembic_config()
    event = sa.text(
        "INSERT INTO consent_event (id, receipt_id, subject, purpose, status, dpv_status, channel, evidence,"
        " actor, at, receipt) VALUES (:id, :r, :s, 'surveys', :st, 'dpv:ConsentGiven', 'api', '{}', :a,"
        " CURRENT_TIMESTAMP, '{}')"
    )
    state = sa.text(
        "INSERT INTO consent_state (id, subject, purpose, status, dpv_status, since, notice_version,"
        " renewal_required, last_event_id) VALUES (:id, :s, 'surveys', :st, 'dpv:ConsentGiven',"
        " CURRENT_TIMESTAMP, '1', :rr, :e)"
    )
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0033")
            for n, (subject, status, actor) in enumerate(
                [
                    ("u-1", "given", "api_client:portal-a"),
                    ("u-1", "given", "api_client:portal-b"),
                    ("u-1", "withdrawn", "api_client:portal-a"),
                    ("u-1", "withdrawn", "user:officer-1"),  # goes with portal-a, which recorded most
                    ("kari@example.no", "given", "api_client:portal-a"),
                    ("u-2", "given", "user:officer-1"),  # no client recorded it: stays
                ],
                start=1,
            ):
                conn.execute(event, {"id": n, "r": f"r-{n}", "s": subject, "st": status, "a": actor})
            # the shared state's newest event was the officer's withdrawal
            conn.execute(state, {"id": 7, "s": "u-1", "st": "withdrawn", "rr": True, "e": 4})
            conn.execute(state, {"id": 8, "s": "kari@example.no", "st": "given", "rr": False, "e": 5})
            conn.execute(state, {"id": 9, "s": "u-2", "st": "given", "rr": False, "e": 6})
            conn.execute(sa.text("INSERT INTO person (id, created_at) VALUES (1, CURRENT_TIMESTAMP)"))
            conn.execute(
                sa.text(
                    "INSERT INTO person_identifier (person_id, kind, client, value, verified_by, linked_by,"
                    " linked_at) VALUES (1, 'portal', 'portal-b', 'u-9', 'portal_verified', 'x',"
                    " CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO processing_flag (subject, activity, kind, set_at, set_by) VALUES"
                    " ('u-9', 'accounts', 'restricted', CURRENT_TIMESTAMP, 'x'),"
                    " ('u-3', 'accounts', 'restricted', CURRENT_TIMESTAMP, 'x')"
                )
            )
            command.upgrade(cfg, "head")
            events = conn.execute(sa.text("SELECT id, subject FROM consent_event ORDER BY id")).all()
            assert [s for __, s in events] == [
                "portal-a/u-1",
                "portal-b/u-1",
                "portal-a/u-1",
                "portal-a/u-1",
                "kari@example.no",
                "u-2",
            ]
            states = conn.execute(
                sa.text("SELECT id, subject, status, last_event_id FROM consent_state ORDER BY subject")
            ).all()
            assert [tuple(s) for s in states] == [
                (8, "kari@example.no", "given", 5),
                (7, "portal-a/u-1", "withdrawn", 4),  # the same state: a withdrawal link still names it
                (states[2][0], "portal-b/u-1", "given", 2),  # its own, from its newest event
                (9, "u-2", "given", 6),
            ]
            flags = conn.scalars(sa.text("SELECT subject FROM processing_flag ORDER BY subject")).all()
            assert flags == ["portal-b/u-9", "u-3"]
            with pytest.raises(sa.exc.DatabaseError, match="append-only"), conn.begin_nested():
                conn.execute(sa.text("UPDATE consent_event SET status = 'given' WHERE id = 4"))
            with pytest.raises(sa.exc.DatabaseError, match="append-only"), conn.begin_nested():
                conn.execute(sa.text("DELETE FROM consent_event WHERE id = 4"))
            with pytest.raises(RuntimeError, match="join their consents"):
                command.downgrade(cfg, "0033")
    finally:
        engine.dispose()
