"""The activity answers kept per registry version: identical to the schema's dump, invalidated by a change
made anywhere, with ETags and 304s, bounded, and behind the same access checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text, update
from sqlmodel import Session, select
from tests_support import bearer
from werkzeug.test import Client

import privacy_service
from privacy_service.audit import Actor
from privacy_service.db import make_engine, transaction
from privacy_service.ropa import service
from privacy_service.ropa.answer_cache import Answer, AnswerCache, answer_etag, etag_matches
from privacy_service.ropa.api import answer_cache
from privacy_service.ropa.models import ActivityVersion, Organisation, ProcessingActivity
from privacy_service.ropa.schemas import ActivityListSchema, ActivityOutSchema
from privacy_service.security.service import create_api_client, revoke_api_client

LIST = "/api/v1/activities"


@pytest.fixture
def reader(make_key: Callable[..., str]) -> dict[str, str]:
    return bearer(make_key("registry:read", name="registry-reader"))


@contextmanager
def elsewhere(app: Flask) -> Iterator[Session]:
    """A transaction on an engine of its own, as another worker or process would write."""
    engine = make_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with transaction(engine) as session:
            yield session
    finally:
        engine.dispose()


def _version(app: Flask) -> int | None:
    with Session(app.extensions["engine"]) as session:
        return service.registry_version(session)


def _schema_page(session: Session, filters: service.ActivityFilter, page: int, per_page: int) -> Any:
    """The page as the list answered it before the cache: rows dumped through ActivityListSchema."""
    items, total = service.list_activities(session, filters=filters, page=page, per_page=per_page)
    summaries = [service.activity_summary(a) for a in items]
    page_data = {"items": summaries, "total": total, "page": page, "per_page": per_page}
    return ActivityListSchema().dump(page_data)


@pytest.mark.parametrize(
    ("query", "filters", "page", "per_page"),
    [
        ("", {}, 1, 100),
        ("?page=2&per_page=3", {}, 2, 3),
        ("?legal_basis=6(1)(a)", {"legal_basis": "6(1)(a)"}, 1, 100),
        ("?service=helsedata&status=active", {"service": "helsedata", "status": "active"}, 1, 100),
        ("?special_categories=true&q=a", {"special_categories": True, "q": "a"}, 1, 100),
        ("?controller=nobody", {"controller": "nobody"}, 1, 100),
    ],
)
def test_a_page_is_the_schema_dump_of_its_rows_fresh_and_kept(  # noqa: PLR0913
    app: Flask, client: Any, reader: dict[str, str], query: str, filters: dict, page: int, per_page: int
) -> None:
    with Session(app.extensions["engine"]) as session:
        expected = _schema_page(session, service.ActivityFilter(**filters), page, per_page)
        plain = service.activity_page(
            session, filters=service.ActivityFilter(**filters), page=page, per_page=per_page
        )
    assert plain == expected
    assert json.dumps(plain) == json.dumps(expected)  # the same keys in the same order
    fresh = client.get(LIST + query, headers=reader)
    kept = client.get(LIST + query, headers=reader)
    assert fresh.status_code == kept.status_code == 200
    assert fresh.get_json() == expected
    assert kept.data == fresh.data and kept.headers["ETag"] == fresh.headers["ETag"]
    assert answer_cache(app).hits >= 1


def test_a_single_activity_is_the_schema_dump_of_its_record(
    app: Flask, client: Any, reader: dict[str, str]
) -> None:
    with Session(app.extensions["engine"]) as session:
        activity = service.get_activity(session, slug="surveys")
        expected = ActivityOutSchema().dump(service.activity_record(activity))
    fresh = client.get(f"{LIST}/surveys", headers=reader)
    kept = client.get(f"{LIST}/surveys", headers=reader)
    assert fresh.get_json() == expected
    assert kept.data == fresh.data
    assert kept.headers["ETag"] == fresh.headers["ETag"] == f'W/"v{expected["version"]}"'
    assert client.get(f"{LIST}/no-such-activity", headers=reader).status_code == 404


def test_the_list_has_a_strong_etag_and_answers_304_until_the_registry_changes(
    app: Flask, client: Any, reader: dict[str, str]
) -> None:
    first = client.get(LIST, headers=reader)
    etag = first.headers["ETag"]
    assert etag.startswith(f'"r{_version(app)}-') and etag == answer_etag(_version(app) or 0, first.data)
    for _ in range(2):  # fresh or kept, the same 304
        same = client.get(LIST, headers={**reader, "If-None-Match": etag})
        assert same.status_code == 304 and same.data == b""
        assert (
            same.headers["ETag"] == etag and same.headers["Cache-Control"] == first.headers["Cache-Control"]
        )
    with elsewhere(app) as session:
        row = session.scalar(select(ProcessingActivity).where(ProcessingActivity.slug == "surveys"))
        assert row is not None
        row.updated_by = "someone else"
    changed = client.get(LIST, headers={**reader, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_single_activity_answers_304_to_its_version_etag(client: Any, reader: dict[str, str]) -> None:
    etag = client.get(f"{LIST}/surveys", headers=reader).headers["ETag"]
    for _ in range(2):
        assert client.get(f"{LIST}/surveys", headers={**reader, "If-None-Match": etag}).status_code == 304
    assert client.get(f"{LIST}/surveys", headers={**reader, "If-None-Match": '"v0"'}).status_code == 200


def _names(client: Any, reader: dict[str, str]) -> dict[str, str]:
    body = client.get(f"{LIST}?per_page=1000", headers=reader).get_json()
    return {a["slug"]: a["name"]["en"] for a in body["items"]}


def test_a_change_by_another_engine_is_seen_on_the_next_request(
    app: Flask, client: Any, reader: dict[str, str]
) -> None:
    before = _version(app)
    assert _names(client, reader)["surveys"] != "Renamed by the ORM"
    assert client.get(f"{LIST}/surveys", headers=reader).get_json()["name"]["en"] != "Renamed"
    with elsewhere(app) as session:
        row = session.scalar(select(ProcessingActivity).where(ProcessingActivity.slug == "surveys"))
        assert row is not None
        row.name_en, row.data = (
            "Renamed by the ORM",
            {**row.data, "name": {**row.data["name"], "en": "Renamed"}},
        )
    assert (_version(app) or 0) > (before or 0)
    assert _names(client, reader)["surveys"] == "Renamed by the ORM"
    assert client.get(f"{LIST}/surveys", headers=reader).get_json()["name"]["en"] == "Renamed"
    with elsewhere(app) as session:  # a bulk update through the ORM counts as well
        session.execute(
            update(ProcessingActivity).where(ProcessingActivity.slug == "surveys").values(name_en="Bulk")
        )
    assert _names(client, reader)["surveys"] == "Bulk"


def test_a_change_by_another_process_is_seen_on_the_next_request(
    app: Flask, client: Any, reader: dict[str, str]
) -> None:
    assert _names(client, reader)["surveys"] != "Renamed in another process"
    script = (
        "import sys\n"
        "from sqlmodel import select\n"
        "from privacy_service.db import make_engine, transaction\n"
        "from privacy_service.ropa.models import ProcessingActivity\n"
        "engine = make_engine(sys.argv[1])\n"
        "with transaction(engine) as s:\n"
        "    row = s.scalar(select(ProcessingActivity).where(ProcessingActivity.slug == 'surveys'))\n"
        "    row.name_en = 'Renamed in another process'\n"
        "engine.dispose()\n"
    )
    root = str(Path(privacy_service.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    subprocess.run(
        [sys.executable, "-c", script, app.config["SQLALCHEMY_DATABASE_URI"]], env=env, check=True, timeout=60
    )
    assert _names(client, reader)["surveys"] == "Renamed in another process"


def test_every_registry_table_bumps_the_version_and_other_writes_do_not(app: Flask) -> None:
    before = _version(app) or 0
    with elsewhere(app) as session:  # reads only, and a write to no registry table
        session.scalar(select(Organisation))
    assert _version(app) == before
    with elsewhere(app) as session:
        org = session.scalar(select(Organisation).where(Organisation.slug == "helsedir"))
        assert org is not None
        org.updated_by = "tests"
        session.flush()
        org.name_en = "Twice in one transaction"  # bumped once per transaction
    assert _version(app) == before + 1
    with elsewhere(app) as session:
        session.execute(update(ActivityVersion).values(changed_by="tests"))
    assert _version(app) == before + 2
    with pytest.raises(RuntimeError), elsewhere(app) as session:  # rolled back: no bump
        org = session.scalar(select(Organisation))
        assert org is not None
        org.updated_by = "rolled back"
        session.flush()
        raise RuntimeError
    assert _version(app) == before + 2


def test_pages_and_filters_are_kept_apart(app: Flask, client: Any, reader: dict[str, str]) -> None:
    queries = ["?per_page=2", "?per_page=2&page=2", "?per_page=2&legal_basis=6(1)(a)", "?per_page=3"]
    bodies = [client.get(LIST + q, headers=reader).get_json() for q in queries]
    assert len({json.dumps(b) for b in bodies}) == len(queries)
    assert [b["page"] for b in bodies] == [1, 2, 1, 1] and len(bodies[3]["items"]) == 3
    assert len(answer_cache(app)) == len(queries)
    again = [client.get(LIST + q, headers=reader).get_json() for q in queries]
    assert again == bodies and answer_cache(app).hits == len(queries)


def test_access_is_checked_before_a_kept_answer(
    app: Flask, client: Any, reader: dict[str, str], make_key: Callable[..., str]
) -> None:
    assert client.get(LIST, headers=reader).status_code == 200
    assert client.get(f"{LIST}/surveys", headers=reader).status_code == 200
    consent_only = bearer(make_key("consent:read"))
    assert client.get(LIST, headers=consent_only).status_code == 403
    assert client.get(f"{LIST}/surveys", headers=consent_only).status_code == 403
    assert client.get(LIST).status_code == 401
    with elsewhere(app) as session:
        revoke_api_client(session, name="registry-reader", actor=Actor("cli", "tests"))
    assert client.get(LIST, headers=reader).status_code == 401
    assert client.get(f"{LIST}/surveys", headers=reader).status_code == 401


def test_bad_arguments_are_refused_fresh_or_kept(client: Any, reader: dict[str, str]) -> None:
    for _ in range(2):
        bad = client.get(f"{LIST}?legal_basis=7(1)", headers=reader)
        assert bad.status_code == 422 and "legal_basis" in bad.get_json()["error"]["fields"]


# --- the cache itself ---------------------------------------------------------------------------------------


def _answer(size: int) -> Answer:
    return Answer(b"x" * size, '"e"')


def test_the_cache_evicts_the_least_recently_used_past_its_entry_bound() -> None:
    cache = AnswerCache(max_entries=2)
    assert cache.get(1, "a") is None  # a request reads the version first
    cache.put(1, "a", _answer(1))
    cache.put(1, "b", _answer(1))
    assert cache.get(1, "a") is not None  # b is now the least recently used
    cache.put(1, "c", _answer(1))
    assert cache.get(1, "b") is None and cache.get(1, "a") is not None and cache.get(1, "c") is not None
    assert len(cache) == 2


def test_the_cache_evicts_past_its_byte_bound_and_keeps_nothing_larger() -> None:
    cache = AnswerCache(max_entries=100, max_bytes=10)
    cache.get(1, "a")
    for key in "abc":
        cache.put(1, key, _answer(4))
    assert cache.get(1, "a") is None and len(cache) == 2 and cache.size == 8
    cache.put(1, "huge", _answer(11))
    assert cache.get(1, "huge") is None and cache.size == 8


def test_a_newer_version_drops_every_answer_and_an_older_one_is_not_kept() -> None:
    cache = AnswerCache()
    cache.put(1, "a", _answer(1))  # no request has read a version yet: nothing is kept
    assert cache.get(1, "a") is None
    cache.put(1, "a", _answer(1))
    assert cache.get(1, "a") is not None
    assert cache.get(2, "a") is None and len(cache) == 0 and cache.size == 0
    cache.put(1, "a", _answer(1))  # read at a version already superseded
    assert cache.get(1, "a") is None and cache.get(2, "a") is None


def test_a_lower_version_drops_the_answers_too_as_after_a_restore_from_backup() -> None:
    cache = AnswerCache()
    cache.get(5, "a")
    cache.put(5, "a", _answer(1))
    assert cache.get(3, "a") is None  # the database counts from 3 again
    cache.put(3, "b", _answer(1))
    assert cache.get(3, "b") is not None
    assert cache.get(5, "a") is None  # version 5 of the restored database is not the old one's


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        ('"r1-ab"', True),
        ('W/"r1-ab"', True),
        ('"x", "r1-ab"', True),
        ("*", True),
        ('"r2-ab"', False),
        ("", False),
    ],
)
def test_if_none_match_compares_weakly(header: str, matches: bool) -> None:
    assert etag_matches('"r1-ab"', header) is matches


# --- the fast path in front of Flask ------------------------------------------------------------------------

IGNORED = {"Content-Length", "Date", "Server", "Vary"}  # as tests/consent/test_hotpath.py ignores them


def _comparable(response: Any) -> tuple[int, bytes, dict[str, str]]:
    return response.status_code, response.get_data(), dict(response.headers.items())


@pytest.mark.parametrize(
    "path",
    [LIST, f"{LIST}?per_page=3&page=2", f"{LIST}?legal_basis=6(1)(a)", f"{LIST}/surveys", f"{LIST}/accounts"],
)
def test_the_fast_path_answers_as_the_view_does(app: Flask, reader: dict[str, str], path: str) -> None:
    fast = app.extensions["activity_fast_path"]
    flask_alone = Client(fast.app)
    first = flask_alone.get(path, headers=reader)  # Flask answers and keeps the answer
    before = fast.answered
    via_fast = app.test_client().get(path, headers=reader)
    assert fast.answered == before + 1
    assert _comparable(via_fast)[:2] == _comparable(first)[:2]
    assert {k: v for k, v in via_fast.headers.items() if k not in IGNORED} == {
        k: v for k, v in first.headers.items() if k not in IGNORED
    }
    tag = {**reader, "If-None-Match": first.headers["ETag"]}
    not_modified, reference = app.test_client().get(path, headers=tag), flask_alone.get(path, headers=tag)
    assert fast.answered == before + 2 and not_modified.status_code == reference.status_code == 304
    assert {k: v for k, v in not_modified.headers.items() if k not in IGNORED} == {
        k: v for k, v in reference.headers.items() if k not in IGNORED
    }


def test_the_fast_path_leaves_misses_refusals_and_sessions_to_flask(
    app: Flask, client: Any, reader: dict[str, str], make_key: Callable[..., str]
) -> None:
    fast = app.extensions["activity_fast_path"]
    assert client.get(LIST, headers=reader).status_code == 200  # a miss: Flask keeps it
    assert fast.answered == 0
    consent_only = bearer(make_key("consent:read"))
    assert client.get(LIST, headers=consent_only).status_code == 403
    assert client.get(LIST, headers=bearer("psk_not-a-key")).status_code == 401
    assert client.get(f"{LIST}/Not_A_Slug", headers=reader).status_code == 404
    assert client.head(LIST, headers=reader).status_code == 200
    assert fast.answered == 0
    assert client.get(LIST, headers=reader).status_code == 200
    assert fast.answered == 1


def test_a_key_revoked_by_another_process_is_refused_within_the_key_cache_bound(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(PRIVACY_KEY_CACHE_SECONDS=0.3)
    with elsewhere(app) as session:
        _, key = create_api_client(
            session, name="short-lived", scopes=["registry:read"], actor=Actor("cli", "tests")
        )
    reader = bearer(key)
    client = app.test_client()
    for _ in range(2):
        assert client.get(LIST, headers=reader).status_code == 200
    assert app.extensions["activity_fast_path"].answered == 1
    with elsewhere(app) as session:  # as another process would: this process's key memory is not told
        session.execute(text("UPDATE api_client SET active = false WHERE name = 'short-lived'"))
    time.sleep(0.4)
    assert client.get(LIST, headers=reader).status_code == 401
    assert client.get(f"{LIST}/surveys", headers=reader).status_code == 401
