"""The ROPA and privacy-notice PDFs read back with their content (pypdf text extraction)."""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from pypdf import PdfReader

from privacy_service.documents import escape
from privacy_service.ropa.pdf import render_notice_pdf, render_ropa_pdf
from privacy_service.wording import format_datetime, period_text

NOTICE = {
    "title": {"nb": "Personvernerklæring for helsedata.no", "en": "Privacy statement for helsedata.no"},
    "intro": {"nb": "Slik behandler vi personopplysninger på helsedata.no.", "en": "How we process data."},
    "contact": {"nb": "Skriv til oss på postmottak@helsedir.no.", "en": "Write to postmottak@helsedir.no."},
    "controller": "helsedir",
}


def _pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _flat(text: str) -> str:
    """Join the lines of extracted text, since table cells wrap long labels."""
    return re.sub(r"\s+", " ", text)


def test_the_cover_names_the_controller_with_org_number_and_dpo(
    organisations, make_activity, generated_at
) -> None:
    pdf = render_ropa_pdf(
        organisations=organisations, activities=[make_activity()], generated_at=generated_at
    )
    cover = _pages(pdf)[0]
    assert "Norwegian Directorate of Health" in cover
    assert "983544622" in cover
    assert "personvernombud@helsedirektoratet.no" in cover
    assert "Postboks 220 Skøyen, 0213 Oslo" in cover
    assert "Record of processing activities" in cover
    assert f"Generated {format_datetime(generated_at, 'en')}" in cover
    # what the document is comes first, then who sends it
    assert cover.index("Record of processing activities") < cover.index("Norwegian Directorate of Health")


def test_a_named_controller_is_the_one_on_the_cover(organisations, make_activity, generated_at) -> None:
    pdf = render_ropa_pdf(
        organisations=organisations, activities=[make_activity()], controller="fhi", generated_at=generated_at
    )
    cover = _pages(pdf)[0]
    assert "Norwegian Institute of Public Health" in cover and "983744516" in cover


@pytest.mark.parametrize(("lang", "word"), [("en", "Page"), ("nb", "Side")])
def test_every_page_says_page_n_of_the_right_total(
    organisations, make_activity, generated_at, lang, word
) -> None:
    activities = [make_activity() for _ in range(3)]
    pages = _pages(
        render_ropa_pdf(
            organisations=organisations, activities=activities, generated_at=generated_at, lang=lang
        )
    )
    total = len(pages)
    joiner = "of" if lang == "en" else "av"
    assert total >= 5  # cover, contents, one section per activity, processors
    for number, page in enumerate(pages, start=1):
        assert f"{word} {number} {joiner} {total}" in page


def test_every_activity_appears_with_its_name_and_legal_basis(
    organisations, make_activity, generated_at
) -> None:
    activities = [
        make_activity(),
        make_activity(
            legal_basis="6(1)(a)",
            consent_purpose="spørreundersøkelse",
            art9_condition=None,
            national_basis=None,
            name={"nb": "Spørreundersøkelse om brukeropplevelse", "en": "User survey on the portal"},
        ),
        make_activity(legal_basis="6(1)(c)", name={"nb": "Postjournal", "en": "Public mail journal"}),
    ]
    text = _flat(
        " ".join(
            _pages(
                render_ropa_pdf(organisations=organisations, activities=activities, generated_at=generated_at)
            )
        )
    )
    for activity in activities:
        assert activity["name"]["en"] in text
    assert "Public task or official authority (GDPR Art. 6(1)(e))" in text
    assert "Consent (GDPR Art. 6(1)(a))" in text
    assert "Legal obligation (GDPR Art. 6(1)(c))" in text
    assert "Health Register Act §§ 8–11" in text
    assert "Art. 9(2)(h): health or social care" in text


def test_the_contents_list_each_activity_with_the_page_it_starts_on(
    organisations, make_activity, generated_at
) -> None:
    activities = [make_activity() for _ in range(3)]
    pages = _pages(
        render_ropa_pdf(organisations=organisations, activities=activities, generated_at=generated_at)
    )
    contents = _flat(pages[1])
    assert "Contents" in contents
    page_numbers = [int(n) for n in re.findall(r"(?:\. )+(\d+)\b", contents)]
    assert len(page_numbers) == len(activities) + 1  # and the processors overview
    for activity, number in zip(activities, page_numbers, strict=False):
        assert activity["name"]["en"] in contents
        assert pages[number - 1].startswith(f"{activities.index(activity) + 1}. {activity['name']['en']}")


def test_every_field_of_the_record_is_in_its_section(organisations, make_activity, generated_at) -> None:
    activity = make_activity(
        representative="Representant AS",
        legitimate_interest={"nb": "Sikre tjenesten", "en": "Keeping the service secure"},
        lia_reference="LIA-2024-2",
        art10=True,
        children=True,
        automated_decisions=True,
    )
    text = _flat(
        " ".join(
            _pages(
                render_ropa_pdf(organisations=organisations, activities=[activity], generated_at=generated_at)
            )
        )
    )
    for expected in (
        "Norwegian Institute of Public Health",  # joint controller
        "Representant AS",
        "Process applications for health data",
        "Applicants and project staff",
        "Health data (special category, Art. 9)",
        "The applicant",
        "Registry owners",
        "US – Støttetjeneste Inc. (standard contractual clauses (Art. 46(2)(c)); EU SCC 2021)",
        "Deleted five years after closing.",
        "5 years",
        "The case is closed",
        "Arkivforskriften § 15",
        "Bevares",
        "25 years",
        "Arkivforskriften § 14",
        "Access control and logging",
        "Søknadsportalen, Norsk helsenett, Trondheim",
        "DPIA-2023-04",
        "Akseptabel risiko",
        "Keeping the service secure",
        "LIA-2024-2",
        "Avdeling for helseregistre",
        "Saksbehandling av søknader",
        "2026-01-31",
        "officer:åse",
        "Version 3",
        "DBA-2024-17 «drift og hosting»",
        "Cloud Solutions Æ/S",
        "Art. 20(3): does not apply to processing necessary for a public task.",
        "All processors and sub-processors",
    ):
        assert expected in text, expected


def test_norwegian_letters_survive_in_the_bokmal_document(organisations, make_activity, generated_at) -> None:
    activity = make_activity(owner="Økonomi- og årsrapportavdelingen (ÅRA)")
    pdf = render_ropa_pdf(
        organisations=organisations, activities=[activity], generated_at=generated_at, lang="nb"
    )
    text = _flat(" ".join(_pages(pdf)))
    assert "Økonomi- og årsrapportavdelingen (ÅRA)" in text
    assert "Protokoll over behandlingsaktiviteter" in text
    assert "Søknader om tilgang til helsedata" in text
    assert "Behandlingsansvarlig" in text and "Personvernombud" in text
    assert "Allmennhetens interesse eller offentlig myndighet" in text
    assert "art. 9 nr. 2 h: helse- og sosialtjenester" in text
    for letters in ("æ", "ø", "å", "Æ", "Ø", "Å", "§", "–", "«", "»"):
        assert letters in text, letters


def test_markup_in_free_text_is_printed_literally(organisations, make_activity, generated_at) -> None:
    evil = '<b>x</b> & <script>alert(1)</script> <font size="40">big</font> <a href="javascript:x">y</a>'
    activity = make_activity(
        name={"nb": f"Aktivitet {evil}", "en": f"Activity {evil}"},
        description={"nb": evil, "en": evil},
        purposes=[{"nb": evil, "en": evil}],
        owner=evil,
    )
    organisations["helsedir"]["name"]["en"] = f"Directorate <i>&amp;</i> {evil}"
    pdf = render_ropa_pdf(organisations=organisations, activities=[activity], generated_at=generated_at)
    text = _flat(" ".join(_pages(pdf)))
    assert "<b>x</b> & <script>alert(1)</script>" in text
    assert "Directorate <i>&amp;</i>" in text
    assert "Activity <b>x</b>" in _flat(_pages(pdf)[1])  # the contents entry too


def test_missing_optional_fields_do_not_break_the_document(organisations, generated_at) -> None:
    bare = {
        "slug": "bare",
        "name": {"nb": "Minimal", "en": "Minimal"},
        "controller": "unknown-org",
        "legal_basis": "6(1)(b)",
        "purposes": [{"nb": "Avtale", "en": "Contract"}],
        "retention": None,
        "dpia": None,
    }
    text = _flat(
        " ".join(_pages(render_ropa_pdf(organisations={}, activities=[bare], generated_at=generated_at)))
    )
    assert "Minimal" in text and "Contract (GDPR Art. 6(1)(b))" in text and "unknown-org" in text


def test_an_empty_record_still_renders(generated_at) -> None:
    text = " ".join(_pages(render_ropa_pdf(organisations={}, activities=[], generated_at=generated_at)))
    assert "The record has no processing activities." in text and "Page 1 of" in text


def test_a_very_long_text_splits_across_pages(organisations, make_activity, generated_at) -> None:
    long_text = " ".join(["Særdeles lang beskrivelse av sikkerhetstiltak."] * 600)
    activity = make_activity(security_measures=[{"nb": long_text, "en": long_text}])
    pages = _pages(
        render_ropa_pdf(organisations=organisations, activities=[activity], generated_at=generated_at)
    )
    assert len(pages) >= 6


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        (
            "nb",
            [
                "Personvernerklæring for helsedata.no",
                "Hvem er ansvarlig",
                "Dine rettigheter",
                "Datatilsynet",
                "Postboks 458 Sentrum, 0105 Oslo",
                "www.datatilsynet.no",
                "Allmennhetens interesse",
                "Helseregisterloven §§ 8–11",
                "Slettes fem år etter at saken er avsluttet.",
                "Norsk helsenett SF",
                "Folkehelseinstituttet",
                "personvernombud@helsedirektoratet.no",
                "Side 1 av",
            ],
        ),
        (
            "en",
            [
                "Privacy statement for helsedata.no",
                "Who is responsible",
                "Your rights",
                "Norwegian Data Protection Authority",
                "Postboks 458 Sentrum, 0105 Oslo",
                "Public task or official authority (GDPR Art. 6(1)(e))",
                "Deleted five years after closing. (5 years)",
                "Registry owners",
                "US – Støttetjeneste Inc.",
                "983544622",
                "Page 1 of",
            ],
        ),
    ],
)
def test_the_notice_explains_the_processing_in_plain_language(
    organisations, make_activity, generated_at, lang, phrases
) -> None:
    pdf = render_notice_pdf(
        notice=NOTICE,
        organisations=organisations,
        activities=[make_activity()],
        generated_at=generated_at,
        lang=lang,
    )
    text = _flat(" ".join(_pages(pdf)))
    for phrase in phrases:
        assert phrase in text, phrase


def test_the_notice_names_which_activities_a_conditional_right_covers(
    organisations, make_activity, generated_at
) -> None:
    survey = make_activity(
        legal_basis="6(1)(a)",
        consent_purpose="survey",
        art9_condition=None,
        name={"nb": "Undersøkelse", "en": "Survey"},
    )
    pdf = render_notice_pdf(
        notice=NOTICE,
        organisations=organisations,
        activities=[make_activity(), survey],
        generated_at=generated_at,
        lang="en",
    )
    text = _flat(" ".join(_pages(pdf)))
    assert "you can withdraw it at any time" in text and "Applies to: Survey." in text
    assert "(Art. 15)" in text and "(Art. 17)" in text


def test_escape_neutralises_paragraph_markup() -> None:
    assert escape('<b>"x"</b> & y\nz') == '&lt;b&gt;"x"&lt;/b&gt; &amp; y<br/>z'
    assert escape(None) == ""


@pytest.mark.parametrize(
    ("period", "lang", "expected"),
    [
        ("P30D", "en", "30 days"),
        ("P1Y", "nb", "1 år"),
        ("P2M", "nb", "2 måneder"),
        ("P1Y6M", "en", "1 year 6 months"),
        ("P3W", "en", "3 weeks"),
        ("bogus", "en", "bogus"),
        (None, "en", ""),
    ],
)
def test_periods_are_spelled_out(period, lang, expected) -> None:
    assert period_text(period, lang) == expected


def test_timestamps_are_shown_in_norwegian_time() -> None:
    assert (
        format_datetime(datetime.fromisoformat("2025-07-01T10:00:00+00:00"), "nb") == "01.07.2025 12:00 CEST"
    )
    assert format_datetime("2025-01-15T10:00:00+00:00", "en") == "2025-01-15 11:00 CET"


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_the_shipped_record_speaks_in_words_not_codes(client, make_key) -> None:  # type: ignore[no-untyped-def]
    """Periods and retention rules as a reader says them: no P30D, no system.table, no column or rule key."""
    headers = {"Authorization": f"Bearer {make_key('registry:read')}"}
    for lang, words in (
        ("nb", "Slettes etter 30 dager; regnet fra: Samtalen"),
        ("en", "Deleted after 30 days; counted from: The call"),
    ):
        pdf = client.get(f"/api/v1/ropa?format=pdf&lang={lang}&service=helsedirektoratet", headers=headers)
        text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).split())
        assert words in text
        for code in ("P30D", "P25Y", "helsedir-office.", "ankerkolonnen", "anchor column", "Nøkkel:", "Key:"):
            assert code not in text, (lang, code)
