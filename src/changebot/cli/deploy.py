"""`changebot deploy` and `changebot timeline`, against a local clone."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import click

from changebot.adapters.git import GitStore, LocalRepo
from changebot.adapters.slack import notifier_for
from changebot.audit import AuditLog, SigningKey
from changebot.audit.layout import DEFAULT_BRANCH
from changebot.cli import main
from changebot.deploy import outputs
from changebot.deploy.timeline import parse_time, timeline
from changebot.errors import ChangebotError, ConfigError, UsageError
from changebot.flows.deploy import DeploymentRequest, Outcome, record_deployment
from changebot.policy.config import CONFIG_PATH, Config, load_config
from changebot.ports import Notifier
from changebot.render import render
from changebot.settings import Settings

repo_option = click.option(
    "--repo", "repo_path", required=True, type=click.Path(exists=True, file_okay=False),
    help="A clone with the deployed history and the audit branch.",
)  # fmt: skip
branch_option = click.option(
    "--branch", default=DEFAULT_BRANCH, show_default=True, help="The audit branch."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@main.command()
@repo_option
@click.option("--environment", required=True, help="Where it was deployed.")
@click.option("--sha", required=True, help="The deployed commit (a SHA or a ref).")
@click.option("--reason", default=None, help="Why (worth giving for a rollback).")
@click.option("--deployer", default=None, help="Who deployed; defaults to $USER.")
@branch_option
@click.option(
    "--key", "key_path", default=None, type=click.Path(exists=True, dir_okay=False),
    help="Signing key; defaults to $CHANGEBOT_SIGNING_KEY_PATH.",
)  # fmt: skip
@click.option("--idempotency-key", default=None, help="Say, the CI run id.")
@click.option("--name", default=None, help="owner/name; defaults to the origin's.")
@click.option("--web-url", default=None, help="The repository's page, for links.")
@click.option(
    "--summary-file", default=None, type=click.Path(dir_okay=False),
    help="Append the Markdown summary here (the Action's $GITHUB_STEP_SUMMARY).",
)  # fmt: skip
@json_option
def deploy(
    repo_path: str,
    environment: str,
    sha: str,
    reason: str | None,
    deployer: str | None,
    branch: str,
    key_path: str | None,
    idempotency_key: str | None,
    name: str | None,
    web_url: str | None,
    summary_file: str | None,
    as_json: bool,
) -> None:
    """Record a deployment or rollback and print what it changed."""
    settings = Settings.from_env()
    repo = LocalRepo(repo_path)
    store = GitStore(repo_path, branch)
    request = DeploymentRequest(
        repo=name or repo_name(store.origin),
        environment=environment,
        sha=repo.resolve(sha),
        deployer=deployer or os.environ.get("USER"),
        reason=reason,
        key=idempotency_key,
        web_url=web_url,
    )
    audit = AuditLog(store, _signing_key(key_path, settings))
    notifier = _notifier(repo, settings)
    outcome = record_deployment(request, audit=audit, ancestry=repo, notifier=notifier)

    markdown = outputs.job_summary(outcome.summary)
    if summary_file:
        with Path(summary_file).open("a", encoding="utf-8") as out:
            out.write(markdown + "\n")
    if as_json:
        click.echo(json.dumps(_outcome_json(outcome), indent=2))
        return
    click.echo(markdown)
    click.echo(render("deploy/recorded.txt", o=outcome).strip())


@main.command(name="timeline")
@repo_option
@click.option("--environment", default=None, help="Only this environment's deploys.")
@click.option("--since", required=True, help="RFC 3339 time, e.g. 2026-01-31T22:00Z.")
@click.option("--until", default=None, help="RFC 3339 time (exclusive).")
@branch_option
@json_option
def timeline_command(
    repo_path: str,
    environment: str | None,
    since: str,
    until: str | None,
    branch: str,
    as_json: bool,
) -> None:
    """List changes, deployments, rollbacks and overrides in a window, in order."""
    start, end = _window(since, until)
    # NOTE: reading needs no key of ours; the log's API wants a signer anyway.
    audit = AuditLog(GitStore(repo_path, branch), SigningKey.generate())
    chosen = timeline(audit.entries(), start, end, environment=environment)
    if as_json:
        click.echo(json.dumps(chosen, indent=2))
        return
    click.echo(render("deploy/timeline.txt", entries=chosen).rstrip())


def repo_name(origin: str) -> str:
    """Return ``owner/name`` from a store origin like ``host/owner/name@branch``."""
    path = origin.rsplit("@", 1)[0].rstrip("/")
    return "/".join(path.split("/")[-2:])


def _window(since: str, until: str | None) -> tuple[Any, Any]:
    try:
        return parse_time(since), parse_time(until) if until else None
    except ValueError as err:
        raise UsageError(
            f"not a time: {err}", hint="write times as 2026-01-31T22:00:00Z"
        ) from err


def _signing_key(path: str | Path | None, settings: Settings) -> SigningKey:
    path = path or settings.signing_key_path
    if not path:
        raise UsageError(
            "a deployment entry must be signed, and no signing key was given",
            hint="pass --key PATH or set CHANGEBOT_SIGNING_KEY_PATH",
        )
    return SigningKey.load(path)


def _notifier(repo: LocalRepo, settings: Settings) -> Notifier:
    """Return Slack as the repository's config routes it (or the log)."""
    config = _config(repo)
    return notifier_for(
        config,
        os.environ,
        data_dir=settings.data_dir,
        webhook_url=settings.slack_webhook,
    )


def _config(repo: LocalRepo) -> Config:
    try:
        return load_config(repo.file_at("HEAD", CONFIG_PATH))
    except (ConfigError, ChangebotError) as err:
        note = f"changebot: {CONFIG_PATH} unreadable, using defaults: {err}"
        click.echo(note, err=True)
        return load_config(None)


def _outcome_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "key": outcome.key,
        "index": outcome.index,
        "created": outcome.created,
        "notified": outcome.notified,
        **dataclasses.asdict(outcome.summary),
    }
