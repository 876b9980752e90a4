"""The consent receipt of one change: Kantara Consent Receipt v1.1 fields plus the ISO/IEC TS 27560 record."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from privacy_service.ropa import service as ropa

KANTARA_VERSION = "KI-CR-v1.1.0"
ISO_27560 = "ISO/IEC TS 27560:2023"
JURISDICTION = "NO"


def _loc(value: Any, lang: str) -> str:
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("nb") or value.get("en") or "")
    return "" if value is None else str(value)


def _controller(org: dict[str, Any] | None, lang: str) -> dict[str, Any]:
    org = org or {}
    dpo = org.get("dpo") or {}
    return {
        "piiController": _loc(org.get("name"), lang),
        "onBehalf": False,
        "contact": dpo.get("email") or org.get("email"),
        "address": org.get("address"),
        "email": org.get("email"),
        "phone": org.get("phone"),
        "piiControllerUrl": org.get("website"),
        "orgNumber": org.get("org_number"),
    }


def _controller_label(controller: dict[str, Any]) -> str:
    name, number = controller["piiController"], controller.get("orgNumber")
    return f"{name} ({number})" if number else name


def _categories(activity: ropa.Activity) -> list[dict[str, Any]]:
    """The activity's data categories as the registry records them: key, name, and whether special (Art. 9).

    The view names categories by key only and the receipt prints their names, so it reads them from the
    stored record here, and nowhere else.
    """
    return activity.record.get("data_categories") or []


def _purposes(
    activity: ropa.Activity,
    lang: str,
    *,
    categories: list[dict[str, Any]],
    recipients: list[str],
    retention: str,
) -> list[dict[str, Any]]:
    """The Kantara purposes of an activity, the first one primary."""
    return [
        {
            "purpose": _loc(p, lang),
            "purposeCategory": [f"dpv-purpose:{activity.slug}"],
            "consentType": "EXPLICIT",
            "piiCategory": [_loc(c.get("name"), lang) for c in categories],
            "primaryPurpose": index == 0,
            "termination": retention,
            "thirdPartyDisclosure": bool(recipients),
            "thirdPartyName": "; ".join(recipients) or None,
        }
        for index, p in enumerate(activity.purposes)
    ]


def build_receipt(
    *,
    receipt_id: str,
    subject: str,
    status: str,
    dpv_status: str,
    at: datetime,
    channel: str,
    activity: ropa.Activity,
    organisations: dict[str, dict[str, Any]],
    notice: dict[str, Any] | None,
    policy_url: str,
    withdrawal_method: str,
    lang: str = "nb",
) -> dict[str, Any]:
    """Return the receipt as issued for one consent event (kept with the event, never rebuilt)."""
    controllers = [activity.controller, *activity.joint_controllers]
    pii_controllers = [_controller(organisations.get(slug), lang) for slug in controllers]
    categories = _categories(activity)
    special = [_loc(c.get("name"), lang) for c in categories if c.get("special")]
    recipients = [_loc(r, lang) for r in activity.recipients]
    retention = _loc(activity.retention.text, lang)
    purposes = _purposes(activity, lang, categories=categories, recipients=recipients, retention=retention)
    return {
        "version": KANTARA_VERSION,
        "jurisdiction": JURISDICTION,
        "consentTimestamp": int(at.timestamp()),
        "collectionMethod": channel,
        "consentReceiptID": receipt_id,
        "publicKey": None,
        "language": lang,
        "piiPrincipalId": subject,
        "piiControllers": pii_controllers,
        "policyUrl": policy_url,
        "services": [{"service": _loc(activity.name, lang), "purposes": purposes}],
        "sensitive": bool(special),
        "spiCat": special,
        "iso27560": {
            "schema_version": ISO_27560,
            "record_id": receipt_id,
            "subject_id": subject,
            "purpose": activity.slug,
            "notice": {
                "version": notice.get("version") if notice else None,
                "sha256": notice.get("sha256") if notice else None,
                "url": policy_url,
            },
            "language": lang,
            "data": [_loc(c.get("name"), lang) for c in categories],
            "controllers": [_controller_label(c) for c in pii_controllers],
            "recipients": recipients,
            "retention": retention,
            "jurisdiction": JURISDICTION,
            "withdrawal_method": withdrawal_method,
            "event": {"time": at.isoformat(), "type": status, "state": dpv_status},
        },
    }
