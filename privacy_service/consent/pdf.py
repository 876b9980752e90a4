"""A consent receipt as a PDF the subject can download (Kantara Consent Receipt v1.1, ISO/IEC TS 27560)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from privacy_service.catalogue import ByLanguage
from privacy_service.documents import build_pdf, key_value_table, para
from privacy_service.kernel import utcnow
from privacy_service.wording import format_datetime

DATATILSYNET = "Datatilsynet, www.datatilsynet.no"

LABELS = ByLanguage("receipt")


# The channel and the DPV status in words: the receipt keeps the codes in its JSON; a person reads the PDF.
WORDS = ByLanguage("receipt_words")


def _word(value: Any, lang: str) -> str:
    return WORDS.get(lang, WORDS["nb"]).get(str(value), _text(value))


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value) or "—"
    return str(value)


def render_receipt_pdf(
    receipt: dict[str, Any], *, lang: str = "nb", generated_at: datetime | None = None
) -> bytes:
    """Render the receipt of one consent change; every field is shown as text, never as markup."""
    L = LABELS.get(lang, LABELS["nb"])  # noqa: N806
    record = receipt.get("iso27560") or {}
    event = record.get("event") or {}
    withdrawn = event.get("type") == "withdrawn"
    title = L["title_withdrawn"] if withdrawn else L["title_given"]
    story: list[Flowable] = [para(title, "title"), Spacer(1, 4 * mm)]
    rows: list[tuple[str, Any] | str] = [
        L["receipt"],
        (L["receipt_id"], _text(receipt.get("consentReceiptID"))),
        (L["time"], format_datetime(event.get("time"), lang) or "—"),
        (L["subject"], _text(receipt.get("piiPrincipalId"))),
        (L["method"], _word(receipt.get("collectionMethod"), lang)),
        (L["state"], _word(event.get("state"), lang)),
        (L["jurisdiction"], _text(receipt.get("jurisdiction"))),
        (L["schema"], f"{_text(receipt.get('version'))}; {_text(record.get('schema_version'))}"),
    ]
    for controller in receipt.get("piiControllers") or []:
        rows += [
            L["controllers"],
            (L["controllers"], _text(controller.get("piiController"))),
            (L["org_number"], _text(controller.get("orgNumber"))),
            (L["contact"], _text(controller.get("contact") or controller.get("email"))),
            (L["address"], _text(controller.get("address"))),
            (L["phone"], _text(controller.get("phone"))),
            (L["web"], _text(controller.get("piiControllerUrl"))),
        ]
    for service in receipt.get("services") or []:
        rows += [L["service"], (L["service"], _text(service.get("service")))]
        for purpose in service.get("purposes") or []:
            disclosed = purpose.get("thirdPartyDisclosure")
            rows += [
                (L["purpose"], _text(purpose.get("purpose"))),
                (L["data"], _text(purpose.get("piiCategory"))),
                (L["termination"], _text(purpose.get("termination"))),
                (
                    L["third_party"],
                    f"{L['yes']}: {_text(purpose.get('thirdPartyName'))}" if disclosed else L["no"],
                ),
            ]
    sensitive = receipt.get("sensitive")
    notice = record.get("notice") or {}
    rows += [
        (L["sensitive"], f"{L['yes']}: {_text(receipt.get('spiCat'))}" if sensitive else L["no"]),
        L["notice"],
        (
            L["notice"],
            f"{L['version']} {_text(notice.get('version'))}, SHA-256 {_text(notice.get('sha256'))}",
        ),
        (L["policy"], _text(receipt.get("policyUrl"))),
        (L["withdraw"], _text(record.get("withdrawal_method"))),
    ]
    story += [key_value_table(rows), Spacer(1, 6 * mm), para(L["complain"].format(dt=DATATILSYNET))]
    story.append(para(format_datetime(generated_at or utcnow(), lang), "muted"))
    controller = ((receipt.get("piiControllers") or [{}])[0] or {}).get("piiController") or ""
    return build_pdf(story, title=title, author=controller, lang=lang, footer=f"{title} – {controller}")
