"""The scale curve as a small PNG: turns/s and p95 latency against concurrency, ours and stock Rasa.

Drawn with matplotlib's Agg canvas (no display needed); the PNG carries no software or date
metadata, so the same figures give the same file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter

from bench.report import THROUGHPUT_AT_8, VOICE_P95_MS, chat_p95_limit_ms
from bench.stats import Level

NAME = "bench-scale.png"
P95_TARGETS_MS = (chat_p95_limit_ms(8), VOICE_P95_MS, chat_p95_limit_ms(64))


def write_plot(
    path: Path, chat: Mapping[int, Level], stock: Mapping[int, Level], voice: Mapping[int, Level] | None = None
) -> None:
    """Two panels side by side: throughput (chat) and p95 (chat, and calls' caller turns when given),
    with the targets as dotted lines."""
    figure = Figure(figsize=(8, 3), dpi=80)
    FigureCanvasAgg(figure)
    throughput, latency = figure.subplots(1, 2)
    series = [("ours, chat via web app", chat, "o-", "tab:blue"), ("stock Rasa, chat via REST", stock, "s--", "0.45")]
    for label, levels, style, colour in series:
        if levels:
            xs = sorted(levels)
            throughput.plot(xs, [levels[x].turns_per_s for x in xs], style, color=colour, label=label)
            latency.plot(xs, [levels[x].p95_ms for x in xs], style, color=colour, label=label)
    if voice:
        xs = sorted(voice)
        latency.plot(xs, [voice[x].p95_ms for x in xs], "^:", color="tab:orange", label="ours, call caller turns")
    target = {"color": "tab:red", "linewidth": 0.8, "linestyle": ":"}
    throughput.axhline(THROUGHPUT_AT_8, **target, label="targets")
    for limit in P95_TARGETS_MS:
        latency.axhline(limit, **target, label="targets" if limit == P95_TARGETS_MS[0] else None)
    ticks = sorted(set(chat) | set(stock) | set(voice or {}))
    for axes, title in ((throughput, "throughput (turns/s)"), (latency, "p95 latency (ms)")):
        axes.set_xscale("log", base=2)
        axes.set_xticks(ticks)
        axes.set_xticklabels([str(t) for t in ticks])
        axes.minorticks_off()
        axes.set_xlabel("concurrent conversations or calls")
        axes.set_title(title, fontsize=10)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7)
    throughput.set_ylim(bottom=0)
    latency.set_yscale("log")
    latency.yaxis.set_major_formatter(ScalarFormatter())
    figure.tight_layout()
    figure.savefig(path, format="png", metadata={"Software": None})
