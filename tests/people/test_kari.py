"""Kari's status answers under each of her identifiers, before and after her portal links its user id to
her (issue 21's closing table: `pytest tests/people/test_kari.py -s -p no:xdist` prints it)."""

from __future__ import annotations

from typing import Any

from tests_support import bearer

from privacy_service.audit import Actor
from privacy_service.consent import service as consent
from privacy_service.db import transaction
from privacy_service.kernel import valid_national_id

KARI = "kari.nordmann@example.no"
PID = next(p for n in range(10000, 99999) if valid_national_id(p := f"158885{n}"))
ASKS = [("helsedata-portal", "u-7f3a9c"), ("mail-service", KARI), ("other-portal", "u-7f3a9c")]
READS = [("accounts", "processing"), ("surveys", "processing"), ("surveys", "consent")]


def _table(client: Any, keys: dict[str, dict[str, str]]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for name, subject in ASKS:
        # the other portal's own user: only what would tell it of Kari's restriction (a consent under the
        # same text is one record whoever recorded it: docs/people.md, the gap left for a later issue)
        for activity, read in READS if name != "other-portal" else READS[:1]:
            if read == "processing":
                url = f"/api/v1/subjects/{subject}/processing?activity={activity}"
                answer = client.get(url, headers=keys[name]).get_json()["status"]
            else:
                got = client.get(f"/api/v1/consents/{subject}/{activity}", headers=keys[name])
                answer = got.get_json()["status"] if got.status_code == 200 else f"{got.status_code}"
            rows.append((name, subject, activity, read, answer))
    return rows


def test_karis_answers_are_the_same_under_every_identifier_once_linked(app, client, make_key) -> None:  # type: ignore[no-untyped-def]
    keys = {
        name: bearer(make_key("subjects:link", "consent:read", "consent:write", name=name))
        for name, __ in ASKS
    }
    # her portal recorded her survey consent under its own user id
    client.put(
        "/api/v1/consents/u-7f3a9c/surveys", json={"status": "given"}, headers=keys["helsedata-portal"]
    )
    # she withdrew by mail, under her address; an officer restricted her accounts data (Art. 18)
    client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "given"}, headers=keys["mail-service"])
    client.put(f"/api/v1/consents/{KARI}/surveys", json={"status": "withdrawn"}, headers=keys["mail-service"])
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        consent.set_flag(
            session, subject=KARI, activity="accounts", kind="restricted", actor=Actor("user", "o")
        )
    before = _table(client, keys)
    linked = client.post(
        "/api/v1/subjects/links",
        json={"portal_id": "u-7f3a9c", "login": "ID-porten", "national_id": PID, "email": KARI,
              "email_verified": True},
        headers=keys["helsedata-portal"],
    )  # fmt: skip
    assert linked.status_code == 200
    after = _table(client, keys)
    print("\n| asked by | with | activity | read | before | after |\n|---|---|---|---|---|---|")
    for b, a in zip(before, after, strict=True):
        print(f"| {b[0]} | {b[1]} | {b[2]} | {b[3]} | {b[4]} | {a[4]} |")
    assert [(r[0], r[2], r[3], r[4]) for r in before] == [
        ("helsedata-portal", "accounts", "processing", "allowed"),  # the gap issue 21 closes
        ("helsedata-portal", "surveys", "processing", "allowed"),  # and the withdrawal it did not hear of
        ("helsedata-portal", "surveys", "consent", "given"),
        ("mail-service", "accounts", "processing", "restricted"),
        ("mail-service", "surveys", "processing", "consent_withdrawn"),
        ("mail-service", "surveys", "consent", "withdrawn"),
        ("other-portal", "accounts", "processing", "allowed"),
    ]
    assert [(r[0], r[2], r[3], r[4]) for r in after] == [
        ("helsedata-portal", "accounts", "processing", "restricted"),
        ("helsedata-portal", "surveys", "processing", "consent_withdrawn"),
        ("helsedata-portal", "surveys", "consent", "withdrawn"),
        ("mail-service", "accounts", "processing", "restricted"),
        ("mail-service", "surveys", "processing", "consent_withdrawn"),
        ("mail-service", "surveys", "consent", "withdrawn"),
        ("other-portal", "accounts", "processing", "allowed"),  # learns nothing of the link
    ]
