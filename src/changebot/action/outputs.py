"""Step outputs, written to the file the runner names in ``GITHUB_OUTPUT``.

A value with a line break (a checkpoint is three lines and a signature) is
written with the heredoc syntax, under a random delimiter that the value
cannot contain, so that no value can end early or set another output.

See: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#setting-an-output-parameter
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from changebot.errors import ChangebotError

log = logging.getLogger(__name__)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def output_lines(outputs: Mapping[str, str]) -> str:
    """Return ``outputs`` in the runner's file syntax."""
    lines = []
    for name, value in outputs.items():
        if not _NAME.fullmatch(name):
            raise ValueError(f"not an output name: {name!r}")
        if "\n" in value or "\r" in value:
            delimiter = _delimiter(value)
            lines += [f"{name}<<{delimiter}", value, delimiter]
        else:
            lines.append(f"{name}={value}")
    return "".join(line + "\n" for line in lines)


def _delimiter(value: str) -> str:
    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter not in value:
            return delimiter


def write_outputs(path: Path | None, outputs: Mapping[str, str]) -> None:
    """Append ``outputs`` to the runner's output file (nothing when not on a runner)."""
    if path is None:
        log.info(
            "no GITHUB_OUTPUT, outputs not written", extra={"names": list(outputs)}
        )
        return
    try:
        with path.open("a", encoding="utf-8") as out:
            out.write(output_lines(outputs))
    except OSError as err:
        raise ChangebotError(
            f"cannot write the step's outputs to {path}: {err.strerror}",
            hint="GITHUB_OUTPUT must name a file the step's user can write",
        ) from err
