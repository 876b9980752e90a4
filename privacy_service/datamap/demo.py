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

import json
import re
from datetime import date, datetime, time, timedelta
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

DEMO_ANCHOR = date(2025, 6, 2)
KARI: dict[str, Any] = {
    "name": "Kari Nordmann",
    "email": "kari.nordmann@example.no",
    "phone": "+47 912 34 567",
    # Synthetic: born 15 March 1985, month 03 + 80 = 83, individual number 126 (even: female), valid mod-11.
    "national_id": "15838512671",
    "account_id": 1,
    "application_id": 1,
    "application_reference": "HDS-2024-0001",
    "support_enquiry_id": 1,
    "survey_response_id": 1,
}
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
        "submitted_at! status!",
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


_PHRASES: dict[str, tuple[str, ...]] = {
    "registry": (
        "Norsk pasientregister", "Reseptregisteret", "Kreftregisteret", "Medisinsk fødselsregister",
        "Dødsårsaksregisteret", "Kommunalt pasient- og brukerregister",
    ),
    "purpose": (
        "studere ventetider i spesialisthelsetjenesten", "kartlegge antibiotikabruk hos eldre",
        "undersøke sosial ulikhet i hjerte- og karsykdom", "følge opp kreftpasienter etter behandling",
        "evaluere et screeningprogram", "beskrive legemiddelbruk i svangerskapet",
    ),
    "position": (
        "Forsker", "Postdoktor", "Stipendiat", "Professor", "Seniorrådgiver", "Overlege", "Statistiker",
    ),
    "degree": ("Ph.d.", "Master", "Dr.med."),
    "field": ("epidemiologi", "biostatistikk", "samfunnsmedisin", "helseøkonomi", "folkehelse"),
    "comment": (
        "Greit skjema.", "Lang ventetid.", "Vanskelig å finne riktig datakilde.",
        "God veiledning fra Helsedataservice.", "",
    ),
    "closing": ("Takk for hjelpen.", "Ha en fin dag.", "Mvh.", ""),
}  # fmt: skip
_ENQUIRIES = {
    "Innlogging": "Jeg får ikke logget inn via ID-porten.",
    "Søknadsskjema": "Hvor i skjemaet oppgir jeg prosjektmedarbeidere?",
    "Vedlegg": "Vedlegget mitt blir ikke lastet opp.",
    "Status på søknad": "Når kan jeg forvente svar på søknaden min?",
    "Annet": "Jeg har et spørsmål om hvilke data som er tilgjengelige.",
}


def _pick(fake: Faker, kind: str) -> str:
    return fake.random_element(_PHRASES[kind])


def synthetic_national_id(fake: Faker, born: date, female: bool) -> str:
    """Return a mod-11 valid fødselsnummer with the synthetic month (+80) for a birth date."""
    low, high = (0, 499) if born.year < 2000 else (500, 999)
    while True:
        individual = fake.random_int(low, high)
        if (individual % 2 == 0) != female:
            continue
        digits = f"{born.day:02d}{born.month + 80:02d}{born.year % 100:02d}{individual:03d}"
        if number := _with_check_digits(digits):
            return number


def _with_check_digits(nine: str) -> str | None:
    digits = [int(c) for c in nine]
    for weights in ((3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)):
        check = (11 - sum(w * d for w, d in zip(weights, digits, strict=True)) % 11) % 11
        if check == 10:
            return None
        digits.append(check)
    return "".join(map(str, digits))


def _org_number(fake: Faker) -> str:
    while True:
        digits = [fake.random_element((8, 9)), *(fake.random_int(0, 9) for _ in range(7))]
        check = (11 - sum(w * d for w, d in zip((3, 2, 7, 6, 5, 4, 3, 2), digits, strict=True)) % 11) % 11
        if check != 10:
            return "".join(map(str, [*digits, check]))


def _kari_rows(now: datetime) -> dict[str, list[dict[str, Any]]]:
    k = KARI
    contact = {"name": k["name"], "email": k["email"], "phone": k["phone"]}
    submitted = now - timedelta(days=200)
    answers = {
        "q1_satisfaction": 4,
        "q2_time_reasonable": True,
        "q3_comment": "Greit skjema, men lang ventetid.",
    }
    return {
        "accounts": [
            {
                "id": 1,
                **contact,
                "national_id": k["national_id"],
                "created_at": now - timedelta(days=400),
                "last_login_at": now - timedelta(days=3),
                "restricted": False,
            }
        ],
        "applications": [
            {
                "id": 1,
                "account_id": 1,
                "reference": k["application_reference"],
                **contact,
                "postal_address": "Storgata 1, 0155 Oslo",
                "organisation": "Universitetet i Eksempelby",
                "organisation_number": "912345688",
                "position": "Forsker",
                "free_text": "Vi søker om data fra Norsk pasientregister for å studere ventetider.",
                "attachment_name": "prosjektbeskrivelse.pdf",
                "project_staff": "Ola Nordmann, Per Hansen",
                "cv_summary": "Ph.d. i epidemiologi; ti års erfaring med registerforskning.",
                "submitted_at": submitted,
                "status": "approved",
            }
        ],
        "support_enquiries": [
            {
                "id": 1,
                **contact,
                "subject": "Status på søknad HDS-2024-0001",
                "body": "Når kan jeg forvente svar på søknaden min?",
                "received_at": now - timedelta(days=10),
                "answered_at": now - timedelta(days=8),
            }
        ],
        "survey_responses": [
            {
                "id": 1,
                "name": k["name"],
                "email": k["email"],
                "answers": json.dumps(answers, ensure_ascii=False, sort_keys=True),
                "consent_given_at": submitted + timedelta(minutes=5),
                "submitted_at": submitted + timedelta(minutes=9),
            }
        ],
        **{table: [] for table in _TABLES["helsedir-office"]},
    }


def _email(name: str, n: int, fake: Faker) -> str:
    local = name.lower().translate(str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e"}))
    local = re.sub(r"[^a-z0-9]+", ".", local).strip(".")
    return f"{local}{n}@{fake.random_element(('example.no', 'example.com', 'example.org'))}"


def _person_rows(fake: Faker, n: int, now: datetime, rows: dict[str, list[dict[str, Any]]]) -> None:
    female = fake.pybool()
    name = fake.name_female() if female else fake.name_male()
    born = fake.date_between_dates(
        now.date() - timedelta(days=75 * 365), now.date() - timedelta(days=22 * 365)
    )
    contact = {"name": name, "email": _email(name, n, fake), "phone": fake.phone_number()}
    created = now - timedelta(days=fake.random_int(20, 1500), seconds=fake.random_int(0, 86399))
    if fake.random_int(1, 100) <= 85:  # most people have an account; some only write to support
        account_id = len(rows["accounts"]) + 1
        rows["accounts"].append(
            {
                "id": account_id,
                **contact,
                "national_id": synthetic_national_id(fake, born, female),
                "created_at": created,
                "last_login_at": fake.date_time_between_dates(created, now),
                "restricted": fake.random_int(1, 100) <= 2,
            }
        )
        for _ in range(fake.random_element((0, 1, 1, 1, 2, 3))):
            _application(fake, account_id, contact, created, now, rows)
    if fake.random_int(1, 100) <= 35:
        received = now - timedelta(days=fake.random_int(0, 400), seconds=fake.random_int(0, 86399))
        answered = received + timedelta(hours=fake.random_int(1, 120))
        subject = fake.random_element(tuple(_ENQUIRIES))
        rows["support_enquiries"].append(
            {
                "id": len(rows["support_enquiries"]) + 1,
                **contact,
                "subject": subject,
                "body": f"{_ENQUIRIES[subject]} {_pick(fake, 'closing')}",
                "received_at": received,
                "answered_at": answered if answered < now else None,
            }
        )


def _office_rows(fake: Faker, n: int, now: datetime, rows: dict[str, list[dict[str, Any]]]) -> None:
    """One person's traces in the Directorate's office: calls, visits, media, events, questionnaires."""

    def ago(days: int) -> datetime:
        return now - timedelta(days=fake.random_int(0, days), seconds=fake.random_int(0, 86399))

    name, phone = fake.name(), fake.phone_number()
    email = _email(name, 100_000 + n, fake)
    if fake.random_int(1, 100) <= 40:
        rows["call_log"].append(
            {
                "id": len(rows["call_log"]) + 1,
                "phone": phone,
                "called_at": ago(90),
                "transferred_to": fake.random_element(("Sentralbord", "Kommunikasjon", "Juridisk", None)),
                "operator": fake.first_name(),
            }
        )
    if fake.random_int(1, 100) <= 25:
        rows["visitor_list"].append(
            {
                "id": len(rows["visitor_list"]) + 1,
                "name": name,
                "phone": phone,
                "company": fake.company(),
                "host": fake.name(),
                "visited_at": ago(180),
            }
        )
    if fake.random_int(1, 100) <= 8:
        rows["media_enquiries"].append(
            {
                "id": len(rows["media_enquiries"]) + 1,
                "name": name,
                "email": email,
                "phone": phone,
                "medium": fake.random_element(("NRK", "Aftenposten", "VG", "Dagens Medisin", "NTB")),
                "subject": fake.random_element(
                    ("Ventetider", "Fastlegeordningen", "Vaksiner", "Helseregistre")
                ),
                "received_at": ago(1500),
            }
        )
    if fake.random_int(1, 100) <= 30:
        rows["event_registrations"].append(
            {
                "id": len(rows["event_registrations"]) + 1,
                "name": name,
                "email": email,
                "workplace": fake.company(),
                "event": fake.random_element(
                    ("Helsedatakonferansen", "Kurs i kodeverk", "Webinar om e-helse")
                ),
                "event_at": ago(300),
            }
        )
    if fake.random_int(1, 100) <= 20:
        rows["questionnaire_answers"].append(
            {
                "id": len(rows["questionnaire_answers"]) + 1,
                "email": email,
                "answers": json.dumps({"q1": fake.random_int(1, 5)}),
                "need_ended_at": ago(150) if fake.pybool() else None,
            }
        )


def _application(
    fake: Faker, account_id: int, contact: dict, created: datetime, now: datetime, rows: dict
) -> None:
    submitted = fake.date_time_between_dates(created, now)
    number = len(rows["applications"]) + 1
    rows["applications"].append(
        {
            "id": number,
            "account_id": account_id,
            "reference": f"HDS-{submitted.year}-{number:04d}",
            **contact,
            "postal_address": fake.address().replace("\n", ", "),
            "organisation": fake.company(),
            "organisation_number": _org_number(fake),
            "position": fake.random_element(_PHRASES["position"]),
            "free_text": f"Vi søker om data fra {_pick(fake, 'registry')} for å {_pick(fake, 'purpose')}.",
            "attachment_name": f"prosjektbeskrivelse-{number}.pdf",
            "project_staff": ", ".join(fake.name() for _ in range(fake.random_int(0, 3))) or None,
            "cv_summary": f"{_pick(fake, 'degree')} i {_pick(fake, 'field')}; "
            f"{fake.random_int(1, 25)} års erfaring med registerforskning.",
            "submitted_at": submitted,
            "status": fake.random_element(("submitted", "in_review", "approved", "rejected", "withdrawn")),
        }
    )
    if fake.random_int(1, 100) <= 30:  # the survey is offered after submitting
        anonymous = fake.random_int(1, 100) <= 40
        answers = {
            "q1_satisfaction": fake.random_int(1, 5),
            "q2_time_reasonable": fake.pybool(),
            "q3_comment": _pick(fake, "comment"),
        }
        rows["survey_responses"].append(
            {
                "id": len(rows["survey_responses"]) + 1,
                "name": contact["name"],
                "email": None if anonymous else contact["email"],
                "answers": json.dumps(answers, ensure_ascii=False, sort_keys=True),
                "consent_given_at": submitted + timedelta(minutes=2),
                "submitted_at": submitted + timedelta(minutes=7),
            }
        )


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
    rows = _kari_rows(now)
    for n in range(2, people + 2):
        _person_rows(fake, n, now, rows)
    office = Faker("no_NO")  # its own stream, so the helsedata rows stay as they were for a seed
    office.seed_instance(seed + 7919)
    for n in range(people):
        _office_rows(office, n, now, rows)
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
