"""The job summary: Markdown sections within the runner's 1 MiB per step.

Long lists (findings, recorded PRs) are cut by whole items and end with
"and N more"; a section that cannot fit at all is cut by whole lines.

See: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#adding-a-job-summary
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from changebot.errors import ChangebotError
from changebot.render import JOB_SUMMARY_LIMIT, fit, render

log = logging.getLogger(__name__)


def utf8_len(text: str) -> int:
    """Return the size of ``text`` in bytes, as the runner counts it."""
    return len(text.encode("utf-8"))


class JobSummary:
    """Sections of Markdown that together stay within ``limit`` bytes."""

    def __init__(self, limit: int = JOB_SUMMARY_LIMIT) -> None:
        self.limit = limit
        self._parts: list[str] = []

    @property
    def room(self) -> int:
        """Return the bytes still free."""
        return self.limit - utf8_len(self.text())

    def add(self, markdown: str) -> None:
        """Add a section, cut by whole lines if it does not fit."""
        markdown = markdown.strip("\n") + "\n"
        room = self.room - (1 if self._parts else 0)
        if utf8_len(markdown) > room:
            markdown = _whole_lines(markdown, room)
        if markdown:
            self._parts.append(markdown)

    def add_list(self, head: str, items: Sequence[str], tail: str = "") -> None:
        """Add a section whose ``items`` are dropped from the end until it fits."""
        frame = utf8_len(head) + utf8_len(tail) + 3
        room = self.room - frame
        listed = fit(items, room, size=utf8_len) if room > 0 else ""
        self.add("\n".join(part for part in (head.strip("\n"), listed, tail) if part))

    def text(self) -> str:
        """Return the whole summary."""
        return "\n".join(self._parts)


def _whole_lines(text: str, room: int) -> str:
    more = render("action/cut.md").strip("\n") + "\n"
    kept: list[str] = []
    used = utf8_len(more)
    for line in text.splitlines(keepends=True):
        if used + utf8_len(line) > room:
            break
        kept.append(line)
        used += utf8_len(line)
    return "".join(kept) + more if used <= room else ""


def write_summary(path: Path | None, summary: JobSummary) -> None:
    """Append the summary to the runner's file (nothing when not on a runner)."""
    if path is None:
        log.info("no GITHUB_STEP_SUMMARY, job summary not written")
        return
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(summary.text())
    except OSError as err:
        raise ChangebotError(
            f"cannot write the job summary to {path}: {err.strerror}",
            hint="GITHUB_STEP_SUMMARY must name a file the step's user can write",
        ) from err
