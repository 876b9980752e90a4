"""Find words a PDF broke across lines: a line that ends with the start of a known word and a next line
that begins with the rest of it ("Kandida" / "ter"). pypdf gives a table cell's lines one per line."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from pypdf import PdfReader


def pdf_lines(data: bytes) -> list[str]:
    """The text of every page, line by line."""
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return [line.strip() for line in text.splitlines() if line.strip()]


def broken_words(lines: list[str], words: Iterable[str]) -> list[str]:
    """The known words split between one line's end and the next line's start."""
    every = {w for text in words for w in re.split(r"\s+", str(text))}
    known = {w for w in every if len(w) > 3}
    found = []
    for line, following in zip(lines, lines[1:], strict=False):
        head, tail = line.split()[-1], following.split()[0]
        if head not in every and (head + tail) in known:
            found.append(f"{head}|{tail}")
    return found


ROOT = Path(__file__).resolve().parent.parent


@cache
def vocabulary() -> frozenset[str]:
    """Every word the policies, the code and the translations could have written into a document."""
    sources = [*ROOT.glob("policies/**/*.yaml"), *ROOT.glob("privacy_service/**/*.py")]
    sources += ROOT.glob("privacy_service/translations/*/LC_MESSAGES/*.po")
    return frozenset(w for p in sources for w in re.findall(r"[\wæøåÆØÅ§().,:;/-]+", p.read_text()))


def words_broken_in(pdf: bytes, *extra: str) -> list[str]:
    """The known words (and `extra` ones, a test's own data) a PDF split between two lines."""
    return broken_words(pdf_lines(pdf), [*vocabulary(), *extra])
