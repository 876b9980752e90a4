"""The record of processing as CSV, JSON and JSON-LD (W3C Data Privacy Vocabulary): plain data in, bytes out.

Input: organisations keyed by slug (as in policies/organisations.yaml) and activity records (as in
docs/policy-format.md, plus "version", "updated_at", "updated_by" and the derived "rights").

JSON document (``export_json``)::

    {"format": "privacy-service/ropa", "format_version": 1,
     "generated_at": "<ISO-8601>",
     "controller": {<the organisation that keeps the record>},   # absent when no controller is known
     "organisations": [{<organisation>, "slug": ...}, ...],       # sorted by slug
     "activities": [{<activity record>}, ...]}                    # in the order given
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from privacy_service.kernel import neutralise
from privacy_service.ropa.jsonld import TransferPoints, ropa_graph
from privacy_service.ropa.texts import (
    art9_conditions_text,
    automated_decision_rows,
    dpia_texts,
    legal_bases_text,
    lia_text,
    main_controller,
    not_stated_text,
    org_name,
    retention_rule_words,
    special_categories,
    system_text,
    transfer_text,
)
from privacy_service.wording import localised, yes_no

# --- CSV --------------------------------------------------------------------------------------------------

# (key, English header, Norwegian header). Art. 30(1)(a)–(g) first, in the order of Datatilsynet's template,
# then what the regulators' templates add.
CSV_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("controller", "Controller (Art. 30(1)(a))", "Behandlingsansvarlig (art. 30 nr. 1 a)"),
    ("controller_contact", "Controller contact details", "Kontaktinformasjon behandlingsansvarlig"),
    ("joint_controllers", "Joint controllers", "Felles behandlingsansvarlige"),
    ("representative", "Representative (Art. 27)", "Representant (art. 27)"),
    ("dpo", "Data protection officer", "Personvernombud"),
    ("purposes", "Purposes (Art. 30(1)(b))", "Formål (art. 30 nr. 1 b)"),
    (
        "data_subjects",
        "Categories of data subjects (Art. 30(1)(c))",
        "Kategorier registrerte (art. 30 nr. 1 c)",
    ),
    (
        "data_categories",
        "Categories of personal data (Art. 30(1)(c))",
        "Kategorier personopplysninger (art. 30 nr. 1 c)",
    ),
    ("recipients", "Categories of recipients (Art. 30(1)(d))", "Kategorier mottakere (art. 30 nr. 1 d)"),
    (
        "transfers",
        "Third-country transfers and safeguards (Art. 30(1)(e))",
        "Overføring til tredjeland og garantier (art. 30 nr. 1 e)",
    ),
    ("retention", "Retention (Art. 30(1)(f))", "Sletting og lagringstid (art. 30 nr. 1 f)"),
    ("security_measures", "Security measures (Art. 30(1)(g))", "Sikkerhetstiltak (art. 30 nr. 1 g)"),
    ("slug", "Slug", "Nøkkel"),
    ("name", "Name", "Navn"),
    ("description", "Description", "Beskrivelse"),
    ("service", "Service", "Tjeneste"),
    ("status", "Status", "Status"),
    ("legal_basis", "Legal basis (Art. 6(1))", "Behandlingsgrunnlag (art. 6 nr. 1)"),
    ("national_basis", "National legal basis (Art. 6(3))", "Supplerende rettsgrunnlag (art. 6 nr. 3)"),
    ("art9_condition", "Art. 9(2) condition", "Unntak etter art. 9 nr. 2"),
    ("art10", "Criminal offence data (Art. 10)", "Straffedommer og lovovertredelser (art. 10)"),
    ("special_categories", "Special categories (Art. 9)", "Særlige kategorier (art. 9)"),
    ("source", "Source of the data", "Kilde til opplysningene"),
    ("processors", "Processors and agreements (Art. 28)", "Databehandlere og avtaler (art. 28)"),
    ("dpia_required", "DPIA required (Art. 35)", "DPIA påkrevd (art. 35)"),
    ("dpia_reference", "DPIA reference", "DPIA-referanse"),
    ("dpia_outcome", "DPIA outcome", "DPIA-konklusjon"),
    ("dpia_prior_consultation", "Prior consultation (Art. 36)", "Forhåndsdrøfting (art. 36)"),
    ("retention_period", "Retention period (ISO 8601)", "Lagringstid (ISO 8601)"),
    ("retention_trigger", "Retention starts at", "Lagringstiden regnes fra"),
    ("retention_legal_basis", "Retention legal basis", "Hjemmel for lagringstid"),
    ("retention_rules", "Retention rules carried out", "Lagringsregler som utføres"),
    ("disposal_decision", "Disposal decision (Noark 5 M450)", "Kassasjonsvedtak (Noark 5 M450)"),
    ("disposal_preservation_period", "Preservation period (M451)", "Bevaringstid (M451)"),
    ("disposal_authority", "Disposal authority (M453)", "Kassasjonshjemmel (M453)"),
    (
        "automated_decisions",
        "Automated decisions and profiling (Art. 22)",
        "Automatiserte avgjørelser og profilering (art. 22)",
    ),
    (
        "automated_decision",
        "Automated decision: ground, logic, significance (Art. 22(2), 13(2)(f))",
        "Automatisert avgjørelse: grunnlag, logikk, betydning (art. 22 nr. 2, 13 nr. 2 f)",
    ),
    ("not_stated", "Not stated by the source", "Ikke oppgitt i kilden"),
    ("business_process", "Business process", "Arbeidsprosess"),
    ("owner", "Owner", "Eier"),
    ("review_date", "Next review", "Neste gjennomgang"),
    ("legitimate_interest", "Legitimate interest (Art. 6(1)(f))", "Berettiget interesse (art. 6 nr. 1 f)"),
    ("lia_reference", "Legitimate interest assessment", "Interesseavveining"),
    ("vulnerable_subjects", "Vulnerable data subjects", "Sårbare registrerte"),
    ("children", "Children", "Barn"),
    ("systems", "Systems and storage locations", "Systemer og lagringssted"),
    ("rights", "Rights that apply", "Rettigheter som gjelder"),
    ("version", "Version", "Versjon"),
    ("updated_at", "Updated at", "Sist endret"),
    ("updated_by", "Updated by", "Endret av"),
)
_JOIN = "; "


def _join(values: Iterable[Any]) -> str:
    return _JOIN.join(str(v) for v in values if v not in (None, ""))


def _contact(org: dict[str, Any] | None) -> str:
    org = org or {}
    return _join(org.get(k) for k in ("org_number", "address", "email", "phone", "website"))


def _processor_text(p: dict[str, Any], organisations: dict[str, dict[str, Any]], lang: str) -> str:
    parts = [
        org_name(organisations, p.get("organisation"), lang),
        p.get("role"),
        localised(p.get("agreement_ref"), lang),
    ]
    if p.get("sub_processor_of"):
        parts.append(f"→ {org_name(organisations, p['sub_processor_of'], lang)}")
    return " | ".join(str(v) for v in parts if v)


def csv_row(
    activity: dict[str, Any],
    organisations: dict[str, dict[str, Any]],
    lang: str,
    assessment: Mapping[str, Any] | None = None,
    lia: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Return one activity as a CSV row keyed like CSV_COLUMNS (`assessment`: its DPIA from the register,
    `lia`: its legitimate-interest assessment)."""
    return {
        **_art30_cells(activity, organisations, lang),
        **_basis_cells(activity, organisations, lang),
        **_retention_cells(activity, lang),
        **_governance_cells(activity, lang, assessment, lia),
    }


def _art30_cells(a: dict[str, Any], organisations: dict[str, dict[str, Any]], lang: str) -> dict[str, str]:
    """The columns Art. 30(1)(a)–(g) requires."""
    loc = partial(localised, lang=lang)
    controller = organisations.get(a.get("controller") or "")
    dpo = (controller or {}).get("dpo") or {}
    return {
        "controller": org_name(organisations, a.get("controller"), lang),
        "controller_contact": _contact(controller),
        "joint_controllers": _join(
            org_name(organisations, s, lang) for s in a.get("joint_controllers") or []
        ),
        "representative": a.get("representative") or "",
        "dpo": _join((dpo.get("name"), dpo.get("email"), dpo.get("phone"))),
        "purposes": _join(loc(p) for p in a.get("purposes") or []),
        "data_subjects": _join(loc(s) for s in a.get("data_subjects") or []),
        "data_categories": _join(
            loc(c.get("name")) + (" (art. 9)" if c.get("special") else "")
            for c in a.get("data_categories") or []
        ),
        "recipients": _join(loc(r) for r in a.get("recipients") or []),
        "transfers": _join(transfer_text(t, lang) for t in a.get("transfers") or []),
        "retention": loc((a.get("retention") or {}).get("text")),
        "security_measures": _join(loc(m) for m in a.get("security_measures") or []),
    }


def _basis_cells(a: dict[str, Any], organisations: dict[str, dict[str, Any]], lang: str) -> dict[str, str]:
    """What the activity is, what it rests on (Art. 6, 9, 10) and who processes for it (Art. 28)."""
    loc = partial(localised, lang=lang)
    return {
        "slug": a.get("slug") or "",
        "name": loc(a.get("name")),
        "description": loc(a.get("description")),
        "service": a.get("service") or "",
        "status": a.get("status") or "",
        "legal_basis": legal_bases_text(a, lang),
        "national_basis": loc(a.get("national_basis")),
        "art9_condition": art9_conditions_text(a, lang),
        "art10": yes_no(bool(a.get("art10")), lang),
        "special_categories": yes_no(special_categories(a), lang),
        "source": loc(a.get("source")),
        "processors": _join(_processor_text(p, organisations, lang) for p in a.get("processors") or []),
    }


def _retention_cells(a: dict[str, Any], lang: str) -> dict[str, str]:
    """How long the data is kept, what the runner does, and the archive's disposal decision (Noark 5)."""
    retention, disposal = a.get("retention") or {}, a.get("disposal") or {}
    return {
        "retention_period": retention.get("period") or "",
        "retention_trigger": localised(retention.get("trigger"), lang),
        "retention_legal_basis": localised(retention.get("legal_basis"), lang),
        "retention_rules": "; ".join(
            retention_rule_words(r, localised(retention.get("trigger"), lang) or None, lang)
            for r in retention.get("rules") or []
        ),
        "disposal_decision": disposal.get("decision") or "",
        "disposal_preservation_period": disposal.get("preservation_period") or "",
        "disposal_authority": localised(disposal.get("authority"), lang),
    }


def _governance_cells(
    a: dict[str, Any],
    lang: str,
    assessment: Mapping[str, Any] | None = None,
    lia: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Risk and governance (DPIA, Art. 22, owner, review), the rights that apply and the record's version."""
    dpia = dpia_texts(a, assessment, lang)
    return {
        "dpia_required": dpia["required"] or "",
        "dpia_reference": dpia["reference"] or "",
        "dpia_outcome": dpia["outcome"] or "",
        "dpia_prior_consultation": dpia["prior_consultation"] or "",
        "automated_decisions": yes_no(bool(a.get("automated_decisions")), lang),
        "automated_decision": " | ".join(f"{k}: {v}" for k, v in automated_decision_rows(a, lang)),
        "not_stated": not_stated_text(a, lang),
        "business_process": a.get("business_process") or "",
        "owner": localised(a.get("owner"), lang),
        "review_date": str(a.get("review_date") or ""),
        "legitimate_interest": localised(a.get("legitimate_interest"), lang),
        "lia_reference": lia_text(a, lia, lang) or "",
        "vulnerable_subjects": yes_no(bool(a.get("vulnerable_subjects")), lang),
        "children": yes_no(bool(a.get("children")), lang),
        "systems": _join(system_text(s, lang) for s in a.get("systems") or []),
        "rights": _join(
            f"{r.get('article')} {r.get('right')}" for r in a.get("rights") or [] if r.get("applies")
        ),
        "version": str(a.get("version") or ""),
        "updated_at": str(a.get("updated_at") or ""),
        "updated_by": a.get("updated_by") or "",
    }


def export_csv(
    *,
    organisations: dict[str, dict[str, Any]],
    activities: list[dict[str, Any]],
    lang: str = "en",
    dpias: Mapping[str, Mapping[str, Any]] | None = None,
    lias: Mapping[str, Mapping[str, Any]] | None = None,
) -> bytes:
    """Return the record as CSV, one row per activity, UTF-8 with BOM so Excel shows æøå."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([nb if lang == "nb" else en for _, en, nb in CSV_COLUMNS])
    for activity in activities:
        slug = activity.get("slug") or ""
        row = csv_row(activity, organisations, lang, (dpias or {}).get(slug), (lias or {}).get(slug))
        writer.writerow([neutralise(row[key]) for key, _, _ in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


# --- JSON -------------------------------------------------------------------------------------------------


def export_json(
    *,
    organisations: dict[str, dict[str, Any]],
    activities: list[dict[str, Any]],
    generated_at: datetime,
    controller: str | None = None,
) -> bytes:
    """Return the record as one JSON document (see the module docstring for its shape)."""
    document: dict[str, Any] = {
        "format": "privacy-service/ropa",
        "format_version": 1,
        "generated_at": generated_at.isoformat(),
    }
    keeper = main_controller(organisations, activities, controller)
    if keeper is not None:
        document["controller"] = keeper
    document["organisations"] = [{**org, "slug": slug} for slug, org in sorted(organisations.items())]
    document["activities"] = activities
    return json.dumps(document, ensure_ascii=False, default=str).encode("utf-8")


def export_jsonld(
    *,
    organisations: dict[str, dict[str, Any]],
    activities: list[dict[str, Any]],
    generated_at: datetime,
    base_url: str,
    transfer_points: TransferPoints | None = None,
) -> bytes:
    """Return the record as JSON-LD: a dpv:ROPA whose parts (dct:hasPart) are dpv:Process nodes.

    `transfer_points`: the points of Art. 49(1) the transfer assessments name (see jsonld.ropa_graph)."""
    document = ropa_graph(
        organisations=organisations,
        activities=activities,
        generated_at=generated_at,
        base_url=base_url,
        transfer_points=transfer_points,
    )
    return json.dumps(document, ensure_ascii=False, default=str).encode("utf-8")
