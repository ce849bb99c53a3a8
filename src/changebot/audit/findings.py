"""What a verification of the audit branch found, and what it covered."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One sign of tampering, with the entry (or file) it concerns."""

    index: int | None
    message: str
    path: str | None = None

    def line(self) -> str:
        """Return the finding as one line of the verifier's output."""
        where = f"entry {self.index}" if self.index is not None else self.path
        return f"{where or 'log'}: {self.message}"


@dataclass
class VerifyReport:
    """What a verification found, and what it covered."""

    origin: str | None = None
    head: str | None = None
    size: int = 0
    root: str | None = None
    checkpoint_size: int | None = None
    since_size: int | None = None
    keys: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the log verified with no finding."""
        return self.error is None and not self.findings

    @property
    def exit_code(self) -> int:
        """Return 0 (intact), 1 (tampering found) or 2 (could not verify)."""
        if self.error is not None:
            return 2
        return 1 if self.findings else 0

    @property
    def covered(self) -> tuple[int, int] | None:
        """Return the first and last entry index checked, or None if none were."""
        return (0, self.size - 1) if self.size else None

    def summary_line(self) -> str:
        """Return the one-line summary the CLI prints last."""
        from changebot.render import render

        return render("audit/verify_summary.txt", report=self).strip()

    def to_json(self) -> dict[str, Any]:
        """Return the report as a JSON object."""
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "origin": self.origin,
            "head": self.head,
            "size": self.size,
            "covered": list(self.covered) if self.covered else None,
            "root": self.root,
            "checkpoint_size": self.checkpoint_size,
            "since_size": self.since_size,
            "keys": self.keys,
            "error": self.error,
            "findings": [
                {"index": f.index, "path": f.path, "message": f.message}
                for f in self.findings
            ],
        }


def report_json(report: VerifyReport) -> str:
    """Return the report as indented JSON text."""
    return json.dumps(report.to_json(), indent=2)
