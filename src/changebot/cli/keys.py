"""`changebot keys`: make signing keys and rotate the audit log to a new one."""

from __future__ import annotations

from pathlib import Path

import click

from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, SigningKey
from changebot.audit.layout import DEFAULT_BRANCH
from changebot.cli import main


@main.group()
def keys() -> None:
    """Make and rotate the Ed25519 keys that sign the audit log."""


@keys.command()
@click.option(
    "--out",
    "prefix",
    required=True,
    type=click.Path(path_type=Path),
    help="Write PREFIX.key, PREFIX.pub and PREFIX.vkey.",
)
@click.option(
    "--name",
    default="changebot",
    show_default=True,
    help="The name checkpoints are signed under.",
)
def generate(prefix: Path, name: str) -> None:
    """Make an Ed25519 key pair and print its key id."""
    key = SigningKey.generate(name)
    key.save(prefix)
    click.echo(key.keyid)


@keys.command()
@click.option("--repo", "repo_path", required=True, type=click.Path(exists=True))
@click.option("--branch", default=DEFAULT_BRANCH, show_default=True)
@click.option(
    "--old",
    "old_path",
    required=True,
    type=click.Path(exists=True),
    help="The key that signs the log now.",
)
@click.option(
    "--new",
    "new_path",
    required=True,
    type=click.Path(exists=True),
    help="The key that signs it from now on.",
)
def rotate(repo_path: str, branch: str, old_path: str, new_path: str) -> None:
    """Append a key entry signed by both keys; print its index."""
    old, new = SigningKey.load(old_path), SigningKey.load(new_path)
    appended = AuditLog(GitStore(repo_path, branch), old).rotate(new)
    click.echo(appended.index)
