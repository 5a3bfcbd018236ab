"""The overview's charts, rendered as SVG on the server by pygal (no script, no CDN).

pygal lays out the axes, labels and bars; here it is only told what to draw and how big the
words must be. Charts are drawn CHART_WIDTH units wide and shrink with the page: at the
narrowest card a phone shows (about 320 px) a unit is 0.8 px, so LABEL_SIZE units stay 11 px
or more. Day columns carry a date label only once a week, so dates never run into each other.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pygal
from markupsafe import Markup
from pygal.style import Style

CHART_WIDTH = 400
LABEL_SIZE = 14
DAYS_BETWEEN_LABELS = 7
_SVG = "{http://www.w3.org/2000/svg}"
_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1c2733",
    foreground_strong="#1c2733",
    foreground_subtle="#c3ccd6",
    colors=("#1f5fa8",),
    font_family="system-ui, sans-serif",
    label_font_size=LABEL_SIZE,
    major_label_font_size=LABEL_SIZE,
    value_font_size=LABEL_SIZE,
    tooltip_font_size=LABEL_SIZE,
    title_font_size=LABEL_SIZE,
    legend_font_size=LABEL_SIZE,
    no_data_font_size=LABEL_SIZE,
)
_COMMON = {
    "style": _STYLE,
    "width": CHART_WIDTH,
    "show_legend": False,
    "js": [],  # pygal's tooltips script lives on a CDN: none is wanted
    "disable_xml_declaration": True,
    "truncate_label": -1,
    "margin": 8,
}


@dataclass(frozen=True)
class Chart:
    svg: Markup  # inline SVG, no script
    caption: str  # the same figures as text, for screen readers and tests


def _inline(chart: pygal.graph.graph.Graph) -> Markup:
    """The chart's SVG without the configuration script pygal always writes (nothing reads it here)."""
    root = chart.render_tree()
    for parent in list(root.iter()):
        for child in [c for c in parent if c.tag in (f"{_SVG}script", "script")]:
            parent.remove(child)
    return Markup(ET.tostring(root, encoding="unicode"))


def horizontal_bars(items: list[tuple[str, float]], title: str) -> Chart:
    """One bar per item, longest for the largest value (e.g. open flags by reason)."""
    chart = pygal.HorizontalBar(
        **_COMMON,
        height=40 + 30 * max(len(items), 1),
        print_values=True,
        print_zeroes=False,
        show_y_guides=False,
        y_labels=_whole_steps(max((value for _, value in items), default=0)),  # counts: no 0.5
    )
    chart.x_labels = [label for label, _ in items]
    chart.add(title, [value for _, value in items])
    return Chart(_inline(chart), "; ".join(f"{label}: {value:g}" for label, value in items))


def columns(items: list[tuple[str, float]], title: str, *, percent: bool = False) -> Chart:
    """One column per day, left to right, a date under every DAYS_BETWEEN_LABELS-th (e.g. loss reports per day)."""

    def shown(value: float) -> str:
        return f"{value:.0%}" if percent else f"{value:g}"

    top = max((value for _, value in items), default=0)
    chart = pygal.Bar(
        **_COMMON,
        height=240,
        x_labels_major_every=DAYS_BETWEEN_LABELS,
        show_minor_x_labels=False,
        show_x_guides=False,
        value_formatter=shown,
        y_labels=None if percent else _whole_steps(top),  # counts: no 0.5
        range=(0, 1) if percent and not top else None,
    )
    chart.x_labels = [label for label, _ in items]
    chart.add(title, [value for _, value in items])
    return Chart(_inline(chart), "; ".join(f"{label}: {shown(value)}" for label, value in items))


def _whole_steps(top: float) -> list[int]:
    """At most five whole-number ticks from 0 up to at least `top`."""
    step = max(1, -(-int(top) // 4))
    return list(range(0, max(int(top), 1) + step, step))
