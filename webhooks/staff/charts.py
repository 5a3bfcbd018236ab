"""Geometry for the overview's charts, drawn as inline SVG by the templates (no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 600
ROW = 26
COLUMN_AREA = 160


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    caption: str  # the same figures as text, for screen readers and tests


def horizontal_bars(items: list[tuple[str, float]], *, label_width: int = 150) -> Chart:
    """One bar per item, longest for the largest value (e.g. open flags by reason)."""
    top = max((value for _, value in items), default=0) or 1
    span = WIDTH - label_width - 50
    bars = [
        Bar(label, f"{value:g}", label_width, i * ROW + 4, span * value / top, ROW - 8)
        for i, (label, value) in enumerate(items)
    ]
    caption = "; ".join(f"{label}: {value:g}" for label, value in items)
    return Chart(bars, WIDTH, len(items) * ROW + 8, caption)


def columns(items: list[tuple[str, float]], *, percent: bool = False) -> Chart:
    """One column per day, left to right (e.g. loss reports per day over 30 days)."""
    top = max((value for _, value in items), default=0) or 1
    step = WIDTH / max(len(items), 1)

    def shown(value: float) -> str:
        return f"{value:.0%}" if percent else f"{value:g}"

    bars = []
    for i, (label, value) in enumerate(items):
        height = COLUMN_AREA * value / top
        bars.append(Bar(label, shown(value), i * step + 1, COLUMN_AREA - height + 16, max(step - 2, 1), height))
    caption = "; ".join(f"{label}: {shown(value)}" for label, value in items)
    return Chart(bars, WIDTH, COLUMN_AREA + 36, caption)
