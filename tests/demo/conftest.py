"""Both ways of running `changebot demo`, started together to share the wait.

Each run is a real one: its own simulator, Slack stand-in, App server and
worker, on free loopback ports, in its own data directory.
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


@pytest.fixture(scope="session")
def demo_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, DemoRun]]:
    """Start `demo --no-serve` and `demo` (serving) at once."""
    runs = {
        "no-serve": _start(tmp_path_factory.mktemp("no-serve"), "--no-serve"),
        "serve": _start(tmp_path_factory.mktemp("serve")),
    }
    yield runs
    for run in runs.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait(timeout=60)
