"""The two ways of running `changebot demo`, each started once per session.

Each run is a real one: its own simulator, Slack stand-in, App server and
worker, on free loopback ports, in its own data directory. A run starts when
a test first asks for it, so that pytest-xdist workers each start only the
runs their tests need (and run them side by side).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ENTRY = "from changebot.cli import main; main(prog_name='changebot')"
#: Bound on one whole run; the story itself takes well under a minute.
RUN_TIMEOUT = 240


@dataclass
class DemoRun:
    """One `changebot demo` process and what it printed."""

    process: subprocess.Popen[str]
    data: Path
    output: Path
    lines: list[str] = field(default_factory=list)

    def finished(self) -> str:
        """Wait for the run to end; return everything it printed."""
        self.process.wait(timeout=RUN_TIMEOUT)
        return self.output.read_text()

    def read_until(self, marker: str) -> list[str]:
        """Return the lines printed so far, once one contains ``marker``."""
        deadline = time.monotonic() + RUN_TIMEOUT
        while time.monotonic() < deadline:
            self.lines = self.output.read_text().splitlines()
            if any(marker in line for line in self.lines):
                return self.lines
            if self.process.poll() is not None:
                raise AssertionError("the demo stopped:\n" + "\n".join(self.lines))
            time.sleep(0.2)
        raise AssertionError(f"the demo never printed {marker!r}")


def _start(root: Path, *args: str) -> DemoRun:
    data, output = root / "data", root / "output.txt"
    with output.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", ENTRY, "demo", "--data", str(data), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return DemoRun(process, data, output)


class DemoRuns:
    """Starts each kind of run on first use, and stops them all at the end."""

    ARGS = {"no-serve": ("--no-serve",), "serve": ()}

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self._factory = factory
        self._runs: dict[str, DemoRun] = {}

    def __getitem__(self, kind: str) -> DemoRun:
        if kind not in self._runs:
            root = self._factory.mktemp(kind)
            self._runs[kind] = _start(root, *self.ARGS[kind])
        return self._runs[kind]

    def stop(self) -> None:
        """Kill runs a test left running (a passing test ends its own)."""
        for run in self._runs.values():
            if run.process.poll() is None:
                run.process.kill()
                run.process.wait(timeout=60)


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRuns]:
    """Return the session's demo runs: `["no-serve"]` and `["serve"]`."""
    runs = DemoRuns(tmp_path_factory)
    yield runs
    runs.stop()
