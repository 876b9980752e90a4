"""The CSV, JSON and JSON-LD exports of the record of processing."""

from __future__ import annotations

import csv
import io
import json
import warnings

import pytest
from rdflib import RDF, Graph, Namespace, URIRef

from privacy_service.ropa.export import CSV_COLUMNS, export_csv, export_json, export_jsonld

DPV = Namespace("https://w3id.org/dpv#")
EU_GDPR = Namespace("https://w3id.org/dpv/legal/eu/gdpr#")
DCT = Namespace("http://purl.org/dc/terms/")
BASE = "https://personvern.example.no"


def _rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_starts_with_a_bom_and_parses_with_one_row_per_activity(organisations, make_activity) -> None:
    activities = [make_activity() for _ in range(3)]
    body = export_csv(organisations=organisations, activities=activities)
    assert body.startswith(b"\xef\xbb\xbf")
    rows = _rows(body)
    assert len(rows) == 1 + len(activities)
    assert all(len(row) == len(CSV_COLUMNS) for row in rows)
    assert [row[rows[0].index("Slug")] for row in rows[1:]] == [a["slug"] for a in activities]


def test_csv_columns_follow_article_30_then_the_additions(organisations, make_activity) -> None:
    header = _rows(export_csv(organisations=organisations, activities=[make_activity()]))[0]
    art30 = [h for h in header if "Art. 30(1)" in h]
    assert [h[h.index("Art. 30(1)") :] for h in art30] == [
        "Art. 30(1)(a))",
        "Art. 30(1)(b))",
        "Art. 30(1)(c))",
        "Art. 30(1)(c))",
        "Art. 30(1)(d))",
        "Art. 30(1)(e))",
        "Art. 30(1)(f))",
        "Art. 30(1)(g))",
    ]
    assert header[:5] == [
        "Controller (Art. 30(1)(a))",
        "Controller contact details",
        "Joint controllers",
        "Representative (Art. 27)",
        "Data protection officer",
    ]
    assert header.index("Security measures (Art. 30(1)(g))") < header.index("Slug")
    assert header[-3:] == ["Version", "Updated at", "Updated by"]
    for later in ("Legal basis (Art. 6(1))", "Disposal decision (Noark 5 M450)", "DPIA required (Art. 35)"):
        assert header.index(later) > header.index("Security measures (Art. 30(1)(g))")


def test_csv_cells_hold_the_record_with_multiple_values_joined(organisations, make_activity) -> None:
    rows = _rows(export_csv(organisations=organisations, activities=[make_activity()], lang="nb"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Behandlingsansvarlig (art. 30 nr. 1 a)"] == "Helsedirektoratet"
    assert row["Formål (art. 30 nr. 1 b)"] == (
        "Behandle søknader om tilgang til helsedata; Føre statistikk over søknadsbehandlingen"
    )
    assert (
        row["Kategorier personopplysninger (art. 30 nr. 1 c)"]
        == "Navn; E-postadresse; Helseopplysninger (art. 9)"
    )
    assert row["Særlige kategorier (art. 9)"] == "Ja"
    assert row["Kassasjonsvedtak (Noark 5 M450)"] == "Bevares"
    assert "DBA-2024-17 «drift og hosting»" in row["Databehandlere og avtaler (art. 28)"]
    assert row["Unntak etter art. 9 nr. 2"] == "art. 9 nr. 2 h: helse- og sosialtjenester"
    assert row["Versjon"] == "3"


def test_csv_names_a_systems_place_of_storage_and_a_transfers_country(organisations, make_activity) -> None:
    systems = [
        {"name": "Besta", "location": "Norsk helsenett SF", "located_in": "NO"},
        {"name": "Sentralbord"},
    ]
    transfer = {"country": "USA", "recipient": "Cloud Inc.", "safeguard": "scc", "country_code": "US"}
    activity = make_activity(systems=systems, transfers=[transfer])
    rows = _rows(export_csv(organisations=organisations, activities=[activity], lang="en"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Systems and storage locations"] == "Besta, Norsk helsenett SF (NO); Sentralbord"
    assert row["Third-country transfers and safeguards (Art. 30(1)(e))"].startswith("USA – Cloud Inc.")


def test_csv_cells_that_look_like_formulas_are_neutralised(organisations, make_activity) -> None:
    activity = make_activity(owner='=HYPERLINK("http://evil")', business_process="+1 and @x")
    rows = _rows(export_csv(organisations=organisations, activities=[activity]))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Owner"] == '\'=HYPERLINK("http://evil")'
    assert row["Business process"] == "'+1 and @x"


def test_csv_tolerates_missing_optional_fields(organisations) -> None:
    bare = {"slug": "bare", "name": {"nb": "Bar", "en": "Bare"}, "controller": "nowhere", "retention": None}
    rows = _rows(export_csv(organisations=organisations, activities=[bare]))
    assert len(rows) == 2 and rows[1][0] == "nowhere"


def test_json_is_a_documented_document_with_controller_and_organisations(
    organisations, make_activity, generated_at
) -> None:
    activities = [make_activity(), make_activity()]
    doc = json.loads(
        export_json(organisations=organisations, activities=activities, generated_at=generated_at)
    )
    assert doc["format"] == "privacy-service/ropa" and doc["format_version"] == 1
    assert doc["generated_at"] == "2025-03-01T12:30:00+00:00"
    assert doc["controller"]["slug"] == "helsedir" and doc["controller"]["org_number"] == "983544622"
    assert [o["slug"] for o in doc["organisations"]] == sorted(organisations)
    assert doc["activities"] == activities


def test_json_keeps_norwegian_letters_readable(organisations, make_activity, generated_at) -> None:
    body = export_json(organisations=organisations, activities=[make_activity()], generated_at=generated_at)
    assert "Søknader".encode() in body


def _graph(organisations, activities, generated_at) -> Graph:
    body = export_jsonld(
        organisations=organisations, activities=activities, generated_at=generated_at, base_url=BASE
    )
    with warnings.catch_warnings():
        # rdflib 7.x's own JSON-LD parser builds a ConjunctiveGraph internally and warns about it.
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return Graph().parse(data=body.decode(), format="json-ld")


@pytest.mark.parametrize(
    ("legal_basis", "art9", "expected"),
    [
        pytest.param("6(1)(a)", "9(2)(a)", {"A6-1-a", "A9-2-a"}, id="Art. 6(1)(a) with 9(2)(a)"),
        pytest.param("6(1)(b)", None, {"A6-1-b"}, id="Art. 6(1)(b)"),
        pytest.param("6(1)(c)", None, {"A6-1-c"}, id="Art. 6(1)(c)"),
        pytest.param("6(1)(e)", "9(2)(h)", {"A6-1-e", "A9-2-h"}, id="Art. 6(1)(e) with 9(2)(h)"),
        pytest.param("6(1)(f)", None, {"A6-1-f"}, id="Art. 6(1)(f)"),
    ],
)
def test_jsonld_gives_each_process_its_eu_gdpr_legal_basis(
    organisations, make_activity, generated_at, legal_basis, art9, expected
) -> None:
    activity = make_activity(legal_basis=legal_basis, art9_condition=art9, consent_purpose="x")
    graph = _graph(organisations, [activity], generated_at)
    process = URIRef(f"{BASE}/api/v1/activities/{activity['slug']}")
    assert (process, RDF.type, DPV.Process) in graph
    assert set(graph.objects(process, DPV.hasLegalBasis)) == {EU_GDPR[term] for term in expected}


def test_an_activity_on_several_bases_lists_them_all_in_csv_and_jsonld(
    organisations, make_activity, generated_at
) -> None:
    ombud = make_activity(
        legal_basis="6(1)(a)",
        legal_bases=["6(1)(a)", "6(1)(b)", "6(1)(c)"],
        art9_condition="9(2)(a)",
        art9_conditions=["9(2)(a)", "9(2)(j)"],
        consent_purpose="x",
    )
    rows = _rows(export_csv(organisations=organisations, activities=[ombud], lang="en"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Legal basis (Art. 6(1))"] == (
        "Consent (GDPR Art. 6(1)(a)); Contract (GDPR Art. 6(1)(b)); Legal obligation (GDPR Art. 6(1)(c))"
    )
    assert row["Art. 9(2) condition"] == (
        "Art. 9(2)(a): explicit consent; Art. 9(2)(j): archiving, research or statistics"
    )
    graph = _graph(organisations, [ombud], generated_at)
    process = URIRef(f"{BASE}/api/v1/activities/{ombud['slug']}")
    terms = {"A6-1-a", "A6-1-b", "A6-1-c", "A9-2-a", "A9-2-j"}
    assert set(graph.objects(process, DPV.hasLegalBasis)) == {EU_GDPR[t] for t in terms}


def test_jsonld_is_a_ropa_whose_parts_are_processes(organisations, make_activity, generated_at) -> None:
    activities = [make_activity(), make_activity(legal_basis="6(1)(c)")]
    graph = _graph(organisations, activities, generated_at)
    (ropa,) = graph.subjects(RDF.type, DPV.ROPA)
    parts = set(graph.objects(ropa, DCT.hasPart))
    assert parts == {URIRef(f"{BASE}/api/v1/activities/{a['slug']}") for a in activities}
    assert all((part, RDF.type, DPV.Process) in graph for part in parts)
    helsedir = URIRef(f"{BASE}/api/v1/organisations/helsedir")
    assert (ropa, DPV.hasDataController, helsedir) in graph
    assert (helsedir, RDF.type, DPV.DataController) in graph


def test_jsonld_process_carries_parties_data_and_conditions(
    organisations, make_activity, generated_at
) -> None:
    activity = make_activity()
    graph = _graph(organisations, [activity], generated_at)
    process = URIRef(f"{BASE}/api/v1/activities/{activity['slug']}")
    org = f"{BASE}/api/v1/organisations/"
    assert (process, DPV.hasDataController, URIRef(org + "helsedir")) in graph
    assert set(graph.objects(process, DPV.hasDataProcessor)) == {
        URIRef(org + "nhn"),
        URIRef(org + "skyleverandor"),
    }
    assert (URIRef(org + "skyleverandor"), RDF.type, DPV.DataSubProcessor) in graph
    special = URIRef(f"{process}#data-health")
    assert (process, DPV.hasPersonalData, special) in graph
    assert (special, RDF.type, DPV.SpecialCategoryPersonalData) in graph
    storage = next(graph.objects(process, DPV.hasStorageCondition))
    assert (storage, RDF.type, DPV.StorageDuration) in graph
    assert any(graph.objects(process, DPV.hasThirdCountry))
    assert any(graph.objects(process, DPV.hasTechnicalOrganisationalMeasure))
    assert any(graph.objects(process, DPV.hasDataSubject)) and any(graph.objects(process, DPV.hasPurpose))
    assert EU_GDPR["A15"] in set(graph.objects(process, DPV.hasRight))
    recipients = list(graph.objects(process, DPV.hasRecipient))
    assert any((r, DPV.hasLegalBasis, EU_GDPR["A46-2-c"]) in graph for r in recipients)
