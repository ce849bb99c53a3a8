"""evaluate_pull: judge a PR under its base branch's policy and say so on GitHub.

1. Read the PR's facts and the policy from the BASE branch (a PR cannot
   weaken the policy that judges it).
2. Resolve the teams the policy names into members.
3. Evaluate; when the PR edits `.changebot.yml`, validate the new file too.
4. Set the `changebot` check run on the head SHA.
5. Upsert the one PR comment, only when a person must act.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from changebot.errors import ConfigError, ConfigProblem
from changebot.flows.context import Context
from changebot.policy import evaluate
from changebot.policy.config import CONFIG_PATH, Config, load_config, validate_config
from changebot.policy.facts import PullFacts
from changebot.ports import CheckReport
from changebot.render import render, render_check

log = logging.getLogger(__name__)

#: Finds the one comment changebot keeps on a PR.
MARKER = "<!-- changebot:summary -->"
#: Conclusions that ask nothing of a person.
PASSING = frozenset({"success", "neutral", "skipped"})


@dataclass(frozen=True)
class Judgement:
    """A PR's facts, the policy that judged it, and what came out."""

    facts: PullFacts
    config: Config
    verdict: object
    report: CheckReport
    #: Problems of the `.changebot.yml` the PR proposes (empty when untouched).
    proposed_problems: tuple[ConfigProblem, ...] = ()
    #: Problems of the base branch's policy (the PR is judged by defaults).
    base_problems: tuple[ConfigProblem, ...] = ()

    @property
    def needs_action(self) -> bool:
        """Tell whether a person must do something before this PR can merge."""
        return self.report.conclusion not in PASSING


def judge(ctx: Context, repo: str, number: int) -> Judgement:
    """Evaluate a PR without writing anything to GitHub."""
    facts = ctx.forge.pull(repo, number)
    config, base_problems = _base_policy(ctx, repo, facts.base_ref)
    facts = with_memberships(ctx, facts, config)
    verdict = evaluate(facts, config)
    proposed = _proposed_problems(ctx, facts)
    report = _report(render_check(verdict), proposed, base_problems)
    return Judgement(facts, config, verdict, report, proposed, base_problems)


def evaluate_pull(ctx: Context, repo: str, number: int) -> Judgement:
    """Judge a PR, set its check run, and ask for action in a comment if needed."""
    judgement = judge(ctx, repo, number)
    ctx.forge.set_check_run(repo, judgement.report)
    if judgement.needs_action:
        body = render("pr/summary.md", judgement=judgement, report=judgement.report)
        ctx.forge.upsert_comment(repo, number, MARKER, body)
    log.info(
        "pull evaluated",
        extra={"repo": repo, "pr": number, "conclusion": judgement.report.conclusion},
    )
    return judgement


def with_memberships(ctx: Context, facts: PullFacts, config: Config) -> PullFacts:
    """Return ``facts`` with the members of every team the policy names."""
    owner = facts.repo.split("/", 1)[0]
    memberships: dict[str, set[str]] = {}
    for team in sorted(_teams(config, owner)):
        org, slug = team.split("/", 1)
        for login in ctx.forge.team_members(org, slug):
            memberships.setdefault(login.lower(), set()).add(team.lower())
    merged = {login: frozenset(teams) for login, teams in memberships.items()}
    return dataclasses.replace(facts, memberships={**facts.memberships, **merged})


def _teams(config: Config, owner: str) -> set[str]:
    named: list[str] = []
    for area in config.areas:
        named.extend(area.reviewers.teams)
    named.extend(
        p.removeprefix("team:")
        for p in config.overrides.allowed
        if p.startswith("team:")
    )
    return {team if "/" in team else f"{owner}/{team}" for team in named}


def _base_policy(
    ctx: Context, repo: str, base_ref: str
) -> tuple[Config, tuple[ConfigProblem, ...]]:
    try:
        return ctx.policy(repo, base_ref), ()
    except ConfigError as err:
        problems = tuple(err.problems) or (ConfigProblem(str(err)),)
        log.warning("base policy invalid", extra={"repo": repo, "ref": base_ref})
        return load_config(None), problems


def _proposed_problems(ctx: Context, facts: PullFacts) -> tuple[ConfigProblem, ...]:
    if not _edits_policy(facts.files):
        return ()
    text = ctx.forge.file_at(facts.repo, facts.head_sha, CONFIG_PATH)
    if text is None:
        return ()
    return tuple(validate_config(text))


def _edits_policy(files: Iterable[object]) -> bool:
    for changed in files:
        paths = (
            getattr(changed, "path", None),
            getattr(changed, "previous_path", None),
        )
        if CONFIG_PATH in paths:
            return True
    return False


def _report(
    report: CheckReport,
    proposed: tuple[ConfigProblem, ...],
    base: tuple[ConfigProblem, ...],
) -> CheckReport:
    if not proposed and not base:
        return report
    extra = render(
        "pr/config_problems.md", proposed=proposed, base=base, path=CONFIG_PATH
    )
    return dataclasses.replace(
        report,
        conclusion="failure",
        title=f"{CONFIG_PATH} has problems" if proposed else report.title,
        summary=f"{extra}\n\n{report.summary}".strip(),
    )
