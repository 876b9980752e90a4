"""The officer's data map page."""

from __future__ import annotations

from sqlalchemy import select

from privacy_service.datamap.models import DataTable
from privacy_service.db import transaction


def test_the_data_map_page_shows_each_table_and_what_acts_on_it(client, login) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    html = client.get("/officer/datamap/?lang=en").get_data(as_text=True)
    for text in ("helsedata-portal", "helsedata-support", "helsedata-survey"):
        assert text in html, text
    # each helsedata activity with data in the demo systems is linked, with its erasure strategy
    for slug in ("accounts", "applications", "support", "surveys"):
        assert f'href="/officer/activities/{slug}"' in html, slug
    assert "mask" in html and "delete" in html
    # activities no table holds are named so an officer knows requests cannot reach them
    assert "Activities without a mapped table" in html
    assert 'href="/officer/activities/newsletter"' in html


def test_the_data_map_page_needs_a_login(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/officer/datamap/")
    assert response.status_code in (302, 401)


def test_the_data_map_page_describes_each_system_in_the_reader_language(client, login) -> None:  # type: ignore[no-untyped-def]
    login("auditor")
    english = client.get("/officer/datamap/?lang=en").get_data(as_text=True)
    bokmal = client.get("/officer/datamap/?lang=nb").get_data(as_text=True)
    assert "helsedata.no portal database: user accounts" in english
    assert "Databasen til helsedata.no-portalen: brukerkontoer" in bokmal
    assert "helsedata.no portal database" not in bokmal


def test_a_portals_user_id_column_is_named_by_its_portal(app, client, login) -> None:  # type: ignore[no-untyped-def]
    with transaction(app.extensions["engine"]) as session:
        table = session.scalar(select(DataTable).where(DataTable.table_name == "accounts"))
        table.identity = {**table.identity, "portal:minportal": "id"}
    login("auditor")
    english = client.get("/officer/datamap/?lang=en").get_data(as_text=True)
    bokmal = client.get("/officer/datamap/?lang=nb").get_data(as_text=True)
    assert "User id at minportal: <code>id</code>" in english
    assert "Bruker-ID hos minportal: <code>id</code>" in bokmal
    assert "portal:minportal" not in english + bokmal
