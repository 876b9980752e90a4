"""The consent receipt of one change: Kantara Consent Receipt v1.1 fields plus the ISO/IEC TS 27560 record.

One consent is one ISO/IEC TS 27560 record: it starts when consent is given, carries every later event
(a renewal, the withdrawal that ends it), and keeps its id across them; each event gets its own receipt
(consentReceiptID). The record id is the receipt id of the event that started the consent, so receipts
issued before records were kept across events keep theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from privacy_service.ropa import service as ropa

KANTARA_VERSION = "KI-CR-v1.1.0"
ISO_27560 = "ISO/IEC TS 27560:2023"
JURISDICTION = "NO"
GDPR_CONSENT = "GDPR Art. 6(1)(a)"
GDPR_EXPLICIT = "GDPR Art. 9(2)(a)"
# Who performed an event, by the kind of actor that recorded it (audit.Actor.kind)
PERFORMERS = {"subject": "data_subject", "api_client": "portal_client", "user": "officer"}


def _loc(value: Any, lang: str) -> str:
    if isinstance(value, Mapping):
        return str(value.get(lang) or value.get("nb") or value.get("en") or "")
    return "" if value is None else str(value)


def _controller(org: Mapping[str, Any] | None, lang: str, *, role: str) -> dict[str, Any]:
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
        "role": role,  # controller | joint_controller (Art. 26)
    }


def _controller_label(controller: Mapping[str, Any]) -> str:
    name, number = controller["piiController"], controller.get("orgNumber")
    return f"{name} ({number})" if number else name


def _categories(activity: ropa.Activity) -> list[dict[str, Any]]:
    """The activity's data categories as the registry records them: key, name, and whether special (Art. 9).

    The view names categories by key only and the receipt prints their names, so it reads them from the
    stored record here, and nowhere else.
    """
    return activity.record.get("data_categories") or []


def consent_type(activity: ropa.Activity) -> str:
    """EXPLICIT where special categories are processed on explicit consent (Art. 9(2)(a)), else EXPRESSED."""
    return "EXPLICIT" if "9(2)(a)" in activity.art9_conditions else "EXPRESSED"


def _purposes(
    activity: ropa.Activity,
    lang: str,
    *,
    categories: list[dict[str, Any]],
    third_parties: list[str],
    retention: str,
) -> list[dict[str, Any]]:
    """The Kantara purposes of an activity, the first one primary.

    thirdPartyDisclosure names only third parties (Art. 4(10)): a processor acting for the controller is a
    recipient but no third party, and the specification does not count it as disclosure either.
    """
    return [
        {
            "purpose": _loc(p, lang),
            "purposeCategory": list(activity.purpose_categories or (ropa.DEFAULT_PURPOSE_CATEGORY,)),
            "consentType": consent_type(activity),
            "piiCategory": [_loc(c.get("name"), lang) for c in categories],
            "primaryPurpose": index == 0,
            "termination": retention,
            "thirdPartyDisclosure": bool(third_parties),
            "thirdPartyName": "; ".join(third_parties) or None,
        }
        for index, p in enumerate(activity.purposes)
    ]


def _parties(
    activity: ropa.Activity,
    controllers: list[dict[str, Any]],
    organisations: Mapping[str, Mapping[str, Any]],
    third_parties: list[str],
    lang: str,
) -> list[dict[str, Any]]:
    """Everyone the consent's data goes to, each with the role it has in this activity."""
    parties = [
        {"name": c["piiController"], "org_number": c.get("orgNumber"), "role": c["role"]} for c in controllers
    ]
    for processor in activity.processors:
        org = organisations.get(processor.organisation) or {}
        name = _loc(org.get("name"), lang) or processor.organisation
        parties.append({"name": name, "org_number": org.get("org_number"), "role": processor.role})
    parties += [{"name": name, "org_number": None, "role": "third_party"} for name in third_parties]
    return parties


def _storage(activity: ropa.Activity, lang: str, systems: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Where the activity keeps the data: each system and, where the registry says, where it runs. A system
    the record names by its data-map key is said in the data map's words, never as the key."""
    out = []
    for s in activity.record.get("systems") or []:
        name = s.get("name")
        described = systems.get(name) if isinstance(name, str) else None
        location = _loc(s.get("location"), lang) or None
        out.append({"system": _loc(described or name, lang), "location": location})
    return out


def _performer(actor: str | None, subject: str) -> dict[str, Any]:
    """The entity that performed an event: the subject, a portal client (by name), an officer or the system.

    An officer is named by role only: the receipt goes to the subject and the portal, not the officer's name.
    """
    kind, _, ident = (actor or "").partition(":")
    role = PERFORMERS.get(kind, "system")
    ident_of = {"data_subject": subject, "portal_client": ident}
    return {"role": role, "id": ident_of.get(role)}


def _record_so_far(previous: Mapping[str, Any] | None) -> tuple[str | None, list[dict[str, Any]], str | None]:
    """The consent record a new event belongs to: (record id, its events so far, when it started).

    A consent given and not withdrawn is continued by the next event; otherwise the next event starts a new
    record (None).
    """
    record = (previous or {}).get("iso27560") or {}
    last = record.get("event") or {}
    if last.get("type") != "given":
        return None, [], None
    assert previous is not None
    record_id = record.get("record_id") or previous.get("consentReceiptID")
    events = list(record.get("events") or [{**last, "id": previous.get("consentReceiptID")}])
    started = (record.get("validity") or {}).get("start") or last.get("time")
    return record_id, events, started


def _legal_basis(activity: ropa.Activity) -> list[str]:
    """Consent (Art. 6(1)(a)), and explicit consent (Art. 9(2)(a)) where special categories rest on it."""
    return [GDPR_CONSENT, GDPR_EXPLICIT] if consent_type(activity) == "EXPLICIT" else [GDPR_CONSENT]


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
    actor: str | None = None,
    previous: Mapping[str, Any] | None = None,
    systems: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the receipt as issued for one consent event (kept with the event, never rebuilt).

    previous: the receipt of the subject's last event for this purpose, if any: a consent still given is the
    record this event continues (a renewal) or ends (a withdrawal). systems: the data map's descriptions by
    system key, for the storage locations.
    """
    controllers = [
        _controller(organisations.get(activity.controller), lang, role="controller"),
        *(
            _controller(organisations.get(slug), lang, role="joint_controller")
            for slug in activity.joint_controllers
        ),
    ]
    categories = _categories(activity)
    special = [_loc(c.get("name"), lang) for c in categories if c.get("special")]
    third_parties = [_loc(t, lang) for t in activity.third_parties]
    retention = _loc(activity.retention.text, lang)
    purposes = _purposes(
        activity, lang, categories=categories, third_parties=third_parties, retention=retention
    )
    record_id, events, started = _record_so_far(previous)
    event: dict[str, Any] = {
        "id": receipt_id,
        "time": at.isoformat(),
        "type": status,
        "state": dpv_status,
        "by": _performer(actor, subject),
    }
    if status == "withdrawn":
        event["terminates"] = record_id  # the record this withdrawal ends; None: nothing was given
    new_record = record_id is None
    record_id = record_id or receipt_id
    return {
        "version": KANTARA_VERSION,
        "jurisdiction": JURISDICTION,
        "consentTimestamp": int(at.timestamp()),
        "collectionMethod": channel,
        "consentReceiptID": receipt_id,
        "publicKey": None,
        "language": lang,
        "piiPrincipalId": subject,
        "piiControllers": controllers,
        "policyUrl": policy_url,
        "services": [{"service": _loc(activity.name, lang), "purposes": purposes}],
        "sensitive": bool(special),
        "spiCat": special,
        "iso27560": {
            "schema_version": ISO_27560,
            "record_id": record_id,
            "receipt_id": receipt_id,
            "subject_id": subject,
            "purpose": activity.slug,
            "notice": {
                "version": notice.get("version") if notice else None,
                "sha256": notice.get("sha256") if notice else None,
                "text": _loc(notice.get("text"), lang) or None if notice else None,
                "url": policy_url,
            },
            "language": lang,
            "data": [_loc(c.get("name"), lang) for c in categories],
            "controllers": [_controller_label(c) for c in controllers],
            "parties": _parties(activity, controllers, organisations, third_parties, lang),
            "recipients": [_loc(r, lang) for r in activity.recipients],
            "legal_basis": _legal_basis(activity),
            "storage_locations": _storage(activity, lang, systems or {}),
            "retention": retention,
            "retention_period": activity.retention.period,
            "validity": {
                "start": at.isoformat() if new_record else started,
                "end": at.isoformat() if status == "withdrawn" else None,
                "expiry": None,  # a consent here does not lapse by time: it lasts until withdrawn
                "duration": None,
                "until_withdrawn": True,
            },
            "jurisdiction": JURISDICTION,
            "withdrawal_method": withdrawal_method,
            "event": event,
            "events": [*events, event],
        },
    }
