"""A consent receipt as a PDF the subject can download (Kantara Consent Receipt v1.1, ISO/IEC TS 27560).

The PDF is for a person: every code of the receipt's JSON (channel, status, consent type, purpose category,
roles, legal basis, jurisdiction) is printed in words in the receipt's language, and the consent text the
subject was shown is printed in full, not only its checksum.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from privacy_service.catalogue import ByLanguage, MissingText, words
from privacy_service.documents import build_pdf, key_value_table, para
from privacy_service.kernel import utcnow
from privacy_service.wording import format_datetime

DATATILSYNET = "Datatilsynet, www.datatilsynet.no"

LABELS = ByLanguage("receipt")


# The channel and the DPV status in words: the receipt keeps the codes in its JSON; a person reads the PDF.
WORDS = ByLanguage("receipt_words")

Rows = list[tuple[str, Any] | str]


def _word(value: Any, lang: str) -> str:
    return WORDS.get(lang, WORDS["nb"]).get(str(value), _text(value))


def _coded(prefix: str, code: Any, lang: str) -> str:
    """A code's words from the catalogue (`prefix.code`); the code itself only if the catalogue has none."""
    try:
        return words(f"{prefix}.{code}", lang)
    except MissingText:
        return _text(code)


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value) or "—"
    return str(value)


def _stated(value: Any, L: dict[str, str]) -> str:  # noqa: N803
    return L["not_stated"] if value in (None, "") else str(value)


def _when(value: Any, lang: str) -> str:
    return format_datetime(value, lang) or "—"


def _performer(by: dict[str, Any] | None, lang: str) -> str:
    by = by or {}
    role = by.get("role") or "system"
    if role == "portal_client":
        return words("receipt_words.portal_client", lang, name=by.get("id") or "")
    return _word(role, lang)


def _receipt_rows(receipt: dict[str, Any], record: dict[str, Any], L: dict[str, str], lang: str) -> Rows:  # noqa: N803
    event = record.get("event") or {}
    rows: Rows = [
        L["receipt"],
        (L["receipt_id"], _text(receipt.get("consentReceiptID"))),
        (L["record_id"], _text(record.get("record_id"))),
        (L["time"], _when(event.get("time"), lang)),
        (L["subject"], _text(receipt.get("piiPrincipalId"))),
        (L["method"], _word(receipt.get("collectionMethod"), lang)),
        (L["state"], _word(event.get("state"), lang)),
        (L["by"], _performer(event.get("by"), lang)),
    ]
    if event.get("terminates"):
        rows.append((L["ends_record"], _text(event.get("terminates"))))
    return [
        *rows,
        (L["jurisdiction"], _word(receipt.get("jurisdiction"), lang)),
        (L["schema"], L["format_name"]),
    ]


def _controller_rows(receipt: dict[str, Any], L: dict[str, str], lang: str) -> Rows:  # noqa: N803
    rows: Rows = []
    for controller in receipt.get("piiControllers") or []:
        rows += [
            L["controllers"],
            (L["name"], _text(controller.get("piiController"))),
            (L["role"], _word(controller.get("role") or "controller", lang)),
            (L["org_number"], _stated(controller.get("orgNumber"), L)),
            (L["contact"], _stated(controller.get("contact") or controller.get("email"), L)),
            (L["address"], _stated(controller.get("address"), L)),
            (L["email"], _stated(controller.get("email"), L)),
            (L["phone"], _stated(controller.get("phone"), L)),
            (L["web"], _stated(controller.get("piiControllerUrl"), L)),
        ]
    return rows


def _service_rows(receipt: dict[str, Any], L: dict[str, str], lang: str) -> Rows:  # noqa: N803
    rows: Rows = []
    for service in receipt.get("services") or []:
        rows += [L["service"], (L["name"], _text(service.get("service")))]
        for purpose in service.get("purposes") or []:
            categories = [_coded("receipt_category", c, lang) for c in purpose.get("purposeCategory") or []]
            disclosed = purpose.get("thirdPartyDisclosure")
            rows += [
                (L["purpose"], _text(purpose.get("purpose"))),
                (L["purpose_category"], _text(categories)),
                (L["consent_type"], _word(purpose.get("consentType"), lang)),
                (L["data"], _text(purpose.get("piiCategory"))),
                (L["termination"], _text(purpose.get("termination"))),
                (
                    L["third_party"],
                    f"{L['yes']}: {_text(purpose.get('thirdPartyName'))}" if disclosed else L["no"],
                ),
            ]
    return rows


def _record_rows(receipt: dict[str, Any], record: dict[str, Any], L: dict[str, str], lang: str) -> Rows:  # noqa: N803
    sensitive = receipt.get("sensitive")
    rows: Rows = [
        (L["sensitive"], f"{L['yes']}: {_text(receipt.get('spiCat'))}" if sensitive else L["no"]),
        (L["legal_basis"], _text([_coded("receipt_basis", b, lang) for b in _bases(record)])),
    ]
    parties = record.get("parties") or []
    if parties:
        rows.append(L["parties"])
        rows += [(_word(p.get("role"), lang), _text(p.get("name"))) for p in parties]
    storage = record.get("storage_locations") or []
    if storage:
        places = [f"{s['system']} ({s['location']})" if s.get("location") else s["system"] for s in storage]
        rows.append((L["storage"], _text(places)))
    validity = record.get("validity") or {}
    if validity.get("start"):
        start, end = _when(validity.get("start"), lang), validity.get("end")
        text = L["ended"].format(start=start, end=_when(end, lang)) if end else None
        rows.append((L["validity"], text or L["valid_until_withdrawn"].format(start=start)))
    return rows


def _bases(record: dict[str, Any]) -> list[str]:
    """The legal bases as catalogue codes: "GDPR Art. 6(1)(a)" → "6(1)(a)"."""
    return [str(b).removeprefix("GDPR Art. ") for b in record.get("legal_basis") or []]


def _notice_rows(receipt: dict[str, Any], record: dict[str, Any], L: dict[str, str]) -> Rows:  # noqa: N803
    notice = record.get("notice") or {}
    return [
        L["notice"],
        (L["consent_text"], _text(notice.get("text"))),
        (L["text_version"], _text(notice.get("version"))),
        (L["checksum"], _text(notice.get("sha256"))),
        (L["policy"], _text(receipt.get("policyUrl"))),
        (L["withdraw"], _text(record.get("withdrawal_method"))),
    ]


def render_receipt_pdf(
    receipt: dict[str, Any], *, lang: str = "nb", generated_at: datetime | None = None
) -> bytes:
    """Render the receipt of one consent change; every field is shown as text, never as markup."""
    L = LABELS.get(lang, LABELS["nb"])  # noqa: N806
    record = receipt.get("iso27560") or {}
    withdrawn = (record.get("event") or {}).get("type") == "withdrawn"
    title = L["title_withdrawn"] if withdrawn else L["title_given"]
    story: list[Flowable] = [para(title, "title"), Spacer(1, 4 * mm)]
    rows = [
        *_receipt_rows(receipt, record, L, lang),
        *_controller_rows(receipt, L, lang),
        *_service_rows(receipt, L, lang),
        *_record_rows(receipt, record, L, lang),
        *_notice_rows(receipt, record, L),
    ]
    story += [key_value_table(rows), Spacer(1, 6 * mm), para(L["complain"].format(dt=DATATILSYNET))]
    story.append(para(format_datetime(generated_at or utcnow(), lang), "muted"))
    controller = ((receipt.get("piiControllers") or [{}])[0] or {}).get("piiController") or ""
    return build_pdf(story, title=title, author=controller, lang=lang, footer=f"{title} – {controller}")
