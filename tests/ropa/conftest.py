"""Fixtures for the ROPA export tests: organisations and a factory of complete activity records."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from privacy_service.kernel import rights_for

ORGANISATIONS: dict[str, dict[str, Any]] = {
    "helsedir": {
        "slug": "helsedir",
        "name": {"nb": "Helsedirektoratet", "en": "Norwegian Directorate of Health"},
        "org_number": "983544622",
        "role": "controller",
        "email": "postmottak@helsedir.no",
        "phone": "+47 810 20 050",
        "address": "Postboks 220 Skøyen, 0213 Oslo",
        "website": "https://www.helsedirektoratet.no",
        "dpo": {"name": "Personvernombudet", "email": "personvernombud@helsedirektoratet.no", "phone": None},
    },
    "fhi": {
        "slug": "fhi",
        "name": {"nb": "Folkehelseinstituttet", "en": "Norwegian Institute of Public Health"},
        "org_number": "983744516",
        "role": "joint_controller",
        "email": "folkehelseinstituttet@fhi.no",
        "phone": None,
        "address": None,
        "website": None,
        "dpo": None,
    },
    "nhn": {
        "slug": "nhn",
        "name": {"nb": "Norsk helsenett SF", "en": "Norwegian Health Network"},
        "org_number": "994598759",
        "role": "processor",
        "email": "post@nhn.no",
    },
    "skyleverandor": {
        "slug": "skyleverandor",
        "name": {"nb": "Skyløsninger Æ/S", "en": "Cloud Solutions Æ/S"},
        "org_number": "974760673",
        "role": "sub_processor",
    },
}
_counter = itertools.count(1)


@pytest.fixture
def organisations() -> dict[str, dict[str, Any]]:
    """Return the organisations the activities refer to, keyed by slug."""
    return copy.deepcopy(ORGANISATIONS)


def _activity(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    record: dict[str, Any] = {
        "slug": f"søknader-{n}".replace("ø", "o"),
        "service": "helsedata",
        "status": "active",
        "name": {"nb": f"Søknader om tilgang til helsedata {n}", "en": f"Applications for health data {n}"},
        "description": {
            "nb": "Behandling av søknader om tilgang til data fra helseregistrene (§§ 8–11).",
            "en": "Handling applications for access to data from the health registries (§§ 8–11).",
        },
        "controller": "helsedir",
        "joint_controllers": ["fhi"],
        "representative": None,
        "processors": [
            {
                "organisation": "nhn",
                "role": "processor",
                "agreement_ref": "DBA-2024-17 «drift og hosting»",
                "task": {"nb": "Drift av søknadsløsningen", "en": "Operates the application system"},
                "sub_processor_of": None,
            },
            {
                "organisation": "skyleverandor",
                "role": "sub_processor",
                "agreement_ref": "UDBA-2024-03",
                "task": {"nb": "Lagring i skyen", "en": "Cloud storage"},
                "sub_processor_of": "nhn",
            },
        ],
        "purposes": [
            {
                "nb": "Behandle søknader om tilgang til helsedata",
                "en": "Process applications for health data",
            },
            {"nb": "Føre statistikk over søknadsbehandlingen", "en": "Keep statistics of the case handling"},
        ],
        "legal_basis": "6(1)(e)",
        "national_basis": {
            "nb": "Helseregisterloven §§ 8–11 og forskrift om Helseanalyseplattformen",
            "en": "Health Register Act §§ 8–11 and the Health Analysis Platform Regulation",
        },
        "art9_condition": "9(2)(h)",
        "art10": False,
        "consent_purpose": None,
        "legitimate_interest": None,
        "lia_reference": None,
        "data_subjects": [
            {"nb": "Søkere og prosjektmedarbeidere", "en": "Applicants and project staff"},
        ],
        "data_categories": [
            {"key": "name", "name": {"nb": "Navn", "en": "Name"}, "special": False},
            {"key": "email", "name": {"nb": "E-postadresse", "en": "E-mail address"}, "special": False},
            {"key": "health", "name": {"nb": "Helseopplysninger", "en": "Health data"}, "special": True},
        ],
        "vulnerable_subjects": False,
        "children": False,
        "source": {"nb": "Søkeren selv", "en": "The applicant"},
        "recipients": [{"nb": "Registerforvaltere (Kreftregisteret m.fl.)", "en": "Registry owners"}],
        "transfers": [
            {
                "country": "US",
                "recipient": "Støttetjeneste Inc.",
                "safeguard": "scc",
                "details": "EU SCC 2021",
            },
        ],
        "retention": {
            "text": {
                "nb": "Slettes fem år etter at saken er avsluttet.",
                "en": "Deleted five years after closing.",
            },
            "period": "P5Y",
            "trigger": {"nb": "Saken avsluttes", "en": "The case is closed"},
            "legal_basis": "Arkivforskriften § 15",
        },
        "security_measures": [
            {"nb": "Tilgangsstyring og logging", "en": "Access control and logging"},
            {"nb": "Kryptering i ro og under overføring", "en": "Encryption at rest and in transit"},
        ],
        "disposal": {
            "decision": "Bevares",
            "preservation_period": "P25Y",
            "authority": "Arkivforskriften § 14",
        },
        "dpia": {
            "required": True,
            "reference": "DPIA-2023-04",
            "outcome": "Akseptabel risiko",
            "prior_consultation": False,
        },
        "automated_decisions": False,
        "business_process": "Saksbehandling av søknader",
        "owner": "Avdeling for helseregistre",
        "review_date": "2026-01-31",
        "systems": [{"name": "Søknadsportalen", "location": "Norsk helsenett, Trondheim"}],
        "version": 3,
        "updated_at": "2025-02-03T10:15:00+00:00",
        "updated_by": "officer:åse",
    }
    record.update(copy.deepcopy(overrides))
    record["rights"] = rights_for(record["legal_basis"], art9_condition=record.get("art9_condition"))
    return record


@pytest.fixture
def make_activity() -> Callable[..., dict[str, Any]]:
    """Return a factory of complete activity records; keyword arguments override fields."""
    return _activity


@pytest.fixture
def generated_at() -> datetime:
    """Return a fixed generation time."""
    return datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
