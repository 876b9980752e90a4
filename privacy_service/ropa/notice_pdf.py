"""The public privacy notice of a service as a PDF, in plain language for data subjects (GDPR Art. 13–14)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, Spacer

from privacy_service.documents import (
    build_pdf,
    contact_rows,
    dpo_text,
    key_value_table,
    letterhead,
    localised,
    para,
    period_text,
    text,
)
from privacy_service.kernel import RIGHTS
from privacy_service.ropa.texts import art9_text, legal_basis_text, org_name, transfer_text

DATATILSYNET = "Datatilsynet, www.datatilsynet.no, Postboks 458 Sentrum, 0105 Oslo"

_EN = {
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
_NB = {
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
LABELS = {"en": _EN, "nb": _NB}


def _legal_basis(a: dict[str, Any], lang: str) -> list[str]:
    out = [legal_basis_text(a.get("legal_basis"), lang), localised(a.get("national_basis"), lang)]
    out.append(art9_text(a.get("art9_condition"), lang))
    return [line for line in out if line]


def _retention(a: dict[str, Any], lang: str) -> str:
    retention = a.get("retention") or {}
    period = period_text(retention.get("period"), lang)
    text_ = localised(retention.get("text"), lang)
    return f"{text_} ({period})" if period and period not in text_ else text_


def activity_block(a: dict[str, Any], orgs: dict[str, dict[str, Any]], lang: str) -> list[Flowable]:
    """Return one activity explained for data subjects: what, why, on which basis, how long, who gets it."""
    L = LABELS.get(lang, _EN)  # noqa: N806 - reads as a label table
    processors = [
        org_name(orgs, p.get("organisation"), lang)
        + (f" – {localised(p['task'], lang)}" if p.get("task") else "")
        for p in a.get("processors") or []
    ]
    rows: list[tuple[str, Any]] = [
        (L["purposes"], [localised(p, lang) for p in a.get("purposes") or []]),
        (L["data"], [localised(c.get("name"), lang) for c in a.get("data_categories") or []]),
        (L["subjects"], [localised(s, lang) for s in a.get("data_subjects") or []]),
        (L["source"], localised(a.get("source"), lang)),
        (L["legal_basis"], _legal_basis(a, lang)),
        (L["retention"], _retention(a, lang)),
        (L["recipients"], [localised(r, lang) for r in a.get("recipients") or []]),
        (L["transfers"], [transfer_text(t, lang) for t in a.get("transfers") or []]),
        (L["processors"], processors),
    ]
    rows = [(label, value) for label, value in rows if value]
    story: list[Flowable] = [
        CondPageBreak(45 * mm),
        para(localised(a.get("name"), lang), "h2"),
        para(localised(a.get("description"), lang)),
    ]
    if any(c.get("special") for c in a.get("data_categories") or []):
        story.append(para(L["special"], "muted"))
    return [*story, Spacer(1, 2 * mm), key_value_table(rows, label_width=50 * mm), Spacer(1, 3 * mm)]


def rights_block(activities: list[dict[str, Any]], lang: str) -> list[Flowable]:
    """Return the rights that apply to at least one activity, naming the activities where not all do."""
    L = LABELS.get(lang, _EN)  # noqa: N806
    story: list[Flowable] = [CondPageBreak(40 * mm), para(L["rights"], "h1"), para(L["rights_intro"])]
    for right in RIGHTS:
        applies = [
            localised(a.get("name"), lang)
            for a in activities
            if any(r.get("right") == right and r.get("applies") for r in a.get("rights") or [])
        ]
        if not applies:
            continue
        line = L["rights_text"][right]
        if len(applies) < len(activities):
            line += " " + L["applies_to"].format(names=", ".join(applies))
        story += [Spacer(1, 1.5 * mm), para(f"• {line}")]
    return story


def _responsible(
    controller: dict[str, Any] | None,
    orgs: dict[str, dict[str, Any]],
    activities: list[dict[str, Any]],
    lang: str,
) -> list[Flowable]:
    L = LABELS.get(lang, _EN)  # noqa: N806
    joint = sorted({s for a in activities for s in a.get("joint_controllers") or []})
    rows: list[tuple[str, Any]] = [(L["controller"], localised((controller or {}).get("name"), lang))]
    rows += contact_rows(controller, lang)
    if dpo_text(controller):
        rows.append((L["dpo"], dpo_text(controller)))
    if joint:
        rows.append((L["joint"], [_org_line(orgs, s, lang) for s in joint]))
    return [para(L["responsible"], "h1"), key_value_table(rows, label_width=50 * mm)]


def _org_line(orgs: dict[str, dict[str, Any]], slug: str, lang: str) -> str:
    org = orgs.get(slug) or {}
    details = ", ".join(str(v) for v in (org.get("org_number"), org.get("email")) if v)
    return f"{org_name(orgs, slug, lang)} ({details})" if details else org_name(orgs, slug, lang)


def _processors(
    orgs: dict[str, dict[str, Any]], activities: list[dict[str, Any]], lang: str
) -> list[Flowable]:
    L = LABELS.get(lang, _EN)  # noqa: N806
    slugs = sorted(
        {p["organisation"] for a in activities for p in a.get("processors") or [] if p.get("organisation")}
    )
    if not slugs:
        return []
    lines = [f"• {_org_line(orgs, slug, lang)}" for slug in slugs]
    return [CondPageBreak(30 * mm), para(L["all_processors"], "h1"), para(L["processors_intro"])] + [
        para(line) for line in lines
    ]


def render_notice_pdf(
    *,
    notice: dict[str, Any],
    organisations: dict[str, dict[str, Any]],
    activities: list[dict[str, Any]],
    generated_at: datetime,
    lang: str,
) -> bytes:
    """Render a service's public privacy notice as a PDF for data subjects, in nb or en."""
    L = LABELS.get(lang, _EN)  # noqa: N806
    slug = notice.get("controller")
    controller = {"slug": slug, **organisations[slug]} if slug in organisations else None
    title = localised(notice.get("title"), lang)
    story: list[Flowable] = letterhead(controller, title=title, lang=lang, generated_at=generated_at)
    story += [Spacer(1, 4 * mm), para(localised(notice.get("intro"), lang)), Spacer(1, 4 * mm)]
    story += _responsible(controller, organisations, activities, lang)
    story += [para(L["processing"], "h1")]
    for activity in activities:
        story += activity_block(activity, organisations, lang)
    story += _processors(organisations, activities, lang)
    story += rights_block(activities, lang)
    contact = [localised(notice.get("contact"), lang)]
    contact += [
        f"{label}: {value}"
        for label, value in contact_rows(controller, lang)
        if label != text("org_number", lang)
    ]
    if dpo_text(controller):
        contact.append(f"{L['dpo']}: {dpo_text(controller)}")
    story += [CondPageBreak(30 * mm), para(L["contact"], "h1"), *[para(line) for line in contact]]
    story += [
        CondPageBreak(30 * mm),
        para(L["complain"], "h1"),
        para(L["complain_text"].format(dt=DATATILSYNET)),
    ]
    name = localised((controller or {}).get("name"), lang)
    return build_pdf(
        story, title=title, author=name, lang=lang, footer=" – ".join(v for v in (title, name) if v)
    )
