"""The notification of a breach to Datatilsynet as a PDF (GDPR Art. 33(3) (a)-(d)), in bokmål or English."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from privacy_service.catalogue import ByLanguage
from privacy_service.documents import build_pdf, dpo_text, key_value_table, letterhead, para
from privacy_service.kernel import utcnow
from privacy_service.registers.labels import label
from privacy_service.wording import format_datetime, localised, text

LABELS = ByLanguage("breach_pdf")


def render_notification_pdf(
    breach: Any,
    *,
    controller: dict[str, Any],
    activity_names: dict[str, Any],
    lang: str = "nb",
    generated_at: datetime | None = None,
    category_names: dict[str, Any] | None = None,
) -> bytes:
    """Render the notification with every Art. 33(3) item, the discovery time, the deadline and, when the
    notification is late, the reasons for the delay."""
    L = LABELS.get(lang, LABELS["nb"])  # noqa: N806
    unknown = L["unknown"]
    story: list[Flowable] = letterhead(
        controller, title=L["title"], lang=lang, generated_at=generated_at or utcnow(), subtitle=L["subtitle"]
    )
    story += [
        Spacer(1, 4 * mm),
        key_value_table(
            [
                (L["reference"], breach.reference),
                (L["authority_reference"], breach.authority_reference or "–"),
                (L["discovered"], format_datetime(breach.discovered_at, lang)),
                (L["deadline"], format_datetime(breach.notify_authority_by, lang)),
                (L["notified"], format_datetime(breach.authority_notified_at, lang) or L["not_yet"]),
            ]
        ),
        para(L["a"], "h1"),
        para(breach.title, "h2"),
        key_value_table(
            [
                (L["what"], breach.description),
                (L["occurred"], format_datetime(breach.occurred_at, lang) or unknown),
                (
                    L["data_categories"],
                    _categories(breach.data_categories, category_names or {}, lang) or unknown,
                ),
                (L["subject_categories"], ", ".join(breach.subject_categories) or unknown),
                (L["approx_subjects"], _number(breach.approx_subjects, unknown)),
                (L["approx_records"], _number(breach.approx_records, unknown)),
                (
                    L["activities"],
                    "; ".join(_activity(s, activity_names, lang) for s in breach.activities) or "–",
                ),
            ]
        ),
        para(L["b"], "h1"),
        key_value_table(
            [
                (L["controller"], localised(controller.get("name"), lang) or "–"),
                (text("dpo", lang), dpo_text(controller) or "–"),
            ]
        ),
        para(L["c"], "h1"),
        para(breach.consequences or unknown),
        para(L["d"], "h1"),
        para(breach.measures or unknown),
        para(L["risk"], "h1"),
        key_value_table(
            [
                (L["risk_level"], label("risk", breach.risk_level, lang) if breach.risk_level else "–"),
                (L["reasons"], breach.risk_reasons or "–"),
            ]
        ),
    ]
    if breach.delay_reasons:  # Art. 33(1): a late notification gives the reasons for the delay
        story += [para(L["delay"], "h1"), para(breach.delay_reasons)]
    return build_pdf(story, title=f"{L['title']} {breach.reference}", author="privacy-service", lang=lang,
                     footer=breach.reference)  # fmt: skip


def _number(value: int | None, unknown: str) -> str:
    return unknown if value is None else f"{value:,}".replace(",", " ")


def _activity(slug: str, names: dict[str, Any], lang: str) -> str:
    return localised(names.get(slug), lang) or slug  # by its name: the authority does not know our keys


def _categories(given: list[str], names: dict[str, Any] | None, lang: str) -> str:
    """The categories as the officer wrote them, a data category's key by its name in the record."""
    names = names or {}
    return ", ".join(localised(names[c], lang) if c in names else c for c in given)
