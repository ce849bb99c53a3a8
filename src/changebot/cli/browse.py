"""`changebot audit reindex`: rebuild the audit browser's index from a branch.

With ``--app`` it refreshes the logs of every repository the GitHub App is
installed on, through GitHub's API, into the App's index under
CHANGEBOT_DATA_DIR (settings from the environment, as `changebot worker`).
"""

from __future__ import annotations

from pathlib import Path

import click

from changebot.adapters.git import GitStore
from changebot.audit.signing import load_trusted
from changebot.cli.audit import audit
from changebot.errors import UsageError
from changebot.index import Indexer
from changebot.index.feed import INDEX_FILE
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
@click.option(
    "--app",
    "installed",
    is_flag=True,
    help="Refresh the App's index from the audit branch of every installed repository.",
)
def reindex(
    repo_path: Path,
    branch: str,
    name: str | None,
    index_path: Path | None,
    trusted: tuple[Path, ...],
    update: bool,
    installed: bool,
) -> None:
    """Rebuild the audit browser's index from the branch, and verify the log."""
    if installed:
        _reindex_app(rebuild=not update)
        return
    if not name:
        raise UsageError("reindex needs --name OWNER/NAME (or --app)")
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


def _reindex_app(rebuild: bool) -> None:
    """Refresh every installed repository's log; exit 1 if any fails."""
    from changebot.compose import build
    from changebot.index.feed import refresh_app

    services = build(Settings.from_env())
    services.settings.require("app_id", "private_key", "signing_key_path")
    results = refresh_app(services, rebuild=rebuild)
    if not results:
        click.echo(render("browser/reindex_none.txt").rstrip())
    for log_name, result in sorted(results.items()):
        click.echo(
            render("browser/reindex.txt", log_name=log_name, result=result).rstrip()
        )
    if not all(r is not None and r.ok for r in results.values()):
        raise SystemExit(1)


def _default_index() -> Path:
    return Settings.from_env().data_dir / INDEX_FILE
