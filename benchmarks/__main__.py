"""Run the benchmarks: `python -m benchmarks [NAME ...]` (all when none given)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def _available() -> list[str]:
    here = [str(Path(__file__).parent)]
    return sorted(
        m.name for m in pkgutil.iter_modules(here) if m.name.startswith("bench_")
    )


def _wanted(names: list[str], available: list[str]) -> list[str]:
    if not names:
        return available
    chosen = [n if n.startswith("bench_") else f"bench_{n}" for n in names]
    unknown = [n for n in chosen if n not in available]
    if unknown:
        sys.exit(
            f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(available)}"
        )
    return chosen


def run(names: list[str]) -> None:
    """Import each chosen benchmark module and call its main()."""
    for name in _wanted(names, _available()):
        print(f"== {name.removeprefix('bench_')}")
        module = importlib.import_module(f"benchmarks.{name}")
        module.main()


if __name__ == "__main__":
    run(sys.argv[1:])
