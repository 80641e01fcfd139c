"""Small helpers for timings: medians, percentiles and Markdown tables."""

import math
import statistics
from collections.abc import Callable, Sequence
from time import perf_counter


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    """The 95th percentile by nearest rank: the value 95 % of the samples are at or under."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(function: Callable[[], object]) -> float:
    """Seconds one call of `function` takes."""
    started = perf_counter()
    function()
    return perf_counter() - started


def ms(seconds: float) -> str:
    value = seconds * 1000
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def ratio(value: float, baseline: float) -> str:
    if baseline <= 0:
        return "n/a"
    r = value / baseline
    return f"{r:.2f}x" if r < 10 else f"{r:,.0f}x"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """A Markdown table; `align` has one letter per column: l (default) or r."""
    align = align.ljust(len(headers), "l")
    marks = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)
