"""The record of processing (GDPR Art. 30) as a PDF for Datatilsynet: plain data in, bytes out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Spacer

from privacy_service.documents import (
    CONTENT_WIDTH,
    build_pdf,
    data_table,
    dpo_text,
    format_datetime,
    heading,
    key_value_table,
    letterhead,
    localised,
    para,
    period_text,
    table_of_contents,
    text,
    yes_no,
)
from privacy_service.ropa.notice_pdf import render_notice_pdf
from privacy_service.ropa.texts import (
    art9_text,
    legal_basis_text,
    main_controller,
    org_name,
    retention_rule_text,
    special_categories,
    transfer_text,
)

__all__ = ["render_notice_pdf", "render_ropa_pdf"]

_EN = {
    "title": "Record of processing activities",
    "subtitle": "GDPR Article 30(1), kept by the controller and made available to Datatilsynet",
    "count": "Processing activities in this record",
    "empty": "The record has no processing activities.",
    "meta": "Key: {slug} · Service: {service} · Status: {status} · Version {version} · Updated {at} by {by}",
    "s_a": "Controller and contacts (Art. 30(1)(a))",
    "s_b": "Purposes and legal basis (Art. 30(1)(b); Art. 6, 9, 10)",
    "s_c": "Data subjects and personal data (Art. 30(1)(c))",
    "s_d": "Recipients and third-country transfers (Art. 30(1)(d)–(e))",
    "s_f": "Retention, deletion and archiving (Art. 30(1)(f))",
    "s_g": "Security (Art. 30(1)(g))",
    "s_r": "Risk, impact assessment and governance",
    "controller": "Controller",
    "joint_controllers": "Joint controllers (Art. 26)",
    "representative": "Representative (Art. 27)",
    "dpo": "Data protection officer",
    "owner": "Owner",
    "business_process": "Business process",
    "purposes": "Purposes",
    "legal_basis": "Legal basis (Art. 6(1))",
    "national_basis": "National legal basis (Art. 6(3))",
    "art9": "Condition for special categories (Art. 9(2))",
    "art10": "Criminal convictions and offences (Art. 10)",
    "consent_purpose": "Consent purpose",
    "legitimate_interest": "Legitimate interest",
    "lia": "Legitimate interest assessment",
    "data_subjects": "Categories of data subjects",
    "data_categories": "Categories of personal data",
    "special_marker": " (special category, Art. 9)",
    "special": "Special categories processed",
    "vulnerable": "Vulnerable data subjects",
    "children": "Children",
    "source": "Source of the data",
    "recipients": "Categories of recipients",
    "transfers": "Transfers to third countries and safeguards",
    "retention": "Retention",
    "period": "Retention period",
    "trigger": "Retention period starts",
    "retention_basis": "Legal basis for the retention period",
    "rules": "Retention rules carried out",
    "decision": "Disposal decision (Noark 5 M450)",
    "preservation": "Preservation period (M451)",
    "authority": "Disposal authority (M453)",
    "security": "Technical and organisational measures",
    "systems": "Systems and storage locations",
    "dpia_required": "DPIA required (Art. 35)",
    "dpia_reference": "DPIA reference",
    "dpia_outcome": "DPIA outcome",
    "prior_consultation": "Prior consultation with Datatilsynet (Art. 36)",
    "automated": "Automated decisions and profiling (Art. 22)",
    "review_date": "Next review",
    "processors": "Processors (Art. 28)",
    "no_processors": "No processors.",
    "rights": "Data subjects' rights",
    "all_processors": "All processors and sub-processors",
    "p_cols": ("Organisation", "Role", "Agreement", "Task", "Sub-processor of"),
    "all_cols": ("Organisation", "Org. no.", "Role", "Agreements", "Activities"),
    "r_cols": ("Right", "Article", "Applies", "Reason"),
    "roles": {"processor": "Processor", "sub_processor": "Sub-processor"},
    "statuses": {"draft": "draft", "active": "active", "retired": "retired"},
    "right_names": {
        "access": "Access",
        "rectification": "Rectification",
        "erasure": "Erasure",
        "restriction": "Restriction of processing",
        "objection": "Objection",
        "portability": "Data portability",
        "consent_withdrawal": "Withdrawal of consent",
    },
}
_NB = {
    "title": "Protokoll over behandlingsaktiviteter",
    "subtitle": "Personvernforordningen artikkel 30 nr. 1, ført av den behandlingsansvarlige og "
    "tilgjengelig for Datatilsynet",
    "count": "Behandlingsaktiviteter i protokollen",
    "empty": "Protokollen har ingen behandlingsaktiviteter.",
    "meta": "Nøkkel: {slug} · Tjeneste: {service} · Status: {status} · Versjon {version} · "
    "Endret {at} av {by}",
    "s_a": "Behandlingsansvarlig og kontaktpunkter (art. 30 nr. 1 a)",
    "s_b": "Formål og rettslig grunnlag (art. 30 nr. 1 b; art. 6, 9 og 10)",
    "s_c": "Registrerte og personopplysninger (art. 30 nr. 1 c)",
    "s_d": "Mottakere og overføring til tredjeland (art. 30 nr. 1 d–e)",
    "s_f": "Lagring, sletting og arkivering (art. 30 nr. 1 f)",
    "s_g": "Informasjonssikkerhet (art. 30 nr. 1 g)",
    "s_r": "Risiko, konsekvensvurdering og styring",
    "controller": "Behandlingsansvarlig",
    "joint_controllers": "Felles behandlingsansvarlige (art. 26)",
    "representative": "Representant (art. 27)",
    "dpo": "Personvernombud",
    "owner": "Eier",
    "business_process": "Arbeidsprosess",
    "purposes": "Formål",
    "legal_basis": "Behandlingsgrunnlag (art. 6 nr. 1)",
    "national_basis": "Supplerende rettsgrunnlag (art. 6 nr. 3)",
    "art9": "Unntak for særlige kategorier (art. 9 nr. 2)",
    "art10": "Straffedommer og lovovertredelser (art. 10)",
    "consent_purpose": "Samtykkeformål",
    "legitimate_interest": "Berettiget interesse",
    "lia": "Interesseavveining",
    "data_subjects": "Kategorier registrerte",
    "data_categories": "Kategorier personopplysninger",
    "special_marker": " (særlig kategori, art. 9)",
    "special": "Særlige kategorier behandles",
    "vulnerable": "Sårbare registrerte",
    "children": "Barn",
    "source": "Kilde til opplysningene",
    "recipients": "Kategorier mottakere",
    "transfers": "Overføring til tredjeland og garantier",
    "retention": "Lagring og sletting",
    "period": "Lagringstid",
    "trigger": "Lagringstiden regnes fra",
    "retention_basis": "Hjemmel for lagringstiden",
    "rules": "Lagringsregler som utføres",
    "decision": "Kassasjonsvedtak (Noark 5 M450)",
    "preservation": "Bevaringstid (M451)",
    "authority": "Kassasjonshjemmel (M453)",
    "security": "Tekniske og organisatoriske tiltak",
    "systems": "Systemer og lagringssted",
    "dpia_required": "DPIA påkrevd (art. 35)",
    "dpia_reference": "DPIA-referanse",
    "dpia_outcome": "DPIA-konklusjon",
    "prior_consultation": "Forhåndsdrøfting med Datatilsynet (art. 36)",
    "automated": "Automatiserte avgjørelser og profilering (art. 22)",
    "review_date": "Neste gjennomgang",
    "processors": "Databehandlere (art. 28)",
    "no_processors": "Ingen databehandlere.",
    "rights": "De registrertes rettigheter",
    "all_processors": "Alle databehandlere og underdatabehandlere",
    "p_cols": ("Virksomhet", "Rolle", "Avtale", "Oppgave", "Underdatabehandler for"),
    "all_cols": ("Virksomhet", "Org.nr.", "Rolle", "Avtaler", "Behandlingsaktiviteter"),
    "r_cols": ("Rettighet", "Artikkel", "Gjelder", "Begrunnelse"),
    "roles": {"processor": "Databehandler", "sub_processor": "Underdatabehandler"},
    "statuses": {"draft": "utkast", "active": "aktiv", "retired": "avviklet"},
    "right_names": {
        "access": "Innsyn",
        "rectification": "Retting",
        "erasure": "Sletting",
        "restriction": "Begrensning av behandling",
        "objection": "Protest",
        "portability": "Dataportabilitet",
        "consent_withdrawal": "Tilbaketrekking av samtykke",
    },
}
LABELS = {"en": _EN, "nb": _NB}

# The reasons rights_for() gives, in Norwegian (the registry derives them in English).
REASONS_NB = {
    "Applies to every activity.": "Gjelder for alle behandlinger.",
    "Applies unless an exception in Art. 17(3) covers the data (e.g. an archive duty).": (
        "Gjelder med mindre et unntak i art. 17 nr. 3 omfatter opplysningene (f.eks. arkivplikt)."
    ),
    "The processing rests on Art. 6(1)(e) or (f).": "Behandlingen bygger på art. 6 nr. 1 e eller f.",
    "Consent-based: withdraw consent instead (Art. 7(3)).": (
        "Bygger på samtykke: trekk samtykket tilbake (art. 7 nr. 3)."
    ),
    "Art. 21(1) covers only processing based on Art. 6(1)(e) or (f).": (
        "Art. 21 nr. 1 gjelder bare behandling etter art. 6 nr. 1 e eller f."
    ),
    "Based on consent or contract and carried out by automated means.": (
        "Bygger på samtykke eller avtale og skjer automatisert."
    ),
    "Art. 20(3): does not apply to processing necessary for a public task.": (
        "Art. 20 nr. 3: gjelder ikke behandling som er nødvendig for å utføre en offentlig oppgave."
    ),
    "Art. 20(1): applies only to processing based on consent or contract.": (
        "Art. 20 nr. 1: gjelder bare behandling som bygger på samtykke eller avtale."
    ),
    "The processing rests on consent.": "Behandlingen bygger på samtykke.",
    "The processing does not rest on consent.": "Behandlingen bygger ikke på samtykke.",
}


def _labels(lang: str) -> dict[str, Any]:
    return LABELS.get(lang, _EN)


def _responsibility(a: dict[str, Any], orgs: dict[str, dict[str, Any]], lang: str) -> list[tuple[str, Any]]:
    L = _labels(lang)  # noqa: N806 - reads as a label table
    controller = orgs.get(a.get("controller") or "")
    contact = ", ".join(str(v) for v in ((controller or {}).get(k) for k in ("org_number", "email")) if v)
    name = org_name(orgs, a.get("controller"), lang)
    return [
        L["s_a"],
        (L["controller"], f"{name} ({contact})" if contact else name),
        (L["joint_controllers"], [org_name(orgs, s, lang) for s in a.get("joint_controllers") or []]),
        (L["representative"], a.get("representative")),
        (L["dpo"], dpo_text(controller)),
        (L["owner"], a.get("owner")),
        (L["business_process"], a.get("business_process")),
    ]


def _purposes(a: dict[str, Any], lang: str) -> list[tuple[str, Any] | str]:
    L = _labels(lang)  # noqa: N806
    return [
        L["s_b"],
        (L["purposes"], [localised(p, lang) for p in a.get("purposes") or []]),
        (L["legal_basis"], legal_basis_text(a.get("legal_basis"), lang)),
        (L["national_basis"], localised(a.get("national_basis"), lang)),
        (L["art9"], art9_text(a.get("art9_condition"), lang)),
        (L["art10"], yes_no(bool(a.get("art10")), lang)),
        (L["consent_purpose"], a.get("consent_purpose")),
        (L["legitimate_interest"], localised(a.get("legitimate_interest"), lang)),
        (L["lia"], a.get("lia_reference")),
    ]


def _data(a: dict[str, Any], lang: str) -> list[tuple[str, Any] | str]:
    L = _labels(lang)  # noqa: N806
    categories = [
        localised(c.get("name"), lang) + (L["special_marker"] if c.get("special") else "")
        for c in a.get("data_categories") or []
    ]
    return [
        L["s_c"],
        (L["data_subjects"], [localised(s, lang) for s in a.get("data_subjects") or []]),
        (L["data_categories"], categories),
        (L["special"], yes_no(special_categories(a), lang)),
        (L["vulnerable"], yes_no(bool(a.get("vulnerable_subjects")), lang)),
        (L["children"], yes_no(bool(a.get("children")), lang)),
        (L["source"], localised(a.get("source"), lang)),
        L["s_d"],
        (L["recipients"], [localised(r, lang) for r in a.get("recipients") or []]),
        (L["transfers"], [transfer_text(t, lang) for t in a.get("transfers") or []]),
    ]


def _retention(a: dict[str, Any], lang: str) -> list[tuple[str, Any] | str]:
    L = _labels(lang)  # noqa: N806
    retention, disposal = a.get("retention") or {}, a.get("disposal") or {}
    period, keep = retention.get("period"), disposal.get("preservation_period")
    return [
        L["s_f"],
        (L["retention"], localised(retention.get("text"), lang)),
        (L["period"], f"{period} ({period_text(period, lang)})" if period else None),
        (L["trigger"], localised(retention.get("trigger"), lang)),
        (L["retention_basis"], retention.get("legal_basis")),
        (L["rules"], "\n".join(retention_rule_text(r, lang) for r in retention.get("rules") or []) or None),
        (L["decision"], disposal.get("decision")),
        (L["preservation"], f"{keep} ({period_text(keep, lang)})" if keep else None),
        (L["authority"], disposal.get("authority")),
    ]


def _security_and_risk(a: dict[str, Any], lang: str) -> list[tuple[str, Any] | str]:
    L = _labels(lang)  # noqa: N806
    dpia = a.get("dpia") or {}
    systems = [
        ", ".join(str(v) for v in (s.get("name"), s.get("location")) if v) for s in a.get("systems") or []
    ]
    return [
        L["s_g"],
        (L["security"], [localised(m, lang) for m in a.get("security_measures") or []]),
        (L["systems"], systems),
        L["s_r"],
        (L["dpia_required"], yes_no(bool(dpia.get("required")), lang)),
        (L["dpia_reference"], dpia.get("reference")),
        (L["dpia_outcome"], dpia.get("outcome")),
        (L["prior_consultation"], yes_no(bool(dpia.get("prior_consultation")), lang)),
        (L["automated"], yes_no(bool(a.get("automated_decisions")), lang)),
        (L["review_date"], a.get("review_date")),
    ]


def _processor_rows(a: dict[str, Any], orgs: dict[str, dict[str, Any]], lang: str) -> list[list[Any]]:
    roles = _labels(lang)["roles"]
    return [
        [
            org_name(orgs, p.get("organisation"), lang),
            roles.get(p.get("role"), p.get("role")),
            p.get("agreement_ref"),
            localised(p.get("task"), lang),
            org_name(orgs, p.get("sub_processor_of"), lang),
        ]
        for p in a.get("processors") or []
    ]


def _rights_rows(a: dict[str, Any], lang: str) -> list[list[Any]]:
    names = _labels(lang)["right_names"]
    rows = []
    for r in a.get("rights") or []:
        reason = r.get("reason") or ""
        rows.append(
            [
                names.get(r.get("right"), r.get("right")),
                r.get("article"),
                yes_no(bool(r.get("applies")), lang),
                REASONS_NB.get(reason, reason) if lang == "nb" else reason,
            ]
        )
    return rows


def activity_section(
    a: dict[str, Any], orgs: dict[str, dict[str, Any]], lang: str, number: int
) -> list[Flowable]:
    """Return the flowables of one activity: every field of its record, its processors and the rights."""
    L = _labels(lang)  # noqa: N806
    meta = L["meta"].format(
        slug=a.get("slug") or "",
        service=a.get("service") or "",
        status=L["statuses"].get(a.get("status"), a.get("status") or ""),
        version=a.get("version") or "",
        at=format_datetime(a.get("updated_at"), lang) or "–",
        by=a.get("updated_by") or "–",
    )
    rows = [
        *_responsibility(a, orgs, lang),
        *_purposes(a, lang),
        *_data(a, lang),
        *_retention(a, lang),
        *_security_and_risk(a, lang),
    ]
    story: list[Flowable] = [
        heading(f"{number}. {localised(a.get('name'), lang)}", key=f"activity-{number}"),
        para(meta, "muted"),
        Spacer(1, 2 * mm),
        para(localised(a.get("description"), lang)),
        Spacer(1, 3 * mm),
        key_value_table(rows),
        para(L["processors"], "h2"),
    ]
    processor_rows = _processor_rows(a, orgs, lang)
    widths = [w * CONTENT_WIDTH for w in (0.22, 0.14, 0.24, 0.24, 0.16)]
    story.append(
        data_table(L["p_cols"], processor_rows, widths=widths) if processor_rows else para(L["no_processors"])
    )
    if a.get("rights"):
        widths = [w * CONTENT_WIDTH for w in (0.22, 0.12, 0.1, 0.56)]
        story += [para(L["rights"], "h2"), data_table(L["r_cols"], _rights_rows(a, lang), widths=widths)]
    return story


def processors_overview(
    orgs: dict[str, dict[str, Any]], activities: list[dict[str, Any]], lang: str
) -> list[Flowable]:
    """Return the table of every processor and sub-processor with its agreements and activities."""
    L = _labels(lang)  # noqa: N806
    found: dict[tuple[str, str], dict[str, list[str]]] = {}
    for a in activities:
        for p in a.get("processors") or []:
            entry = found.setdefault(
                (p.get("organisation") or "", p.get("role") or ""), {"refs": [], "acts": []}
            )
            if p.get("agreement_ref") and p["agreement_ref"] not in entry["refs"]:
                entry["refs"].append(p["agreement_ref"])
            entry["acts"].append(localised(a.get("name"), lang))
    rows = [
        [
            org_name(orgs, slug, lang),
            (orgs.get(slug) or {}).get("org_number"),
            L["roles"].get(role, role),
            entry["refs"],
            entry["acts"],
        ]
        for (slug, role), entry in sorted(found.items(), key=lambda item: org_name(orgs, item[0][0], lang))
    ]
    widths = [w * CONTENT_WIDTH for w in (0.22, 0.12, 0.14, 0.24, 0.28)]
    table = data_table(L["all_cols"], rows, widths=widths) if rows else para(L["no_processors"])
    return [PageBreak(), heading(L["all_processors"], key="processors"), table]


def render_ropa_pdf(
    *,
    organisations: dict[str, dict[str, Any]],
    activities: list[dict[str, Any]],
    controller: str | None = None,
    generated_at: datetime,
    lang: str = "en",
) -> bytes:
    """Render the record of processing as a PDF: cover, contents, a section per activity, processors."""
    L = _labels(lang)  # noqa: N806
    keeper = main_controller(organisations, activities, controller)
    story: list[Flowable] = letterhead(
        keeper,
        title=L["title"],
        subtitle=L["subtitle"],
        lang=lang,
        generated_at=generated_at,
        extra_rows=[(L["count"], str(len(activities)))],
    )
    story += [PageBreak(), para(text("contents", lang), "h1"), table_of_contents()]
    if not activities:
        story.append(para(L["empty"]))
    for number, activity in enumerate(activities, start=1):
        story += [PageBreak(), *activity_section(activity, organisations, lang, number)]
    story += processors_overview(organisations, activities, lang)
    name = localised((keeper or {}).get("name"), lang)
    return build_pdf(
        story,
        title=f"{L['title']} – {name}" if name else L["title"],
        author=name,
        lang=lang,
        footer=f"{L['title']} – {name} – {format_datetime(generated_at, lang)}",
        with_toc=True,
    )
