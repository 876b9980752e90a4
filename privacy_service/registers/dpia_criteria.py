"""What a DPIA screening checks: Datatilsynet's list (Art. 35(4)) and the nine WP248 criteria, by id."""

from __future__ import annotations

# Datatilsynet's list of processing that always requires a DPIA (Art. 35(4)), as ids with nb/en labels.
# The wording is ours, written from the published list; check it against datatilsynet.no ("Liste over
# behandlinger som alltid krever vurdering av personvernkonsekvenser") before relying on it.
DATATILSYNET_LIST: tuple[tuple[str, str, str], ...] = (
    (
        "biometric-identification",
        "Biometriske opplysninger for å identifisere personer, sammen med minst ett kriterium til",
        "Biometric data to identify people, together with at least one further criterion",
    ),
    (
        "genetic-data",
        "Genetiske opplysninger, sammen med minst ett kriterium til",
        "Genetic data, together with at least one further criterion",
    ),
    (
        "location-data",
        "Lokasjonsdata, sammen med minst ett kriterium til",
        "Location data, together with at least one further criterion",
    ),
    (
        "special-categories-large-scale",
        "Særlige kategorier av personopplysninger eller straffedommer i stor skala",
        "Special categories of personal data or criminal offence data on a large scale",
    ),
    (
        "vulnerable-subjects",
        "Opplysninger om sårbare registrerte, som barn, pasienter og eldre, sammen med minst ett "
        "kriterium til",
        "Data about vulnerable people, such as children, patients and the elderly, with at least one further "
        "criterion",
    ),
    (
        "innovative-technology",
        "Innovativ teknologi, sammen med minst ett kriterium til",
        "Innovative technology, together with at least one further criterion",
    ),
    (
        "employee-monitoring",
        "Systematisk overvåking av ansatte, også av e-post, internettbruk og bruk av utstyr",
        "Systematic monitoring of employees, including their e-mail, internet use and equipment",
    ),
    (
        "public-monitoring",
        "Systematisk overvåking av offentlig tilgjengelige områder, som kameraovervåking, i stor skala",
        "Systematic monitoring of publicly accessible areas, such as camera surveillance, on a large scale",
    ),
    (
        "school-evaluation",
        "Evaluering av læring, mestring og trivsel i skoler og barnehager",
        "Evaluation of learning, coping and wellbeing in schools and kindergartens",
    ),
    (
        "scoring-profiling",
        "Evaluering eller poengsetting (profilering), som kredittvurdering, med rettsvirkning for den "
        "registrerte",
        "Evaluation or scoring (profiling), such as credit scoring, with legal effects for the data subject",
    ),
    (
        "combining-datasets",
        "Sammenstilling av datasett fra ulike kilder",
        "Matching or combining datasets from different sources",
    ),
    (
        "indirect-collection",
        "Opplysninger innhentet fra tredjepart uten at de registrerte informeres (art. 14 nr. 5 b), sammen "
        "med minst ett kriterium til",
        "Data collected from third parties without informing the data subjects (Art. 14(5)(b)), together "
        "with at least one further criterion",
    ),
)

# The nine criteria of the EDPB-endorsed WP248 rev.01 guidelines: two or more mean a DPIA is required, as a
# rule.
WP248_CRITERIA: tuple[tuple[str, str, str], ...] = (
    ("evaluation-scoring", "Evaluering eller poengsetting", "Evaluation or scoring"),
    (
        "automated-decision",
        "Automatiserte avgjørelser med rettsvirkning eller tilsvarende betydelig virkning",
        "Automated decision-making with legal or similarly significant effect",
    ),
    ("systematic-monitoring", "Systematisk overvåking", "Systematic monitoring"),
    (
        "sensitive-data",
        "Særlige kategorier eller opplysninger av svært personlig karakter",
        "Sensitive data or data of a highly personal nature",
    ),
    ("large-scale", "Behandling i stor skala", "Data processed on a large scale"),
    ("matching-datasets", "Sammenstilling av datasett", "Matching or combining datasets"),
    ("vulnerable-subjects", "Sårbare registrerte", "Data concerning vulnerable data subjects"),
    (
        "innovative-use",
        "Innovativ bruk eller ny teknologisk eller organisatorisk løsning",
        "Innovative use or new technological or organisational solutions",
    ),
    (
        "prevents-rights",
        "Behandlingen hindrer de registrerte i å utøve en rettighet eller bruke en tjeneste eller avtale",
        "The processing prevents data subjects from exercising a right or using a service or contract",
    ),
)
LISTED_IDS = tuple(item for item, _nb, _en in DATATILSYNET_LIST)
CRITERIA_IDS = tuple(item for item, _nb, _en in WP248_CRITERIA)
