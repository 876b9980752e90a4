"""The record of processing as JSON-LD in the W3C Data Privacy Vocabulary (DPV 2) and its EU GDPR extension.

A dpv:ROPA node names the controller and has each activity as a part (dct:hasPart) typed dpv:Process. Legal
bases are the eu-gdpr article concepts (eu-gdpr:A6-1-e, eu-gdpr:A9-2-h, …), and so are transfer safeguards
(A45-3, A46-2-c …). What DPV has no term for (the Noark 5 disposal decision, record status and version) uses
the service's own `ps:` vocabulary under the base URL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from privacy_service.kernel import record_bases
from privacy_service.ropa.texts import main_controller

DPV = "https://w3id.org/dpv#"
EU_GDPR = "https://w3id.org/dpv/legal/eu/gdpr#"

# Art. 6(1) and 9(2) codes as written in the registry -> eu-gdpr concept names.
TRANSFER_BASES = {"adequacy": "eu-gdpr:A45-3", "scc": "eu-gdpr:A46-2-c", "bcr": "eu-gdpr:A46-2-b"}
RIGHT_TERMS = {
    "access": "eu-gdpr:A15",
    "rectification": "eu-gdpr:A16",
    "erasure": "eu-gdpr:A17",
    "restriction": "eu-gdpr:A18",
    "portability": "eu-gdpr:A20",
    "objection": "eu-gdpr:A21",
    "consent_withdrawal": "eu-gdpr:A7-3",
}
ROLE_TYPES = {
    "controller": "dpv:DataController",
    "joint_controller": "dpv:DataController",
    "processor": "dpv:DataProcessor",
    "sub_processor": "dpv:DataSubProcessor",
    "supervisory_authority": "dpv:DataProtectionAuthority",
}


def article_term(code: str | None) -> str | None:
    """Map "6(1)(e)" to "eu-gdpr:A6-1-e" and "9(2)(h)" to "eu-gdpr:A9-2-h"; None for anything else."""
    if not code:
        return None
    parts = code.replace("(", " ").replace(")", " ").split()
    if len(parts) != 3 or parts[0] not in ("6", "9"):
        return None
    return f"eu-gdpr:A{parts[0]}-{parts[1]}-{parts[2]}"


def _text(value: Any) -> list[dict[str, str]] | str | None:
    """A {nb, en} text as language-tagged literals; plain text as it is."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return [{"@value": str(v), "@language": k} for k, v in sorted(value.items()) if v]
    return str(value)


def _node(type_: str | list[str], **props: Any) -> dict[str, Any]:
    return {"@type": type_, **{k: v for k, v in props.items() if v not in (None, "", [])}}


def _context(base_url: str) -> dict[str, Any]:
    return {
        "dpv": DPV,
        "eu-gdpr": EU_GDPR,
        "dct": "http://purl.org/dc/terms/",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "schema": "https://schema.org/",
        "ps": f"{base_url}/ns/privacy-service#",
        "dct:hasPart": {"@type": "@id"},
        "dct:created": {"@type": "xsd:dateTime"},
        "dct:modified": {"@type": "xsd:dateTime"},
        "dpv:hasLegalBasis": {"@type": "@id"},
        "dpv:hasDataController": {"@type": "@id"},
        "dpv:hasDataProcessor": {"@type": "@id"},
        "dpv:hasRight": {"@type": "@id"},
        "dpv:hasContext": {"@type": "@id"},
    }


def organisation_node(slug: str, org: dict[str, Any], base_url: str) -> dict[str, Any]:
    """Return an organisation as a legal entity typed by its role, with contact details and DPO."""
    dpo = org.get("dpo") or {}
    return _node(
        [ROLE_TYPES.get(org.get("role") or "", "dpv:LegalEntity"), "dpv:LegalEntity"],
        **{
            "@id": f"{base_url}/api/v1/organisations/{slug}",
            "dct:identifier": slug,
            "schema:name": _text(org.get("name")),
            "schema:taxID": org.get("org_number"),
            "schema:email": org.get("email"),
            "schema:telephone": org.get("phone"),
            "schema:address": org.get("address"),
            "schema:url": org.get("website"),
            "dpv:hasDataProtectionOfficer": _node(
                "dpv:DataProtectionOfficer",
                **{
                    "schema:name": dpo.get("name"),
                    "schema:email": dpo.get("email"),
                    "schema:telephone": dpo.get("phone"),
                },
            )
            if dpo
            else None,
        },
    )


def _transfer(t: dict[str, Any]) -> dict[str, Any]:
    return _node(
        ["dpv:Recipient", "dpv:DataImporter"],
        **{
            "schema:name": _text(t.get("recipient")),
            "dpv:hasThirdCountry": _node("dpv:ThirdCountry", **{"dct:identifier": _text(t.get("country"))}),
            "dpv:hasLegalBasis": TRANSFER_BASES.get(t.get("safeguard") or ""),
            "ps:safeguard": t.get("safeguard"),
            "dct:description": _text(t.get("details")),
        },
    )


def _retention(retention: dict[str, Any]) -> dict[str, Any] | None:
    if not retention:
        return None
    period = retention.get("period")
    types = ["dpv:StorageDuration"] + (["dpv:TemporalDuration"] if period else [])
    return _node(
        types,
        **{
            "dct:description": _text(retention.get("text")),
            "rdf:value": {"@value": period, "@type": "xsd:duration"} if period else None,
            "ps:retentionTrigger": _text(retention.get("trigger")),
            "ps:retentionLegalBasis": _text(retention.get("legal_basis")),
        },
    )


def _subjects(a: dict[str, Any]) -> list[dict[str, Any]]:
    subjects = [
        _node("dpv:DataSubject", **{"dct:description": _text(s)}) for s in a.get("data_subjects") or []
    ]
    if a.get("children"):
        subjects.append(_node("dpv:Child"))
    if a.get("vulnerable_subjects"):
        subjects.append(_node("dpv:VulnerableDataSubject"))
    return subjects


def process_node(a: dict[str, Any], base_url: str) -> dict[str, Any]:
    """Return one activity as a dpv:Process with its purposes, legal bases, parties, data and conditions."""
    iri = f"{base_url}/api/v1/activities/{a['slug']}"
    legal, art9 = record_bases(a)
    bases = [t for t in map(article_term, (*legal, *art9)) if t]
    return _node(
        ["dpv:Process", "dpv:PersonalDataProcess"],
        **{
            "@id": iri,
            "dct:identifier": a.get("slug"),
            "dct:title": _text(a.get("name")),
            "dct:description": _text(a.get("description")),
            "dpv:hasPurpose": [
                _node("dpv:Purpose", **{"dct:description": _text(p)}) for p in a.get("purposes") or []
            ],
            "dpv:hasLegalBasis": bases,
            "ps:nationalLegalBasis": _text(a.get("national_basis")),
            **_parties(a, f"{base_url}/api/v1/organisations/"),
            **_data_flows(a, iri),
            **_safeguards(a),
            **_record_keeping(a),
        },
    )


def _parties(a: dict[str, Any], org: str) -> dict[str, Any]:
    """Controllers, joint controllers (Art. 26), the representative (Art. 27) and processors (Art. 28)."""
    processors = [p for p in a.get("processors") or [] if p.get("organisation")]
    joint = a.get("joint_controllers") or []
    return {
        "dpv:hasDataController": [org + a["controller"]] if a.get("controller") else [],
        "dpv:hasJointDataControllers": _node(
            "dpv:JointDataControllers",
            **{"dpv:hasDataController": [org + s for s in [a.get("controller"), *joint] if s]},
        )
        if joint
        else None,
        "dpv:hasRepresentative": _node("dpv:Representative", **{"schema:name": a.get("representative")})
        if a.get("representative")
        else None,
        "dpv:hasDataProcessor": [org + p["organisation"] for p in processors],
        "dpv:hasLegalMeasure": [
            _node(
                "dpv:SubProcessorAgreement"
                if p.get("role") == "sub_processor"
                else "dpv:ControllerProcessorAgreement",
                **{
                    "dct:identifier": _text(p.get("agreement_ref")),
                    "dpv:hasDataProcessor": org + p["organisation"],
                    "dct:description": _text(p.get("task")),
                },
            )
            for p in processors
        ],
    }


def _data_flows(a: dict[str, Any], iri: str) -> dict[str, Any]:
    """Whose data, which data, where it comes from and where it goes, third countries included."""
    transfers = a.get("transfers") or []
    return {
        "dpv:hasDataSubject": _subjects(a),
        "dpv:hasPersonalData": [
            _node(
                "dpv:SpecialCategoryPersonalData" if c.get("special") else "dpv:PersonalData",
                **{"@id": f"{iri}#data-{c.get('key')}", "skos:prefLabel": _text(c.get("name"))},
            )
            for c in a.get("data_categories") or []
        ],
        "ps:criminalOffenceData": bool(a.get("art10")),
        "dpv:hasDataSource": _node("dpv:DataSource", **{"dct:description": _text(a.get("source"))})
        if a.get("source")
        else None,
        "dpv:hasRecipient": [
            _node("dpv:Recipient", **{"dct:description": _text(r)}) for r in a.get("recipients") or []
        ]
        + [_transfer(t) for t in transfers],
        "dpv:hasThirdCountry": [
            _node("dpv:ThirdCountry", **{"dct:identifier": _text(t.get("country"))}) for t in transfers
        ],
    }


def _safeguards(a: dict[str, Any]) -> dict[str, Any]:
    """Storage limits, security measures, the impact assessment, automated decisions and the rights."""
    dpia = a.get("dpia") or {}
    return {
        "dpv:hasStorageCondition": _retention(a.get("retention") or {}),
        "dpv:hasTechnicalOrganisationalMeasure": [
            _node("dpv:TechnicalOrganisationalMeasure", **{"dct:description": _text(m)})
            for m in a.get("security_measures") or []
        ],
        "dpv:hasAssessment": _node(
            "dpv:ImpactAssessment",
            **{
                "dct:identifier": dpia.get("reference"),
                "dct:description": dpia.get("outcome"),
                "ps:priorConsultation": bool(dpia.get("prior_consultation")),
            },
        )
        if dpia.get("required") or dpia.get("reference")
        else None,
        "dpv:hasContext": ["dpv:AutomatedDecisionMaking"] if a.get("automated_decisions") else [],
        "dpv:hasRight": [
            RIGHT_TERMS[r["right"]]
            for r in a.get("rights") or []
            if r.get("applies") and r.get("right") in RIGHT_TERMS
        ],
    }


def _record_keeping(a: dict[str, Any]) -> dict[str, Any]:
    """What DPV has no term for, in the service's own ps: terms: archiving, governance, the version."""
    disposal = a.get("disposal") or {}
    return {
        "ps:disposalDecision": disposal.get("decision"),
        "ps:preservationPeriod": disposal.get("preservation_period"),
        "ps:disposalAuthority": _text(disposal.get("authority")),
        "ps:legitimateInterest": _text(a.get("legitimate_interest")),
        "ps:liaReference": _text(a.get("lia_reference")),
        "ps:businessProcess": a.get("business_process"),
        "ps:owner": _text(a.get("owner")),
        "ps:reviewDate": {"@value": str(a["review_date"]), "@type": "xsd:date"}
        if a.get("review_date")
        else None,
        "ps:systems": [
            _node(
                "ps:System",
                **{"schema:name": _text(s.get("name")), "dpv:hasLocation": _text(s.get("location"))},
            )
            for s in a.get("systems") or []
        ],
        "ps:service": a.get("service"),
        "ps:status": a.get("status"),
        "schema:version": a.get("version"),
        "dct:modified": str(a["updated_at"]) if a.get("updated_at") else None,
        "ps:updatedBy": a.get("updated_by"),
    }


def ropa_graph(
    *,
    organisations: dict[str, dict[str, Any]],
    activities: list[dict[str, Any]],
    generated_at: datetime,
    base_url: str,
) -> dict[str, Any]:
    """Return the JSON-LD document: @context and a @graph of the dpv:ROPA, its processes and organisations."""
    base_url = base_url.rstrip("/")
    keeper = main_controller(organisations, activities)
    processes = [process_node(a, base_url) for a in activities]
    ropa = _node(
        "dpv:ROPA",
        **{
            "@id": f"{base_url}/api/v1/ropa",
            "dct:title": [
                {"@value": "Records of processing activities (GDPR Art. 30)", "@language": "en"},
                {
                    "@value": "Protokoll over behandlingsaktiviteter (personvernforordningen art. 30)",
                    "@language": "nb",
                },
            ],
            "dct:created": generated_at.isoformat(),
            "dpv:hasDataController": [f"{base_url}/api/v1/organisations/{keeper['slug']}"] if keeper else [],
            "dct:hasPart": [p["@id"] for p in processes],
        },
    )
    orgs = [organisation_node(slug, org, base_url) for slug, org in sorted(organisations.items())]
    return {"@context": _context(base_url), "@graph": [ropa, *processes, *orgs]}
