"""Every word the registry's two PDFs print, in English and Norwegian bokmål: the record of processing for
Datatilsynet (Art. 30) and the public privacy notice for data subjects (Art. 13–14)."""

from __future__ import annotations

from typing import Any

# --- the record of processing ----------------------------------------------------------------------------

_RECORD_EN: dict[str, Any] = {
    "title": "Record of processing activities",
    "subtitle": "GDPR Article 30(1), kept by the controller and made available to Datatilsynet",
    "count": "Processing activities in this record",
    "empty": "The record has no processing activities.",
    "meta": "Status: {status} · Version {version} · Updated {at} by {by}",
    "s_a": "Controller and contacts (Art. 30(1)(a))",
    "s_b": "Purposes and legal basis (Art. 30(1)(b); Art. 6, 9, 10)",
    "s_c": "Data subjects and personal data (Art. 30(1)(c))",
    "s_d": "Recipients and third-country transfers (Art. 30(1)(d)–(e))",
    "s_f": "Retention, deletion and archiving (Art. 30(1)(f))",
    "s_g": "Security (Art. 30(1)(g))",
    "s_r": "Risk, impact assessment and governance",
    "controller": "Controller",
    "joint_controllers": "Joint controllers (Art. 26)",
    "joint_essence": "The essence of the arrangement (Art. 26(2))",
    "joint_responsibilities": "Who answers for what (Art. 26(1))",
    "joint_contact": "Contact point for the data subjects",
    "joint_agreement": "Arrangement (reference, date)",
    "not_stated": "Not stated",
    "unknowns": "Not stated by the source (to be filled in)",
    "part_own": "Processing where {name} is controller",
    "part_own_intro": (
        "The record of {name} as controller (GDPR Art. 30(1)), with the processing it is responsible for "
        "jointly with others (Art. 26)."
    ),
    "part_other": "Processing where {name} is controller",
    "part_other_intro": (
        "Our privacy notices describe this processing, but {name} decides its purposes and means and is the "
        "controller: it is listed here so the record covers everything the notices describe, and {name} "
        "answers for it."
    ),
    "representative": "Representative (Art. 27)",
    "dpo": "Data protection officer",
    "owner": "Owner",
    "business_process": "Business process",
    "purposes": "Purposes",
    "legal_basis": "Legal basis (Art. 6(1))",
    "national_basis": "National legal basis (Art. 6(3))",
    "art9": "Condition for special categories (Art. 9(2))",
    "art89": "Only for archiving, research or statistics (Art. 89; Personal Data Act § 17)",
    "art10": "Criminal convictions and offences (Art. 10)",
    "consent_purpose": "Consent purpose",
    "legitimate_interest": "Legitimate interest",
    "lia": "Legitimate interest assessment",
    "data_subjects": "Categories of data subjects",
    "data_categories": "Categories of personal data",
    "special_marker": " (special category, Art. 9)",
    "special": "Special categories processed",
    "vulnerable": "Vulnerable data subjects",
    "children": "Children",
    "source": "Source of the data",
    "recipients": "Categories of recipients",
    "transfers": "Transfers to third countries and safeguards",
    "retention": "Retention",
    "period": "Retention period",
    "trigger": "Retention period starts",
    "retention_basis": "Legal basis for the retention period",
    "rules": "Retention rules carried out",
    "decision": "Disposal decision (Noark 5 M450)",
    "preservation": "Preservation period (M451)",
    "authority": "Disposal authority (M453)",
    "security": "Technical and organisational measures",
    "systems": "Systems and storage locations",
    "dpia_required": "DPIA required (Art. 35)",
    "dpia_reference": "DPIA reference",
    "dpia_outcome": "DPIA outcome",
    "dpia_status": "DPIA status",
    "prior_consultation": "Prior consultation with Datatilsynet (Art. 36)",
    "automated": "Automated decisions and profiling (Art. 22)",
    "review_date": "Next review",
    "processors": "Processors (Art. 28)",
    "no_processors": "No processors.",
    "rights": "Data subjects' rights",
    "all_processors": "All processors and sub-processors",
    "p_cols": ("Organisation", "Role", "Agreement", "Task", "Sub-processor of"),
    "all_cols": ("Organisation", "Org. no.", "Role", "Agreements", "Activities"),
    "r_cols": ("Right", "Article", "Applies", "Reason"),
    "roles": {"processor": "Processor", "sub_processor": "Sub-processor"},
    "statuses": {"draft": "draft", "active": "active", "retired": "retired"},
    "right_names": {
        "access": "Access",
        "rectification": "Rectification",
        "erasure": "Erasure",
        "restriction": "Restriction of processing",
        "objection": "Objection",
        "portability": "Data portability",
        "consent_withdrawal": "Withdrawal of consent",
    },
}
_RECORD_NB: dict[str, Any] = {
    "title": "Protokoll over behandlingsaktiviteter",
    "subtitle": "Personvernforordningen artikkel 30 nr. 1, ført av den behandlingsansvarlige og "
    "tilgjengelig for Datatilsynet",
    "count": "Behandlingsaktiviteter i protokollen",
    "empty": "Protokollen har ingen behandlingsaktiviteter.",
    "meta": "Status: {status} · Versjon {version} · Endret {at} av {by}",
    "s_a": "Behandlingsansvarlig og kontaktpunkter (art. 30 nr. 1 a)",
    "s_b": "Formål og rettslig grunnlag (art. 30 nr. 1 b; art. 6, 9 og 10)",
    "s_c": "Registrerte og personopplysninger (art. 30 nr. 1 c)",
    "s_d": "Mottakere og overføring til tredjeland (art. 30 nr. 1 d–e)",
    "s_f": "Lagring, sletting og arkivering (art. 30 nr. 1 f)",
    "s_g": "Informasjonssikkerhet (art. 30 nr. 1 g)",
    "s_r": "Risiko, konsekvensvurdering og styring",
    "controller": "Behandlingsansvarlig",
    "joint_controllers": "Felles behandlingsansvarlige (art. 26)",
    "joint_essence": "Hovedinnholdet i ordningen (art. 26 nr. 2)",
    "joint_responsibilities": "Hvem som svarer for hva (art. 26 nr. 1)",
    "joint_contact": "Kontaktpunkt for de registrerte",
    "joint_agreement": "Ordningen (referanse, dato)",
    "not_stated": "Ikke oppgitt",
    "unknowns": "Ikke oppgitt i kilden (må fylles ut)",
    "part_own": "Behandlinger der {name} er behandlingsansvarlig",
    "part_own_intro": (
        "Protokollen til {name} som behandlingsansvarlig (personvernforordningen art. 30 nr. 1), med "
        "behandlingene den har felles behandlingsansvar for sammen med andre (art. 26)."
    ),
    "part_other": "Behandlinger der {name} er behandlingsansvarlig",
    "part_other_intro": (
        "Personvernerklæringene våre beskriver disse behandlingene, men det er {name} som bestemmer "
        "formålet og midlene og er behandlingsansvarlig: de står her slik at protokollen dekker alt "
        "erklæringene beskriver, og {name} svarer for dem."
    ),
    "representative": "Representant (art. 27)",
    "dpo": "Personvernombud",
    "owner": "Eier",
    "business_process": "Arbeidsprosess",
    "purposes": "Formål",
    "legal_basis": "Behandlingsgrunnlag (art. 6 nr. 1)",
    "national_basis": "Supplerende rettsgrunnlag (art. 6 nr. 3)",
    "art9": "Unntak for særlige kategorier (art. 9 nr. 2)",
    "art89": "Bare for arkiv, forskning eller statistikk (art. 89; personopplysningsloven § 17)",
    "art10": "Straffedommer og lovovertredelser (art. 10)",
    "consent_purpose": "Samtykkeformål",
    "legitimate_interest": "Berettiget interesse",
    "lia": "Interesseavveining",
    "data_subjects": "Kategorier registrerte",
    "data_categories": "Kategorier personopplysninger",
    "special_marker": " (særlig kategori, art. 9)",
    "special": "Særlige kategorier behandles",
    "vulnerable": "Sårbare registrerte",
    "children": "Barn",
    "source": "Kilde til opplysningene",
    "recipients": "Kategorier mottakere",
    "transfers": "Overføring til tredjeland og garantier",
    "retention": "Lagring og sletting",
    "period": "Lagringstid",
    "trigger": "Lagringstiden regnes fra",
    "retention_basis": "Hjemmel for lagringstiden",
    "rules": "Lagringsregler som utføres",
    "decision": "Kassasjonsvedtak (Noark 5 M450)",
    "preservation": "Bevaringstid (M451)",
    "authority": "Kassasjonshjemmel (M453)",
    "security": "Tekniske og organisatoriske tiltak",
    "systems": "Systemer og lagringssted",
    "dpia_required": "DPIA påkrevd (art. 35)",
    "dpia_reference": "DPIA-referanse",
    "dpia_outcome": "DPIA-konklusjon",
    "dpia_status": "DPIA-status",
    "prior_consultation": "Forhåndsdrøfting med Datatilsynet (art. 36)",
    "automated": "Automatiserte avgjørelser og profilering (art. 22)",
    "review_date": "Neste gjennomgang",
    "processors": "Databehandlere (art. 28)",
    "no_processors": "Ingen databehandlere.",
    "rights": "De registrertes rettigheter",
    "all_processors": "Alle databehandlere og underdatabehandlere",
    "p_cols": ("Virksomhet", "Rolle", "Avtale", "Oppgave", "Underdatabehandler for"),
    "all_cols": ("Virksomhet", "Org.nr.", "Rolle", "Avtaler", "Behandlingsaktiviteter"),
    "r_cols": ("Rettighet", "Artikkel", "Gjelder", "Begrunnelse"),
    "roles": {"processor": "Databehandler", "sub_processor": "Underdatabehandler"},
    "statuses": {"draft": "utkast", "active": "aktiv", "retired": "avviklet"},
    "right_names": {
        "access": "Innsyn",
        "rectification": "Retting",
        "erasure": "Sletting",
        "restriction": "Begrensning av behandling",
        "objection": "Protest",
        "portability": "Dataportabilitet",
        "consent_withdrawal": "Tilbaketrekking av samtykke",
    },
}
RECORD_LABELS = {"en": _RECORD_EN, "nb": _RECORD_NB}

# The reasons rights_for() gives, in Norwegian (the registry derives them in English).
REASONS_NB = {
    "Applies to every activity.": "Gjelder for alle behandlinger.",
    "Applies unless an exception in Art. 17(3) covers the data (e.g. an archive duty).": (
        "Gjelder med mindre et unntak i art. 17 nr. 3 omfatter opplysningene (f.eks. arkivplikt)."
    ),
    "The processing rests on Art. 6(1)(e) or (f).": "Behandlingen bygger på art. 6 nr. 1 e eller f.",
    "Consent-based: withdraw consent instead (Art. 7(3)).": (
        "Bygger på samtykke: trekk samtykket tilbake (art. 7 nr. 3)."
    ),
    "Art. 21(1) covers only processing based on Art. 6(1)(e) or (f).": (
        "Art. 21 nr. 1 gjelder bare behandling etter art. 6 nr. 1 e eller f."
    ),
    "Based on consent or contract and carried out by automated means.": (
        "Bygger på samtykke eller avtale og skjer automatisert."
    ),
    "Art. 20(3): does not apply to processing necessary for a public task.": (
        "Art. 20 nr. 3: gjelder ikke behandling som er nødvendig for å utføre en offentlig oppgave."
    ),
    "Art. 20(1): applies only to processing based on consent or contract.": (
        "Art. 20 nr. 1: gjelder bare behandling som bygger på samtykke eller avtale."
    ),
    "The processing rests on consent.": "Behandlingen bygger på samtykke.",
    "The processing does not rest on consent.": "Behandlingen bygger ikke på samtykke.",
    "Part of the processing rests on consent: withdrawing it ends that part, not what rests on the other "
    "legal bases.": (
        "En del av behandlingen bygger på samtykke: trekker du samtykket tilbake, stanser den delen, men "
        "ikke det som bygger på de andre behandlingsgrunnlagene."
    ),
    "Applies; under the Personal Data Act § 17 the officer may refuse it where the processing serves only "
    "archiving, research or statistics and giving access would take a disproportionate effort.": (
        "Gjelder; etter personopplysningsloven § 17 kan personvernombudet avslå når behandlingen bare skjer "
        "for arkiv, forskning eller statistikk og det vil kreve en uforholdsmessig stor innsats å gi innsyn."
    ),
    "Applies; under the Personal Data Act § 17 the officer may refuse it where the processing serves only "
    "archiving, research or statistics and the right would make the purpose impossible or seriously "
    "impair it.": (
        "Gjelder; etter personopplysningsloven § 17 kan personvernombudet avslå når behandlingen bare skjer "
        "for arkiv, forskning eller statistikk og retten vil gjøre det umulig eller i alvorlig grad hindre "
        "at formålet nås."
    ),
}

# --- the public privacy notice ---------------------------------------------------------------------------

DATATILSYNET = "Datatilsynet, www.datatilsynet.no, Postboks 458 Sentrum, 0105 Oslo"

_NOTICE_EN: dict[str, Any] = {
    "responsible": "Who is responsible",
    "controller": "Controller",
    "joint": "Joint controllers",
    "dpo": "Data protection officer",
    "processing": "What we process, and why",
    "purposes": "Why we process the data",
    "data": "What data",
    "subjects": "About whom",
    "source": "Where the data comes from",
    "legal_basis": "Legal basis",
    "retention": "How long we keep the data",
    "recipients": "Who receives the data",
    "transfers": "Transfers outside the EU/EEA",
    "processors": "Processors who handle the data for us",
    "joint_essence": "How the joint controllers share the responsibility",
    "joint_contact": "Your contact point",
    "own_controller": "Controller for this processing",
    "automated": "Automated decisions (GDPR Art. 22)",
    "special": "This includes special categories of personal data (Art. 9).",
    "all_processors": "Our processors",
    "processors_intro": "These organisations process personal data on our behalf, under a data processing "
    "agreement (Art. 28). They may not use the data for their own purposes.",
    "rights": "Your rights",
    "rights_intro": "You have these rights under the General Data Protection Regulation. We answer within "
    "one month (Art. 12(3)). It is free of charge.",
    "applies_to": "Applies to: {names}.",
    "contact": "How to contact us",
    "complain": "Right to complain to Datatilsynet",
    "complain_text": "If you think we process your personal data in breach of the rules, you have the right "
    "to complain to the Norwegian Data Protection Authority: {dt}. We would like you to contact us first, "
    "so that we can try to put it right.",
    "rights_text": {
        "access": "You can ask to see the personal data we hold about you and get a copy of it (Art. 15).",
        "rectification": "You can ask us to correct data about you that is wrong or incomplete (Art. 16).",
        "erasure": "You can ask us to delete data about you. We cannot delete what the law requires us to "
        "keep, for example under the Archives Act (Art. 17).",
        "restriction": "You can ask us to limit the use of your data, for example while we check whether it "
        "is correct (Art. 18).",
        "objection": "You can object to processing that rests on our public task or legitimate interests "
        "(Art. 21).",
        "portability": "You can receive the data you gave us in a machine-readable format, where the "
        "processing rests on consent or a contract (Art. 20).",
        "consent_withdrawal": "Where we rely on your consent, you can withdraw it at any time. This does not "
        "affect the processing before you withdrew it (Art. 7(3)).",
    },
}
_NOTICE_NB: dict[str, Any] = {
    "responsible": "Hvem er ansvarlig",
    "controller": "Behandlingsansvarlig",
    "joint": "Felles behandlingsansvarlige",
    "dpo": "Personvernombud",
    "processing": "Hva vi behandler, og hvorfor",
    "purposes": "Hvorfor vi behandler opplysningene",
    "data": "Hvilke opplysninger",
    "subjects": "Hvem opplysningene gjelder",
    "source": "Hvor opplysningene kommer fra",
    "legal_basis": "Rettslig grunnlag",
    "retention": "Hvor lenge vi lagrer opplysningene",
    "recipients": "Hvem som får opplysningene",
    "transfers": "Overføring ut av EU/EØS",
    "processors": "Databehandlere som behandler opplysningene for oss",
    "joint_essence": "Slik deler de behandlingsansvarlige ansvaret",
    "joint_contact": "Kontaktpunkt for deg",
    "own_controller": "Behandlingsansvarlig for denne behandlingen",
    "automated": "Automatiserte avgjørelser (personvernforordningen art. 22)",
    "special": "Dette omfatter særlige kategorier personopplysninger (art. 9).",
    "all_processors": "Våre databehandlere",
    "processors_intro": "Disse virksomhetene behandler personopplysninger på våre vegne, etter en "
    "databehandleravtale (art. 28). De kan ikke bruke opplysningene til egne formål.",
    "rights": "Dine rettigheter",
    "rights_intro": "Du har disse rettighetene etter personvernforordningen. Vi svarer innen én måned "
    "(art. 12 nr. 3). Det er gratis.",
    "applies_to": "Gjelder: {names}.",
    "contact": "Slik kontakter du oss",
    "complain": "Rett til å klage til Datatilsynet",
    "complain_text": "Hvis du mener at vi behandler personopplysningene dine i strid med reglene, har du "
    "rett til å klage til Datatilsynet: {dt}. Vi setter pris på om du kontakter oss først, slik at vi kan "
    "prøve å rette opp feilen.",
    "rights_text": {
        "access": "Du kan be om å få se hvilke personopplysninger vi har om deg, og få en kopi (art. 15).",
        "rectification": "Du kan be oss rette opplysninger om deg som er feil eller ufullstendige (art. 16).",
        "erasure": "Du kan be oss slette opplysninger om deg. Vi kan ikke slette det loven pålegger oss å ta "
        "vare på, for eksempel etter arkivloven (art. 17).",
        "restriction": "Du kan be oss begrense bruken av opplysningene dine, for eksempel mens vi "
        "undersøker om de er riktige (art. 18).",
        "objection": "Du kan protestere mot behandling som bygger på en offentlig oppgave eller en "
        "berettiget interesse (art. 21).",
        "portability": "Du kan få utlevert opplysninger du har gitt oss i et maskinlesbart format, når "
        "behandlingen bygger på samtykke eller avtale (art. 20).",
        "consent_withdrawal": "Når vi bygger på samtykket ditt, kan du når som helst trekke det tilbake. Det "
        "påvirker ikke behandlingen før du trakk det tilbake (art. 7 nr. 3).",
    },
}
NOTICE_LABELS = {"en": _NOTICE_EN, "nb": _NOTICE_NB}
