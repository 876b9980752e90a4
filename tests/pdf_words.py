"""Find words a PDF broke across lines: a line that ends with the start of a known word and a next line
that begins with the rest of it ("Kandida" / "ter"). pypdf gives a table cell's lines one per line."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

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
