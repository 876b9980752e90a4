"""Min side shows a person her identifiers (issue 21): the addresses proved or only given, her number masked,
and the portals that linked their user accounts to her; the consents under her verified addresses and portal
ids are hers to see and change, nothing under an unverified one or another person's."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from language import foreign_lines
from sqlalchemy import delete, func, select
from sqlmodel import Session
from tests_support import bearer

from privacy_service.audit import AuditEvent
from privacy_service.consent.models import ConsentState
from privacy_service.people.models import Person, PersonIdentifier

KARI_NID, KARI_EMAIL, KARI_WORK = "15838512671", "kari.nordmann@example.no", "kari.jobb@example.no"
OLA_NID, OLA_EMAIL = "01019010046", "ola.nordmann@example.no"
PORTAL = "Helsenorge"
REQUESTER = "Pasientreiser"  # the portal that sent her request after logging her in


@pytest.fixture
def officer(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("requests:write", "requests:write:verified", "requests:read", name=REQUESTER))


@pytest.fixture
def portal(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A portal that logs its users in with ID-porten, links them and records their consents."""
    return bearer(make_key("subjects:link", "consent:read", "consent:write", name=PORTAL))


@pytest.fixture
def proved_request(client, officer) -> Callable[..., None]:  # type: ignore[no-untyped-def]
    """A request from a portal that logged the person in: it proves her number and her address."""

    def make(nid: str = KARI_NID, email: str = KARI_EMAIL) -> None:
        body = {"type": "access", "subject": {"email": email, "national_id": nid}, "verified_by": "ID-porten"}
        made = client.post("/api/v1/requests", json=body, headers=officer)
        assert made.status_code == 201, made.get_json()

    return make


def _link(client, portal, **body: Any) -> None:  # type: ignore[no-untyped-def]
    linked = client.post("/api/v1/subjects/links", json={"login": "ID-porten", **body}, headers=portal)
    assert linked.status_code == 200, linked.get_json()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def _identifiers(page: str, *, lines: bool = False) -> Any:
    """The text of the identifiers section, as she reads it (no tags, no attributes); or its lines."""
    found = re.search(r'<section id="my-identifiers".*?</section>', page, re.S)
    assert found, page
    blocks = re.sub(r"</(p|li|h3|h2|th|td)>", "\n", found.group(0))
    text = unescape(re.sub(r"<[^>]+>", " ", blocks))
    if lines:
        return [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    return " ".join(text.split())


def _rows(app, model: Any) -> int:  # type: ignore[no-untyped-def]
    with Session(app.extensions["engine"]) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _state_id(app, subject: str) -> int:  # type: ignore[no-untyped-def]
    with Session(app.extensions["engine"]) as session:
        return session.scalars(select(ConsentState.id).where(ConsentState.subject == subject)).one()


WORDS = {
    "nb": {
        "heading": "Dine identifikatorer",
        "proved": f"{KARI_EMAIL}: bekreftet av tjenesten {REQUESTER}",
        "unproved": f"{KARI_WORK}: ikke bekreftet, så vi",
        "pid": "158385 *****: bekreftet med ID-porten",
        "portal": f"{PORTAL} ",
        "login": "Du logget inn med",
    },
    "en": {
        "heading": "Your identifiers",
        "proved": f"{KARI_EMAIL}: confirmed by the service {REQUESTER}",
        "unproved": f"{KARI_WORK}: not confirmed, so we",
        "pid": "158385 *****: confirmed with ID-porten",
        "portal": f"{PORTAL} ",
        "login": "You logged in with",
    },
}
ENGLISH = (
    "Your identifiers",
    "confirmed",
    "Services that know you",
    "You logged in with",
    "E-mail addresses",
)
SLUGS = ("portal_verified", "email_code", "idporten", "national_id", "verified_by", "None")


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_min_side_lists_her_addresses_her_masked_number_and_the_portal_that_linked_her(  # type: ignore[no-untyped-def]
    client, log_in, portal, proved_request, lang: str
) -> None:
    proved_request()
    _link(client, portal, portal_id="u-kari", national_id=KARI_NID, email=KARI_WORK, email_verified=False)
    assert log_in(pid=KARI_NID).status_code == 302
    page = client.get(f"/me?lang={lang}").get_data(as_text=True)
    text = _identifiers(page)
    for words in WORDS[lang].values():
        assert words in text, text
    assert "ID-porten" in text.split(PORTAL, 1)[1]  # the login the portal vouched for
    assert 'data-identifier="email" data-verified="no"' in page and KARI_NID not in page
    assert not [s for s in SLUGS if s in text]
    assert foreign_lines(_identifiers(page, lines=True), lang) == []  # no English in bokmål, no codes


def test_her_first_login_makes_her_person_and_the_next_writes_nothing(app, client, log_in) -> None:  # type: ignore[no-untyped-def]
    assert log_in(pid=KARI_NID).status_code == 302
    with Session(app.extensions["engine"]) as session:
        row = session.scalars(select(PersonIdentifier)).one()
        assert (row.kind, row.verified_by) == ("national_id", "idporten") and KARI_NID not in row.value
        linked = session.scalars(select(AuditEvent).where(AuditEvent.action == "person.linked")).one()
        assert linked.actor.startswith("subject:")
    assert log_in(pid=KARI_NID).status_code == 302  # she is known with all of it: no link, no event
    assert (_rows(app, Person), _rows(app, PersonIdentifier)) == (1, 1)
    with Session(app.extensions["engine"]) as session:
        assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "person.linked")).all()) == 1


def test_login_links_what_her_requests_proved_before_people_were_linked(  # type: ignore[no-untyped-def]
    app, client, log_in, proved_request
) -> None:
    proved_request()
    with Session(app.extensions["engine"]) as session:  # as if verified before issue 21: nothing linked
        session.execute(delete(PersonIdentifier))
        session.execute(delete(Person))
        session.commit()
    assert log_in(pid=KARI_NID).status_code == 302
    with Session(app.extensions["engine"]) as session:
        rows = session.scalars(select(PersonIdentifier).order_by(PersonIdentifier.kind)).all()
        assert [(r.kind, r.value, r.verified_by) for r in rows][0] == ("email", KARI_EMAIL, "portal_verified")
        assert [(r.kind, r.verified_by) for r in rows][1:] == [("national_id", "idporten")]
        assert {r.person_id for r in rows} == {rows[0].person_id}
    page = client.get("/me?lang=en").get_data(as_text=True)
    assert f"{KARI_EMAIL}: confirmed by a service you logged in to" in _identifiers(page)  # it named none


def test_a_login_whose_address_is_another_persons_still_works_and_links_nothing(  # type: ignore[no-untyped-def]
    app, client, log_in, portal, proved_request
) -> None:
    # the portal proved the address to be Ola's; a request proves it to be Kari's too: one of them is wrong
    _link(client, portal, portal_id="u-ola", national_id=OLA_NID, email=KARI_EMAIL, email_verified=True)
    proved_request()
    before = (_rows(app, Person), _rows(app, PersonIdentifier))
    assert log_in(pid=KARI_NID).status_code == 302
    page = client.get("/me?lang=en")
    assert page.status_code == 200
    assert (_rows(app, Person), _rows(app, PersonIdentifier)) == before  # nothing half-written
    with Session(app.extensions["engine"]) as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    # one record of the refusal, the login's; people.link's own went with the savepoint
    assert "subject.link_refused" in actions and "person.link_refused" not in actions
    assert actions.count("person.linked") == 1  # the portal's own
    text = _identifiers(page.get_data(as_text=True))
    assert "u-ola" not in text and PORTAL not in text
    assert f"{KARI_EMAIL}: confirmed" in text  # her requests proved it: she still sees it


def test_an_unverified_address_is_shown_as_such_and_its_consents_are_not_hers(  # type: ignore[no-untyped-def]
    app, client, log_in, portal
) -> None:
    given = client.put(f"/api/v1/consents/{KARI_WORK}/surveys", json={"status": "given", "channel": "web"},
                       headers=portal)  # fmt: skip
    assert given.status_code == 200, given.get_json()
    _link(client, portal, portal_id="u-kari", national_id=KARI_NID, email=KARI_WORK, email_verified=False)
    log_in(pid=KARI_NID)
    page = client.get("/me?lang=en").get_data(as_text=True)
    assert f"{KARI_WORK}: not confirmed, so we" in _identifiers(page)
    assert 'data-purpose="surveys"' not in page
    refused = client.post(
        f"/me/consents/{_state_id(app, KARI_WORK)}/withdrawn", data={"csrf_token": _csrf(page)}
    )
    assert refused.status_code == 404
    status = client.get(f"/api/v1/consents/{KARI_WORK}/surveys", headers=portal).get_json()
    assert status["status"] == "given"


@pytest.mark.parametrize(
    ("lang", "recorded"), [("nb", "Registrert av Helsenorge"), ("en", "Recorded by Helsenorge")]
)
def test_a_consent_her_portal_recorded_under_its_user_id_shows_and_she_withdraws_it(  # type: ignore[no-untyped-def]
    client, log_in, portal, lang: str, recorded: str
) -> None:
    given = client.put("/api/v1/consents/u-kari/surveys", json={"status": "given", "channel": "web"},
                       headers=portal)  # fmt: skip
    assert given.status_code == 200, given.get_json()
    _link(client, portal, portal_id="u-kari", national_id=KARI_NID)
    log_in(pid=KARI_NID)
    page = client.get(f"/me?lang={lang}").get_data(as_text=True)
    assert 'data-purpose="surveys" data-consent-status="given"' in page and recorded in page
    action = re.search(r'action="(/me/consents/\d+/withdrawn)"', page)
    assert action, page
    assert client.post(action.group(1), data={"csrf_token": _csrf(page)}).status_code == 302
    status = client.get("/api/v1/consents/u-kari/surveys", headers=portal).get_json()
    assert status["status"] == "withdrawn"


def test_another_portals_user_with_the_same_id_is_not_her(app, client, log_in, portal, make_key) -> None:  # type: ignore[no-untyped-def]
    other = bearer(make_key("consent:read", "consent:write", name="Treningsportalen"))
    given = client.put("/api/v1/consents/u-kari/surveys", json={"status": "given", "channel": "web"},
                       headers=other)  # fmt: skip
    assert given.status_code == 200, given.get_json()
    _link(client, portal, portal_id="u-kari", national_id=KARI_NID)  # Helsenorge's u-kari is Kari
    log_in(pid=KARI_NID)
    page = client.get("/me?lang=en").get_data(as_text=True)
    assert 'data-purpose="surveys"' not in page and "Treningsportalen" not in page
    refused = client.post(
        f"/me/consents/{_state_id(app, 'Treningsportalen/u-kari')}/withdrawn",
        data={"csrf_token": _csrf(page)},
    )
    assert refused.status_code == 404


def test_another_persons_identifiers_never_appear(client, log_in, portal, proved_request) -> None:  # type: ignore[no-untyped-def]
    proved_request(nid=OLA_NID, email=OLA_EMAIL)
    _link(client, portal, portal_id="u-ola", national_id=OLA_NID, email="ola.privat@example.no")
    proved_request()
    _link(client, portal, portal_id="u-kari", national_id=KARI_NID)
    log_in(pid=KARI_NID)
    page = client.get("/me?lang=en").get_data(as_text=True)
    assert KARI_EMAIL in _identifiers(page) and PORTAL in _identifiers(page)
    for his in (OLA_EMAIL, "ola.privat@example.no", "010190 *****", OLA_NID, KARI_NID):
        assert his not in page
    client.post("/me/logout", data={"csrf_token": _csrf(page)})
    log_in(pid=OLA_NID)
    page = client.get("/me?lang=en").get_data(as_text=True)
    assert OLA_EMAIL in _identifiers(page) and KARI_EMAIL not in page and "158385 *****" not in page


def test_she_removes_a_portals_link_and_its_consents_leave_min_side(app, client, log_in, portal) -> None:  # type: ignore[no-untyped-def]
    given = client.put("/api/v1/consents/u-kari/surveys", json={"status": "given", "channel": "web"},
                       headers=portal)  # fmt: skip
    assert given.status_code == 200, given.get_json()
    _link(client, portal, portal_id="u-kari", national_id=KARI_NID)
    log_in(pid=KARI_NID)
    page = client.get("/me?lang=nb").get_data(as_text=True)
    action = re.search(r'action="(/me/portals/\d+/remove)"', page)
    assert action and "Fjern koblingen" in page, page
    done = client.post(action.group(1) + "?lang=nb", data={"csrf_token": _csrf(page)})
    assert done.status_code == 302
    page = client.get("/me?lang=nb").get_data(as_text=True)
    assert f"Koblingen til {PORTAL} er fjernet." in page
    assert PORTAL not in _identifiers(page) and 'data-purpose="surveys"' not in page
    with Session(app.extensions["engine"]) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "person.unlinked")).one()
        assert event.actor.startswith("subject:")
    # the portal's own record is untouched: only the link went
    assert client.get("/api/v1/consents/u-kari/surveys", headers=portal).get_json()["status"] == "given"


def test_she_cannot_remove_another_persons_link(app, client, log_in, portal) -> None:  # type: ignore[no-untyped-def]
    _link(client, portal, portal_id="u-ola", national_id=OLA_NID)
    with Session(app.extensions["engine"]) as session:
        his = session.scalars(select(PersonIdentifier.id).where(PersonIdentifier.kind == "portal")).one()
    log_in(pid=KARI_NID)
    page = client.get("/me?lang=en").get_data(as_text=True)
    refused = client.post(f"/me/portals/{his}/remove", data={"csrf_token": _csrf(page)})
    assert refused.status_code == 404
    assert _rows(app, PersonIdentifier) == 3  # his portal id and number, and Kari's number from her login
