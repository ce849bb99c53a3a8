"""Injected faults: make the next N calls matching a route fail as GitHub can.

See: https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
"""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import dataclass

KINDS = ("500", "502", "503", "timeout", "secondary", "429", "primary")


@dataclass
class Fault:
    """Fail ``times`` more calls of ``method`` whose path matches ``pattern``."""

    kind: str
    pattern: str
    method: str | None
    times: int
    retry_after: int = 1
    #: How long a "timeout" fault holds the answer back, in seconds.
    delay: float = 3.0

    def matches(self, method: str, path: str) -> bool:
        """Say whether this fault applies to a call."""
        if self.method and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path.rstrip("/") or "/", self.pattern)


class Faults:
    """The pending faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._pending: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        """Queue a fault."""
        if fault.kind not in KINDS:
            raise ValueError(f"unknown fault {fault.kind!r}; use one of {KINDS}")
        with self._lock:
            self._pending.append(fault)

    def clear(self) -> None:
        """Drop every pending fault."""
        with self._lock:
            self._pending.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Return the fault this call must suffer, using one of its times."""
        with self._lock:
            for fault in self._pending:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._pending.remove(fault)
                    return fault
        return None
