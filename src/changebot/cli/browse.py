"""`changebot audit reindex`: rebuild the audit browser's index from a branch."""

from __future__ import annotations

from pathlib import Path

import click

from changebot.adapters.git import GitStore
from changebot.audit.signing import load_trusted
from changebot.cli.audit import audit
from changebot.errors import UsageError
from changebot.index import Indexer
from changebot.index.refresh import refresh
from changebot.render import render
from changebot.settings import Settings


@audit.command("reindex")
@click.option(
    "--repo",
    "repo_path",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Local clone (or mirror) that holds the audit branch.",
)
@click.option("--branch", default="changebot/audit", show_default=True)
@click.option(
    "--name",
    required=True,
    help="The log's name in the browser: the OWNER/NAME of the repository it lives in.",
)
@click.option(
    "--index",
    "index_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Index file [default: $CHANGEBOT_DATA_DIR/audit-index.sqlite3].",
)
@click.option(
    "--trusted-key",
    "trusted",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Public key (.pub or .vkey) trusted out of band; repeat for several.",
)
@click.option("--update", is_flag=True, help="Index only what the branch gained.")
def reindex(
    repo_path: Path,
    branch: str,
    name: str,
    index_path: Path | None,
    trusted: tuple[Path, ...],
    update: bool,
) -> None:
    """Rebuild the audit browser's index from the branch, and verify the log."""
    if not trusted:
        raise UsageError(
            "reindex needs at least one --trusted-key to verify the log against"
        )
    store = GitStore(repo_path, branch)
    indexer = Indexer(index_path or _default_index())
    result = refresh(
        indexer, name, store, load_trusted(list(trusted)), rebuild=not update
    )
    click.echo(render("browser/reindex.txt", log_name=name, result=result).rstrip())
    if not result.ok:
        raise SystemExit(1)


def _default_index() -> Path:
    return Settings.from_env().data_dir / "audit-index.sqlite3"
