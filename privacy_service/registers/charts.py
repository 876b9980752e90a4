"""Charts for the officers' start page, drawn as SVG by pygal: plain data and labels in, SVG text out.

The SVG carries no script and no external reference, so the page shows it as an image under any policy."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pygal
from pygal.style import Style

# Colours readable on white and told apart by most colour-blind readers (Okabe–Ito palette)
_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#666",
    colors=("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"),
    font_family="system-ui, sans-serif",
    title_font_size=16,
    legend_font_size=13,
    label_font_size=12,
    major_label_font_size=12,
    no_data_font_size=16,
)
_OPTIONS: dict[str, Any] = {
    "style": _STYLE,
    "width": 720,
    "height": 340,
    "legend_at_bottom": True,
    "legend_at_bottom_columns": 3,
    "js": [],  # no interactive script: shown as an image, read with the table beside it
    "print_values": False,
    "min_scale": 1,
    "truncate_legend": -1,
    "truncate_label": -1,
    "x_label_rotation": 30,
}
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


def _svg(chart: Any, series: Mapping[str, Sequence[Any]]) -> bytes:
    for name, values in series.items():
        if any(v for v in values):  # a series with nothing in it only crowds the legend
            chart.add(name, list(values))
    # pygal writes its (unused) tooltip configuration as an inline script even with no script to load
    return _SCRIPT.sub("", chart.render(is_unicode=True)).encode("utf-8")


def _whole_numbers(top: int) -> list[int] | None:
    """Axis marks for counts: whole numbers from 0 past the largest value, about five of them (none for an
    empty chart, which shows its no-data text)."""
    if top <= 0:
        return None
    step = max(1, math.ceil(top / 5))
    return list(range(0, top + step, step))


def stacked_bars(
    title: str, x_labels: Sequence[str], series: Mapping[str, Sequence[int]], *, no_data: str
) -> bytes:
    """Bars per x label, stacked by series (e.g. requests per month by right)."""
    top = max((sum(column) for column in zip(*series.values(), strict=True)), default=0)
    chart = pygal.StackedBar(title=title, no_data_text=no_data, y_labels=_whole_numbers(top), **_OPTIONS)
    chart.x_labels = list(x_labels)
    return _svg(chart, series)


def lines(
    title: str, x_labels: Sequence[str], series: Mapping[str, Sequence[float | None]], *, no_data: str
) -> bytes:
    """Lines over the x labels (e.g. the median days taken against the days allowed, per month)."""
    chart = pygal.Line(title=title, no_data_text=no_data, allow_interruptions=True, **_OPTIONS)
    chart.x_labels = list(x_labels)
    return _svg(chart, series)


def horizontal_bars(
    title: str, y_labels: Sequence[str], series: Mapping[str, Sequence[int]], *, no_data: str
) -> bytes:
    """Bars side by side per label, drawn across (e.g. consents given and withdrawn per purpose)."""
    top = max((v for values in series.values() for v in values), default=0)
    chart = pygal.HorizontalBar(title=title, no_data_text=no_data, y_labels=_whole_numbers(top), **_OPTIONS)
    chart.x_labels = list(y_labels)
    return _svg(chart, series)
