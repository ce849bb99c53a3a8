"""`changebot action`: the entry point of the GitHub Action's container."""

from __future__ import annotations

import logging
import os
import sys

import click

from changebot.action.inputs import Inputs
from changebot.action.step import explain, run_step
from changebot.action.workflow import OneLineFormatter
from changebot.cli import main
from changebot.errors import ChangebotError


@main.command()
def action() -> None:
    """Run as a GitHub Action step, on the event of the workflow that started it.

    Reads GITHUB_EVENT_NAME, GITHUB_EVENT_PATH and the CHANGEBOT_* inputs that
    action.yml sets; writes GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and workflow
    commands. See docs/action.md.
    """
    _one_line_logs()
    try:
        status = run_step(Inputs.from_env(os.environ), os.environ, click.echo)
    except ChangebotError as err:
        click.echo(explain(err).line_text())
        raise
    sys.exit(status)


def _one_line_logs() -> None:
    """Keep every log record on one line: the runner reads commands from stderr."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(
            OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
