"""A consent receipt as a PDF the subject can download (Kantara Consent Receipt v1.1, ISO/IEC TS 27560)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from privacy_service.documents import build_pdf, key_value_table, para
from privacy_service.kernel import utcnow
from privacy_service.wording import format_datetime

DATATILSYNET = "Datatilsynet, www.datatilsynet.no"

LABELS: dict[str, dict[str, str]] = {
    "nb": {
        "title_given": "Samtykkekvittering – samtykke gitt",
        "title_withdrawn": "Samtykkekvittering – samtykke trukket tilbake",
        "receipt": "Kvittering",
        "receipt_id": "Kvitterings-ID",
        "time": "Tidspunkt",
        "subject": "Den registrerte",
        "method": "Innhentet via",
        "state": "Status",
        "controllers": "Behandlingsansvarlig",
        "org_number": "Organisasjonsnummer",
        "contact": "Kontakt",
        "address": "Adresse",
        "phone": "Telefon",
        "web": "Nettsted",
        "service": "Tjeneste",
        "purpose": "Formål",
        "data": "Opplysninger",
        "termination": "Lagring og sletting",
        "third_party": "Utlevering til andre",
        "sensitive": "Særlige kategorier",
        "notice": "Samtykketekst",
        "version": "versjon",
        "policy": "Personvernerklæring",
        "jurisdiction": "Jurisdiksjon",
        "withdraw": "Slik trekker du samtykket",
        "complain": "Du kan klage til Datatilsynet ({dt}) om du mener vi behandler opplysninger i strid med "
        "personvernreglene.",
        "yes": "Ja",
        "no": "Nei",
        "schema": "Format",
    },
    "en": {
        "title_given": "Consent receipt – consent given",
        "title_withdrawn": "Consent receipt – consent withdrawn",
        "receipt": "Receipt",
        "receipt_id": "Receipt id",
        "time": "Time",
        "subject": "Data subject",
        "method": "Collected via",
        "state": "Status",
        "controllers": "Controller",
        "org_number": "Organisation number",
        "contact": "Contact",
        "address": "Address",
        "phone": "Phone",
        "web": "Website",
        "service": "Service",
        "purpose": "Purpose",
        "data": "Data",
        "termination": "Retention and deletion",
        "third_party": "Disclosed to others",
        "sensitive": "Special categories",
        "notice": "Consent text",
        "version": "version",
        "policy": "Privacy notice",
        "jurisdiction": "Jurisdiction",
        "withdraw": "How to withdraw",
        "complain": "You may complain to the Norwegian Data Protection Authority ({dt}) if you believe we "
        "process your data unlawfully.",
        "yes": "Yes",
        "no": "No",
        "schema": "Format",
    },
}


# The channel and the DPV status in words: the receipt keeps the codes in its JSON; a person reads the PDF.
WORDS: dict[str, dict[str, str]] = {
    "nb": {
        "web": "nettskjema", "app": "app", "email": "e-post", "api": "en portal (maskin-til-maskin)",
        "paper": "papirskjema", "phone": "telefon", "in_person": "personlig oppmøte",
        "dpv:ConsentGiven": "samtykke gitt", "dpv:RenewedConsentGiven": "samtykke fornyet",
        "dpv:ConsentWithdrawn": "samtykke trukket tilbake",
    },
    "en": {
        "web": "web form", "app": "app", "email": "e-mail", "api": "a portal (machine to machine)",
        "paper": "paper form", "phone": "phone", "in_person": "in person",
        "dpv:ConsentGiven": "consent given", "dpv:RenewedConsentGiven": "consent renewed",
        "dpv:ConsentWithdrawn": "consent withdrawn",
    },
}  # fmt: skip


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
