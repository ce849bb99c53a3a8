"""Benchmarks: `python -m benchmarks [NAME ...]` runs every `bench_*.py` here.

Each module exposes `main() -> None`, which measures, prints its figures,
and prints each figure's ratio to a baseline measured in the same run (so
that the numbers mean something on any machine). Benchmarks measure; they
assert nothing.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def best_of(run: Callable[[], object], *, repeat: int = 7, number: int = 1) -> float:
    """Return the best time, in seconds, of ``number`` calls of ``run``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            run()
        times.append((time.perf_counter() - start) / number)
    return min(times)


def median_of(run: Callable[[], object], *, repeat: int = 7) -> float:
    """Return the median time, in seconds, of one call of ``run``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(name: str, seconds: float, *, baseline: float | None = None) -> None:
    """Print one figure in milliseconds, with its ratio to ``baseline``."""
    ratio = f"  x{seconds / baseline:5.2f} of the baseline" if baseline else ""
    print(f"  {name:<48} {seconds * 1000:9.2f} ms{ratio}")
