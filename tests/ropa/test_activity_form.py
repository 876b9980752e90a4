"""The officer's structured activity form: rows to add and remove, messages on the fields they belong to, and
every shipped activity posted back unchanged saving nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from tests_support import bearer, form_fields

SHIPPED = sorted(
    a["slug"]
    for path in sorted((Path(__file__).resolve().parents[2] / "policies" / "activities").glob("*.yaml"))
    for a in yaml.safe_load(path.read_text(encoding="utf-8"))["activities"]
)


def _edit(client, slug: str, lang: str = "en"):  # type: ignore[no-untyped-def]
    return form_fields(client.get(f"/officer/activities/{slug}/edit?lang={lang}").get_data(as_text=True))


def _versions(client, slug: str) -> int:  # type: ignore[no-untyped-def]
    return len(client.get(f"/api/v1/activities/{slug}/versions", headers=_JSON).get_json()["versions"])


_JSON = {"Accept": "application/json"}


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_every_shipped_activity_posted_back_unchanged_saves_nothing(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    assert len(SHIPPED) > 40
    for slug in SHIPPED:
        before = _versions(client, slug)
        response = client.post(f"/officer/activities/{slug}/edit?lang=en", data=_edit(client, slug))
        assert response.status_code == 302, (
            slug,
            re.findall(r'<li><a href="#[^"]+">[^<]*', response.get_data(as_text=True)),
        )
        page = client.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
        assert "Nothing changed." in page, slug
        assert _versions(client, slug) == before, slug


def _rows(form: dict, name: str) -> list[int]:  # type: ignore[type-arg]
    return sorted({int(m.group(1)) for k in form if (m := re.match(rf"{name}-(\d+)-", k))})


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_add_row_draws_one_more_blank_row_and_saves_nothing(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    form = _edit(client, "support")
    rows = _rows(form, "processors")
    assert form[f"processors-{rows[-1]}-organisation"] == ""  # one blank row after the last
    form["add"] = "processors"
    response = client.post("/officer/activities/support/edit?lang=en", data=form)
    assert response.status_code == 200
    again = form_fields(response.get_data(as_text=True))
    assert len(_rows(again, "processors")) == len(rows) + 1
    assert len(_rows(again, "purposes")) == len(_rows(form, "purposes"))  # only the list asked for grows
    assert _versions(client, "support") == 1


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_what_was_typed_in_the_blank_row_stays_when_another_row_is_added(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    form = _edit(client, "support")
    last = _rows(form, "recipients")[-1]
    form.update({f"recipients-{last}-nb": "Statsforvalteren", "add": "recipients"})
    again = form_fields(client.post("/officer/activities/support/edit", data=form).get_data(as_text=True))
    assert again[f"recipients-{last}-nb"] == "Statsforvalteren"
    assert _rows(again, "recipients")[-1] == last + 1 and again[f"recipients-{last + 1}-nb"] == ""
    assert _versions(client, "support") == 1


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_a_row_marked_remove_is_left_out_of_the_saved_record(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    before = client.get("/api/v1/activities/support", headers=_JSON).get_json()
    assert len(before["security_measures"]) > 1
    form = _edit(client, "support")
    form["security_measures-0-remove"] = "y"
    response = client.post("/officer/activities/support/edit", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    after = client.get("/api/v1/activities/support", headers=_JSON).get_json()
    assert after["security_measures"] == before["security_measures"][1:]


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_the_schemas_nested_paths_land_on_the_row_fields_in_words(app) -> None:  # type: ignore[no-untyped-def]
    from privacy_service.ropa.forms import (
        FIELD_PATHS,
        ActivityForm,
        error_summary,
        errors_to_fields,
        form_values,
    )

    record = {
        "name": {"nb": "", "en": "x"},
        "processors": [{"organisation": "nhn", "role": "processor", "agreement_ref": "a"}] * 3,
        "purposes": [{"nb": "", "en": "x"}],
        "retention": {"text": {"nb": "x", "en": "x"}, "rules": [{"system": "s", "table": ""}]},
    }
    messages = {
        "name": {"nb": ["Must not be empty, and at most 5000 characters."]},
        "processors": {
            1: {"role": ["Unknown processor role 'owner'; choose one of: processor, sub_processor."]}
        },
        "purposes": {0: {"nb": ["Field may not be null."]}},
        "retention": {"rules": {0: {"table": ["String does not match expected pattern."]}}},
        "joint_arrangement": ["Joint controllers need their arrangement (Art. 26): give its essence."],
    }
    with app.test_request_context("/?lang=nb"):
        form = ActivityForm(data=form_values(record), meta={"csrf": False})
        form.row_map = {"processors": [0, 2], "purposes": [0], "retention_rules": [0]}  # row 1 was left blank
        assert errors_to_fields(messages, form, FIELD_PATHS) == []
        assert form.processors.entries[2].form.role.errors == ["Velg ett av alternativene i listen."]
        assert not form.processors.entries[1].form.role.errors
        summary = {field_id: f"{label}: {text}" for field_id, label, text in error_summary(form)}
    assert summary == {
        "name_nb": "Navn (norsk): Fyll ut dette feltet.",
        "arrangement_essence_nb": "Hovedinnholdet i avtalen (norsk): Felles behandlingsansvarlige må ha en "
        "avtale (art. 26): beskriv hovedinnholdet.",
        "processors-2-role": "Databehandlere 3: Rolle: Velg ett av alternativene i listen.",
        "purposes-0-nb": "Formål 1: Norsk: Fyll ut dette feltet.",
        "retention_rules-0-table": "Maskinelle sletteregler 1: Tabell: Bruk bare bokstaver, sifre og "
        "understrek, og begynn med en bokstav (navnet i databasen).",
    }


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_a_rule_across_fields_is_said_in_the_same_pass_as_a_field_mistake(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    form = _edit(client, "support")
    assert form["art9_condition"] == ""
    form.update({"purposes-0-nb": "", "data_categories-0-special": "y", "review_date": "2027-02-30"})
    response = client.post("/officer/activities/support/edit?lang=nb", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Skjemaet har 3 feil" in html
    assert '<a href="#purposes-0-nb">Formål 1: Norsk: Fyll ut dette feltet.</a>' in html
    assert '<a href="#art9_condition">' in html and "velg unntaket etter art. 9 nr. 2" in html
    assert '<a href="#review_date">Dato for gjennomgang: Oppgi en gyldig dato' in html
    assert _versions(client, "support") == 1


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_a_transfer_given_as_one_plain_text_stays_so_when_posted_back(client, login, make_key) -> None:  # type: ignore[no-untyped-def]
    writer = bearer(make_key("registry:read", "registry:write"))
    current = client.get("/api/v1/activities/support", headers=writer).get_json()
    record = {
        k: v
        for k, v in current.items()
        if k not in ("version", "created_at", "updated_at", "updated_by", "rights")
    }
    record["transfers"] = [{"country": "USA", "recipient": "Acme Inc.", "safeguard": "scc", "details": None}]
    assert (
        client.put("/api/v1/activities/support", json=record, headers={**writer, "If-Match": "*"}).get_json()[
            "version"
        ]
        == 2
    )
    login("officer")
    form = _edit(client, "support")
    assert form["transfers-0-country_nb"] == form["transfers-0-country_en"] == "USA"
    response = client.post("/officer/activities/support/edit?lang=en", data=form, follow_redirects=True)
    assert "Nothing changed." in response.get_data(as_text=True)
    form["transfers-0-country_en"] = "United States"  # given in two languages now: stored as two
    client.post("/officer/activities/support/edit?lang=en", data=form)
    saved = client.get("/api/v1/activities/support", headers=writer).get_json()
    assert saved["version"] == 3
    assert saved["transfers"][0]["country"] == {"nb": "USA", "en": "United States"}
    assert saved["transfers"][0]["recipient"] == "Acme Inc."


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_the_form_records_the_receipts_purpose_kinds_and_third_parties(client, login) -> None:  # type: ignore[no-untyped-def]
    login("officer")
    form = _edit(client, "newsletter", lang="nb")
    assert form["purpose_categories"] == "Contact Requested"  # ticked, from the shipped record
    page = client.get("/officer/activities/newsletter/edit?lang=nb").get_data(as_text=True)
    assert "å sende deg informasjon du selv har bedt om" in page  # the Kantara category in words
    last = _rows(form, "third_parties")[-1]
    form.update(
        {
            "purpose_categories": ["Contact Requested", "Marketing"],
            f"third_parties-{last}-nb": "Statsforvalteren",
            f"third_parties-{last}-en": "The County Governor",
        }
    )
    response = client.post("/officer/activities/newsletter/edit?lang=nb", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    after = client.get("/api/v1/activities/newsletter", headers=_JSON).get_json()
    assert after["purpose_categories"] == ["Contact Requested", "Marketing"]
    assert after["third_parties"] == [{"nb": "Statsforvalteren", "en": "The County Governor"}]
