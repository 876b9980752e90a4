"""Shared reportlab building blocks: fonts with æøå, escaped paragraphs, tables, cover page, "Page n of m".

Plain data in, bytes out: nothing here knows Flask or the database. Every text that may come from a user goes
through `escape()` (or `para()`, which calls it), so free text can never inject Paragraph markup.
"""

from __future__ import annotations

import html
import io
import os
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape as _xml_escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.tableofcontents import TableOfContents

from privacy_service.wording import format_datetime, localised, org_number_text, text

# Bitstream Vera ships inside reportlab: no system font needed. It covers æøå ÆØÅ § – « » and, unlike the
# WinAnsi Helvetica, also most North Sámi letters (á č đ š ž); ŋ and ŧ have no glyph in either.
FONT, FONT_BOLD, FONT_ITALIC, FONT_BOLD_ITALIC = (
    "PS-Vera",
    "PS-Vera-Bold",
    "PS-Vera-Italic",
    "PS-Vera-BoldItalic",
)
_FONT_FILES = {
    FONT: "Vera.ttf",
    FONT_BOLD: "VeraBd.ttf",
    FONT_ITALIC: "VeraIt.ttf",
    FONT_BOLD_ITALIC: "VeraBI.ttf",
}

PAGE_SIZE = A4
MARGIN = 20 * mm
CONTENT_WIDTH = PAGE_SIZE[0] - 2 * MARGIN
INK, MUTED, RULE, SHADE, ACCENT = (
    colors.HexColor("#1a1a1a"),
    colors.HexColor("#555555"),
    colors.HexColor("#b8c4ce"),
    colors.HexColor("#eef2f5"),
    colors.HexColor("#0b4f6c"),
)


def register_fonts() -> None:
    """Register the bundled Vera fonts with reportlab once; later calls do nothing."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = os.path.join(os.path.dirname(reportlab.__file__), "fonts")
    for name, filename in _FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, os.path.join(folder, filename)))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT_ITALIC, boldItalic=FONT_BOLD_ITALIC
    )


# --- text -------------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape(value: Any) -> str:
    """Escape any value for Paragraph markup (&, <, >), keeping line breaks as <br/>."""
    if value is None:
        return ""
    plain = _CONTROL.sub("", str(value)).replace("\r\n", "\n")
    return _xml_escape(plain).replace("\n", "<br/>")


# --- styles and paragraphs --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def stylesheet() -> dict[str, ParagraphStyle]:
    """Return the shared paragraph styles (body, small, muted, cell, th, title, h1, h2, toc0, toc1)."""
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9.5, leading=13, textColor=INK, alignment=TA_LEFT)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10.5),
        "muted": ParagraphStyle("muted", parent=body, fontSize=8, leading=10.5, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=11),
        "th": ParagraphStyle("th", parent=body, fontName=FONT_BOLD, fontSize=8.5, leading=11),
        "label": ParagraphStyle("label", parent=body, fontName=FONT_BOLD, fontSize=8.5, leading=11),
        "section": ParagraphStyle(
            "section", parent=body, fontName=FONT_BOLD, fontSize=9, leading=12, textColor=ACCENT
        ),
        "title": ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=22, leading=27, spaceAfter=6, textColor=ACCENT
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=13, leading=17, spaceAfter=4),
        "org": ParagraphStyle("org", parent=body, fontName=FONT_BOLD, fontSize=14, leading=18),
        "h1": ParagraphStyle(
            "h1",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=14,
            leading=18,
            spaceBefore=4,
            spaceAfter=6,
            textColor=ACCENT,
            keepWithNext=1,  # a heading never ends a page: it goes over with what it heads
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=11,
            leading=14,
            spaceBefore=8,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "toc0": ParagraphStyle(
            "toc0", parent=body, fontSize=9.5, leading=13, leftIndent=6 * mm, firstLineIndent=-6 * mm
        ),
        "toc1": ParagraphStyle(
            "toc1", parent=body, fontSize=8.5, leading=11, leftIndent=12 * mm, firstLineIndent=-6 * mm
        ),
    }


def para(value: Any, style: str = "body") -> Paragraph:
    """Return a Paragraph of plain (untrusted) text, escaped so it renders literally."""
    return Paragraph(escape(value), stylesheet()[style])


def markup(trusted_markup: str, style: str = "body") -> Paragraph:
    """Return a Paragraph of markup the code wrote itself; user text inside must already be escaped."""
    return Paragraph(trusted_markup, stylesheet()[style])


def lines(values: Iterable[Any], style: str = "cell", bullet: str = "• ") -> Paragraph:
    """Return one Paragraph listing the values on separate lines (escaped); an empty list gives "–"."""
    items = [escape(v) for v in values if v not in (None, "")]
    if not items:
        return markup(escape(text("none", "en")), style)
    if len(items) == 1:
        return markup(items[0], style)
    return markup("<br/>".join(escape(bullet) + item for item in items), style)


# --- tables -----------------------------------------------------------------------------------------------

_GRID = [
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
    ("TOPPADDING", (0, 0), (-1, -1), 3),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ("LEFTPADDING", (0, 0), (-1, -1), 4),
    ("RIGHTPADDING", (0, 0), (-1, -1), 4),
]


def cell(value: Any, style: str = "cell") -> Flowable:
    """Wrap a value for a table cell: flowables pass through, lists become lines, text is escaped."""
    if isinstance(value, Flowable):
        return value
    if isinstance(value, list | tuple):
        return lines(value, style)
    return para(value if value not in (None, "") else text("none", "en"), style)


_CELL_PADDING = 8 + 1  # left and right padding of a cell, and a point to spare


def _widest_word(value: Any, font: str) -> float:
    """The width of the longest word of a cell's text at the table's 8.5 pt (a flowable counts as 0)."""
    if value is None:
        return 0.0
    if isinstance(value, Paragraph):  # its markup: the words between the tags
        texts = [html.unescape(re.sub(r"<[^>]+>", " ", value.text))]
    elif isinstance(value, Flowable):
        return 0.0
    else:
        texts = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
    words = [w for t in texts for w in t.split()]
    return max((pdfmetrics.stringWidth(w, font, 8.5) for w in words), default=0.0)


def fit_words(widths: Sequence[float], header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Widen the columns a word would not fit in, taking the room from columns with room to spare, so a word
    breaks mid-word only where no share of the page could hold it (a long identifier)."""
    need = [
        max([_widest_word(h, FONT_BOLD)] + [_widest_word(r[i], FONT) for r in rows if i < len(r)])
        + _CELL_PADDING
        for i, h in enumerate(header)
    ]
    out = [max(w, n) for w, n in zip(widths, need, strict=True)]
    extra = sum(out) - sum(widths)
    spare = [max(w - n, 0.0) for w, n in zip(widths, need, strict=True)]
    if extra <= 0 or not sum(spare):
        return out
    share = min(extra / sum(spare), 1.0)
    return [w - s * share for w, s in zip(out, spare, strict=True)]


def data_table(
    header: Sequence[str], rows: Sequence[Sequence[Any]], *, widths: Sequence[float] | None = None
) -> Table:
    """Return a table with a repeating shaded header row; cells wrap, and long rows split across pages."""
    stylesheet()
    data = [[cell(h, "th") for h in header]] + [[cell(v) for v in row] for row in rows]
    if widths is None:
        widths = [CONTENT_WIDTH / len(header)] * len(header)
    widths = fit_words(widths, header, rows)
    table = Table(data, colWidths=list(widths), repeatRows=1, splitInRow=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [*_GRID, ("BACKGROUND", (0, 0), (-1, 0), SHADE), ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT)]
        )
    )
    return table


class _SectionedTable(Table):
    """A label/value table whose section heading rows never end a page. NOSPLIT keeps a heading with its
    first row when the table splits between rows. When reportlab falls back to splitting inside a row, it
    would split the heading row itself and leave the heading alone: a heading inside the table waits for the
    next page instead, and a heading at the table's top is kept with the first lines of its row."""

    def _splitRows(self, availHeight: float, doInRowSplit: int = 0) -> list[Any]:  # noqa: N802, N803
        if doInRowSplit:
            at = self._getFirstPossibleSplitRowPosition(availHeight, ignoreSpans=1)
            spanned = {start[1] for cmd, start, stop in self._spanCmds if start[1] == stop[1]}
            if at in spanned and at > 0:
                return []
            if at in spanned:  # split inside the heading's first row, not inside the heading
                kept, self._nosplitCmds = self._nosplitCmds, []
                try:
                    return super()._splitRows(availHeight, doInRowSplit=doInRowSplit)
                finally:
                    self._nosplitCmds = kept
        return super()._splitRows(availHeight, doInRowSplit=doInRowSplit)


def key_value_table(rows: Sequence[tuple[str, Any] | str], *, label_width: float = 52 * mm) -> Table:
    """Return a two-column label/value table; a bare string row becomes a shaded section heading."""
    stylesheet()
    data: list[list[Any]] = []
    commands: list[tuple] = list(_GRID)
    headings: list[int] = []
    for row in rows:
        if isinstance(row, str):
            commands += [
                ("SPAN", (0, len(data)), (1, len(data))),
                ("BACKGROUND", (0, len(data)), (1, len(data)), SHADE),
            ]
            headings.append(len(data))
            data.append([para(row, "section"), ""])
        else:
            data.append([para(row[0], "label"), cell(row[1])])
    # a heading row never ends a page: it goes over with its first row
    commands += [("NOSPLIT", (0, i), (1, i + 1)) for i in headings if i + 1 < len(data)]
    widths = [label_width, CONTENT_WIDTH - label_width]
    table = _SectionedTable(data, colWidths=widths, splitInRow=1, hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    return table


# --- cover, contact block, footer -------------------------------------------------------------------------


def contact_rows(org: dict[str, Any] | None, lang: str) -> list[tuple[str, str]]:
    """Return label/value rows for an organisation's org number and contact details (only those given)."""
    if not org:
        return []
    rows = [
        (text("org_number", lang), org_number_text(org, lang)),
        (text("address", lang), org.get("address")),
        (text("email", lang), org.get("email")),
        (text("phone", lang), org.get("phone")),
        (text("website", lang), org.get("website")),
    ]
    return [(label, str(value)) for label, value in rows if value]


def dpo_text(org: dict[str, Any] | None) -> str:
    """Return the DPO's name and contact details as one line of plain text, or an empty string."""
    dpo = (org or {}).get("dpo") or {}
    return ", ".join(str(v) for v in (dpo.get("name"), dpo.get("email"), dpo.get("phone")) if v)


def letterhead(
    org: dict[str, Any] | None,
    *,
    title: str,
    lang: str,
    generated_at: datetime | None = None,
    subtitle: str | None = None,
    extra_rows: Sequence[tuple[str, Any]] = (),
) -> list[Flowable]:
    """Return the flowables of a cover or letter head: the title (what the document is comes first), then
    the sender with contact details and DPO, then the date."""
    org = org or {}
    story: list[Flowable] = [para(title, "title")]
    if subtitle:
        story.append(para(subtitle, "subtitle"))
    story.append(Spacer(1, 8 * mm))
    if org:
        story.append(para(localised(org.get("name"), lang), "org"))
        rows: list[tuple[str, Any]] = list(contact_rows(org, lang))
        if dpo_text(org):
            rows.append((text("dpo", lang), dpo_text(org)))
        story += [Spacer(1, 2 * mm), key_value_table(rows + list(extra_rows)), Spacer(1, 6 * mm)]
    elif extra_rows:
        story += [key_value_table(list(extra_rows)), Spacer(1, 6 * mm)]
    if generated_at is not None:
        story.append(generated_line(generated_at, lang))
    return story


def generated_line(generated_at: datetime, lang: str) -> Paragraph:
    """Return the muted "Generated <time>" line."""
    return para(text("generated", lang).format(at=format_datetime(generated_at, lang)), "muted")


class NumberedCanvas(Canvas):
    """A canvas that holds every page until the end so each footer can say "Page n of m" (two passes)."""

    lang = "en"
    footer = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - reportlab's API
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        """Draw every held page with its footer, then write the file."""
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        width = self._pagesize[0]
        self.saveState()
        self.setStrokeColor(RULE)
        self.setLineWidth(0.4)
        self.line(MARGIN, 13 * mm, width - MARGIN, 13 * mm)
        self.setFont(FONT, 7.5)
        self.setFillColor(MUTED)
        if self.footer:
            self.drawString(MARGIN, 9 * mm, self.footer[:140])
        self.drawRightString(
            width - MARGIN, 9 * mm, text("page", self.lang).format(n=self._pageNumber, m=total)
        )
        self.restoreState()


def numbered_canvas(*, lang: str, footer: str = "") -> type[NumberedCanvas]:
    """Return a NumberedCanvas class that writes the footer text and "Page n of m" in the language."""
    register_fonts()
    return type("BoundNumberedCanvas", (NumberedCanvas,), {"lang": lang, "footer": footer})


class _Document(SimpleDocTemplate):
    """A document that feeds headings into the table of contents and the PDF outline."""

    def afterFlowable(self, flowable: Flowable) -> None:  # noqa: N802 - reportlab's API
        key = getattr(flowable, "toc_key", None)
        if key is None:
            return
        level = getattr(flowable, "toc_level", 0)
        self.canv.bookmarkPage(key)
        self.canv.addOutlineEntry(flowable.toc_plain, key, level=level, closed=True)
        self.notify("TOCEntry", (level, flowable.toc_markup, self.page, key))


def heading(value: Any, *, key: str, level: int = 0, style: str = "h1") -> Paragraph:
    """Return a heading Paragraph (escaped) that appears in the table of contents and the PDF outline."""
    flowable = para(value, style)
    flowable.toc_key, flowable.toc_level = key, level  # type: ignore[attr-defined]
    flowable.toc_markup, flowable.toc_plain = escape(value), str(value)  # type: ignore[attr-defined]
    return flowable


def table_of_contents() -> TableOfContents:
    """Return a table of contents that lists the headings made with `heading()` with their page numbers."""
    toc = TableOfContents()
    toc.levelStyles = [stylesheet()["toc0"], stylesheet()["toc1"]]
    toc.dotsMinLevel = 0
    return toc


def _seed_contents(story: list[Flowable]) -> None:
    # The headings are known before layout: give the contents its final size on the first pass, so that
    # multiBuild needs two passes (pages found, pages printed) instead of three.
    entries = [
        (f.toc_level, f.toc_markup, 0, f.toc_key)  # type: ignore[attr-defined]
        for f in story
        if getattr(f, "toc_key", None) is not None
    ]
    for flowable in story:
        if isinstance(flowable, TableOfContents) and not flowable._entries:
            flowable._entries = list(entries)


def build_pdf(
    story: list[Flowable],
    *,
    title: str,
    lang: str,
    footer: str = "",
    author: str = "",
    with_toc: bool = False,
) -> bytes:
    """Lay out the story on A4 with the numbered footer and return the PDF bytes."""
    register_fonts()
    buffer = io.BytesIO()
    doc = _Document(
        buffer,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author=author,
        lang=lang,
        creator="privacy-service",
        pageCompression=1,
    )
    canvasmaker = numbered_canvas(lang=lang, footer=footer)
    if with_toc:
        _seed_contents(story)
        doc.multiBuild(story, canvasmaker=canvasmaker)
    else:
        doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()
