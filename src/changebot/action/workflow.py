"""Workflow commands: annotations and masks the runner reads from stdout.

Every value is escaped by the runner's rules, so that text from a PR (a
title, a config file) can neither end a command early nor start another.

See: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

Level = Literal["error", "warning", "notice"]

#: The runner shows at most this many annotations of each level per step.
MAX_ANNOTATIONS = 10


def escape_data(text: str) -> str:
    """Escape a command's message: `%`, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property's value: as a message, and `:` and `,` too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(
    name: str, message: str, properties: Mapping[str, object] | None = None
) -> str:
    """Return one workflow command line, e.g. ``::error file=a,line=3::text``."""
    shown = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (properties or {}).items()
        if value is not None and value != ""
    )
    return f"::{name}{' ' + shown if shown else ''}::{escape_data(message)}"


@dataclass(frozen=True)
class Annotation:
    """A message the runner pins to the run, and to a file's line when known."""

    level: Level
    message: str
    title: str | None = None
    file: str | None = None
    line: int | None = None

    def line_text(self) -> str:
        """Return the workflow command that shows this annotation."""
        properties = {"file": self.file, "line": self.line, "title": self.title}
        return command(self.level, self.message, properties)


class Commands:
    """Writes workflow commands, one line each, through ``write``."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._masked: set[str] = set()

    def annotate(self, annotation: Annotation) -> None:
        """Show ``annotation`` on the run."""
        self._write(annotation.line_text())

    def mask(self, secret: str) -> None:
        """Have the runner hide ``secret`` in every later log line."""
        # NOTE: a multi-line secret is masked line by line, as the runner
        # matches masks within one line.
        for part in secret.splitlines():
            if part.strip() and part not in self._masked:
                self._masked.add(part)
                self._write(command("add-mask", part))


def one_line(text: str) -> str:
    """Return ``text`` with line breaks shown as ``\\n``, for a log line.

    NOTE: the runner reads commands from a step's stderr too; a log message
    that carried a PR's text across a line break could start one.
    """
    return text.replace("\r", "\\r").replace("\n", "\\n")


class OneLineFormatter(logging.Formatter):
    """Format each log record on one line, so that it can never be a command."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the formatted record with its line breaks escaped."""
        return one_line(super().format(record))
