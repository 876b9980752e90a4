"""The consent receipt's fields, one row per required field or rule: Kantara Consent Receipt v1.1 and the
ISO/IEC TS 27560 record (issue 20, item 5). Then the same rules on the shipped registry through the API, and
the PDF read back in both languages."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from language import foreign_lines
from pypdf import PdfReader
from tests_support import bearer

from privacy_service.catalogue import words
from privacy_service.consent.pdf import render_receipt_pdf
from privacy_service.consent.receipt import build_receipt
from privacy_service.ropa import service as ropa
from privacy_service.ropa.models import ProcessingActivity
from privacy_service.ropa.rules import KANTARA_PURPOSE_CATEGORIES

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
GIVEN_ID = "6f1c2d3e-0000-4000-8000-000000000001"
NEXT_ID = "6f1c2d3e-0000-4000-8000-000000000002"
KARI = "kari.nordmann@example.no"
NOTICE_TEXT = {
    "nb": "Vi ber om ditt samtykke til å behandle svarene dine i brukerundersøkelsen.",
    "en": "We ask for your consent to process your answers to the user survey.",
}

ACTIVITY: dict[str, Any] = {
    "slug": "surveys",
    "controller": "helsedir",
    "joint_controllers": ["fhi"],
    "legal_basis": "6(1)(a)",
    "name": {"nb": "Brukerundersøkelse om søknadsprosessen", "en": "User survey"},
    "purposes": [
        {"nb": "Forbedre søknadsprosessen", "en": "Improve the application process"},
        {"nb": "Kontakte deg for flere innspill", "en": "Contact you for further input"},
    ],
    "purpose_categories": ["Improve Performance"],
    "data_categories": [
        {"key": "name", "name": {"nb": "Navn", "en": "Name"}},
        {"key": "answers", "name": {"nb": "Svar på undersøkelsen", "en": "Survey answers"}},
    ],
    "processors": [
        {"organisation": "ehelse", "role": "processor", "agreement_ref": "DBA 2024"},
        {"organisation": "nhn", "role": "sub_processor", "agreement_ref": "DBA 2024"},
    ],
    # a processor named among the recipients in words is still no third party
    "recipients": [{"nb": "Helsedataservice, som databehandler", "en": "Helsedataservice, as processor"}],
    "retention": {"text": {"nb": "Slettes etter ett år.", "en": "Deleted after one year."}, "period": "P1Y"},
    "systems": [{"name": "helsedata-survey", "location": {"nb": "Norsk helsenett", "en": "Norsk helsenett"}}],
}
ORGS: dict[str, dict[str, Any]] = {
    "helsedir": {
        "name": {"nb": "Helsedirektoratet", "en": "Norwegian Directorate of Health"},
        "org_number": "983544622",
        "email": "postmottak@helsedir.no",
        "phone": "+47 810 20 050",
        "address": "Postboks 220 Skøyen, 0213 Oslo",
        "website": "https://www.helsedirektoratet.no",
        "dpo": {"email": "personvernombud@helsedirektoratet.no"},
    },
    "fhi": {
        "name": {"nb": "Folkehelseinstituttet", "en": "Norwegian Institute of Public Health"},
        "org_number": "983744516",
        "email": "datatilgang@fhi.no",
        "phone": "+47 21 07 70 00",
        "address": "Postboks 222 Skøyen, 0213 Oslo",
    },
    "ehelse": {"name": {"nb": "Direktoratet for e-helse", "en": "Directorate for e-Health"}},
    "nhn": {"name": {"nb": "Norsk helsenett SF", "en": "Norsk helsenett SF"}, "org_number": "994598759"},
}


def _view(record: dict[str, Any]) -> ropa.Activity:
    row = ProcessingActivity(slug=record["slug"], service="helsedata", status="active", data=record)
    return ropa.Activity.of(row)


def issue(
    status: str = "given",
    *,
    lang: str = "en",
    actor: str = "api_client:survey-portal",
    previous: dict[str, Any] | None = None,
    receipt_id: str = GIVEN_ID,
    at: datetime = AT,
    **activity: Any,
) -> dict[str, Any]:
    """Issue a receipt for a change of the test activity (with the fields given replaced)."""
    record = {**copy.deepcopy(ACTIVITY), **activity}
    return build_receipt(
        receipt_id=receipt_id,
        subject=KARI,
        status=status,
        dpv_status="dpv:ConsentWithdrawn" if status == "withdrawn" else "dpv:ConsentGiven",
        at=at,
        channel="web",
        activity=_view({k: v for k, v in record.items() if v is not None}),
        organisations=ORGS,
        notice={"version": "2", "sha256": "ab" * 32, "text": NOTICE_TEXT},
        policy_url="http://localhost:5000/privacy/helsedata",
        withdrawal_method=words("receipt.withdrawal_method", lang, base_url="http://localhost:5000"),
        lang=lang,
        actor=actor,
        previous=previous,
    )


def purpose(receipt: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return receipt["services"][0]["purposes"][index]


def withdrawal() -> dict[str, Any]:
    """The receipt of withdrawing the consent the first receipt recorded."""
    return issue("withdrawn", previous=issue(), receipt_id=NEXT_ID, at=LATER)


Check = Callable[[], bool]

KANTARA: list[Any] = [
    pytest.param(lambda: issue()["version"] == "KI-CR-v1.1.0", id="version"),
    pytest.param(lambda: issue()["jurisdiction"] == "NO", id="jurisdiction"),
    pytest.param(
        lambda: issue()["consentTimestamp"] == int(AT.timestamp()), id="consentTimestamp-epoch-seconds"
    ),
    pytest.param(lambda: issue()["collectionMethod"] == "web", id="collectionMethod"),
    pytest.param(lambda: issue()["consentReceiptID"] == GIVEN_ID, id="consentReceiptID"),
    pytest.param(lambda: "publicKey" in issue(), id="publicKey-optional-present"),
    pytest.param(lambda: issue(lang="nb")["language"] == "nb", id="language"),
    pytest.param(lambda: issue()["piiPrincipalId"] == KARI, id="piiPrincipalId"),
    pytest.param(
        lambda: issue()["piiControllers"][0]["piiController"] == "Norwegian Directorate of Health",
        id="piiControllers-name-in-language",
    ),
    pytest.param(
        lambda: issue()["piiControllers"][0]["address"] == "Postboks 220 Skøyen, 0213 Oslo",
        id="controller-address",
    ),
    pytest.param(
        lambda: issue()["piiControllers"][0]["email"] == "postmottak@helsedir.no", id="controller-email"
    ),
    pytest.param(lambda: issue()["piiControllers"][0]["phone"] == "+47 810 20 050", id="controller-phone"),
    pytest.param(
        lambda: issue()["piiControllers"][0]["contact"] == "personvernombud@helsedirektoratet.no",
        id="controller-contact-is-the-dpo",
    ),
    pytest.param(
        lambda: (
            [(c["role"], bool(c["address"] and c["email"] and c["phone"])) for c in issue()["piiControllers"]]
            == [("controller", True), ("joint_controller", True)]
        ),
        id="Art26-every-joint-controller-with-address-email-phone",
    ),
    pytest.param(lambda: issue()["policyUrl"] == "http://localhost:5000/privacy/helsedata", id="policyUrl"),
    pytest.param(lambda: issue()["services"][0]["service"] == "User survey", id="services-service"),
    pytest.param(
        lambda: (
            [p["purpose"] for p in issue()["services"][0]["purposes"]]
            == ["Improve the application process", "Contact you for further input"]
        ),
        id="services-purposes",
    ),
    pytest.param(
        lambda: [p["primaryPurpose"] for p in issue()["services"][0]["purposes"]] == [True, False],
        id="primaryPurpose-first-only",
    ),
    pytest.param(
        lambda: purpose(issue())["purposeCategory"] == ["Improve Performance"], id="purposeCategory"
    ),
    pytest.param(
        lambda: set(purpose(issue(purpose_categories=None))["purposeCategory"]) == {"Core Function"},
        id="purposeCategory-default-Core-Function",
    ),
    pytest.param(
        lambda: all(
            c in KANTARA_PURPOSE_CATEGORIES
            for c in purpose(issue(purpose_categories=["Contact Requested", "Marketing"]))["purposeCategory"]
        ),
        id="purposeCategory-from-the-specification-list",
    ),
    pytest.param(lambda: purpose(issue())["consentType"] == "EXPRESSED", id="consentType-Art6-1-a-EXPRESSED"),
    pytest.param(
        lambda: purpose(issue(art9_condition="9(2)(a)"))["consentType"] == "EXPLICIT",
        id="consentType-Art9-2-a-EXPLICIT",
    ),
    pytest.param(
        lambda: purpose(issue(art9_condition="9(2)(j)"))["consentType"] == "EXPRESSED",
        id="consentType-Art9-without-consent-EXPRESSED",
    ),
    pytest.param(
        lambda: purpose(issue())["piiCategory"] == ["Name", "Survey answers"], id="piiCategory-in-language"
    ),
    pytest.param(lambda: purpose(issue())["termination"] == "Deleted after one year.", id="termination"),
    pytest.param(
        lambda: (
            (purpose(issue())["thirdPartyDisclosure"], purpose(issue())["thirdPartyName"]) == (False, None)
        ),
        id="Art4-10-processor-only-no-thirdPartyDisclosure",
    ),
    pytest.param(
        lambda: purpose(issue(processors=[], recipients=[]))["thirdPartyDisclosure"] is False,
        id="no-recipients-no-thirdPartyDisclosure",
    ),
    pytest.param(
        lambda: (
            (
                purpose(issue(third_parties=[{"nb": "Kommuner", "en": "Municipalities"}]))[
                    "thirdPartyDisclosure"
                ],
                purpose(issue(third_parties=[{"nb": "Kommuner", "en": "Municipalities"}]))["thirdPartyName"],
            )
            == (True, "Municipalities")
        ),
        id="third-party-recipient-thirdPartyDisclosure-with-name",
    ),
    pytest.param(lambda: issue()["sensitive"] is False and issue()["spiCat"] == [], id="sensitive-false"),
    pytest.param(
        lambda: (lambda r: r["sensitive"] is True and r["spiCat"] == ["Health data"])(
            issue(
                art9_condition="9(2)(a)",
                data_categories=[
                    {"key": "health", "name": {"nb": "Helse", "en": "Health data"}, "special": True}
                ],
            )
        ),
        id="sensitive-and-spiCat-Art9",
    ),
]

ISO: list[Any] = [
    pytest.param(
        lambda: issue()["iso27560"]["schema_version"] == "ISO/IEC TS 27560:2023", id="schema-version"
    ),
    pytest.param(lambda: issue()["iso27560"]["record_id"] == GIVEN_ID, id="record-id-of-a-new-consent"),
    pytest.param(lambda: issue()["iso27560"]["receipt_id"] == GIVEN_ID, id="receipt-id"),
    pytest.param(lambda: issue()["iso27560"]["subject_id"] == KARI, id="subject-id"),
    pytest.param(
        lambda: (
            {k: issue()["iso27560"]["notice"][k] for k in ("version", "sha256")}
            == {"version": "2", "sha256": "ab" * 32}
        ),
        id="notice-version-and-hash",
    ),
    pytest.param(
        lambda: issue(lang="nb")["iso27560"]["notice"]["text"] == NOTICE_TEXT["nb"],
        id="notice-text-in-language",
    ),
    pytest.param(lambda: issue(lang="nb")["iso27560"]["language"] == "nb", id="language"),
    pytest.param(lambda: issue()["iso27560"]["purpose"] == "surveys", id="purpose"),
    pytest.param(lambda: issue()["iso27560"]["data"] == ["Name", "Survey answers"], id="data"),
    pytest.param(
        lambda: (
            issue()["iso27560"]["controllers"]
            == [
                "Norwegian Directorate of Health (983544622)",
                "Norwegian Institute of Public Health (983744516)",
            ]
        ),
        id="controllers",
    ),
    pytest.param(
        lambda: (
            [(p["name"], p["role"]) for p in issue()["iso27560"]["parties"]]
            == [
                ("Norwegian Directorate of Health", "controller"),
                ("Norwegian Institute of Public Health", "joint_controller"),
                ("Directorate for e-Health", "processor"),
                ("Norsk helsenett SF", "sub_processor"),
            ]
        ),
        id="parties-with-roles",
    ),
    pytest.param(
        lambda: (
            ("Municipalities", "third_party")
            in [
                (p["name"], p["role"])
                for p in issue(third_parties=[{"nb": "Kommuner", "en": "Municipalities"}])["iso27560"][
                    "parties"
                ]
            ]
        ),
        id="parties-third-party-recipient",
    ),
    pytest.param(
        lambda: issue()["iso27560"]["legal_basis"] == ["GDPR Art. 6(1)(a)"], id="legal-basis-Art6-1-a"
    ),
    pytest.param(
        lambda: (
            issue(art9_condition="9(2)(a)")["iso27560"]["legal_basis"]
            == ["GDPR Art. 6(1)(a)", "GDPR Art. 9(2)(a)"]
        ),
        id="legal-basis-Art9-2-a-where-special",
    ),
    pytest.param(
        lambda: (
            issue()["iso27560"]["storage_locations"]
            == [{"system": "helsedata-survey", "location": "Norsk helsenett"}]
        ),
        id="storage-locations",
    ),
    pytest.param(
        lambda: (
            {k: issue()["iso27560"]["validity"][k] for k in ("start", "end", "expiry", "until_withdrawn")}
            == {"start": AT.isoformat(), "end": None, "expiry": None, "until_withdrawn": True}
        ),
        id="validity-until-withdrawn",
    ),
    pytest.param(lambda: issue()["iso27560"]["retention_period"] == "P1Y", id="retention-period"),
    pytest.param(
        lambda: (
            {k: issue()["iso27560"]["event"][k] for k in ("id", "type", "state", "time")}
            == {"id": GIVEN_ID, "type": "given", "state": "dpv:ConsentGiven", "time": AT.isoformat()}
        ),
        id="event-given",
    ),
    pytest.param(
        lambda: issue()["iso27560"]["event"]["by"] == {"role": "portal_client", "id": "survey-portal"},
        id="event-by-portal-client",
    ),
    pytest.param(
        lambda: (
            issue(actor="subject:consent-state:7")["iso27560"]["event"]["by"]
            == {"role": "data_subject", "id": KARI}
        ),
        id="event-by-subject",
    ),
    pytest.param(
        lambda: (
            issue(actor="user:kari.officer")["iso27560"]["event"]["by"] == {"role": "officer", "id": None}
        ),
        id="event-by-officer-named-by-role-only",
    ),
    pytest.param(
        lambda: withdrawal()["iso27560"]["record_id"] == GIVEN_ID, id="withdrawal-keeps-the-record-id"
    ),
    pytest.param(
        lambda: withdrawal()["iso27560"]["event"]["terminates"] == GIVEN_ID,
        id="withdrawal-references-the-record-it-ends",
    ),
    pytest.param(
        lambda: (
            [(e["id"], e["type"]) for e in withdrawal()["iso27560"]["events"]]
            == [(GIVEN_ID, "given"), (NEXT_ID, "withdrawn")]
        ),
        id="record-carries-its-events",
    ),
    pytest.param(
        lambda: (
            {k: withdrawal()["iso27560"]["validity"][k] for k in ("start", "end")}
            == {"start": AT.isoformat(), "end": LATER.isoformat()}
        ),
        id="withdrawal-ends-the-validity",
    ),
    pytest.param(
        lambda: issue(previous=issue(), receipt_id=NEXT_ID)["iso27560"]["record_id"] == GIVEN_ID,
        id="renewal-continues-the-record",
    ),
    pytest.param(
        lambda: issue(previous=withdrawal(), receipt_id="r-3")["iso27560"]["record_id"] == "r-3",
        id="consent-after-withdrawal-is-a-new-record",
    ),
    pytest.param(
        lambda: issue("withdrawn")["iso27560"]["event"]["terminates"] is None,
        id="withdrawal-with-nothing-given-ends-no-record",
    ),
    pytest.param(
        lambda: issue(lang="nb")["iso27560"]["withdrawal_method"].startswith("Bruk lenken i e-posten"),
        id="withdrawal-method",
    ),
]


@pytest.mark.parametrize("check", KANTARA)
def test_kantara_consent_receipt_field(check: Check) -> None:
    assert check()


@pytest.mark.parametrize("check", ISO)
def test_iso_27560_record_field(check: Check) -> None:
    assert check()


# --- the shipped registry, through the API ---------------------------------------------------------------


@pytest.fixture
def portal_key(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("consent:read", "consent:write", name="survey-portal"))


@pytest.fixture
def put(client, portal_key) -> Callable[..., dict[str, Any]]:  # type: ignore[no-untyped-def]
    headers = portal_key

    def put(purpose: str, status: str = "given", subject: str = KARI, **body: Any) -> dict[str, Any]:
        response = client.put(
            f"/api/v1/consents/{subject}/{purpose}", json={"status": status, **body}, headers=headers
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()["receipt"]

    return put


@pytest.mark.parametrize(
    ("purpose", "disclosed", "name"),
    [
        ("newsletter", False, None),  # Make AS is the processor: no third party
        ("helsenorge-statistics", False, None),  # Adobe is the processor
        ("smart-mosjon", False, None),  # ExorLive and its sub-processor Microsoft
        (
            "nasjonalthelsepersonell",
            True,
            "Municipalities and health trusts",
        ),  # the statement's third parties
    ],
)
def test_shipped_third_party_disclosure(put, purpose: str, disclosed: bool, name: str | None) -> None:  # type: ignore[no-untyped-def]
    first = purpose_of(put(purpose, language="en"))
    assert (first["thirdPartyDisclosure"], first["thirdPartyName"]) == (disclosed, name)


def purpose_of(receipt: dict[str, Any]) -> dict[str, Any]:
    return receipt["services"][0]["purposes"][0]


@pytest.mark.parametrize(
    ("purpose", "consent_type"),
    [("surveys", "EXPRESSED"), ("smart-mosjon", "EXPLICIT"), ("rehabiliteringsregisteret", "EXPLICIT")],
)
def test_shipped_consent_type(put, purpose: str, consent_type: str) -> None:  # type: ignore[no-untyped-def]
    receipt = put(purpose)
    assert {p["consentType"] for p in receipt["services"][0]["purposes"]} == {consent_type}
    assert all(c in KANTARA_PURPOSE_CATEGORIES for c in purpose_of(receipt)["purposeCategory"])


@pytest.mark.parametrize("purpose", ["surveys", "newsletter", "helsenorge-statistics", "smart-mosjon"])
def test_shipped_controllers_have_address_email_and_phone(put, purpose: str) -> None:  # type: ignore[no-untyped-def]
    controllers = put(purpose)["piiControllers"]
    assert controllers and all(c["address"] and c["email"] and c["phone"] for c in controllers), controllers


def test_a_withdrawal_through_the_api_ends_the_record_of_the_consent(put) -> None:  # type: ignore[no-untyped-def]
    given = put("surveys")["iso27560"]
    withdrawn = put("surveys", "withdrawn")["iso27560"]
    again = put("surveys")["iso27560"]
    assert withdrawn["record_id"] == given["record_id"] == given["receipt_id"]
    assert withdrawn["event"]["terminates"] == given["record_id"]
    assert [e["type"] for e in withdrawn["events"]] == ["given", "withdrawn"]
    assert withdrawn["event"]["by"] == {"role": "portal_client", "id": "survey-portal"}
    assert again["record_id"] == again["receipt_id"] != given["record_id"]  # a new consent, a new record


# --- the PDF, read back -------------------------------------------------------------------------------------

# What a person must not meet in the PDF: the receipt's keys, codes and enums, or instructions for developers.
DEVELOPER_WORDS = (
    "piiController", "consentType", "thirdParty", "purposeCategory", "iso27560", "record_id", "EXPLICIT",
    "EXPRESSED", "Improve Performance", "portal_client", "data_subject", "joint_controller", "dpv:", "API",
    "JSON", "curl", "KI-CR",
)  # fmt: skip


def _pdf_text(receipt: dict[str, Any], lang: str) -> str:
    pdf = render_receipt_pdf(receipt, lang=lang)
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "nb",
            (
                NOTICE_TEXT["nb"],
                "Samtykkets referanse",
                "å måle og forbedre tjenestene våre",  # Improve Performance
                "samtykke du har gitt aktivt",  # EXPRESSED
                "Postboks 220 Skøyen, 0213 Oslo",
                "+47 810 20 050",
                "felles behandlingsansvarlig",
                "underdatabehandler",
                "tjenesten survey-portal",
                "Norge",
                "til du trekker samtykket tilbake",
            ),
        ),
        (
            "en",
            (
                NOTICE_TEXT["en"],
                "Consent reference",
                "measuring and improving our services",
                "consent you gave actively",
                "Postboks 220 Skøyen, 0213 Oslo",
                "+47 810 20 050",
                "joint controller",
                "sub-processor",
                "the service survey-portal",
                "Norway",
                "until you withdraw your consent",
            ),
        ),
    ],
)
def test_the_pdf_prints_the_consent_text_and_the_fields_in_words(
    lang: str, expected: tuple[str, ...]
) -> None:
    text = _pdf_text(issue(lang=lang), lang)
    flat = " ".join(text.split())
    assert [e for e in expected if e not in flat] == []
    assert [w for w in DEVELOPER_WORDS if w in flat] == []
    assert foreign_lines(text.splitlines(), lang) == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("nb", ("samtykke trukket tilbake", "Avslutter samtykket", GIVEN_ID, "uttrykkelig samtykke")),
        ("en", ("consent withdrawn", "Ends the consent", GIVEN_ID, "explicit consent")),
    ],
)
def test_the_pdf_of_a_withdrawal_names_the_consent_it_ends(lang: str, expected: tuple[str, ...]) -> None:
    given = issue(lang=lang, art9_condition="9(2)(a)")
    receipt = issue(
        "withdrawn", lang=lang, previous=given, receipt_id=NEXT_ID, at=LATER, art9_condition="9(2)(a)"
    )
    text = _pdf_text(receipt, lang)
    flat = " ".join(text.split())
    assert [e for e in expected if e not in flat] == []
    assert [w for w in DEVELOPER_WORDS if w in flat] == []
    assert foreign_lines(text.splitlines(), lang) == []


@pytest.fixture
def receipt_pdf(client, portal_key) -> Callable[..., str]:  # type: ignore[no-untyped-def]
    headers = portal_key  # a client reads the receipts of the consents it recorded

    def read(receipt_id: str, query: str = "", **extra: str) -> str:
        response = client.get(
            f"/api/v1/consent-receipts/{receipt_id}{query}",
            headers={**headers, "Accept": "application/pdf", **extra},
        )
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)

    return read


@pytest.mark.parametrize(
    ("asked", "extra", "lang", "title"),
    [
        ("", {}, "en", "Consent receipt – consent given"),  # as issued: the language the consent was given in
        ("?lang=nb", {}, "nb", "Samtykkekvittering – samtykke gitt"),
        ("", {"Accept-Language": "nb-NO, nb;q=0.9, en;q=0.5"}, "nb", "Samtykkekvittering – samtykke gitt"),
        ("?lang=en", {"Accept-Language": "nb"}, "en", "Consent receipt – consent given"),
    ],
)
def test_the_receipt_pdf_is_in_the_readers_language(put, receipt_pdf, asked, extra, lang, title) -> None:  # type: ignore[no-untyped-def]
    receipt = put("surveys", language="en")
    text = receipt_pdf(receipt["consentReceiptID"], asked, **extra)
    flat = " ".join(text.split())
    assert title in flat
    consent_text = "Brukerundersøkelse om søknadsprosessen: Vi ber om ditt samtykke"
    assert (consent_text in flat) == (lang == "nb")  # the consent text itself, in the reader's language
    assert ("User survey about the application process: We ask for your consent" in flat) == (lang == "en")
    assert [w for w in DEVELOPER_WORDS if w in flat] == []
    assert foreign_lines(text.splitlines(), lang) == []


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("nb", "Verktøy for brukerundersøkelser: svar gitt etter at en søknad er sendt inn (med samtykke)"),
        ("en", "User survey tool: answers given after submitting an application (consent-based)"),
    ],
)
def test_a_system_named_by_its_data_map_key_is_said_in_words(put, lang: str, words: str) -> None:  # type: ignore[no-untyped-def]
    """The shipped surveys record names its system `helsedata-survey`: Kari reads the data map's words."""
    receipt = put("surveys", language=lang)
    assert receipt["iso27560"]["storage_locations"] == [{"system": words, "location": None}]
