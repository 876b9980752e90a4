"""No word of the record or the privacy notices is broken across two lines of a table cell ("Databehandl" /
"er"): each PDF is read back line by line and checked against every word the policies, the code and the
translations could have written (before the columns were fitted to their words: 106 in the bokmål record)."""

from __future__ import annotations

import re
from pathlib import Path

from language import foreign_lines, one_language_values
from pdf_words import broken_words, pdf_lines, vocabulary
from tests_support import bearer

ROOT = Path(__file__).resolve().parents[2]


def test_no_word_of_the_record_or_the_notices_is_broken_across_lines(client, make_key) -> None:  # type: ignore[no-untyped-def]
    key = bearer(make_key("registry:read"))
    documents = {
        f"record ({lang})": client.get(
            f"/api/v1/ropa?format=pdf&lang={lang}&include_retired=false", headers=key
        )
        for lang in ("nb", "en")
    }
    for service in ("helsedata", "helsenorge", "helsedirektoratet"):
        for lang in ("nb", "en"):
            documents[f"{service} ({lang})"] = client.get(f"/privacy/{service}.pdf?lang={lang}")
    broken, foreign = {}, {}
    for name, response in documents.items():
        assert response.status_code == 200 and response.mimetype == "application/pdf", name
        lines = pdf_lines(response.data)
        assert len(lines) > 200, name
        if found := broken_words(lines, vocabulary()):
            broken[name] = found
        # the record names a consent purpose by the key portals use in the consent API
        purposes = re.findall(r"(?m)^- purpose: (\S+)", (ROOT / "policies/consent-notices.yaml").read_text())
        # The record tolerates no policy text in one language: agreements, systems, owners and statutes are
        # written in both (before: 101 lines of bokmål in the English record). The notices still print
        # names the policies give in one language (the data protection officers').
        tolerated = purposes if name.startswith("record") else [*one_language_values(), *purposes]
        if found := foreign_lines(lines, name[-3:-1], tolerated):
            foreign[name] = found
    assert broken == {}

    assert foreign == {}, "no English in the bokmål documents, no bokmål in the English, no codes"
