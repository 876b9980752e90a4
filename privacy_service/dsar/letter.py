"""A letter as plain blocks, rendered the same way as PDF (reportlab) and as HTML (the officer's draft).

A block is a tuple `(kind, content)`:
- `("h1", text)`, `("h2", text)`: headings;
- `("p", text)`, `("muted", text)`: paragraphs of plain text (escaped on output, never markup);
- `("pairs", [(label, value), ...])`: label/value rows; a value is a text or a list of texts (one per line);
- `("list", [text, ...])`: a bulleted list.

Whoever writes a part of the letter (the answer, the withheld data, the appeal notice) returns blocks; the
letter never holds a table of raw columns, and the draft the officer reads is the letter the subject gets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from markupsafe import Markup, escape
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from privacy_service.documents import key_value_table, lines, para

Block = tuple[str, Any]
KINDS = ("h1", "h2", "p", "muted", "pairs", "list")


def texts(blocks: Iterable[Block]) -> list[str]:
    """Every text a reader sees in the blocks, one string per paragraph, label, value or item."""
    out: list[str] = []
    for kind, content in blocks:
        if kind == "pairs":
            for label, value in content:
                out.append(str(label))
                out += [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        elif kind == "list":
            out += [str(item) for item in content]
        else:
            out.append(str(content))
    return out


LABEL_WIDTH = 62 * mm  # wide enough that no label in a letter breaks inside a word


def to_flowables(blocks: Sequence[Block]) -> list[Flowable]:
    """The blocks as reportlab flowables (every text escaped)."""
    story: list[Flowable] = []
    for kind, content in blocks:
        if kind in ("h1", "h2", "muted"):
            story.append(para(content, kind))
        elif kind == "p":
            story += [para(content), Spacer(1, 2 * mm)]
        elif kind == "pairs":
            if content:
                story += [
                    key_value_table([(str(k), v) for k, v in content], label_width=LABEL_WIDTH),
                    Spacer(1, 3 * mm),
                ]
        elif kind == "list":
            if content:
                story += [lines(content, "body"), Spacer(1, 2 * mm)]
        else:
            raise ValueError(f"unknown letter block {kind!r}")
    return story


def to_html(blocks: Sequence[Block]) -> Markup:
    """The blocks as an HTML fragment (every text escaped); headings start at h2, the page has the h1."""
    parts: list[Markup] = []
    for kind, content in blocks:
        if kind == "h1":
            parts.append(Markup("<h2>{}</h2>").format(content))
        elif kind == "h2":
            parts.append(Markup("<h3>{}</h3>").format(content))
        elif kind == "p":
            parts.append(Markup("<p>{}</p>").format(_lines(content)))
        elif kind == "muted":
            parts.append(Markup('<p class="muted">{}</p>').format(_lines(content)))
        elif kind == "pairs":
            if content:
                rows = Markup("").join(
                    Markup("<dt>{}</dt><dd>{}</dd>").format(k, _value(v)) for k, v in content
                )
                parts.append(Markup('<dl class="pairs">{}</dl>').format(rows))
        elif kind == "list":
            if content:
                items = Markup("").join(Markup("<li>{}</li>").format(item) for item in content)
                parts.append(Markup("<ul>{}</ul>").format(items))
        else:
            raise ValueError(f"unknown letter block {kind!r}")
    return Markup("\n").join(parts)


def _lines(value: Any) -> Markup:
    return Markup("<br>").join(escape(line) for line in str(value).split("\n"))


def _value(value: Any) -> Markup:
    if isinstance(value, list | tuple):
        return Markup("<br>").join(escape(v) for v in value)
    return _lines(value)
