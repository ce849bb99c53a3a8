"""The `changebot` command line: one group, one module per family of commands."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from changebot import __version__
from changebot.errors import ChangebotError


class Group(click.Group):
    """A click group that turns a ChangebotError into a message and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ChangebotError as err:
            click.echo(f"changebot: {err.explain()}", err=True)
            sys.exit(err.exit_code)


@click.group(cls=Group)
@click.version_option(__version__, prog_name="changebot")
@click.option("-v", "--verbose", count=True, help="Log more (-vv for debug).")
def main(verbose: int) -> None:
    """Make every infrastructure and configuration change accountable."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _register() -> None:
    # NOTE: imported here, after `main` exists, because each module adds its
    # commands to `main`.
    from changebot.cli import (  # noqa: F401
        action,
        audit,
        browse,
        check,
        config,
        demo,
        deploy,
        keys,
        serve,
        simulator,
    )


_register()
