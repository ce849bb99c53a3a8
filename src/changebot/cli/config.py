"""`changebot config`: validate a `.changebot.yml`, print its schema or the preset."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import click

from changebot.cli import main
from changebot.errors import UsageError
from changebot.policy.config import CONFIG_PATH, load_config, schema, validate_config
from changebot.render import render


@main.group()
def config() -> None:
    """Check and explain the `.changebot.yml` policy file."""


@config.command()
@click.argument("file", default=CONFIG_PATH, type=click.Path(dir_okay=False))
@click.pass_context
def validate(ctx: click.Context, file: str) -> None:
    """Check FILE against the schema and rules; list every problem with its line.

    Exits 2 when there is any problem, 0 when the file is valid.
    """
    text = _read(file)
    problems = validate_config(text)
    if problems:
        click.echo(
            render("cli/config_problems.txt", file=file, problems=problems),
            err=True,
            nl=False,
        )
        ctx.exit(2)
    policy = load_config(text, source=file)
    click.echo(render("cli/config_valid.txt", file=file, config=policy), nl=False)


@config.command("schema")
def print_schema() -> None:
    """Print the JSON Schema of `.changebot.yml`."""
    click.echo(json.dumps(schema(), indent=2))


@config.command()
def preset() -> None:
    """Print the default policy, used when a repository has no `.changebot.yml`."""
    preset_file = resources.files("changebot.policy").joinpath("preset.yml")
    click.echo(preset_file.read_text(), nl=False)


def _read(file: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise UsageError(
            f"{file} does not exist",
            hint="pass a .changebot.yml; `changebot config preset` prints one",
        ) from err
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read {file}: {err}") from err
