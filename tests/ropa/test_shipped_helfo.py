"""The shipped record of Helfo's automated decisions, the Ombud's and authorisation's bases, the card
supplier and the service's own processing (issue 17), read back from the registry as a DPO signing it would.

The notice page does not print the Art. 22 block yet (its rendering is being added separately): the ground,
logic and significance are checked in the record as the API returns it and as the policy files load.
"""

from __future__ import annotations

import copy
import html as html_lib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from marshmallow import ValidationError
from tests_support import bearer

from privacy_service.policies import read_policies
from privacy_service.ropa.schemas import activity_schema

POLICIES = Path(__file__).resolve().parents[2] / "policies"
HELSEDIR = POLICIES / "activities" / "helsedirektoratet.yaml"


@pytest.fixture(scope="module")
def shipped() -> dict[str, dict[str, Any]]:
    """The loaded activities by slug."""
    return {a["slug"]: a for a in read_policies(POLICIES)["activities"]}


def _raw(slug: str) -> dict[str, Any]:
    """One activity as written in the policy file, ready for the schema."""
    doc = yaml.safe_load(HELSEDIR.read_text())
    record = next(a for a in doc["activities"] if a["slug"] == slug)
    return {**copy.deepcopy(record), "service": doc["service"]}


@pytest.fixture
def reader(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("registry:read", name="registry-reader"))


def _section(page: str, slug: str) -> str:
    """The text of one activity's card on a notice page."""
    found = re.search(rf'<section class="card" id="{slug}">(.*?)</section>', page, re.S)
    assert found, slug
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


# --- Art. 22: the ground, the logic and the significance --------------------------------------------------

AUTOMATED = [
    pytest.param(
        "blaresept", "22(2)(c)", ("blåreseptforskriften § 3", "Legestillingsregisteret"),
        ("Blue Prescription Regulations", "Register of Doctors' Positions"), id="blaresept-consent-22(2)(c)",
    ),
    pytest.param(
        "frikort", "22(2)(b)", ("egenandelstaket", "uten at du søker"),
        ("co-payment ceiling", "without an application from you"), id="frikort-law-22(2)(b)",
    ),
    pytest.param(
        "eos-rights", "22(2)(c)",
        ("trygdeforordningen (EF) nr. 883/2004", "familiemedlemmer til norske arbeidstakere"),
        ("Regulation (EC) No 883/2004", "family members of Norwegian workers"),
        id="eos-rights-consent-22(2)(c)",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("slug", "ground", "logic_nb", "logic_en"), AUTOMATED)
def test_the_record_gives_the_art22_ground_logic_and_significance(
    client, reader, slug: str, ground: str, logic_nb: tuple[str, ...], logic_en: tuple[str, ...]
) -> None:  # type: ignore[no-untyped-def]
    body = client.get(f"/api/v1/activities/{slug}", headers=reader).get_json()
    assert body["automated_decisions"] is True
    decision = body["automated_decision"]
    assert decision["ground"] == ground
    for phrase in logic_nb:
        assert phrase in decision["logic"]["nb"], phrase
    for phrase in logic_en:
        assert phrase in decision["logic"]["en"], phrase
    # what it means for the person includes the way to a human and the appeal
    assert "folketrygdloven § 21-12" in decision["significance"]["nb"]
    assert "section 21-12 of the National Insurance Act" in decision["significance"]["en"]
    assert "klagefristen" in decision["significance"]["nb"]
    if ground == "22(2)(c)":  # Art. 22(3): a person, a say and a contest, and no automation without consent
        assert "artikkel 22 nr. 3" in decision["significance"]["nb"]
        assert "Article 22(3)" in decision["significance"]["en"]
        assert "Uten samtykke til automatisk behandling" in decision["significance"]["nb"]
        assert decision["authority"] is None
    else:  # Art. 22(2)(b): the law that authorises it
        assert "uten at det er satt fram krav" in decision["authority"]["nb"]
        assert "without a claim" in decision["authority"]["en"]


def test_only_the_three_helfo_schemes_decide_automatically(shipped: dict[str, dict[str, Any]]) -> None:
    flagged = {s for s, a in shipped.items() if a.get("automated_decisions")}
    assert flagged == {"blaresept", "frikort", "eos-rights"}
    assert {s for s, a in shipped.items() if a.get("automated_decision")} == flagged
    # Art. 22(4): each decides on special categories under 9(2)(g), the condition that permits it
    for slug in flagged:
        assert any(c["special"] for c in shipped[slug]["data_categories"]), slug
        assert shipped[slug]["art9_condition"] == "9(2)(g)", slug


def test_the_blue_prescription_decision_names_the_doctors_specialty_as_its_data(
    shipped: dict[str, dict[str, Any]],
) -> None:
    blue = shipped["blaresept"]
    assert "doctor_specialty" in {c["key"] for c in blue["data_categories"]}
    assert "Legestillingsregisteret" in blue["source"]["nb"]
    assert "Register of Doctors' Positions" in blue["source"]["en"]


# --- the schema refuses an Art. 22 block that does not hold -------------------------------------------------


def _errors(record: dict[str, Any]) -> dict[str, Any]:
    with pytest.raises(ValidationError) as refused:
        activity_schema.load(record)
    return refused.value.messages  # type: ignore[return-value]


def test_the_shipped_automated_records_pass_the_schema() -> None:
    for slug in ("blaresept", "frikort", "eos-rights"):
        loaded = activity_schema.load(_raw(slug))
        assert loaded["automated_decision"]["ground"], slug


def test_the_schema_refuses_an_automated_decision_without_automated_decisions() -> None:
    record = _raw("blaresept")
    record["automated_decisions"] = False
    assert _errors(record)["automated_decision"] == [
        "Only an activity with automated_decisions describes one."
    ]


def test_the_schema_refuses_a_decision_authorised_by_law_without_the_law() -> None:
    record = _raw("frikort")
    record["automated_decision"]["authority"] = None
    errors = _errors(record)
    assert errors["automated_decision"]["authority"] == [
        "A decision authorised by law (22(2)(b)) must name the law."
    ]


@pytest.mark.parametrize(
    ("conditions", "refused"),
    [
        pytest.param(["9(2)(h)"], True, id="art22(4)-health-care-refused"),
        pytest.param(["9(2)(b)"], True, id="art22(4)-social-security-refused"),
        pytest.param(["9(2)(h)", "9(2)(b)"], True, id="art22(4)-neither-a-nor-g-refused"),
        pytest.param(["9(2)(g)"], False, id="art22(4)-substantial-public-interest-allowed"),
        pytest.param(["9(2)(h)", "9(2)(a)"], False, id="art22(4)-explicit-consent-among-them-allowed"),
    ],
)
def test_the_schema_applies_art22_4_to_decisions_on_special_categories(
    conditions: list[str], refused: bool
) -> None:
    record = _raw("eos-rights")
    record.pop("art9_condition")
    record["art9_conditions"] = conditions
    if refused:
        assert _errors(record)["automated_decision"] == [
            "Art. 22(4): an automated decision on special categories needs 9(2)(a) or 9(2)(g)."
        ]
    else:
        assert activity_schema.load(record)["art9_condition"] == conditions[0]


# --- every basis the statement names ------------------------------------------------------------------------


def test_the_ombud_lists_every_basis_and_condition_and_the_archive_law(client, reader) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/activities/pasient-og-brukerombud", headers=reader).get_json()
    assert body["legal_bases"] == ["6(1)(a)", "6(1)(b)", "6(1)(c)"]
    assert body["art9_conditions"] == ["9(2)(a)", "9(2)(j)"]
    assert body["consent_purpose"] == "pasient-og-brukerombud"
    assert body["on_withdrawal"] is None  # stop: the case file is kept under the archives legislation
    # Art. 6(3): the legal obligation names its law
    assert "arkivlova § 6" in body["national_basis"]["nb"]
    assert "Archives Act section 6" in body["national_basis"]["en"]
    rights = {r["right"]: r["applies"] for r in body["rights"]}
    assert (rights["objection"], rights["portability"], rights["consent_withdrawal"]) == (False, False, True)


@pytest.mark.parametrize(
    ("lang", "bases"),
    [
        ("nb", "Samtykke (personvernforordningen art. 6 nr. 1 a); "
               "Avtale (personvernforordningen art. 6 nr. 1 b); "
               "Rettslig forpliktelse (personvernforordningen art. 6 nr. 1 c)"),
        ("en", "Consent (GDPR Art. 6(1)(a)); Contract (GDPR Art. 6(1)(b)); "
               "Legal obligation (GDPR Art. 6(1)(c))"),
    ],
)  # fmt: skip
def test_the_notice_prints_every_basis_of_the_ombud_in_plain_words(client, lang: str, bases: str) -> None:  # type: ignore[no-untyped-def]
    card = " ".join(_section(client.get(f"/privacy/helsedirektoratet?lang={lang}").get_data(as_text=True),
                             "pasient-og-brukerombud").split())  # fmt: skip
    assert bases in card
    if lang == "nb":  # the article written as bokmål writes it, with the condition in words
        assert "art. 9 nr. 2 a: uttrykkelig samtykke" in card and "art. 9 nr. 2 j:" in card
        assert "9(2)" not in card
    else:
        assert "Art. 9(2)(a): explicit consent" in card and "Art. 9(2)(j)" in card
    assert "registeret fører" not in card  # the record is no register the reader should look for


def test_authorisation_lists_both_conditions_official_authority_first(client, reader) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/activities/authorisation", headers=reader).get_json()
    assert body["legal_basis"] == "6(1)(e)" and "legal_bases" not in body
    assert (body["art9_condition"], body["art9_conditions"]) == ("9(2)(g)", ["9(2)(g)", "9(2)(a)"])
    assert body["consent_purpose"] is None  # consent to special categories only, not an Art. 6(1)(a) activity
    assert "§ 53" in body["national_basis"]["nb"] and "artikkel" not in body["national_basis"]["nb"]
    rights = {r["right"]: r for r in body["rights"]}
    assert rights["objection"]["applies"] is True  # Art. 21(1): official authority
    assert rights["portability"]["applies"] is False  # Art. 20(3)
    assert rights["consent_withdrawal"]["applies"] is True
    assert "Part of the processing rests on consent" in rights["consent_withdrawal"]["reason"]
    card = _section(client.get("/privacy/helsedirektoratet?lang=en").get_data(as_text=True), "authorisation")
    assert "special categories under GDPR Art. 9(2)(g)" in card
    assert "special categories under GDPR Art. 9(2)(a)" in card


# --- the EHIC card supplier ------------------------------------------------------------------------------


def test_the_card_supplier_is_a_processor_without_an_invented_number(client, reader) -> None:  # type: ignore[no-untyped-def]
    organisations = {o["slug"]: o for o in read_policies(POLICIES)["organisations"]}
    supplier = organisations["ehic-card-supplier"]
    assert (supplier["org_number"], supplier["role"]) == (None, "processor")
    body = client.get("/api/v1/activities/eos-rights", headers=reader).get_json()
    assert [(p["organisation"], p["role"]) for p in body["processors"]] == [
        ("ehic-card-supplier", "processor")
    ]
    page = client.get("/privacy/helsedirektoratet?lang=nb").get_data(as_text=True)
    processors = page.split("<h2>", 3)[2]  # the notice's list of data processors
    assert "Kortleverandøren for europeisk helsetrygdkort" in processors


# --- the service's own processing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "names"),
    [
        (
            "nb",
            ("Samtykkeregisteret – samtykker og tilbaketrekkinger", "Revisjonsloggen i personvernløsningen"),
        ),
        ("en", ("The consent register – consents and withdrawals", "The audit trail of the privacy service")),
    ],
)
def test_the_consent_register_and_audit_trail_are_in_the_directorates_notice(
    client, lang: str, names: tuple[str, str]
) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/privacy/helsedirektoratet?lang={lang}").get_data(as_text=True)
    for slug, name in zip(("consent-records", "audit-trail"), names, strict=True):
        card = _section(page, slug)
        assert name in card
        basis = "Rettslig forpliktelse" if lang == "nb" else "Legal obligation"
        assert basis in card and ("art. 9 nr. 2 f: rettskrav" if lang == "nb" else "Art. 9(2)(f)") in card
    consent = _section(page, "consent-records")
    assert ("artikkel 7 nr. 1" if lang == "nb" else "Article 7(1)") in consent
    assert (
        "aldri med fødselsnummeret" if lang == "nb" else "never by your national identity number"
    ) in consent
    trail = _section(page, "audit-trail")
    assert ("artikkel 24" if lang == "nb" else "Article 24(1)") in trail


def test_the_own_processing_says_what_it_does_not_know(shipped: dict[str, dict[str, Any]]) -> None:
    for slug in ("consent-records", "audit-trail"):
        record = shipped[slug]
        assert (record["service"], record["controller"], record["legal_basis"]) == (
            "helsedirektoratet",
            "helsedir",
            "6(1)(c)",
        )
        # the service deletes neither consent events nor audit events: no period, no rule on a table
        assert record["retention"]["period"] is None and record["retention"]["rules"] == []
        assert "ikke fastsatt" in record["retention"]["text"]["nb"]
        assert "not yet been decided" in record["retention"]["text"]["en"]
        assert set(record["not_stated"]) == {"retention", "processors"}
        assert record["processors"] == []
        assert [c["key"] for c in record["data_categories"] if c["special"]], slug


def test_the_own_processing_answers_no_objection_and_no_portability(client, reader) -> None:  # type: ignore[no-untyped-def]
    for slug in ("consent-records", "audit-trail", "data-subject-requests"):
        rights = {
            r["right"]: r
            for r in client.get(f"/api/v1/activities/{slug}", headers=reader).get_json()["rights"]
        }
        assert rights["objection"]["applies"] is False, slug  # Art. 21(1): a legal obligation
        assert rights["portability"]["applies"] is False, slug  # Art. 20(1)
        assert rights["consent_withdrawal"]["applies"] is False, slug
        assert rights["erasure"]["applies"] is True, slug  # subject to Art. 17(3)(b), decided per request
