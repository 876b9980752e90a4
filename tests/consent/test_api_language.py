"""API error messages in the client's language (issue 19, item 1): bokmål when the client asks for it with
Accept-Language (nb, no or nn before en) or ?lang=nb, English otherwise, as the API always answered. The
codes and field names stay as they are: programs read those."""

from __future__ import annotations

from typing import Any

import pytest
from tests_support import bearer, csrf_token

KARI = "kari.nordmann@example.no"
BOKMAL = {"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.5"}


@pytest.fixture
def key(make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(make_key("consent:read", "consent:write"))


def _put(client: Any, key: dict[str, str], body: dict[str, Any], **headers: str) -> Any:
    return client.put(f"/api/v1/consents/{KARI}/surveys", json=body, headers={**key, **headers})


def test_a_bad_body_is_answered_in_bokmal_when_the_client_asks_for_it(client, key) -> None:  # type: ignore[no-untyped-def]
    body = {"channel": "pigeon", "colour": "blue"}
    english = _put(client, key, body)
    bokmal = _put(client, key, body, **BOKMAL)
    assert english.status_code == bokmal.status_code == 422
    en, nb = english.get_json()["error"], bokmal.get_json()["error"]
    assert en["code"] == nb["code"] == "validation_error" and set(en["fields"]) == set(nb["fields"])
    assert en["message"] == "The request is not valid; see fields."
    assert nb["message"] == "Forespørselen er ikke gyldig; se feltene."
    assert en["fields"]["status"] == ["Missing data for required field."]
    assert nb["fields"]["status"] == ["Feltet må fylles ut."]
    assert nb["fields"]["colour"] == ["Ukjent felt."]
    assert nb["fields"]["channel"][0].startswith("Må være en av: ")  # a message marshmallow formats
    assert bokmal.headers["Content-Language"] == "nb" and "Content-Language" not in english.headers


@pytest.mark.parametrize(
    "headers",
    [{"Accept-Language": "en-GB,en;q=0.9,nb;q=0.5"}, {"Accept-Language": "de"}, {}],
    ids=["english-first", "neither", "no-header"],
)
def test_english_stays_the_answer_unless_bokmal_comes_first(client, key, headers) -> None:  # type: ignore[no-untyped-def]
    error = _put(client, key, {}, **headers).get_json()["error"]
    assert error["message"] == "The request is not valid; see fields."


def test_no_consent_recorded_is_said_in_bokmal_past_the_hot_path_too(client, key) -> None:  # type: ignore[no-untyped-def]
    path = f"/api/v1/consents/{KARI}/surveys"
    english = client.get(path, headers=key)
    bokmal = client.get(path, headers={**key, **BOKMAL})
    by_query = client.get(f"{path}?lang=nb", headers=key)
    assert english.status_code == bokmal.status_code == by_query.status_code == 404
    assert english.get_json()["error"]["message"] == "No consent is recorded for this subject and purpose."
    worded = "Det er ikke registrert noe samtykke for denne personen og dette formålet."
    assert bokmal.get_json()["error"]["message"] == by_query.get_json()["error"]["message"] == worded


def test_a_refused_key_is_told_so_in_bokmal(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/consents/{KARI}/surveys", headers=BOKMAL)
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "Logg inn eller send en API-nøkkel."


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("nb", "Et fødselsnummer kan ikke brukes som person i samtykkeregisteret"),
        ("en", "A national identity number cannot be a consent subject"),
    ],
)
def test_an_officer_page_shows_a_refusal_of_the_service_in_her_language(client, login, lang, said) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    token = csrf_token(client, f"/officer/consents/?lang={lang}")
    page = client.post(
        f"/officer/consents/?lang={lang}", data={"subject": "15838512671", "csrf_token": token}
    ).get_data(as_text=True)
    assert said in page
