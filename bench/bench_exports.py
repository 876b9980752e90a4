"""Time the ROPA exports on synthetic records: PDF for 500 activities, CSV and JSON for 5,000.

Run by hand: python bench/bench_exports.py [--pdf-activities 500] [--activities 5000]
A baseline measured in the same run (json.dumps of the same raw dicts) puts the numbers in proportion.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader  # noqa: E402

from privacy_service.kernel import LEGAL_BASES, rights_for  # noqa: E402
from privacy_service.ropa.export import export_csv, export_json, export_jsonld  # noqa: E402
from privacy_service.ropa.pdf import render_ropa_pdf  # noqa: E402

ORGANISATIONS = {
    "helsedir": {
        "name": {"nb": "Helsedirektoratet", "en": "Norwegian Directorate of Health"},
        "org_number": "983544622",
        "role": "controller",
        "email": "postmottak@helsedir.no",
        "address": "Postboks 220 Skøyen, 0213 Oslo",
        "dpo": {"name": "Personvernombudet", "email": "personvernombud@helsedirektoratet.no"},
    },
    "fhi": {
        "name": {"nb": "Folkehelseinstituttet", "en": "NIPH"},
        "org_number": "983744516",
        "role": "joint_controller",
    },
    "nhn": {
        "name": {"nb": "Norsk helsenett SF", "en": "Norwegian Health Network"},
        "org_number": "994598759",
        "role": "processor",
    },
}


def _text(nb: str, en: str) -> dict[str, str]:
    return {"nb": nb, "en": en}


def synthesise(count: int) -> list[dict[str, Any]]:
    """Return `count` complete, varied activity records."""
    bases = list(LEGAL_BASES)
    out = []
    for i in range(count):
        basis = bases[i % len(bases)]
        special = i % 3 == 0
        record = {
            "slug": f"activity-{i:05d}",
            "service": ("helsedata", "helsedirektoratet", "helsenorge")[i % 3],
            "status": "active",
            "name": _text(
                f"Behandling nr. {i} – søknader og årsrapporter", f"Processing no. {i} – applications"
            ),
            "description": _text(
                "Behandling av søknader om tilgang til helsedata (§§ 8–11). " * 3,
                "Handling applications for access to health data. " * 3,
            ),
            "controller": "helsedir",
            "joint_controllers": ["fhi"] if i % 4 == 0 else [],
            "representative": None,
            "processors": [
                {
                    "organisation": "nhn",
                    "role": "processor",
                    "agreement_ref": f"DBA-{i}",
                    "task": _text("Drift", "Operations"),
                    "sub_processor_of": None,
                }
            ],
            "purposes": [
                _text("Behandle søknader", "Process applications"),
                _text("Føre statistikk", "Statistics"),
            ],
            "legal_basis": basis,
            "national_basis": _text("Helseregisterloven § 19", "Health Register Act § 19"),
            "art9_condition": "9(2)(h)" if special else None,
            "art10": False,
            "consent_purpose": f"activity-{i:05d}" if basis == "6(1)(a)" else None,
            "legitimate_interest": _text("Sikkerhet", "Security") if basis == "6(1)(f)" else None,
            "lia_reference": "LIA-1" if basis == "6(1)(f)" else None,
            "data_subjects": [_text("Søkere", "Applicants"), _text("Ansatte", "Staff")],
            "data_categories": [
                {"key": "name", "name": _text("Navn", "Name"), "special": False},
                {"key": "email", "name": _text("E-post", "E-mail"), "special": False},
                {"key": "health", "name": _text("Helseopplysninger", "Health data"), "special": special},
            ],
            "vulnerable_subjects": False,
            "children": i % 10 == 0,
            "source": _text("Den registrerte", "The data subject"),
            "recipients": [_text("Registerforvaltere", "Registry owners")],
            "transfers": [{"country": "US", "recipient": "Vendor Inc.", "safeguard": "scc", "details": None}]
            if i % 5 == 0
            else [],
            "retention": {
                "text": _text("Slettes etter fem år.", "Deleted after five years."),
                "period": "P5Y",
                "trigger": _text("Saken avsluttes", "Case closed"),
                "legal_basis": None,
            },
            "security_measures": [
                _text("Tilgangsstyring", "Access control"),
                _text("Kryptering", "Encryption"),
            ],
            "disposal": {
                "decision": "Kasseres",
                "preservation_period": None,
                "authority": "Arkivforskriften",
            },
            "dpia": {
                "required": special,
                "reference": "DPIA-1" if special else None,
                "outcome": None,
                "prior_consultation": False,
            },
            "automated_decisions": False,
            "business_process": "Saksbehandling",
            "owner": "Avdeling for helseregistre",
            "review_date": "2026-01-31",
            "systems": [{"name": "Søknadsportalen", "location": "NHN"}],
            "version": 1 + i % 4,
            "updated_at": "2025-02-03T10:15:00+00:00",
            "updated_by": "officer:åse",
        }
        record["rights"] = rights_for(basis, art9_condition=record["art9_condition"])
        out.append(record)
    return out


def timed(fn: Callable[[], bytes]) -> tuple[float, bytes]:
    """Run fn once and return the seconds it took and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    """Run the benchmark and print seconds, sizes and the ratios to the baseline."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pdf-activities", type=int, default=500)
    parser.add_argument("--activities", type=int, default=5000)
    args = parser.parse_args()
    now = datetime.now(UTC)

    many = synthesise(args.activities)
    few = many[: args.pdf_activities]
    base_s, base_body = timed(lambda: json.dumps(many, ensure_ascii=False).encode())
    base_few_s, _ = timed(lambda: json.dumps(few, ensure_ascii=False).encode())
    print(f"baseline json.dumps, {len(many)} activities: {base_s:.3f} s, {len(base_body) / 1e6:.2f} MB")
    print(f"baseline json.dumps, {len(few)} activities: {base_few_s:.4f} s")

    for label, fn in (
        ("CSV", lambda: export_csv(organisations=ORGANISATIONS, activities=many)),
        ("JSON", lambda: export_json(organisations=ORGANISATIONS, activities=many, generated_at=now)),
        (
            "JSON-LD",
            lambda: export_jsonld(
                organisations=ORGANISATIONS,
                activities=many,
                generated_at=now,
                base_url="https://personvern.example.no",
            ),
        ),
    ):
        seconds, body = timed(fn)
        print(
            f"{label:8} {len(many)} activities: {seconds:.3f} s, {len(body) / 1e6:.2f} MB, "
            f"{seconds / base_s:.1f}x baseline"
        )

    seconds, pdf = timed(
        lambda: render_ropa_pdf(organisations=ORGANISATIONS, activities=few, generated_at=now)
    )
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(
        f"PDF      {len(few)} activities: {seconds:.2f} s, {pages} pages, {len(pdf) / 1e6:.2f} MB, "
        f"{seconds / base_few_s:.0f}x baseline, {seconds / pages * 1000:.1f} ms/page"
    )


if __name__ == "__main__":
    main()
