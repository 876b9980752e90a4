"""The shipped record for helsedata.no and Helsenorge after issue 17: what the seeds say, read back from the
YAML, the registry, the public notices and the consent API."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from tests_support import bearer

from privacy_service.policies import read_policies

POLICIES = Path(__file__).resolve().parents[2] / "policies"
CUSTODIANS = {"helsedir", "fhi", "kreftregisteret"}
# Words that give English away in a text meant to be bokmål (none of them is a Norwegian word).
ENGLISH = re.compile(
    r"\b(the|and|with|which|your|you|data|cookies?|consent|statistics|of|to)\b", re.IGNORECASE
)


@pytest.fixture(scope="module")
def docs() -> dict[str, Any]:
    return read_policies(POLICIES)


def _by_slug(docs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["slug"]: a for a in docs["activities"]}


def _section(client: FlaskClient, service: str, slug: str, lang: str) -> str:
    """The text of one activity's card on a public notice page, tags stripped and spaces folded."""
    html = client.get(f"/privacy/{service}?lang={lang}").get_data(as_text=True)
    assert f'id="{slug}"' in html, slug
    section = html.split(f'id="{slug}"', 1)[1].split("</section>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def _texts(value: Any, lang: str) -> list[str]:
    """Every {nb, en} text inside a record, in one language."""
    if isinstance(value, dict):
        if set(value) == {"nb", "en"} and all(isinstance(v, str) for v in value.values()):
            return [value[lang]]
        return [t for v in value.values() for t in _texts(v, lang)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v, lang)]
    return []


# --- helsedata.no: the custodians' arrangement --------------------------------------------------------------


def test_the_applications_record_names_the_custodians_and_their_arrangement(docs: dict[str, Any]) -> None:
    applications = _by_slug(docs)["applications"]
    assert {applications["controller"], *applications["joint_controllers"]} == CUSTODIANS
    arrangement = applications["joint_arrangement"]
    # each custodian answers for the applications it decides, and all three for the common service
    assert {r["organisation"] for r in arrangement["responsibilities"]} == CUSTODIANS
    for responsibility in arrangement["responsibilities"]:
        assert "felles søknadstjenesten" in responsibility["answers_for"]["nb"]
        assert "applications it processes and decides on" in responsibility["answers_for"]["en"]
    essence = " ".join(arrangement["essence"]["nb"].split())
    assert "Dataforvalteren som behandler søknaden din, er ansvarlig for behandlingen av den." in essence
    assert "service@helsedata.no" in essence and "databehandler for dem alle" in essence
    # the seed's rights address is Helsedataservice's, the custodians' processor: no party, no contact point
    assert arrangement["contact_point"] is None
    assert ("ehelse", "processor") in {(p["organisation"], p["role"]) for p in applications["processors"]}


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        pytest.param("nb", ["Dataforvalteren som behandler søknaden din, er ansvarlig",
                            "Helsedataservice i Direktoratet for e-helse er databehandler for dem alle",
                            "Folkehelseinstituttet", "Kreftregisteret",
                            "overfor hver av de behandlingsansvarlige"], id="nb"),
        pytest.param("en", ["The data custodian processing your application is responsible",
                            "the data processor for all of them", "Cancer Registry of Norway",
                            "against each of the controllers"], id="en"),
    ],
)  # fmt: skip
def test_the_helsedata_notice_publishes_the_arrangement(
    client: FlaskClient, lang: str, phrases: list[str]
) -> None:
    text = _section(client, "helsedata", "applications", lang)
    for phrase in phrases:
        assert phrase in text, phrase
    assert "service@helsedata.no" in text


# --- helsedata.no: Helsedataservice's own processing (the 2024 page on anonymous data) ----------------------


def test_helsedataservice_decisions_on_anonymous_data_and_its_invoicing_are_recorded(
    docs: dict[str, Any],
) -> None:
    records = _by_slug(docs)
    decisions, invoicing = records["anonymous-data-decisions"], records["application-invoicing"]
    for record in (decisions, invoicing):
        assert record["service"] == "helsedata" and record["status"] == "active"
        assert (
            record["controller"] == "ehelse" and not record["joint_controllers"]
        )  # it decides in its own name
        assert record["legal_basis"] == "6(1)(e)" and record["consent_purpose"] is None
        # what the page does not state is marked, not passed off as stated
        assert {"legal_basis", "retention"} <= set(record["not_stated"])
        assert record["retention"]["period"] is None
    assert "§ 19 " in decisions["national_basis"]["nb"] and "§ 19 f" in decisions["national_basis"]["nb"]
    assert "§ 19 g" in invoicing["national_basis"]["nb"]
    assert "anonyme opplysninger" in decisions["description"]["nb"]
    assert (
        "Anonyme opplysninger, for eksempel tabeller der små tall er skjult, er ikke personopplysninger."
        in (" ".join(decisions["description"]["nb"].split()))
    )
    assert "medgått arbeidstid" in invoicing["description"]["nb"]
    assert {"recipients", "processors", "systems"} <= set(invoicing["not_stated"])


def test_the_new_helsedata_activities_have_the_rights_of_a_public_task(client: FlaskClient, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("registry:read"))
    for slug in ("anonymous-data-decisions", "application-invoicing"):
        body = client.get(f"/api/v1/activities/{slug}", headers=key).get_json()
        rights = {r["right"]: r["applies"] for r in body["rights"]}
        assert rights["objection"] is True, slug  # Art. 21(1): public task
        assert rights["portability"] is False, slug  # Art. 20(3)
        assert rights["consent_withdrawal"] is False, slug
    text = _section(client, "helsedata", "anonymous-data-decisions", "nb")
    assert "Vedtak om tilgjengeliggjøring av anonyme opplysninger (Helsedataservice)" in text
    assert "helseregisterloven § 19 f" in text
    intro = client.get("/privacy/helsedata?lang=nb").get_data(as_text=True)
    assert "når den avgjør søknader om anonyme opplysninger" in re.sub(r"\s+", " ", intro)


# --- Helsenorge: Adobe, the transfer and the analytics cookies ----------------------------------------------


def test_helsenorge_statistics_has_adobe_as_processor_and_its_transfer(docs: dict[str, Any]) -> None:
    statistics = _by_slug(docs)["helsenorge-statistics"]
    assert statistics["controller"] == "nhn"
    assert [(p["organisation"], p["role"]) for p in statistics["processors"]] == [("adobe", "processor")]
    adobe = {o["slug"]: o for o in docs["organisations"]}["adobe"]
    assert adobe["name"]["en"] == "Adobe Systems Software Ireland Ltd"
    assert adobe["org_number"] is None  # not in the seeds: never guessed
    [transfer] = statistics["transfers"]
    assert transfer["safeguard"] == "adequacy"
    assert transfer["country"] == {"nb": "USA", "en": "United States"}
    assert "Adobe Inc." in transfer["recipient"]["nb"] and "morselskapet" in transfer["recipient"]["nb"]
    assert "rammeverket for personvern mellom EU og USA" in transfer["details"]["nb"]


def test_the_transfers_norwegian_text_is_norwegian(docs: dict[str, Any], client: FlaskClient) -> None:
    statistics = _by_slug(docs)["helsenorge-statistics"]
    for text in _texts(statistics["transfers"], "nb"):
        assert not ENGLISH.search(text), text
    section = _section(client, "helsenorge", "helsenorge-statistics", "nb")
    assert "Overføring" in section or "overføring" in section
    assert "USA – " in section and "United States" not in section and "{'nb'" not in section
    english = _section(client, "helsenorge", "helsenorge-statistics", "en")
    assert "United States – " in english and "{'nb'" not in english
    page = client.get("/privacy/helsenorge?lang=nb").get_data(as_text=True)
    assert "Adobe Systems Software Ireland Ltd" in page  # listed among the processors


def test_the_changed_helsenorge_and_helsedata_records_speak_bokmal(docs: dict[str, Any]) -> None:
    records = _by_slug(docs)
    slugs = (
        "helsenorge-statistics",
        "helsenorge-cookies",
        "anonymous-data-decisions",
        "application-invoicing",
    )
    for slug in slugs:
        for text in _texts({k: v for k, v in records[slug].items() if k != "systems"}, "nb"):
            assert not ENGLISH.search(text.replace("Adobe Analytics", "")), (slug, text)


def test_analytics_cookies_are_consent_based_and_necessary_cookies_a_public_task(
    docs: dict[str, Any],
) -> None:
    records = _by_slug(docs)
    statistics, cookies = records["helsenorge-statistics"], records["helsenorge-cookies"]
    assert statistics["legal_basis"] == "6(1)(a)" and "legal_bases" not in statistics
    assert statistics["consent_purpose"] == "helsenorge-statistics"
    assert statistics["on_withdrawal"] == "stop"
    assert (
        "analysekapsler" in statistics["description"]["nb"] and "samtykker" in statistics["description"]["nb"]
    )
    assert cookies["legal_basis"] == "6(1)(e)" and cookies["consent_purpose"] is None
    assert cookies["national_basis"]  # Art. 6(3)
    # one processing, one consent: no other active Helsenorge record asks for consent to statistics or cookies
    consent_based = [
        a["slug"] for a in docs["activities"] if a["status"] == "active" and a["consent_purpose"]
    ]
    assert [s for s in consent_based if s.startswith("helsenorge")] == ["helsenorge-statistics"]
    notices = [n for n in docs["consent_notices"] if n["purpose"] == "helsenorge-statistics"]
    assert [n["version"] for n in notices] == ["1"]
    assert "analysekapsler" in notices[0]["text"]["nb"] and "trekke det tilbake" in notices[0]["text"]["nb"]


def test_a_visitor_gives_and_withdraws_consent_to_statistics_through_the_consent_api(  # type: ignore[no-untyped-def]
    client: FlaskClient, make_key
) -> None:
    headers = bearer(make_key("consent:read", "consent:write"))
    visitor, purpose = "helsenorge-visitor-4711", "helsenorge-statistics"

    def processing() -> str:
        url = f"/api/v1/subjects/{visitor}/processing?activity={purpose}"
        return client.get(url, headers=headers).get_json()["status"]

    assert processing() == "no_consent"  # no analytics cookies before the visitor says yes
    given = client.put(
        f"/api/v1/consents/{visitor}/{purpose}", json={"status": "given", "channel": "web"}, headers=headers
    )
    assert given.status_code == 200, given.get_json()
    body = given.get_json()
    assert body["status"] == "given" and body["notice_version"] == "1"
    assert body["receipt"]["piiControllers"][0]["orgNumber"] == "994598759"  # Norsk helsenett SF
    assert processing() == "allowed"
    assert client.get("/privacy/helsenorge?lang=en").status_code == 200
    withdrawn = client.put(
        f"/api/v1/consents/{visitor}/{purpose}",
        json={"status": "withdrawn", "channel": "web"},
        headers=headers,
    )
    assert withdrawn.status_code == 200, withdrawn.get_json()
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert processing() == "consent_withdrawn"
    history = client.get(f"/api/v1/consents/{visitor}/{purpose}/history", headers=headers).get_json()
    assert [e["status"] for e in history["events"]] == ["given", "withdrawn"]
    # strictly necessary cookies need no consent
    necessary = client.get(
        f"/api/v1/subjects/{visitor}/processing?activity=helsenorge-cookies", headers=headers
    )
    assert necessary.get_json()["status"] == "allowed"
