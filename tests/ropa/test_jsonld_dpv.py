"""The JSON-LD record uses DPV 2.3 as meant (issue 20): every DPV IRI is a DPV 2.3 term, and each rule of how
the registry maps onto DPV holds (roles per process, places, transfers, rights, data, purposes, authority)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from marshmallow import ValidationError
from rdflib import OWL, RDF, SKOS, Graph, Namespace, URIRef
from tests_support import bearer, minimal_activity

from privacy_service.ropa.export import export_jsonld
from privacy_service.ropa.schemas import activity_schema

ROOT = Path(__file__).resolve().parents[2]
TERMS_FILE = ROOT / "tests" / "fixtures" / "dpv-2.3-terms.txt"
VOCABULARY_DOC = ROOT / "docs" / "vocabulary.md"
DPV = Namespace("https://w3id.org/dpv#")
PD = Namespace("https://w3id.org/dpv/pd#")
LOC = Namespace("https://w3id.org/dpv/loc#")
EU_GDPR = Namespace("https://w3id.org/dpv/legal/eu/gdpr#")
LEGAL_NO = Namespace("https://w3id.org/dpv/legal/no#")
PS = Namespace("https://w3id.org/privacy-service/ns#")
DCT = Namespace("http://purl.org/dc/terms/")
BASE = "https://personvern.example.no"
ORG = f"{BASE}/api/v1/organisations/"
DATATILSYNET = {
    "slug": "datatilsynet",
    "name": {"nb": "Datatilsynet", "en": "Norwegian Data Protection Authority"},
    "org_number": "974761467",
    "role": "supervisory_authority",
}
SHIPPED_DEROGATION = "alcohol-tobacco-licences"  # the shipped transfer under Art. 49(1)(d)


def allowed_terms() -> tuple[set[str], tuple[str, ...]]:
    """The DPV 2.3 terms the project allows, as full IRIs, and the namespaces they cover."""
    prefixes: dict[str, str] = {}
    terms: set[str] = set()
    for line in TERMS_FILE.read_text().splitlines():
        if line.startswith("@prefix"):
            found = re.match(r"@prefix ([a-z-]+): <([^>]+)>", line)
            assert found is not None
            prefixes[found.group(1)] = found.group(2)
        elif line and not line.startswith("#"):
            prefix, _, name = line.partition(":")
            terms.add(prefixes[prefix] + name)
    return terms, tuple(prefixes.values())


def dpv_iris(graph: Graph, namespaces: tuple[str, ...]) -> list[str]:
    """Every IRI of the DPV namespaces in the graph, once per place it is used in a triple."""
    return [
        str(node)
        for triple in graph
        for node in triple
        if isinstance(node, URIRef) and any(str(node).startswith(ns) for ns in namespaces)
    ]


def parse(body: bytes) -> Graph:
    with warnings.catch_warnings():
        # rdflib 7.x's own JSON-LD parser builds a ConjunctiveGraph internally and warns about it.
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return Graph().parse(data=body.decode(), format="json-ld")


def graph_of(
    organisations: dict[str, Any],
    activities: list[dict[str, Any]],
    generated_at: datetime,
    base_url: str = BASE,
    **kwargs: Any,
) -> Graph:
    body = export_jsonld(
        organisations=organisations,
        activities=activities,
        generated_at=generated_at,
        base_url=base_url,
        **kwargs,
    )
    return parse(body)


def process(activity: dict[str, Any]) -> URIRef:
    return URIRef(f"{BASE}/api/v1/activities/{activity['slug']}")


# --- every IRI a DPV 2.3 term ---------------------------------------------------------------------------


def test_the_term_list_is_the_dpv_2_3_release() -> None:
    terms, namespaces = allowed_terms()
    assert len(namespaces) == 6 and len(terms) > 6800
    for term in (DPV.ROPA, DPV.DataSubProcessor, PD.CriminalOffence, LOC.NO, EU_GDPR["A49-1-d"]):
        assert str(term) in terms
    assert str(LEGAL_NO["DPA-NO"]) in terms
    assert str(EU_GDPR.A47) not in terms  # Art. 47 BCR are eu-gdpr:A46-2-b in DPV


def test_every_dpv_iri_in_the_shipped_record_is_a_dpv_2_3_term(
    client: FlaskClient, make_key: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    writer = bearer(make_key("registry:read", "registry:write"))
    transfers = client.get("/api/v1/transfers", headers=writer).get_json()
    key = next(t["key"] for t in transfers if t["activity"] == SHIPPED_DEROGATION)
    body = {
        "activity": SHIPPED_DEROGATION,
        "transfer": key,
        "derogation_point": "d",
        "assessed_by": "Personvernombudet",
        "assessed_on": "2026-11-02",
    }
    assert client.post("/api/v1/transfers", json=body, headers=writer).status_code == 200
    resp = client.get("/api/v1/ropa?format=jsonld", headers=writer)
    assert resp.status_code == 200
    graph = parse(resp.data)
    terms, namespaces = allowed_terms()
    used = dpv_iris(graph, namespaces)
    unknown = sorted(set(used) - terms)
    assert not unknown, f"not DPV 2.3 terms: {unknown}"
    with capsys.disabled():  # the closing note of issue 20 reports these counts
        print(f"\nDPV check: {len(used)} IRIs verified, {len(set(used))} distinct DPV 2.3 terms")
    assert len(set(used)) > 100
    base_url = str(client.application.config["PRIVACY_BASE_URL"]).rstrip("/")
    licences = URIRef(f"{base_url}/api/v1/activities/{SHIPPED_DEROGATION}")
    importers = list(graph.objects(licences, DPV.hasRecipient))
    assert any((r, DPV.hasLegalBasis, EU_GDPR["A49-1-d"]) in graph for r in importers)


def test_every_service_term_in_the_shipped_record_is_described_in_the_vocabulary_document(
    client: FlaskClient, make_key: Callable[..., str]
) -> None:
    resp = client.get("/api/v1/ropa?format=jsonld", headers=bearer(make_key("registry:read")))
    used = {str(i).removeprefix(str(PS)) for i in dpv_iris(parse(resp.data), (str(PS),))}
    described = set(re.findall(r"^### `ps:([A-Za-z]+)`", VOCABULARY_DOC.read_text(), re.MULTILINE))
    assert used and used <= described, f"not in docs/vocabulary.md: {sorted(used - described)}"


def test_the_service_namespace_is_the_same_on_every_installation(
    organisations, make_activity, generated_at
) -> None:
    activity = make_activity(business_process="Saksbehandling")
    here = graph_of(organisations, [activity], generated_at, base_url="https://a.example.no")
    there = graph_of(organisations, [activity], generated_at, base_url="http://localhost:5000")
    assert {p for p in here.predicates() if str(p).startswith(str(PS))} == {
        p for p in there.predicates() if str(p).startswith(str(PS))
    }
    assert PS.businessProcess in set(here.predicates())


# --- roles per process ----------------------------------------------------------------------------------


def test_an_organisation_is_controller_of_one_process_and_processor_of_another(
    organisations, make_activity, generated_at
) -> None:
    own = make_activity(controller="nhn", joint_controllers=[], processors=[])
    for_helsedir = make_activity()  # nhn is helsedir's processor here
    graph = graph_of(organisations, [own, for_helsedir], generated_at)
    nhn = URIRef(ORG + "nhn")
    assert (process(own), DPV.hasDataController, nhn) in graph
    assert (process(own), DPV.hasDataProcessor, nhn) not in graph
    assert (process(for_helsedir), DPV.hasDataProcessor, nhn) in graph
    assert (process(for_helsedir), DPV.hasDataController, nhn) not in graph
    assert {DPV.DataController, DPV.DataProcessor} <= set(graph.objects(nhn, RDF.type))


def test_an_organisation_is_typed_by_the_roles_it_plays_not_by_its_registry_role(
    organisations, make_activity, generated_at
) -> None:
    organisations["fhi"]["role"] = "processor"  # the registry's single role says nothing of a process
    graph = graph_of(organisations, [make_activity()], generated_at)
    fhi = URIRef(ORG + "fhi")
    assert (fhi, RDF.type, DPV.DataController) in graph  # joint controller of the process
    assert (fhi, RDF.type, DPV.DataProcessor) not in graph


def test_a_sub_processor_is_a_data_sub_processor_under_an_agreement_with_its_processor(
    organisations, make_activity, generated_at
) -> None:
    activity = make_activity()
    graph = graph_of(organisations, [activity], generated_at)
    sub, nhn = URIRef(ORG + "skyleverandor"), URIRef(ORG + "nhn")
    assert (sub, RDF.type, DPV.DataSubProcessor) in graph
    assert (nhn, RDF.type, DPV.DataSubProcessor) not in graph
    assert (process(activity), DPV.hasDataProcessor, sub) in graph
    (agreement,) = graph.subjects(RDF.type, DPV.SubProcessorAgreement)
    assert (process(activity), DPV.hasLegalMeasure, agreement) in graph
    assert set(graph.objects(agreement, DPV.hasParty)) == {nhn, sub}
    (contract,) = graph.subjects(RDF.type, DPV.ControllerProcessorAgreement)
    assert set(graph.objects(contract, DPV.hasParty)) == {URIRef(ORG + "helsedir"), nhn}


# --- places and transfers -------------------------------------------------------------------------------


def test_a_storage_location_is_a_loc_place_and_its_operator_only_words(
    organisations, make_activity, generated_at
) -> None:
    activity = make_activity(
        systems=[
            {"name": "Søknadsportalen", "location": "Norsk helsenett, Trondheim", "located_in": "NO"},
            {"name": "Treningsprogrammer", "location": "Microsoft", "located_in": "EU"},
            {"name": "Sentralbordet", "location": None},
        ]
    )
    graph = graph_of(organisations, [activity], generated_at)
    places = [
        s
        for s in graph.objects(process(activity), DPV.hasStorageCondition)
        if (s, RDF.type, DPV.StorageLocation) in graph
    ]
    assert len(places) == 3
    assert {o for s in places for o in graph.objects(s, DPV.hasLocation)} == {LOC.NO, LOC.EU}
    assert all(isinstance(o, URIRef) for s in places for o in graph.objects(s, DPV.hasLocation))


@pytest.mark.parametrize(
    ("transfer", "points", "basis"),
    [
        pytest.param({"safeguard": "adequacy"}, {}, EU_GDPR["A45-3"], id="Art. 45(3) adequacy"),
        pytest.param({"safeguard": "scc"}, {}, EU_GDPR["A46-2-c"], id="Art. 46(2)(c) SCC"),
        pytest.param({"safeguard": "bcr"}, {}, EU_GDPR["A46-2-b"], id="Art. 46(2)(b), 47 BCR"),
        pytest.param({"safeguard": "derogation"}, {0: "d"}, EU_GDPR["A49-1-d"], id="Art. 49(1)(d) assessed"),
        pytest.param({"safeguard": "derogation"}, {0: "a"}, EU_GDPR["A49-1-a"], id="Art. 49(1)(a) assessed"),
        pytest.param({"safeguard": "derogation"}, {}, None, id="Art. 49(1) point not assessed"),
        pytest.param({"safeguard": "none"}, {}, None, id="Art. 44 no tool"),
    ],
)
def test_a_third_country_is_a_loc_iri_and_the_transfer_names_its_legal_basis(
    organisations, make_activity, generated_at, transfer, points, basis
) -> None:
    item = {"country": {"nb": "USA", "en": "United States"}, "recipient": "Cloud Inc.", "country_code": "US"}
    activity = make_activity(transfers=[{**item, **transfer}])
    graph = graph_of(organisations, [activity], generated_at, transfer_points={activity["slug"]: points})
    assert set(graph.objects(process(activity), DPV.hasThirdCountry)) == {LOC.US}
    (importer,) = graph.subjects(RDF.type, DPV.DataImporter)
    assert (process(activity), DPV.hasRecipient, importer) in graph
    assert (importer, DPV.hasThirdCountry, LOC.US) in graph
    assert set(graph.objects(importer, DPV.hasLegalBasis)) == ({basis} if basis else set())


def test_a_transfer_to_several_countries_describes_them_in_words(
    organisations, make_activity, generated_at
) -> None:
    parties = {"nb": "Partene til protokollen", "en": "The parties to the Protocol"}
    activity = make_activity(transfers=[{"country": parties, "recipient": "FCTC", "safeguard": "derogation"}])
    graph = graph_of(organisations, [activity], generated_at)
    (country,) = graph.objects(process(activity), DPV.hasThirdCountry)
    assert (country, RDF.type, DPV.ThirdCountry) in graph
    assert {str(d) for d in graph.objects(country, DCT.description)} == set(parties.values())


# --- rights -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "a22"),
    [
        pytest.param({}, set(), id="no automated decision: no Art. 22"),
        pytest.param(
            {"automated_decisions": True, "automated_decision": {"ground": "22(2)(b)"}},
            {"A22"},
            id="Art. 22(2)(b) authorised by law: A22",
        ),
        pytest.param(
            {"automated_decisions": True, "automated_decision": {"ground": "22(2)(c)"}},
            {"A22", "A22-3-a", "A22-3-b", "A22-3-c"},
            id="Art. 22(2)(c) consent: A22 and the safeguards of 22(3)",
        ),
    ],
)
def test_automated_decisions_carry_article_22(
    organisations, make_activity, generated_at, overrides, a22
) -> None:
    activity = make_activity(**overrides)
    rights = set(graph_of(organisations, [activity], generated_at).objects(process(activity), DPV.hasRight))
    assert {r for r in rights if str(r).startswith(str(EU_GDPR["A22"]))} == {EU_GDPR[t] for t in a22}


@pytest.mark.parametrize(
    "basis", ["6(1)(a)", "6(1)(b)", "6(1)(c)", "6(1)(d)", "6(1)(e)", "6(1)(f)"], ids=lambda b: f"Art. {b}"
)
def test_the_right_to_complain_art_77_is_on_every_process_with_the_authority(
    organisations, make_activity, generated_at, basis
) -> None:
    organisations["datatilsynet"] = dict(DATATILSYNET)
    activity = make_activity(legal_basis=basis, consent_purpose="x")
    graph = graph_of(organisations, [activity], generated_at)
    assert (process(activity), DPV.hasRight, EU_GDPR.A77) in graph
    assert (process(activity), DPV.hasAuthority, URIRef(ORG + "datatilsynet")) in graph


@pytest.mark.parametrize(
    ("overrides", "erasure"),
    [
        pytest.param({"disposal": {"decision": "Bevares"}}, False, id="Art. 17(3)(d) archive: no A17"),
        pytest.param(
            {"legal_basis": "6(1)(c)", "disposal": {"decision": "Kasseres"}},
            False,
            id="Art. 17(3)(b) legal obligation: no A17",
        ),
        pytest.param({"disposal": {"decision": "Kasseres"}}, True, id="Art. 6(1)(e), disposable: A17"),
        pytest.param(
            {"legal_basis": "6(1)(a)", "consent_purpose": "x", "disposal": None}, True, id="Art. 6(1)(a): A17"
        ),
    ],
)
def test_erasure_is_no_right_of_a_process_where_it_is_excluded(
    organisations, make_activity, generated_at, overrides, erasure
) -> None:
    activity = make_activity(**overrides)
    graph = graph_of(organisations, [activity], generated_at)
    assert ((process(activity), DPV.hasRight, EU_GDPR.A17) in graph) is erasure
    assert (process(activity), DPV.hasRight, EU_GDPR.A15) in graph


# --- data, purposes, the authority ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("categories", "expected"),
    [
        pytest.param(
            [{"key": "criminal_records", "name": {"nb": "Straffesaker", "en": "Criminal records"}}],
            {PD.Criminal},
            id="Art. 10 criminal records: pd:Criminal",
        ),
        pytest.param(
            [{"key": "violations", "name": {"nb": "Overtredelser", "en": "Violations"}}],
            {PD.CriminalOffence},
            id="Art. 10 offences: pd:CriminalOffence",
        ),
        pytest.param([], {PD.Criminal}, id="Art. 10 with no category saying which: pd:Criminal"),
    ],
)
def test_criminal_offence_data_is_a_pd_term(
    organisations, make_activity, generated_at, categories, expected
) -> None:
    base = [{"key": "name", "name": {"nb": "Navn", "en": "Name"}}]
    activity = make_activity(art10=True, data_categories=base + categories)
    graph = graph_of(organisations, [activity], generated_at)
    data = set(graph.objects(process(activity), DPV.hasPersonalData))
    types = {t for d in data for t in graph.objects(d, RDF.type)}
    assert expected <= types
    assert not list(graph.predicates(None, PS.criminalOffenceData))


def test_data_categories_are_pd_terms_where_one_fits_and_keep_their_words(
    organisations, make_activity, generated_at
) -> None:
    activity = make_activity()
    graph = graph_of(organisations, [activity], generated_at)
    email = URIRef(f"{process(activity)}#data-email")
    assert {DPV.PersonalData, PD.EmailAddress} <= set(graph.objects(email, RDF.type))
    assert {str(x) for x in graph.objects(email, SKOS.prefLabel)} == {"E-postadresse", "E-mail address"}
    health = URIRef(f"{process(activity)}#data-health")  # no key the map knows: still personal data
    assert set(graph.objects(health, RDF.type)) == {DPV.SpecialCategoryPersonalData}


def test_purposes_are_dpv_purposes_where_the_record_names_one_and_keep_the_bilingual_text(
    organisations, make_activity, generated_at
) -> None:
    activity = make_activity(dpv_purposes=["ServiceProvision", "ImproveHealthcare"])
    graph = graph_of(organisations, [activity], generated_at)
    purposes = set(graph.objects(process(activity), DPV.hasPurpose))
    assert {DPV.ServiceProvision, DPV.ImproveHealthcare} <= purposes
    texts = {str(d) for p in purposes for d in graph.objects(p, DCT.description)}
    assert {"Behandle søknader om tilgang til helsedata", "Process applications for health data"} <= texts


def test_datatilsynet_is_legal_no_dpa_no(organisations, make_activity, generated_at) -> None:
    organisations["datatilsynet"] = dict(DATATILSYNET)
    graph = graph_of(organisations, [make_activity()], generated_at)
    datatilsynet = URIRef(ORG + "datatilsynet")
    assert (datatilsynet, OWL.sameAs, LEGAL_NO["DPA-NO"]) in graph
    assert (datatilsynet, RDF.type, DPV.DataProtectionAuthority) in graph
    (ropa,) = graph.subjects(RDF.type, DPV.ROPA)
    assert (ropa, DPV.hasAuthority, datatilsynet) in graph


# --- what the registry takes -------------------------------------------------------------------------------

TRANSFER = {"country": "USA", "recipient": "Cloud Inc.", "safeguard": "scc"}


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        pytest.param({"systems": [{"name": "Besta", "located_in": "NO"}]}, None, id="stored in NO"),
        pytest.param({"systems": [{"name": "Besta", "located_in": "EEA"}]}, None, id="stored in the EEA"),
        pytest.param(
            {"systems": [{"name": "Besta", "located_in": "Norway"}]}, "systems", id="a name, no code"
        ),
        pytest.param({"transfers": [{**TRANSFER, "country_code": "US"}]}, None, id="a third country"),
        pytest.param({"transfers": [TRANSFER]}, None, id="several countries: no code"),
        pytest.param(
            {"transfers": [{**TRANSFER, "country_code": "SE"}]}, "transfers", id="Chapter V: SE is EEA"
        ),
        pytest.param({"transfers": [{**TRANSFER, "country_code": "EU"}]}, "transfers", id="Chapter V: EU"),
        pytest.param({"dpv_purposes": ["ServiceProvision"]}, None, id="a DPV purpose"),
        pytest.param({"dpv_purposes": ["Helping"]}, "dpv_purposes", id="not a DPV purpose"),
    ],
)
def test_the_registry_takes_places_as_codes_and_purposes_as_dpv_terms(
    overrides: dict[str, Any], error: str | None
) -> None:
    record = minimal_activity(**overrides)
    if error is None:
        loaded = activity_schema.load(record)
        for key, value in overrides.items():  # what was given is kept, beside the defaults filled in
            given = (
                value
                if key == "dpv_purposes"
                else [{**v, **w} for v, w in zip(loaded[key], value, strict=True)]
            )
            assert loaded[key] == given
    else:
        with pytest.raises(ValidationError) as raised:
            activity_schema.load(record)
        assert error in raised.value.messages


def test_a_record_without_the_new_fields_loads_as_it_was(organisations) -> None:
    loaded = activity_schema.load(minimal_activity(systems=[{"name": "Besta"}], transfers=[TRANSFER]))
    assert "dpv_purposes" not in loaded  # left out, not null: records loaded before keep their hash
    assert "located_in" not in loaded["systems"][0] and "country_code" not in loaded["transfers"][0]
