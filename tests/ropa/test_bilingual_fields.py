"""Fields written in one language before (agreements, systems, owners, statutes) take {nb, en}: each document
prints the reader's language, and a plain text from an older record still loads and prints as it is."""

from __future__ import annotations

import csv
import io
import re

import pytest
from pypdf import PdfReader

from privacy_service.ropa.export import export_csv
from privacy_service.ropa.pdf import render_ropa_pdf
from privacy_service.ropa.schemas import ActivitySchema

BOTH = {
    "processors": [
        {
            "organisation": "ehelse",
            "role": "processor",
            "agreement_ref": {"nb": "Databehandleravtale nr. 7", "en": "Data processing agreement no. 7"},
        }
    ],
    "owner": {"nb": "Avdelingsdirektøren", "en": "The head of department"},
    "retention": {
        "text": {"nb": "Slettes etter fem år.", "en": "Deleted after five years."},
        "legal_basis": {"nb": "Arkivlova § 6", "en": "The Archives Act (arkivlova) § 6"},
    },
    "disposal": {
        "decision": "Bevares",
        "authority": {"nb": "Arkivforskrifta", "en": "The Archives Regulations"},
    },
    "systems": [
        {"name": {"nb": "Saksarkivet", "en": "The case archive"}, "location": {"nb": "Oslo", "en": "Oslo"}}
    ],
}
ESSENCE = {
    "nb": "Hver behandlingsansvarlig svarer for sin del.",
    "en": "Each controller answers for its part.",
}
NB = ("Databehandleravtale nr. 7", "Avdelingsdirektøren", "Arkivlova § 6", "Arkivforskrifta", "Saksarkivet")
EN = (
    "Data processing agreement no. 7",
    "The head of department",
    "The Archives Act (arkivlova) § 6",
    "The Archives Regulations",
    "The case archive",
)


def _pdf_text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


def _csv_text(body: bytes) -> str:
    return " ".join(" ".join(row) for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    "field",
    ["owner", "lia_reference", "processors", "retention", "disposal", "systems"],
)
def test_a_plain_text_and_a_text_in_both_languages_both_load(make_activity, field: str) -> None:
    plain = make_activity()  # the fixture writes these fields as plain text, as older records do
    plain["lia_reference"] = "LIA-2024-2"
    plain["joint_arrangement"] = {"essence": ESSENCE, "agreement_ref": "Avtale 2024/3"}
    both = make_activity(**{k: v for k, v in BOTH.items() if k == field})
    both["lia_reference"] = {"nb": "Interesseavveining 2", "en": "Balancing test 2"}
    both["joint_arrangement"] = {"essence": ESSENCE, "agreement_ref": {"nb": "Avtale 3", "en": "Agreement 3"}}
    for record in (plain, both):
        data = {k: v for k, v in record.items() if k not in ("rights", "version", "updated_at", "updated_by")}
        assert ActivitySchema().validate(data) == {}, field


def test_a_text_in_one_of_the_two_languages_only_is_refused(make_activity) -> None:
    data = make_activity(owner={"nb": "Avdelingsdirektøren"})
    data = {k: v for k, v in data.items() if k not in ("rights", "version", "updated_at", "updated_by")}
    assert "owner" in ActivitySchema().validate(data)


@pytest.mark.parametrize(("lang", "wanted", "other"), [("en", EN, NB), ("nb", NB, EN)])
def test_the_record_pdf_and_the_csv_print_the_reader_language(
    organisations, make_activity, generated_at, lang: str, wanted: tuple[str, ...], other: tuple[str, ...]
) -> None:
    activity = make_activity(**BOTH)
    pdf = _pdf_text(
        render_ropa_pdf(
            organisations=organisations, activities=[activity], generated_at=generated_at, lang=lang
        )
    )
    cells = _csv_text(export_csv(organisations=organisations, activities=[activity], lang=lang))
    for text in (pdf, cells):
        assert all(w in text for w in wanted), [w for w in wanted if w not in text]
        assert not any(o in text for o in other), [o for o in other if o in text]


def test_a_plain_text_prints_as_it_is_in_either_language(organisations, make_activity, generated_at) -> None:
    activity = make_activity()  # owner, retention.legal_basis, disposal.authority, systems as plain text
    for lang in ("nb", "en"):
        pdf = _pdf_text(
            render_ropa_pdf(
                organisations=organisations, activities=[activity], generated_at=generated_at, lang=lang
            )
        )
        cells = _csv_text(export_csv(organisations=organisations, activities=[activity], lang=lang))
        for text in (pdf, cells):
            assert "Avdeling for helseregistre" in text and "Arkivforskriften § 14" in text
            assert "Søknadsportalen, Norsk helsenett, Trondheim" in text


def test_the_officer_record_page_prints_the_reader_language(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    english = client.get("/officer/activities/support?lang=en").get_data(as_text=True)
    bokmal = client.get("/officer/activities/support?lang=nb").get_data(as_text=True)
    # a system name with no Norwegian word stays one plain text; its location is in both languages
    assert "helsedata-support (Helsedataservice (Norwegian Directorate for e-Health))" in english
    assert "helsedata-support (Helsedataservice (Direktoratet for e-helse))" in bokmal
    english = client.get("/officer/activities/website-visits?lang=en").get_data(as_text=True)
    bokmal = client.get("/officer/activities/website-visits?lang=nb").get_data(as_text=True)
    agreement = (
        "Data processing agreement between the Norwegian Directorate for e-Health and Norsk helsenett SF"
    )
    assert agreement in english and agreement not in bokmal
    assert "Databehandleravtale mellom Direktoratet for e-helse og Norsk helsenett SF" in bokmal
