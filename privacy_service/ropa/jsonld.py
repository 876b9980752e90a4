"""The record of processing as JSON-LD in the W3C Data Privacy Vocabulary (DPV 2.3) and its extensions.

A dpv:ROPA node names the controller and has each activity as a part (dct:hasPart) typed dpv:Process. Roles
are per process: a process names its controllers (dpv:hasDataController) and processors
(dpv:hasDataProcessor, a sub-processor with its dpv:SubProcessorAgreement), and an organisation is typed by
every role it plays in the record, so one can be controller of one process and processor of another. Legal
bases, transfer tools and rights are eu-gdpr concepts (eu-gdpr:A6-1-e, eu-gdpr:A49-1-d, eu-gdpr:A77 …), data
categories pd: concepts, storage places and third countries loc: concepts, the supervisory authority legal-
no:DPA-NO (dpv_terms.py maps them). What DPV has no term for (the Noark 5 disposal decision, record status
and version) uses the service's own ps: vocabulary, https://w3id.org/privacy-service/ns#, the same on every
installation (docs/vocabulary.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from privacy_service.kernel import record_bases
from privacy_service.ropa.dpv_terms import (
    AUTHORITIES,
    CATEGORY_TERMS,
    CRIMINAL_TERMS,
    PS,
    ROLE_TYPES,
    article_term,
    location_term,
    right_terms,
    transfer_basis,
)
from privacy_service.ropa.texts import main_controller

DPV = "https://w3id.org/dpv#"
EU_GDPR = "https://w3id.org/dpv/legal/eu/gdpr#"
# by activity slug, by the transfer's place in the record: the point of Art. 49(1) its assessment names
TransferPoints = Mapping[str, Mapping[int, str]]


def _text(value: Any) -> list[dict[str, str]] | str | None:
    """A {nb, en} text as language-tagged literals; plain text as it is."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return [{"@value": str(v), "@language": k} for k, v in sorted(value.items()) if v]
    return str(value)


def _node(type_: str | list[str], **props: Any) -> dict[str, Any]:
    return {"@type": type_, **{k: v for k, v in props.items() if v not in (None, "", [])}}


def _context() -> dict[str, Any]:
    ids = (
        "dct:hasPart", "dpv:hasLegalBasis", "dpv:hasDataController", "dpv:hasDataProcessor", "dpv:hasRight",
        "dpv:hasContext", "dpv:hasPurpose", "dpv:hasLocation", "dpv:hasThirdCountry", "dpv:hasAuthority",
        "dpv:hasApplicableLaw", "dpv:hasParty", "owl:sameAs",
    )  # fmt: skip
    return {
        "dpv": DPV,
        "eu-gdpr": EU_GDPR,
        "pd": "https://w3id.org/dpv/pd#",
        "loc": "https://w3id.org/dpv/loc#",
        "legal-eu": "https://w3id.org/dpv/legal/eu#",
        "legal-no": "https://w3id.org/dpv/legal/no#",
        "dct": "http://purl.org/dc/terms/",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "owl": "http://www.w3.org/2002/07/owl#",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "schema": "https://schema.org/",
        "ps": PS,
        "dct:created": {"@type": "xsd:dateTime"},
        "dct:modified": {"@type": "xsd:dateTime"},
        **{term: {"@type": "@id"} for term in ids},
    }


def _org_iri(base_url: str, slug: str) -> str:
    return f"{base_url}/api/v1/organisations/{slug}"


def roles_played(activities: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The roles each organisation plays in the record's processes: organisation slug -> DPV role types."""
    roles: dict[str, set[str]] = {}
    for a in activities:
        for slug in [a.get("controller"), *(a.get("joint_controllers") or [])]:
            if slug:
                roles.setdefault(slug, set()).add("dpv:DataController")
        for p in a.get("processors") or []:
            if p.get("organisation"):
                roles.setdefault(p["organisation"], set()).add(ROLE_TYPES[p.get("role") or "processor"])
    return roles


def organisation_node(
    slug: str, org: dict[str, Any], base_url: str, roles: set[str] | frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Return an organisation as a legal entity typed by the roles it plays in the record's processes (a
    supervisory authority as one), with contact details and DPO; a DPV-named authority is the same as it."""
    dpo = org.get("dpo") or {}
    authority = org.get("role") == "supervisory_authority"
    types = sorted(roles | ({"dpv:DataProtectionAuthority"} if authority else set()))
    return _node(
        ["dpv:LegalEntity", "dpv:Organisation", *types],
        **{
            "@id": _org_iri(base_url, slug),
            "dct:identifier": slug,
            "owl:sameAs": AUTHORITIES.get(org.get("org_number") or "") if authority else None,
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


def _third_country(t: dict[str, Any]) -> str | dict[str, Any]:
    """The loc: concept of a transfer's country, or (a country the registry gives no code for, such as "the
    parties to a treaty") a third country described in words."""
    return location_term(t.get("country_code")) or _node(
        "dpv:ThirdCountry", **{"dct:description": _text(t.get("country"))}
    )


def _distinct(items: list[Any]) -> list[Any]:
    """The items, a loc: concept named twice only once."""
    return [x for i, x in enumerate(items) if not isinstance(x, str) or x not in items[:i]]


def _transfer(t: dict[str, Any], point: str | None) -> dict[str, Any]:
    return _node(
        ["dpv:Recipient", "dpv:DataImporter"],
        **{
            "schema:name": _text(t.get("recipient")),
            "dpv:hasThirdCountry": _third_country(t),
            "dpv:hasLegalBasis": transfer_basis(t.get("safeguard"), point),
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


def _storage_locations(a: dict[str, Any]) -> list[dict[str, Any]]:
    """Each system as a storage location: the place as a loc: concept, who runs it in words."""
    return [
        _node(
            "dpv:StorageLocation",
            **{
                "schema:name": _text(s.get("name")),
                "dpv:hasLocation": location_term(s.get("located_in")),
                "dct:description": _text(s.get("location")),
            },
        )
        for s in a.get("systems") or []
    ]


def _subjects(a: dict[str, Any]) -> list[dict[str, Any]]:
    subjects = [
        _node("dpv:DataSubject", **{"dct:description": _text(s)}) for s in a.get("data_subjects") or []
    ]
    if a.get("children"):
        subjects.append(_node("dpv:Child"))
    if a.get("vulnerable_subjects"):
        subjects.append(_node("dpv:VulnerableDataSubject"))
    return subjects


def _purposes(a: dict[str, Any]) -> list[Any]:
    """The DPV purposes the record names, then each purpose in the record's own words."""
    named = [f"dpv:{term}" for term in a.get("dpv_purposes") or []]
    return named + [_node("dpv:Purpose", **{"dct:description": _text(p)}) for p in a.get("purposes") or []]


def process_node(
    a: dict[str, Any], base_url: str, *, points: Mapping[int, str] | None = None, authority: str | None = None
) -> dict[str, Any]:
    """Return one activity as a dpv:Process with its purposes, legal bases, parties, data and conditions.

    `points`: the point of Art. 49(1) each derogation transfer relies on, by its place in the record;
    `authority`: the IRI of the supervisory authority a complaint goes to (Art. 77)."""
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
            "dpv:hasPurpose": _purposes(a),
            "dpv:hasLegalBasis": bases,
            "dpv:hasApplicableLaw": "legal-eu:law-GDPR",
            "dpv:hasAuthority": authority,
            "ps:nationalLegalBasis": _text(a.get("national_basis")),
            **_parties(a, f"{base_url}/api/v1/organisations/"),
            **_data_flows(a, iri, points or {}),
            **_safeguards(a),
            **_record_keeping(a),
        },
    )


def _agreement(a: dict[str, Any], p: dict[str, Any], org: str) -> dict[str, Any]:
    """The Art. 28 contract a processor works under: with the controller, or for a sub-processor with the
    processor that engaged it (Art. 28(4))."""
    sub = p.get("role") == "sub_processor"
    engaging = p.get("sub_processor_of") if sub else a.get("controller")
    return _node(
        "dpv:SubProcessorAgreement" if sub else "dpv:ControllerProcessorAgreement",
        **{
            "dct:identifier": _text(p.get("agreement_ref")),
            "dpv:hasDataProcessor": org + p["organisation"],
            "dpv:hasParty": [org + s for s in (engaging, p["organisation"]) if s],
            "dct:description": _text(p.get("task")),
        },
    )


def _parties(a: dict[str, Any], org: str) -> dict[str, Any]:
    """Controllers, joint controllers (Art. 26), the representative (Art. 27) and processors (Art. 28)."""
    processors = [p for p in a.get("processors") or [] if p.get("organisation")]
    joint = a.get("joint_controllers") or []
    return {
        "dpv:hasDataController": [org + s for s in [a.get("controller"), *joint] if s],
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
        "dpv:hasLegalMeasure": [_agreement(a, p, org) for p in processors],
    }


def _personal_data(a: dict[str, Any], iri: str) -> list[dict[str, Any]]:
    """Each data category, an instance of its pd: concept where one fits; Art. 10 data as pd:Criminal when no
    category of the record says which."""
    nodes, terms = [], set()
    for c in a.get("data_categories") or []:
        term = CATEGORY_TERMS.get(c.get("key") or "")
        terms.add(term)
        base = "dpv:SpecialCategoryPersonalData" if c.get("special") else "dpv:PersonalData"
        nodes.append(
            _node(
                [base, f"pd:{term}"] if term else base,
                **{"@id": f"{iri}#data-{c.get('key')}", "skos:prefLabel": _text(c.get("name"))},
            )
        )
    if a.get("art10") and not terms & CRIMINAL_TERMS:  # Art. 10: criminal convictions and offences
        nodes.append(_node(["dpv:PersonalData", "pd:Criminal"], **{"@id": f"{iri}#data-art10"}))
    return nodes


def _data_flows(a: dict[str, Any], iri: str, points: Mapping[int, str]) -> dict[str, Any]:
    """Whose data, which data, where it comes from and where it goes, third countries included."""
    transfers = a.get("transfers") or []
    return {
        "dpv:hasDataSubject": _subjects(a),
        "dpv:hasPersonalData": _personal_data(a, iri),
        "dpv:hasDataSource": _node("dpv:DataSource", **{"dct:description": _text(a.get("source"))})
        if a.get("source")
        else None,
        "dpv:hasRecipient": [
            _node("dpv:Recipient", **{"dct:description": _text(r)}) for r in a.get("recipients") or []
        ]
        + [_transfer(t, points.get(i)) for i, t in enumerate(transfers)],
        "dpv:hasThirdCountry": _distinct([_third_country(t) for t in transfers]),
    }


def _safeguards(a: dict[str, Any]) -> dict[str, Any]:
    """Storage limits and places, security measures, the DPIA, automated decisions and the rights."""
    dpia = a.get("dpia") or {}
    retention = _retention(a.get("retention") or {})
    return {
        "dpv:hasStorageCondition": [*([retention] if retention else []), *_storage_locations(a)],
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
        "dpv:hasRight": right_terms(a),
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
        "ps:service": a.get("service"),
        "ps:status": a.get("status"),
        "schema:version": a.get("version"),
        "dct:modified": str(a["updated_at"]) if a.get("updated_at") else None,
        "ps:updatedBy": a.get("updated_by"),
    }


def _authority(organisations: dict[str, dict[str, Any]], base_url: str) -> str | None:
    """The supervisory authority in the registry (Datatilsynet): where a complaint goes (Art. 77)."""
    found = sorted(s for s, o in organisations.items() if o.get("role") == "supervisory_authority")
    return _org_iri(base_url, found[0]) if found else None


def ropa_graph(
    *,
    organisations: dict[str, dict[str, Any]],
    activities: list[dict[str, Any]],
    generated_at: datetime,
    base_url: str,
    transfer_points: TransferPoints | None = None,
) -> dict[str, Any]:
    """Return the JSON-LD document: @context and a @graph of the dpv:ROPA, its processes and organisations.

    `transfer_points`: the assessments' points of Art. 49(1), read by the caller from the register."""
    base_url = base_url.rstrip("/")
    keeper = main_controller(organisations, activities)
    authority = _authority(organisations, base_url)
    points = transfer_points or {}
    processes = [
        process_node(a, base_url, points=points.get(a["slug"]), authority=authority) for a in activities
    ]
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
            "dpv:hasDataController": [_org_iri(base_url, keeper["slug"])] if keeper else [],
            "dpv:hasApplicableLaw": "legal-eu:law-GDPR",
            "dpv:hasAuthority": authority,
            "dct:hasPart": [p["@id"] for p in processes],
        },
    )
    roles = roles_played(activities)
    orgs = [
        organisation_node(slug, org, base_url, roles.get(slug, set()))
        for slug, org in sorted(organisations.items())
    ]
    return {"@context": _context(), "@graph": [ropa, *processes, *orgs]}
