"""The record of processing carried out as a processor (GDPR Art. 30(2)) as a PDF for Datatilsynet, in bokmål
or English: plain data in, bytes out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from privacy_service.catalogue import ByLanguage
from privacy_service.documents import build_pdf, key_value_table, letterhead, para
from privacy_service.kernel import utcnow
from privacy_service.registers.labels import label
from privacy_service.ropa.texts import org_name, transfer_text
from privacy_service.wording import localised, text

LABELS = ByLanguage("processor_pdf")


def render_protocol_pdf(
    records: list[Any],
    *,
    processor: dict[str, Any] | None,
    organisations: dict[str, dict[str, Any]],
    lang: str = "nb",
    generated_at: datetime | None = None,
) -> bytes:
    """Render every record with the items of Art. 30(2) (a)-(d), one section per record."""
    L = LABELS.get(lang, LABELS["nb"])  # noqa: N806 - reads as a label table
    story: list[Flowable] = letterhead(
        processor, title=L["title"], lang=lang, generated_at=generated_at or utcnow(), subtitle=L["subtitle"]
    )
    if not records:
        story.append(para(L["empty"]))
    for record in records:
        story += _record(record, organisations, lang)
    return build_pdf(story, title=L["title"], author="privacy-service", lang=lang)


def _record(record: Any, orgs: dict[str, dict[str, Any]], lang: str) -> list[Flowable]:
    L = LABELS.get(lang, LABELS["nb"])  # noqa: N806
    names = [org_name(orgs, s, lang) for s in record.controllers]
    dpo = record.dpo or {}
    period = " – ".join(d.isoformat() for d in (record.started_on, record.ended_on) if d) or "–"
    subs = [
        f"{org_name(orgs, s['organisation'], lang)} ({s['agreement_ref']})" for s in record.sub_processors
    ]
    return [
        Spacer(1, 6 * mm),
        para(
            f"{L['record']} {record.id}: {org_name(orgs, record.processor, lang)} → {', '.join(names)}", "h1"
        ),
        key_value_table(
            [
                (L["processor"], org_name(orgs, record.processor, lang)),
                (
                    L["dpo"],
                    ", ".join(str(v) for v in (dpo.get("name"), dpo.get("email"), dpo.get("phone")) if v)
                    or "–",
                ),
                (L["status"], label("processor_status", record.status, lang)),
                (L["period"], period),
            ]
        ),  # fmt: skip
        para(L["a"], "h2"),
        key_value_table(
            [
                (L["controllers"], names),
                (L["agreement"], record.agreement_ref or text("not_stated", lang)),
                (L["agreement_date"], record.agreement_date.isoformat() if record.agreement_date else "–"),
                (L["sub_processors"], subs or L["none"]),
            ]
        ),
        para(L["b"], "h2"),
        key_value_table(
            [
                (org_name(orgs, c["controller"], lang), localised(c["description"], lang))
                for c in record.categories
            ]
        ),
        para(L["c"], "h2"),
        para("; ".join(transfer_text(t, lang) for t in record.transfers) or L["none"]),
        para(L["d"], "h2"),
        para(localised(record.security_measures, lang)),
    ]
