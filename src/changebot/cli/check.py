"""`changebot check`: judge a local branch as changebot would judge its PR."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import TextIO

import click

from changebot.adapters.git import LocalRepo
from changebot.cli import main
from changebot.errors import ConfigError
from changebot.policy import evaluate
from changebot.policy.codeowners import LOCATIONS
from changebot.policy.config import CONFIG_PATH, Config, load_config
from changebot.policy.facts import PullFacts
from changebot.policy.verdict import Verdict
from changebot.render import render

log = logging.getLogger(__name__)


@main.command()
@click.option(
    "--repo",
    "path",
    default=".",
    show_default=True,
    type=click.Path(exists=True, file_okay=False),
    help="The clone to read.",
)
@click.option("--base", required=True, help="The branch the PR would merge into.")
@click.option("--head", default="HEAD", show_default=True, help="The PR's branch.")
@click.option(
    "--body-file",
    type=click.File("r", encoding="utf-8"),
    help="The PR description (Markdown); `-` reads standard input.",
)
@click.option("--title", help="The PR title (default: the head commit's subject).")
@click.option("--author", help="The PR author's login (default: the first author).")
@click.option(
    "--name",
    help="The repository as owner/name, which resolves bare team slugs "
    "(default: local/<directory>).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@click.pass_context
def check(
    ctx: click.Context,
    path: str,
    base: str,
    head: str,
    body_file: TextIO | None,
    title: str | None,
    author: str | None,
    name: str | None,
    as_json: bool,
) -> None:
    """Show the areas a branch touches, the reviewers it needs, and its rationale.

    The policy is read from the base ref, as on GitHub. Exits 1 when the
    rationale is incomplete or a policy file is invalid, else 0 (reviewers
    are reported as pending: a local branch has no reviews).
    """
    repo = LocalRepo(path)
    base_sha, head_sha = repo.resolve(base), repo.resolve(head)
    config = _base_config(ctx, repo, base_sha, as_json)
    body = body_file.read() if body_file else ""
    facts = _facts(repo, base_sha, head_sha, body, title, author)
    facts = replace(facts, repo=name or facts.repo)
    verdict = evaluate(facts, config)
    log.info("checked branch", extra={"base": base_sha, "head": head_sha})
    if as_json:
        click.echo(json.dumps(verdict.to_json(), indent=2))
    else:
        click.echo(render("cli/check.txt", v=verdict, base=base, head=head), nl=False)
    ctx.exit(1 if _fails(verdict) else 0)


def _base_config(
    ctx: click.Context, repo: LocalRepo, base_sha: str, as_json: bool
) -> Config:
    text = repo.file_at(base_sha, CONFIG_PATH)
    try:
        return load_config(text, source=f"{CONFIG_PATH} at {base_sha[:12]}")
    except ConfigError as err:
        if as_json:
            problems = [vars(p) for p in err.problems]
            click.echo(json.dumps({"config": {"problems": problems}}, indent=2))
        else:
            click.echo(
                render(
                    "cli/config_problems.txt", file=CONFIG_PATH, problems=err.problems
                ),
                nl=False,
            )
        ctx.exit(1)


def _facts(
    repo: LocalRepo,
    base_sha: str,
    head_sha: str,
    body: str,
    title: str | None,
    author: str | None,
) -> PullFacts:
    files = tuple(repo.diff_files(base_sha, head_sha))
    commits = tuple(repo.commits(base_sha, head_sha))
    proposed = any(f.path == CONFIG_PATH for f in files)
    return PullFacts(
        repo=f"local/{Path(repo.path).name}",
        number=0,
        title=title if title is not None else (commits[-1].message if commits else ""),
        body=body,
        author=author or (commits[0].author if commits else None),
        base_ref=base_sha,
        base_sha=base_sha,
        head_ref=head_sha,
        head_sha=head_sha,
        head_tree=repo.tree_of(head_sha),
        files=files,
        commits=commits,
        codeowners=_codeowners(repo, base_sha),
        head_config=repo.file_at(head_sha, CONFIG_PATH) if proposed else None,
    )


def _codeowners(repo: LocalRepo, base_sha: str) -> str | None:
    for location in LOCATIONS:
        text = repo.file_at(base_sha, location)
        if text is not None:
            return text
    return None


def _fails(verdict: Verdict) -> bool:
    rationale = verdict.rationale
    return bool(verdict.config_problems) or (rationale.required and not rationale.ok)
