"""Summaries shared by the benchmarks: percentiles, one concurrency level's figures, and capacity."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Levels above this one run about as many turns as it does (see `scaled`).
REFERENCE_LEVEL = 8
# Fewest rounds per conversation (or calls per line) at a high level, so that conversations
# starting and finishing at different moments do not dominate the wall time.
FEWEST_ROUNDS = 5


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def scaled(count: int, level: int) -> int:
    """Rounds per conversation at `level` concurrent ones, given `count` at the reference level.

    Up to the reference level each conversation runs `count` rounds; above it, fewer, so that a
    level runs about as many turns as the reference level and the full curve stays within minutes.
    """
    if level <= REFERENCE_LEVEL:
        return count
    return max(min(count, FEWEST_ROUNDS), math.ceil(count * REFERENCE_LEVEL / level))


@dataclass(frozen=True)
class Level:
    """One concurrency level: answered turns, their latency (ms), failures, and turns per second."""

    turns: int
    turns_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    slowest_ms: float
    errors: int


def summarise(latencies_s: list[float], errors: int, elapsed_s: float) -> Level:
    """The figures of one level from the seconds each answered turn took and the level's wall time."""
    ms = [v * 1000 for v in latencies_s] or [math.nan]
    return Level(
        turns=len(latencies_s),
        turns_per_s=len(latencies_s) / elapsed_s if elapsed_s > 0 else 0.0,
        p50_ms=statistics.median(ms),
        p95_ms=percentile(ms, 0.95),
        p99_ms=percentile(ms, 0.99),
        slowest_ms=max(ms),
        errors=errors,
    )


def capacity(levels: Mapping[int, Level], meets: Callable[[int, Level], bool]) -> int | None:
    """The highest level such that it and every lower measured level meet the targets; None if level one fails.

    A level above a failed one does not count: the curve is read from the bottom up.
    """
    carried = None
    for level in sorted(levels):
        if not meets(level, levels[level]):
            break
        carried = level
    return carried
