"""The answer letter (reportlab), in the subject's language: per activity what was done, what was not and
under which article or hold; for access the data and everything Art. 15(1) lists; the right to complain."""

from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from privacy_service.documents import build_pdf, data_table, key_value_table, letterhead, para
from privacy_service.dsar import appeals, decisions
from privacy_service.dsar.answer import Answer
from privacy_service.dsar.letter import to_flowables
from privacy_service.dsar.models import DsarOutcome
from privacy_service.kernel import LEGAL_BASES, rights_for
from privacy_service.retention.service import public_text
from privacy_service.wording import format_datetime, localised, period_text

MAX_ROWS_IN_LETTER = 200  # more rows are in the attached files only

L: dict[str, dict[str, Any]] = {
    "nb": {
        "title": "Svar på henvendelsen din",
        "reference": "Referanse",
        "received": "Mottatt",
        "answered": "Besvart",
        "asked": "Du ba om",
        "types": {
            "access": "innsyn i opplysningene vi har om deg (art. 15)",
            "rectification": "retting av opplysninger (art. 16)",
            "erasure": "sletting av opplysninger (art. 17)",
            "restriction": "begrensning av behandlingen (art. 18)",
            "objection": "å protestere mot behandlingen (art. 21)",
            "portability": "å få utlevert opplysningene dine i en fil (art. 20)",
            "consent_withdrawal": "å trekke tilbake samtykke (art. 7 nr. 3)",
        },
        "summary": "Dette har vi gjort, per behandling",
        "activity": "Behandling",
        "outcome": "Utfall",
        "ground": "Grunnlag",
        "rows": "Registreringer",
        "outcomes": {
            "done": "Utført", "partial": "Delvis utført", "refused": "Avslått", "pending": "Ikke ferdig",
            "not_applicable": "Retten gjelder ikke", "no_data": "Vi har ingen opplysninger",
            "not_checked": "Ikke kontrollert ennå", "forwarded": "Sendt videre",
        },
        "refused_on": "Avslått fordi {ground}. Begrunnelse: {reasons}",
        "kept": "Opplysninger vi må beholde",
        "kept_text": "{n} registrering(er) i «{activity}» er beholdt: {why}",
        "told": "Vi har varslet disse som behandler opplysningene for oss (art. 19): {names}.",
        "about": "Om behandlingen",
        "purposes": "Formål", "basis": "Rettslig grunnlag", "categories": "Opplysninger",
        "recipients": "Mottakere", "retention": "Lagringstid", "source": "Hvor opplysningene kommer fra",
        "rights": "Dine rettigheter", "automated": "Automatiserte avgjørelser",
        "none": "Ingen", "no_automated": "Ingen automatiserte avgjørelser eller profilering.",
        "automated_yes": "Ja: se personvernerklæringen for logikken og betydningen (art. 22).",
        "data": "Opplysningene vi har om deg",
        "more_rows": "Viser {shown} av {total} rader; alle ligger i den vedlagte filen.",
        "consents": "Samtykkene dine", "consent_line": "{purpose}: {status} (sist endret {at})",
        "earlier": "Tidligere henvendelser fra deg",
        "files": "Opplysningene ligger også i den vedlagte ZIP-filen, som JSON og CSV per tabell, med en "
        "beskrivelse av hver fil (manifest.json).",
        "complain_head": "Klage",
        "complain": "Du kan klage til Datatilsynet om du mener vi behandler personopplysningene dine i strid "
        "med reglene: Datatilsynet, Postboks 458 Sentrum, 0105 Oslo, telefon 22 39 69 00, "
        "postkasse@datatilsynet.no, www.datatilsynet.no.",
    },
    "en": {
        "title": "Answer to your request",
        "reference": "Reference",
        "received": "Received",
        "answered": "Answered",
        "asked": "You asked for",
        "types": {
            "access": "access to the data we hold about you (Art. 15)",
            "rectification": "rectification of data (Art. 16)",
            "erasure": "erasure of data (Art. 17)",
            "restriction": "restriction of processing (Art. 18)",
            "objection": "to object to the processing (Art. 21)",
            "portability": "your data in a file (Art. 20)",
            "consent_withdrawal": "to withdraw consent (Art. 7(3))",
        },
        "summary": "What we did, per processing activity",
        "activity": "Activity",
        "outcome": "Outcome",
        "ground": "Ground",
        "rows": "Records",
        "outcomes": {
            "done": "Done", "partial": "Partly done", "refused": "Refused", "pending": "Not finished",
            "not_applicable": "The right does not apply", "no_data": "We hold no data",
            "not_checked": "Not yet checked", "forwarded": "Sent on",
        },
        "refused_on": "Refused because of {ground}. Reasons: {reasons}",
        "kept": "Data we must keep",
        "kept_text": "{n} record(s) in “{activity}” are kept: {why}",
        "told": "We have told those who process the data for us (Art. 19): {names}.",
        "about": "About the processing",
        "purposes": "Purposes", "basis": "Legal basis", "categories": "Data",
        "recipients": "Recipients", "retention": "Retention", "source": "Where the data comes from",
        "rights": "Your rights", "automated": "Automated decisions",
        "none": "None", "no_automated": "No automated decisions or profiling.",
        "automated_yes": "Yes: the privacy notice describes the logic and its consequences (Art. 22).",
        "data": "The data we hold about you",
        "more_rows": "Showing {shown} of {total} rows; all are in the attached file.",
        "consents": "Your consents", "consent_line": "{purpose}: {status} (last changed {at})",
        "earlier": "Your earlier requests",
        "files": "The data is also in the attached ZIP file, as JSON and CSV per table, with a description "
        "of each file (manifest.json).",
        "complain_head": "Complaints",
        "complain": "You may complain to the Norwegian Data Protection Authority if you believe we process "
        "your personal data unlawfully: Datatilsynet, Postboks 458 Sentrum, 0105 Oslo, Norway, "
        "phone +47 22 39 69 00, postkasse@datatilsynet.no, www.datatilsynet.no.",
    },
}  # fmt: skip


def render_letter(answer: Answer) -> bytes:
    """The answer letter as PDF bytes."""
    req = answer.request
    lang = req.language if req.language in L else "nb"
    t = L[lang]
    first = next(iter(answer.activities.values()), {})
    controller = answer.organisations.get(first.get("controller") or "helsedir") or answer.organisations.get(
        "helsedir"
    )
    story: list[Flowable] = letterhead(
        controller,
        title=f"{t['title']} ({req.reference})",
        lang=lang,
        generated_at=answer.generated_at,
        extra_rows=[
            (t["reference"], req.reference),
            (t["received"], format_datetime(req.received_at, lang)),
            (t["answered"], format_datetime(answer.generated_at, lang)),
        ],
    )
    story += [para(f"{t['asked']} {t['types'][req.type]}."), Spacer(1, 4 * mm), para(t["summary"], "h1")]
    names = {slug: localised(a.get("name"), lang) for slug, a in answer.activities.items()}
    story.append(
        data_table(
            [t["activity"], t["outcome"], t["ground"], t["rows"]],
            [
                [
                    names[o.activity],
                    t["outcomes"].get(o.outcome, o.outcome),
                    _ground(o, lang),
                    _records(o),
                ]  # fmt: skip
                for o in answer.outcomes
            ],
            widths=[42 * mm, 28 * mm, 82 * mm, 18 * mm],
        )
    )
    kept = [  # the hold's text for the subject, never its basis: that is an internal note
        t["kept_text"].format(n=o.held, activity=names[o.activity], why=_kept_because(holds, lang))
        for o in answer.outcomes
        if o.held and (holds := o.details.get("holds") or [])
    ]
    if kept:
        story += [para(t["kept"], "h2"), *[para(k) for k in kept]]
    told = sorted({name for o in answer.outcomes for name in o.details.get("told", [])})
    if told:
        story += [Spacer(1, 3 * mm), para(t["told"].format(names=", ".join(told)))]
    if req.type == "access":
        story += _access_sections(answer, lang, names)
    if answer.rows:
        story += [Spacer(1, 3 * mm), para(t["files"], "muted")]
    story += to_flowables(appeals.letter_blocks(answer, lang))
    story += [para(t["complain_head"], "h1"), para(t["complain"])]
    return build_pdf(story, title=f"{t['title']} {req.reference}", lang=lang, footer=req.reference)


def _kept_because(holds: list[dict[str, Any]], lang: str) -> str:
    texts = (public_text(h.get("kind", "other"), h.get("public_text"), lang) for h in holds)
    return " ".join(dict.fromkeys(texts))


def _ground(o: DsarOutcome, lang: str) -> str:
    """The ground column: the officer's refusal in words, what the search by hand found, or the rule."""
    if o.outcome == "refused" and o.decision == "refuse":
        reasons = o.decision_reasons or ""
        return L[lang]["refused_on"].format(
            ground=decisions.ground_text(o.decision_ground, lang), reasons=reasons
        )
    if o.manual_result:
        return decisions.manual_text(o, lang)
    return f"{o.legal_ground}: {o.reason}"


def _records(o: DsarOutcome) -> str:
    if o.records is not None:
        return str(o.records)
    return str(o.manual_records) if o.manual_records is not None else "–"


def _access_sections(answer: Answer, lang: str, names: dict[str, str]) -> list[Flowable]:
    t = L[lang]
    story: list[Flowable] = []
    for o in answer.outcomes:
        activity = answer.activities[o.activity]
        if o.outcome not in ("done", "partial"):
            continue
        basis = activity.get("legal_basis", "")
        rights = [r for r in rights_for(basis, art9_condition=activity.get("art9_condition")) if r["applies"]]
        retention = activity.get("retention") or {}
        kept_for = localised(retention.get("text"), lang) or period_text(retention.get("period"), lang)
        recipients = [localised(r, lang) for r in activity.get("recipients") or []]
        story += [
            para(names[o.activity], "h1"),
            key_value_table(
                [
                    t["about"],
                    (t["purposes"], [localised(p, lang) for p in activity.get("purposes") or []]),
                    (t["basis"], LEGAL_BASES.get(basis, {}).get(lang, basis)),
                    (
                        t["categories"],
                        [localised(c.get("name"), lang) for c in activity.get("data_categories") or []],
                    ),
                    (t["recipients"], recipients or t["none"]),
                    (t["retention"], kept_for),
                    (t["source"], localised(activity.get("source"), lang) or t["none"]),
                    (t["rights"], [f"{r['article']}: {r['right'].replace('_', ' ')}" for r in rights]),
                    (
                        t["automated"],
                        t["automated_yes"] if activity.get("automated_decisions") else t["no_automated"],
                    ),
                ]
            ),
        ]
        for table in answer.rows.get(o.activity, []):
            columns = [table.key, *(c for c in table.categories if c != table.key)]
            shown = table.rows[:MAX_ROWS_IN_LETTER]
            story += [
                para(f"{t['data']}: {table.system}.{table.table}", "h2"),
                data_table(columns, [[r.get(c) for c in columns] for r in shown]),
            ]
            if len(table.rows) > len(shown):
                story.append(para(t["more_rows"].format(shown=len(shown), total=len(table.rows)), "muted"))
    if answer.consents:
        story.append(para(t["consents"], "h1"))
        for c in answer.consents:
            last = c["history"][-1]["at"] if c["history"] else ""
            story.append(para(t["consent_line"].format(purpose=c["purpose"], status=c["status"],
                                                       at=format_datetime(last, lang))))  # fmt: skip
    if answer.earlier:
        story += [
            para(t["earlier"], "h1"),
            data_table(
                [t["reference"], t["asked"], t["outcome"], t["received"]],
                [[e["reference"], e["type"], e["status"], format_datetime(e["received_at"], lang)]
                 for e in answer.earlier],
            ),
        ]  # fmt: skip
    return story
