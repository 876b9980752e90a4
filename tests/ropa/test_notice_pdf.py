"""The public notice PDFs: rendered once per service, language and registry version; 304s; a rate limit.

Anyone may ask for them, and each rendering took a worker for a good part of a second, so a few anonymous
callers slowed everything else. Every rendering has its own PDF /ID, so identical bytes mean "not rendered
again".
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

from flask import Flask
from pypdf import PdfReader
from tests_support import bearer, minimal_activity

from privacy_service.ropa.notice_cache import RenderCache

PDF = "/privacy/helsedata.pdf?lang=en"


def renders(app: Flask) -> int:
    return app.extensions["notice_pdfs"].renders


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_second_call_serves_the_first_rendering(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    first, second = client.get(PDF), client.get(PDF)
    assert first.status_code == second.status_code == 200 and second.mimetype == "application/pdf"
    assert second.data == first.data  # a new rendering would carry a new PDF /ID
    assert first.headers["ETag"] == second.headers["ETag"] and first.headers["ETag"].startswith('W/"')
    assert renders(app) == 1
    # the other language is a document of its own
    norwegian = client.get("/privacy/helsedata.pdf?lang=nb")
    assert norwegian.headers["ETag"] != first.headers["ETag"] and renders(app) == 2
    assert "Side 1 av" in pdf_text(norwegian.data) and "Page 1 of" in pdf_text(first.data)


def test_a_notice_pdf_may_be_kept_by_the_browser_only_and_is_checked_each_time(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(PDF)
    # private: the language can come from the session cookie, which a shared cache must never keep
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


def test_if_none_match_answers_304_without_rendering(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    tag = client.get(PDF).headers["ETag"]
    for sent in (tag, tag.removeprefix("W/"), f'"other", {tag}'):
        response = client.get(PDF, headers={"If-None-Match": sent})
        assert response.status_code == 304 and response.data == b"", sent
        assert response.headers["ETag"] == tag
    assert client.get(PDF, headers={"If-None-Match": 'W/"stale"'}).status_code == 200
    assert renders(app) == 1


def test_a_registry_change_gives_a_new_pdf_and_etag(app: Flask, client, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("registry:read", "registry:write"))
    before = client.get(PDF)
    # another service's activity is not in this notice: same version, nothing rendered
    other = minimal_activity(slug="elsewhere", service="helsenorge", name={"nb": "Annet", "en": "Elsewhere"})
    assert client.post("/api/v1/activities", json=other, headers=key).status_code == 201
    assert client.get(PDF).headers["ETag"] == before.headers["ETag"] and renders(app) == 1

    mine = minimal_activity(slug="fresh", name={"nb": "Ny aktivitet", "en": "Freshly recorded activity"})
    assert client.post("/api/v1/activities", json=mine, headers=key).status_code == 201
    after = client.get(PDF, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert "Freshly recorded activity" in pdf_text(after.data)
    assert "Freshly recorded activity" not in pdf_text(before.data) and renders(app) == 2

    # retiring it puts the notice back as it was: the first version, and its rendering, serve again
    assert client.delete("/api/v1/activities/fresh", headers={**key, "If-Match": "*"}).status_code in (
        200,
        204,
    )
    retired = client.get(PDF)
    assert retired.headers["ETag"] == before.headers["ETag"] and retired.data == before.data
    assert renders(app) == 2


def test_many_callers_at_once_wait_for_one_rendering(app: Flask) -> None:
    start = threading.Barrier(8)
    bodies: list[bytes] = []

    def fetch() -> None:
        client = app.test_client()
        start.wait()
        bodies.append(client.get(PDF).data)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(bodies) == 8 and len(set(bodies)) == 1 and renders(app) == 1


def test_the_notice_pdf_is_rate_limited_per_address(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    statuses = [client.get(PDF).status_code for _ in range(31)]
    assert statuses == [200] * 30 + [429]  # the default: 30 a minute
    refused = client.get(PDF)
    assert refused.status_code == 429 and refused.mimetype == "text/html" and "Retry-After" in refused.headers
    # the page says what to do, in the reader's language, not the limiter's "30 per 1 minute"
    for lang, words in (("nb", "Vent et minutt og prøv igjen."), ("en", "Wait a minute and try again.")):
        text = client.get(f"/privacy/helsedata.pdf?lang={lang}").get_data(as_text=True)
        assert words in text and "per 1 minute" not in text
    assert client.get("/privacy/helsedata?lang=en").status_code == 200  # the page is not counted with it


def test_the_notice_pdf_limit_is_a_setting(make_app: Callable[..., Flask]) -> None:
    client = make_app(PRIVACY_NOTICE_PDF_RATE_LIMIT="2 per minute").test_client()
    assert [client.get(PDF).status_code for _ in range(3)] == [200, 200, 429]


def test_the_cache_keeps_the_most_recently_used_documents_only() -> None:
    cache = RenderCache(max_entries=2)
    for key in ("a", "b", "a", "c"):  # c pushes out b, the least recently used
        cache.get(key, lambda key=key: key.encode())
    assert cache.renders == 3
    assert cache.get("a", lambda: b"again") == b"a" and cache.get("b", lambda: b"again") == b"again"
    assert cache.renders == 4
