"""Synthetic helsedata data systems for `privacy-service demo`: three SQLite databases under instance/demo/.

Deterministic: the same seed and anchor date give byte-identical table contents. Every date is an offset from
the anchor (default DEMO_ANCHOR, a fixed date; the CLI may pass today's date so retention has realistic work);
nothing reads the clock. Faker's Norwegian locale is "no_NO" (bokmål; Faker has no "nb_NO").

Synthetic people carry synthetic national identity numbers: a valid mod-11 fødselsnummer with 80 added to the
month, the convention of the Tax Administration's test data (Tenor), so no number can belong to a real person.
E-mail addresses use the reserved example.* domains.

Kari Nordmann (see KARI) is always present with the same rows whatever the seed: account 1, application 1
(reference HDS-2024-0001, decided, kept under the Archives Act), support enquiry 1 and survey response 1 with
consent given. Her dates are fixed offsets from the anchor.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from faker import Faker
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    func,
)
from sqlalchemy.pool import NullPool

from privacy_service.datamap.connector import phone_key
from privacy_service.datamap.demo_people import KARI, kari_rows, office_rows, person_rows

DEMO_ANCHOR = date(2025, 6, 2)
SYSTEM_FILES = {
    "helsedata-portal": "helsedata_portal.db",
    "helsedata-support": "helsedata_support.db",
    "helsedata-survey": "helsedata_survey.db",
    "helsedir-office": "helsedir_office.db",
}


# Column types by name; any other column is String(200), and *_at columns are naive timestamps meaning UTC.
_TYPES: dict[str, Any] = {
    "account_id": Integer,
    "email": String(254),
    "phone": String(40),
    "national_id": String(11),
    "organisation_number": String(9),
    "reference": String(20),
    "status": String(20),
    **dict.fromkeys(("free_text", "project_staff", "cv_summary", "body", "answers"), Text),
}
_TABLES = {  # system -> table -> columns after id ("!" marks NOT NULL); every table ends with "restricted"
    "helsedata-portal": {
        "accounts": "name! email! phone national_id created_at! last_login_at",
        "applications": "account_id reference! name email phone postal_address organisation "
        "organisation_number position free_text attachment_name project_staff cv_summary "
        "submitted_at! decided_at status!",
    },
    "helsedata-support": {
        "support_enquiries": "name email phone subject! body received_at! answered_at",
    },
    # Answering the survey without an e-mail address is allowed.
    "helsedata-survey": {"survey_responses": "name email answers! consent_given_at! submitted_at!"},
    # The Directorate's own office records, where the seed statement gives concrete retention periods.
    "helsedir-office": {
        "call_log": "phone! called_at! transferred_to operator!",
        "visitor_list": "name! phone company host! visited_at!",
        "media_enquiries": "name! email phone medium! subject! received_at!",
        "event_registrations": "name! email! workplace event! event_at!",
        "questionnaire_answers": "email! answers! need_ended_at",
    },
}


def _table(metadata: MetaData, name: str, spec: str) -> Table:
    columns = []
    for item in spec.split():
        column = item.rstrip("!")
        kind = DateTime() if column.endswith("_at") else _TYPES.get(column, String(200))
        columns.append(Column(column, kind, nullable=not item.endswith("!")))
    table = Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        *columns,
        Column("restricted", Boolean, nullable=False, default=False),
    )
    # Index what the connector matches on, in the form it matches (lower-case e-mail, phone without spaces).
    if "email" in table.c:
        Index(f"ix_{name}_email", func.lower(table.c.email))
    for column in ("phone", "national_id", "account_id", "reference"):
        if column in table.c:
            expr = phone_key(table.c.phone) if column == "phone" else table.c[column]
            Index(f"ix_{name}_{column}", expr, unique=column == "reference")
    return table


def _metadata() -> dict[str, MetaData]:
    out = {}
    for system, tables in _TABLES.items():
        out[system] = MetaData()
        for name, spec in tables.items():
            _table(out[system], name, spec)
    return out


def _write(path: Path, metadata: MetaData, rows: dict[str, list[dict[str, Any]]]) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            for table in metadata.sorted_tables:
                if rows[table.name]:
                    conn.execute(table.insert(), rows[table.name])
    finally:
        engine.dispose()


def create_demo_data(
    *, instance_path: Path, seed: int = 1, people: int = 200, anchor: date = DEMO_ANCHOR
) -> dict[str, Any]:
    """Recreate the synthetic helsedata data systems under instance_path/demo and return a summary."""
    fake = Faker("no_NO")
    fake.seed_instance(seed)
    now = datetime.combine(anchor, time(12))
    rows = {**kari_rows(now), **{table: [] for table in _TABLES["helsedir-office"]}}
    for n in range(2, people + 2):
        person_rows(fake, n, now, rows)
    office = Faker("no_NO")  # its own stream, so the helsedata rows stay as they were for a seed
    office.seed_instance(seed + 7919)
    for n in range(people):
        office_rows(office, n, now, rows)
    folder = Path(instance_path) / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    systems = {}
    for name, metadata in _metadata().items():
        _write(folder / SYSTEM_FILES[name], metadata, rows)
        systems[name] = str(folder / SYSTEM_FILES[name])
    return {
        "seed": seed,
        "anchor": anchor.isoformat(),
        "systems": systems,
        "rows": {table: len(items) for table, items in rows.items()},
        "kari": dict(KARI),
        # the survey tool's consents, so the consent registry can be filled to match it
        "survey_consents": [
            {"email": r["email"], "response_id": r["id"], "given_at": r["consent_given_at"].isoformat()}
            for r in rows["survey_responses"]
            if r.get("email") and r.get("consent_given_at")
        ],
    }
