"""The officer's structured activity form: rows to add and remove, messages on the fields they belong to, and
every shipped activity posted back unchanged saving nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from tests_support import form_fields

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
