"""The public request pages: the form in bokmål and English, the e-mail confirmation, the status page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from tests_support import csrf_token

from privacy_service.db import transaction
from privacy_service.dsar.models import DsarRequest
from privacy_service.notify import OutboxMessage

FORM = {"type": "access", "name": "Kari Nordmann", "email": "kari.nordmann@example.no"}


@pytest.fixture
def engine_name() -> str:
    return "sqlite"  # page behaviour does not depend on the engine; the API tests cover both


def _submit(client, lang: str = "nb", **fields: Any) -> Any:  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/requests/new?lang={lang}")
    return client.post(f"/requests/new?lang={lang}", data={**FORM, **fields, "csrf_token": token})


def _last_mail(app) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        message = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1)).one()
        return message.payload


def _requests(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context(), transaction(app.extensions["engine"]) as session:
        return session.scalar(select(func.count()).select_from(DsarRequest)) or 0


def _links(page: str, mail: dict[str, Any]) -> tuple[str, str, str]:
    status = re.search(r'href="(/requests/status/[\w-]+)"', page)
    verify = re.search(r"(/requests/verify/[\w-]+)", mail["text"])
    code = re.search(r"(?:statussiden|status page): (\d{6})\n", mail["text"])
    assert status and verify and code
    return status.group(1), verify.group(1), code.group(1)


def test_the_form_explains_each_right_in_plain_bokmal(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/requests/new?lang=nb").get_data(as_text=True)
    assert "Spør om personopplysningene dine" in page and "Se hva vi har om deg" in page
    assert "Opplysninger du selv har gitt oss" in page  # portability, in plain words
    assert "Søknader" in page or "helsedata" in page  # the activities to choose from
    english = client.get("/requests/new?lang=en").get_data(as_text=True)
    assert "Get your data in a file" in english


def test_a_subject_submits_confirms_by_link_and_follows_the_status(app, client) -> None:  # type: ignore[no-untyped-def]
    response = _submit(client)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Referansen din er DSR-" in page
    mail = _last_mail(app)
    assert mail["to"] == FORM["email"] and "Bekreft henvendelsen din" in mail["subject"]
    status_url, verify_url, __ = _links(page, mail)

    before = client.get(status_url + "?lang=nb").get_data(as_text=True)
    assert "Venter på at du bekrefter" in before
    confirm = client.get(verify_url + "?lang=nb")  # a mail scanner's GET changes nothing
    assert confirm.status_code == 200 and "Bekreft henvendelsen" in confirm.get_data(as_text=True)
    assert "Venter på at du bekrefter" in client.get(status_url + "?lang=nb").get_data(as_text=True)

    token = csrf_token(client, verify_url)
    done = client.post(verify_url + "?lang=nb", data={"csrf_token": token})
    assert done.status_code == 200 and "er bekreftet" in done.get_data(as_text=True)
    after = client.get(status_url + "?lang=nb").get_data(as_text=True)
    assert "Under behandling" in after and "Identiteten din ble bekreftet" in after
    again = client.post(verify_url + "?lang=nb", data={"csrf_token": token})
    assert again.status_code in (409, 410)  # single use


def test_the_code_on_the_status_page_and_withdrawal(app, client) -> None:  # type: ignore[no-untyped-def]
    page = _submit(client, lang="en").get_data(as_text=True)
    status_url, __, code = _links(page, _last_mail(app))
    token = csrf_token(client, status_url)
    wrong = client.post(
        f"{status_url}/code", data={"csrf_token": token, "code": "000000" if code != "000000" else "1"}
    )
    assert wrong.status_code == 302 and "m=wrong_code" in wrong.headers["Location"]
    right = client.post(f"{status_url}/code", data={"csrf_token": token, "code": code})
    assert "m=confirmed" in right.headers["Location"]
    assert "Being handled" in client.get(status_url + "?lang=en").get_data(as_text=True)
    gone = client.post(f"{status_url}/withdraw", data={"csrf_token": token})
    assert "m=withdrawn" in gone.headers["Location"]
    assert "Withdrawn" in client.get(status_url + "?lang=en").get_data(as_text=True)
    twice = client.post(f"{status_url}/withdraw", data={"csrf_token": token})
    assert "m=closed" in twice.headers["Location"]


def test_bad_input_gets_messages_in_the_users_language_and_writes_nothing(app, client) -> None:  # type: ignore[no-untyped-def]
    response = _submit(client, email="not-an-address", national_id="15838512672", type="rectification")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Skriv en gyldig e-postadresse" in page and "ikke et gyldig fødselsnummer" in page
    assert "Velg opplysningen som er feil" in page and "Skriv hva som er riktig" in page
    assert _requests(app) == 0
    english = _submit(client, lang="en", name=" ")
    assert english.status_code == 422 and "Write your name." in english.get_data(as_text=True)
    forged = client.post("/requests/new", data=FORM)  # no CSRF token
    assert forged.status_code == 400 and _requests(app) == 0


def test_the_form_answers_the_same_for_known_and_unknown_people(client) -> None:  # type: ignore[no-untyped-def]
    def shape(page: str) -> str:
        return re.sub(r"DSR-\d{4}-\d{6}|/requests/status/[\w-]+", "X", page)

    known = _submit(client).get_data(as_text=True)
    unknown = _submit(client, name="Nobody Here", email="nobody.here@example.no").get_data(as_text=True)
    assert shape(known) == shape(unknown)


def test_links_that_are_wrong_expired_or_for_another_request(client) -> None:  # type: ignore[no-untyped-def]
    missing = client.get("/requests/status/not-a-real-token?lang=nb")
    assert missing.status_code == 404 and "Vi fant ingen henvendelse" in missing.get_data(as_text=True)
    bad = client.get("/requests/verify/not-a-real-token?lang=en")
    assert bad.status_code == 404 and "This link is not valid" in bad.get_data(as_text=True)


def test_the_form_is_rate_limited(client) -> None:  # type: ignore[no-untyped-def]
    codes = [_submit(client, lang="en").status_code for _ in range(6)]
    assert codes[:5] == [200] * 5 and codes[5] == 429


def test_another_requests_code_or_link_gets_nothing(app, client) -> None:  # type: ignore[no-untyped-def]
    first = _submit(client, lang="en").get_data(as_text=True)
    first_status, __, first_code = _links(first, _last_mail(app))
    second = _submit(client, lang="en", name="Ola Nordmann", email="ola.nordmann@example.no").get_data(
        as_text=True
    )
    second_status, __, __ = _links(second, _last_mail(app))
    token = csrf_token(client, second_status)
    crossed = client.post(f"{second_status}/code", data={"csrf_token": token, "code": first_code})
    assert "m=wrong_code" in crossed.headers["Location"]  # one request's code never confirms another
    page = client.get(second_status + "?lang=en").get_data(as_text=True)
    assert "Waiting for you to confirm" in page and "kari" not in page.lower()
    assert "Waiting for you to confirm" in client.get(first_status + "?lang=en").get_data(as_text=True)
