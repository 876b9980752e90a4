"""The synthetic people of the demo data systems: Kari Nordmann, always the same, and people drawn from a
seeded Faker, with their accounts, applications, support enquiries, survey answers and office traces.

Every value comes from the Faker instance handed in or from the anchor time (`now`): the same seed gives the
same people, and the order of the draws is part of that promise. See demo.py for the systems they fill.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from faker import Faker

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


def kari_rows(now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Return Kari Nordmann's rows of the helsedata tables, the first of each, dated from `now`."""
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
                "decided_at": submitted + timedelta(days=60),
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
    }


def _decided(application: dict, now: datetime) -> datetime | None:
    """When a closed case was decided: derived from its number, so the Faker stream stays as it was."""
    if application["status"] in ("submitted", "in_review"):
        return None
    return min(application["submitted_at"] + timedelta(days=14 + application["id"] * 37 % 180), now)


def _email(name: str, n: int, fake: Faker) -> str:
    local = name.lower().translate(str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e"}))
    local = re.sub(r"[^a-z0-9]+", ".", local).strip(".")
    return f"{local}{n}@{fake.random_element(('example.no', 'example.com', 'example.org'))}"


def person_rows(fake: Faker, n: int, now: datetime, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Add one person's helsedata rows: an account (most have one) with applications, a support enquiry."""
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


def office_rows(fake: Faker, n: int, now: datetime, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Add one person's traces in the Directorate's office: calls, visits, media, events, questionnaires."""
    name, phone = fake.name(), fake.phone_number()
    person = {"name": name, "phone": phone, "email": _email(name, 100_000 + n, fake)}
    for table, percent, make in _OFFICE_TABLES:
        if fake.random_int(1, 100) <= percent:
            rows[table].append({"id": len(rows[table]) + 1, **make(fake, now, person)})


def _ago(fake: Faker, now: datetime, days: int) -> datetime:
    return now - timedelta(days=fake.random_int(0, days), seconds=fake.random_int(0, 86399))


def _call(fake: Faker, now: datetime, person: dict[str, str]) -> dict[str, Any]:
    return {
        "phone": person["phone"],
        "called_at": _ago(fake, now, 90),
        "transferred_to": fake.random_element(("Sentralbord", "Kommunikasjon", "Juridisk", None)),
        "operator": fake.first_name(),
    }


def _visit(fake: Faker, now: datetime, person: dict[str, str]) -> dict[str, Any]:
    return {
        "name": person["name"],
        "phone": person["phone"],
        "company": fake.company(),
        "host": fake.name(),
        "visited_at": _ago(fake, now, 180),
    }


def _media_enquiry(fake: Faker, now: datetime, person: dict[str, str]) -> dict[str, Any]:
    return {
        "name": person["name"],
        "email": person["email"],
        "phone": person["phone"],
        "medium": fake.random_element(("NRK", "Aftenposten", "VG", "Dagens Medisin", "NTB")),
        "subject": fake.random_element(("Ventetider", "Fastlegeordningen", "Vaksiner", "Helseregistre")),
        "received_at": _ago(fake, now, 1500),
    }


def _event_registration(fake: Faker, now: datetime, person: dict[str, str]) -> dict[str, Any]:
    return {
        "name": person["name"],
        "email": person["email"],
        "workplace": fake.company(),
        "event": fake.random_element(("Helsedatakonferansen", "Kurs i kodeverk", "Webinar om e-helse")),
        "event_at": _ago(fake, now, 300),
    }


def _questionnaire(fake: Faker, now: datetime, person: dict[str, str]) -> dict[str, Any]:
    return {
        "email": person["email"],
        "answers": json.dumps({"q1": fake.random_int(1, 5)}),
        "need_ended_at": _ago(fake, now, 150) if fake.pybool() else None,
    }


# table, chance in percent that a person left a row there, the row
_OFFICE_TABLES = (
    ("call_log", 40, _call),
    ("visitor_list", 25, _visit),
    ("media_enquiries", 8, _media_enquiry),
    ("event_registrations", 30, _event_registration),
    ("questionnaire_answers", 20, _questionnaire),
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
    rows["applications"][-1]["decided_at"] = _decided(rows["applications"][-1], now)
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
