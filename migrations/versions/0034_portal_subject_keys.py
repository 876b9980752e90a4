"""A portal's user id is stored under its own client's key

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 11:30:00

Consents and processing flags were stored under the subject's plain text, so two portals whose user ids read
the same ("u-1") shared one consent: either could read it, and either could withdraw it. They are now stored
under a subject key (people.subject_key): an e-mail address as itself, a portal's user id as `<client>/<id>`.
A subject never holds '/', so no client can name another's key.

Existing rows under a subject that is not an e-mail address move to the key of the client that recorded them:
- a consent event, to its own client's key; an event no client made (an officer's, a request's) goes with the
  client that recorded most of that consent;
- a consent state, to the key its newest event went to (its id stays: withdrawal links name it); where two
  clients recorded under the same text, the other client gets a state of its own from its newest event;
- a processing flag, to the key of every portal that linked a person's user id of that text (a flag set
  for a linked person since 0033), one copy each.
Rows no client recorded or linked stay as they are. The way down refuses when two clients' keys would become
one text again (a consent would be lost).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

TABLES = ("consent_event", "consent_state", "processing_flag")
PLAIN = "subject NOT LIKE '%@%' AND subject NOT LIKE '%/%'"


def _client(actor: str) -> str | None:
    kind, __, name = actor.partition(":")
    return name if kind == "api_client" and name else None


def _append_only(on: bool) -> None:
    """Lift consent_event's append-only trigger (0003) for this migration's one rewrite of its subject
    column, and put it back. On SQLite the widening copies the table, which drops its triggers anyway."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE consent_event {'ENABLE' if on else 'DISABLE'} TRIGGER consent_event_no_change"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        if on:
            op.execute(
                f"CREATE TRIGGER consent_event_no_{verb.lower()} BEFORE {verb} ON consent_event "
                "BEGIN SELECT RAISE(ABORT, 'consent_event is append-only'); END"
            )
        else:
            op.execute(f"DROP TRIGGER IF EXISTS consent_event_no_{verb.lower()}")


def _widen(length: int, was: int) -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "subject",
                type_=sa.String(length=length),
                existing_type=sa.String(length=was),
                existing_nullable=False,
            )


def upgrade() -> None:
    _append_only(False)
    _widen(360, 254)
    _move_to_keys(op.get_bind())
    _append_only(True)


def _move_to_keys(conn: sa.engine.Connection) -> None:
    events = conn.execute(
        sa.text(f"SELECT id, subject, purpose, actor FROM consent_event WHERE {PLAIN} ORDER BY id")
    ).all()
    groups: dict[tuple[str, str], list[tuple[int, str | None]]] = defaultdict(list)
    for event_id, subject, purpose, actor in events:
        groups[(subject, purpose)].append((event_id, _client(actor)))
    for (subject, purpose), members in groups.items():
        counts = Counter(client for __, client in members if client)
        if not counts:
            continue  # no client recorded it: not a portal's user id
        main = sorted(counts, key=lambda c: (-counts[c], c))[0]
        newest: dict[str, int] = {}
        for event_id, client in members:
            key = f"{client or main}/{subject}"
            conn.execute(
                sa.text("UPDATE consent_event SET subject = :k WHERE id = :i"), {"k": key, "i": event_id}
            )
            newest[key] = event_id
        state = conn.execute(
            sa.text(
                "SELECT id, last_event_id, renewal_required FROM consent_state WHERE subject = :s AND purpose = :p"
            ),
            {"s": subject, "p": purpose},
        ).first()
        if state is None:
            continue
        kept = next((k for k, e in newest.items() if e == state.last_event_id), f"{main}/{subject}")
        conn.execute(
            sa.text("UPDATE consent_state SET subject = :k WHERE id = :i"), {"k": kept, "i": state.id}
        )
        for key, event_id in newest.items():
            if key == kept:
                continue
            event = conn.execute(
                sa.text("SELECT status, dpv_status, at, notice_version FROM consent_event WHERE id = :i"),
                {"i": event_id},
            ).one()
            conn.execute(
                sa.text(
                    "INSERT INTO consent_state (subject, purpose, status, dpv_status, since, notice_version,"
                    " renewal_required, last_event_id) VALUES (:k, :p, :st, :d, :at, :n, :r, :e)"
                ),
                {
                    "k": key,
                    "p": purpose,
                    "st": event.status,
                    "d": event.dpv_status,
                    "at": event.at,
                    "n": event.notice_version,
                    "r": bool(state.renewal_required) and event.status == "given",
                    "e": event_id,
                },
            )
    flags = conn.execute(
        sa.text(
            f"SELECT f.id, f.subject, f.activity, f.kind, f.reference, f.set_at, f.set_by, f.lifted_at,"
            f" f.lifted_by FROM processing_flag f WHERE {PLAIN.replace('subject', 'f.subject')}"
        )
    ).all()
    for flag in flags:
        clients = conn.scalars(
            sa.text(
                "SELECT DISTINCT client FROM person_identifier WHERE kind = 'portal' AND value = :v"
                " AND verified_by IS NOT NULL ORDER BY client"
            ),
            {"v": flag.subject},
        ).all()
        for n, client in enumerate(clients):
            key = f"{client}/{flag.subject}"
            if n == 0:
                conn.execute(
                    sa.text("UPDATE processing_flag SET subject = :k WHERE id = :i"), {"k": key, "i": flag.id}
                )
                continue
            conn.execute(
                sa.text(
                    "INSERT INTO processing_flag (subject, activity, kind, reference, set_at, set_by, lifted_at,"
                    " lifted_by) VALUES (:k, :a, :kind, :r, :sa, :sb, :la, :lb)"
                ),
                {
                    "k": key,
                    "a": flag.activity,
                    "kind": flag.kind,
                    "r": flag.reference,
                    "sa": flag.set_at,
                    "sb": flag.set_by,
                    "la": flag.lifted_at,
                    "lb": flag.lifted_by,
                },
            )


def downgrade() -> None:
    conn = op.get_bind()
    _refuse_joining(conn)
    _append_only(False)
    for table in TABLES:
        rows = conn.execute(sa.text(f"SELECT id, subject FROM {table} WHERE subject LIKE '%/%'")).all()
        for row_id, key in rows:
            conn.execute(
                sa.text(f"UPDATE {table} SET subject = :s WHERE id = :i"),
                {"s": key.rpartition("/")[2], "i": row_id},
            )
    _widen(254, 360)
    _append_only(True)


def _refuse_joining(conn: sa.engine.Connection) -> None:
    keyed = conn.execute(sa.text("SELECT subject, purpose FROM consent_state WHERE subject LIKE '%/%'")).all()
    seen: set[tuple[str, str]] = set()
    plain = {
        tuple(r) for r in conn.execute(sa.text(f"SELECT subject, purpose FROM consent_state WHERE {PLAIN}"))
    }
    for key, purpose in keyed:
        pair = (key.rpartition("/")[2], purpose)
        if pair in seen or pair in plain:
            raise RuntimeError(
                "Two clients' user ids read the same for one purpose: going down would join their consents."
            )
        seen.add(pair)
