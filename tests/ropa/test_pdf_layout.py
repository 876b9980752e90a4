"""Headings in the record and the notices are kept with what they head: no page of a PDF ends with a heading
(issue 19, item 8). Each page is read back on its own with pypdf; its footer ("Side 3 av 40") is left out."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from pypdf import PdfReader
from tests_support import bearer

from privacy_service.catalogue import table

ACTIVITY_NAMES = {
    lang: {
        a["name"][lang]
        for path in (Path(__file__).resolve().parents[2] / "policies/activities").glob("*.yaml")
        for a in yaml.safe_load(path.read_text()).get("activities") or []
        if isinstance(a.get("name"), dict)
    }
    for lang in ("nb", "en")
}
CONTENTS_ENTRY = re.compile(r"^(\.\s+)+\d+$")  # the dot leader and page number of a contents entry
FOOTER = re.compile(r"^(Side|Page) \d+ (av|of) \d+")


def _lines_by_height(page: Any) -> list[str]:
    """A page's lines from top to bottom, by where they are drawn (pypdf's text order follows the drawing,
    and a table draws its spanned heading cells last)."""
    found: list[tuple[float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            found.append((cm[5] + tm[5] * cm[3], text.strip()))

    page.extract_text(visitor_text=visit)
    return [text for __, text in sorted(found, key=lambda item: -item[0])]


def _page_tails(pdf: bytes) -> list[str]:
    """The lowest line of each page's body: the footer and the running head (a line on most pages) left
    out, and the pages of the table of contents (a list of headings with their page numbers)."""
    pages = [_lines_by_height(page) for page in PdfReader(io.BytesIO(pdf)).pages]
    pages = [lines for lines in pages if sum(bool(CONTENTS_ENTRY.match(line)) for line in lines) < 3]
    running = Counter(line for lines in pages for line in set(lines))
    tails = []
    for lines in pages:
        body = [line for line in lines if not FOOTER.search(line) and running[line] < len(pages) / 2]
        if body:
            tails.append(body[-1])
    return tails


def test_no_page_of_the_record_or_a_notice_ends_with_a_heading(client, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("registry:read"))
    for lang in ("nb", "en"):
        record = table("record", lang)
        notice = table("notice", lang)
        headings = {record[k] for k in record if k.startswith("s_")}
        headings |= {notice[k] for k in ("responsible", "processing", "rights", "contact", "complain")}
        headings |= ACTIVITY_NAMES[lang]
        documents = {"record": client.get(f"/api/v1/ropa?format=pdf&lang={lang}", headers=key).data}
        for service in ("helsedata", "helsedirektoratet"):
            documents[service] = client.get(f"/privacy/{service}.pdf?lang={lang}").data
        for name, pdf in documents.items():
            tails = _page_tails(pdf)
            assert len(tails) > 3, name
            assert [t for t in tails if re.sub(r"^\d+\. ", "", t) in headings] == [], (name, lang)
