"""A verified request acts for the whole person (issue 21): it plans and acts on the rows of every verified
identifier linked to her (an e-mail address, a portal's own user id in a column mapped `portal:<client>`),
never on an unverified link, and a restriction proved by national identity number alone is flagged where a
portal reading its own user id sees it."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import create_engine, select, text
from tests_support import bearer, complete, settle

from privacy_service import notify
from privacy_service.audit import Actor
from privacy_service.consent import service as consent
from privacy_service.datamap.models import DataSystem, DataTable
from privacy_service.db import transaction
from privacy_service.people import service as people

NID = "15838512671"
OWN = "kari.nordmann@example.no"
PRIVATE = "kari.privat@example.no"  # linked, verified from her mailbox
UNPROVED = "kari.usikker@example.no"  # linked, never verified
PORTAL = "minportal"
PORTAL_ID = "u-77"
BY_NID = {"national_id": NID, "name": "Kari Nordmann"}  # a request proved by her national id alone
SUBJECTS = (PRIVATE, PORTAL_ID, UNPROVED)  # her consent subjects, the last never proved hers
ROWS = [  # id, portal_user, contact, name
    (1, PORTAL_ID, None, "Kari (portal id)"),
    (2, "u-78", None, "Someone else"),
    (3, None, PRIVATE, "Kari (linked address)"),
    (4, None, UNPROVED, "Kari? (unverified link)"),
    (5, None, OWN, "Kari (own address)"),
]


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:read", "requests:write", "requests:write:verified", "requests:manage",
                           "consent:read"))  # fmt: skip


@pytest.fixture
def profiles(app: Flask, demo: Path) -> Path:
    """A table of the portal's user profiles in helsedata-portal, mapped to the accounts activity: found by
    e-mail (`contact`) and by the portal's own user id (`portal:minportal`)."""
    db = demo / "demo" / "helsedata_portal.db"
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE portal_profiles (id INTEGER PRIMARY KEY, portal_user TEXT, "
                          "contact TEXT, name TEXT)"))  # fmt: skip
        conn.execute(
            text("INSERT INTO portal_profiles VALUES (:i, :p, :c, :n)"),
            [{"i": i, "p": p, "c": c, "n": n} for i, p, c, n in ROWS],
        )
    engine.dispose()
    with transaction(app.extensions["engine"]) as session:
        system = session.scalar(select(DataSystem).where(DataSystem.name == "helsedata-portal"))
        assert system is not None
        session.add(
            DataTable(
                system_id=system.id or 0,
                table_name="portal_profiles",
                activity_slug="accounts",
                key_column="id",
                identity={"email": "contact", f"portal:{PORTAL}": "portal_user"},
                columns={"name": "name", "contact": "email"},
                erasure="delete",
            )
        )
    return db


def _link(app: Flask, *claims: people.Claim) -> None:
    with transaction(app.extensions["engine"]) as session:
        people.link(session, list(claims), actor=Actor("cli", "tests"), secret=app.config["SECRET_KEY"])


def _left(db: Path) -> list[int]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return [i for (i,) in conn.execute(text("SELECT id FROM portal_profiles ORDER BY id"))]
    finally:
        engine.dispose()


def _planned(app: Flask, client: Any, officer: dict[str, str], **body: Any) -> tuple[str, dict[str, Any]]:
    body = {"verified_by": "ID-porten", "language": "nb", "activities": ["accounts"], **body}
    created = client.post("/api/v1/requests", headers=officer, json=body)
    assert created.status_code == 201, created.get_json()
    reference = created.get_json()["reference"]
    counts = notify.deliver_due(app.extensions["engine"], notify.transport_for(app.config))  # the plan
    assert counts["failed"] == 0 and counts["retrying"] == 0, counts
    return reference, settle(client, reference, officer)


def _line(body: dict[str, Any]) -> dict[str, Any] | None:
    [accounts] = [o for o in body["outcomes"] if o["activity"] == "accounts"]
    return next((t for t in accounts["tables"] if t["table"] == "portal_profiles"), None)


def test_a_verified_request_erases_the_rows_of_the_persons_linked_address_and_portal_id(  # type: ignore[no-untyped-def]
    app, client, officer, profiles
) -> None:
    _link(
        app,
        people.Claim("national_id", NID, verified_by="idporten"),
        people.Claim("email", PRIVATE, verified_by="email_code"),
        people.Claim("portal", PORTAL_ID, client=PORTAL, verified_by="portal_verified"),
    )
    subject = {"email": OWN, "national_id": NID, "name": "Kari Nordmann"}
    reference, body = _planned(app, client, officer, type="erasure", subject=subject)
    line = _line(body)
    assert line is not None and line["rows"] == 3, body["outcomes"]
    # which identifier found which rows stays truthful: her own address, and what her links brought
    assert line["matched_by"] == {"email": 1, "linked:email": 1, f"linked:portal:{PORTAL}": 1}

    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()
    assert _left(profiles) == [2, 4]  # another portal user, and the address never proved hers


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", f"User id at {PORTAL} (linked) (1)"),
        ("nb", f"Bruker-ID hos {PORTAL} (koblet til personen) (1)"),
    ],
)
def test_the_officer_page_names_a_linked_portal_id_in_words(  # type: ignore[no-untyped-def]
    app, client, officer, login, profiles, lang, words
) -> None:
    _link(
        app,
        people.Claim("national_id", NID, verified_by="idporten"),
        people.Claim("portal", PORTAL_ID, client=PORTAL, verified_by="portal_verified"),
    )
    reference, __ = _planned(app, client, officer, type="access", subject=BY_NID)
    login("officer")
    html = client.get(f"/officer/requests/{reference}?lang={lang}").get_data(as_text=True)
    assert words in html, html
    assert f"linked:portal:{PORTAL}" not in html  # never the plan's key


def test_an_unverified_link_never_searches(app, client, officer, profiles) -> None:  # type: ignore[no-untyped-def]
    _link(
        app,
        people.Claim("national_id", NID, verified_by="idporten"),
        people.Claim("email", PRIVATE, verified_by="email_code"),
        people.Claim("email", UNPROVED),  # typed beside the login, never proved
    )
    reference, body = _planned(app, client, officer, type="erasure", subject=BY_NID)
    line = _line(body)
    assert line is not None and line["matched_by"] == {"linked:email": 1}, body["outcomes"]

    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()
    assert _left(profiles) == [1, 2, 4, 5]  # the proved link's row went; the unproved one's was never sought


def test_a_restriction_proved_by_national_id_alone_is_seen_by_the_portal_reading_its_user_id(  # type: ignore[no-untyped-def]
    app, client, officer, make_key, profiles
) -> None:
    _link(
        app,
        people.Claim("national_id", NID, verified_by="idporten"),
        people.Claim("portal", PORTAL_ID, client=PORTAL, verified_by="portal_verified"),
    )
    portal = bearer(make_key("consent:read", name=PORTAL))
    url = f"/api/v1/subjects/{PORTAL_ID}/processing?activity=accounts"
    assert client.get(url, headers=portal).get_json()["status"] != "restricted"

    reference, body = _planned(app, client, officer, type="restriction", subject=BY_NID)
    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()

    status = client.get(url, headers=portal)
    assert status.status_code == 200 and status.get_json()["status"] == "restricted", status.get_json()


def test_a_consent_withdrawal_withdraws_under_each_of_the_persons_verified_subjects(  # type: ignore[no-untyped-def]
    app, client, officer, make_key, profiles
) -> None:
    _link(
        app,
        people.Claim("national_id", NID, verified_by="idporten"),
        people.Claim("email", OWN, verified_by="email_code"),  # her survey answers: the plan finds data
        people.Claim("email", PRIVATE, verified_by="email_code"),
        people.Claim("portal", PORTAL_ID, client=PORTAL, verified_by="portal_verified"),
        people.Claim("email", UNPROVED),
    )
    portal = bearer(make_key("consent:read", "consent:write", name=PORTAL))
    writer = bearer(make_key("consent:read", "consent:write"))
    for subject, headers in zip(SUBJECTS, (writer, portal, writer), strict=True):
        given = client.put(f"/api/v1/consents/{subject}/surveys", headers=headers, json={"status": "given"})
        assert given.status_code == 200, given.get_json()

    reference, __ = _planned(
        app, client, officer, type="consent_withdrawal", subject=BY_NID, activities=["surveys"]
    )
    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()
    [surveys] = approved.get_json()["outcomes"]
    assert surveys["outcome"] == "done", surveys
    with transaction(app.extensions["engine"]) as session:
        states = {  # a portal's user id is stored under that portal's key
            s: consent.get_state(session, subject=consent.subject_key(s, PORTAL), purpose="surveys")
            for s in SUBJECTS
        }
    assert {s: state.status for s, state in states.items() if state} == {
        PRIVATE: "withdrawn",
        PORTAL_ID: "withdrawn",
        UNPROVED: "given",  # an address never proved hers is not hers to withdraw
    }


def test_the_ledger_replays_the_erasure_of_rows_found_through_her_links(  # type: ignore[no-untyped-def]
    app, client, officer, runner, profiles, tmp_path
) -> None:
    _link(
        app,
        people.Claim("national_id", NID, verified_by="idporten"),
        people.Claim("email", PRIVATE, verified_by="email_code"),
        people.Claim("portal", PORTAL_ID, client=PORTAL, verified_by="portal_verified"),
        people.Claim("email", UNPROVED),
    )
    reference, __ = _planned(app, client, officer, type="erasure", subject=BY_NID)
    shutil.copy(profiles, tmp_path / "backup.db")
    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()
    assert _left(profiles) == [2, 4, 5]

    shutil.copy(tmp_path / "backup.db", profiles)  # a restore from the backup brings her rows back
    assert _left(profiles) == [1, 2, 3, 4, 5]
    replayed = runner.invoke(args=["dsar", "replay-erasures"])
    assert replayed.exit_code == 0, replayed.output
    assert _left(profiles) == [2, 4, 5]  # the ledger knew her linked address and portal id, keyed


def test_another_portals_user_with_the_same_id_text_is_not_hers(  # type: ignore[no-untyped-def]
    app, client, officer, make_key, profiles
) -> None:
    """`u-77` recorded by another portal is that portal's user (stored under its key), so Kari's withdrawal
    does not withdraw it and her access answer does not list it."""
    from privacy_service.dsar import answer
    from privacy_service.dsar.models import DsarRequest

    _link(
        app,
        people.Claim("national_id", NID, verified_by="idporten"),
        people.Claim("email", OWN, verified_by="email_code"),
        people.Claim("portal", PORTAL_ID, client=PORTAL, verified_by="portal_verified"),
    )
    other = bearer(make_key("consent:read", "consent:write", name="otherportal"))
    writer = bearer(make_key("consent:read", "consent:write"))
    for subject, headers in ((PORTAL_ID, other), (OWN, writer)):
        given = client.put(f"/api/v1/consents/{subject}/surveys", headers=headers, json={"status": "given"})
        assert given.status_code == 200, given.get_json()
    reference, __ = _planned(
        app, client, officer, type="consent_withdrawal", subject=BY_NID, activities=["surveys"]
    )
    assert client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={}).status_code == 200
    with transaction(app.extensions["engine"]) as session:
        assert consent.get_state(session, subject=OWN, purpose="surveys").status == "withdrawn"
        theirs = consent.subject_key(PORTAL_ID, "otherportal")
        assert consent.get_state(session, subject=theirs, purpose="surveys").status == "given"
    access, __ = _planned(app, client, officer, type="access", subject=BY_NID, activities=["surveys"])
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        req = session.scalar(select(DsarRequest).where(DsarRequest.reference == access))
        found = answer.collect(
            session,
            req,
            instance_path=Path(app.config["PRIVACY_INSTANCE_PATH"]),
            secret=app.config["SECRET_KEY"],
        )
        assert [len(c["history"]) for c in found.consents] == [2]  # her own: given, then withdrawn


def test_a_consent_withdrawal_with_no_rows_in_the_data_map_still_withdraws_her_consent(  # type: ignore[no-untyped-def]
    app, client, officer, make_key, demo
) -> None:
    """She consented through the portal and answered no survey: the data map finds nothing, but the consent
    is hers to withdraw, so the plan is not "we hold no data" and the approval withdraws it."""
    _link(
        app,
        people.Claim("national_id", NID, verified_by="idporten"),
        people.Claim("portal", PORTAL_ID, client=PORTAL, verified_by="portal_verified"),
    )
    portal = bearer(make_key("consent:read", "consent:write", name=PORTAL))
    given = client.put(f"/api/v1/consents/{PORTAL_ID}/surveys", headers=portal, json={"status": "given"})
    assert given.status_code == 200, given.get_json()
    reference, body = _planned(
        app, client, officer, type="consent_withdrawal", subject=BY_NID, activities=["surveys"]
    )
    [surveys] = body["outcomes"]
    assert surveys["outcome"] != "no_data" and surveys["records"] == 0, surveys
    approved = client.post(f"/api/v1/requests/{reference}/approve", headers=officer, json={})
    assert approved.status_code == 200, approved.get_json()
    [surveys] = approved.get_json()["outcomes"]
    assert surveys["outcome"] == "done", surveys
    read = client.get(f"/api/v1/consents/{PORTAL_ID}/surveys", headers=portal).get_json()
    assert read["status"] == "withdrawn"
    # her letter (bokmål) says it was withdrawn, not that we hold nothing
    done = complete(client, reference, officer)
    assert done.status_code == 200, done.get_json()
    letter = client.get(f"/api/v1/requests/{reference}/package?part=letter", headers=officer)
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(letter.data)).pages)
    assert "Samtykket er trukket tilbake." in text and "ingen opplysninger" not in text, text
