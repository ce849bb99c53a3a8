"""evaluate_pull: judge a PR under its base branch's policy and say so on GitHub.

1. Read the PR's facts and the policy from the BASE branch (a PR cannot
   weaken the policy that judges it).
2. Resolve the teams the policy names into members.
3. Evaluate; when the PR edits `.changebot.yml`, the verdict shows the
   problems of the new file too.
4. Set the `changebot` check run on the head SHA.
5. Upsert the one PR comment, only when a person must act.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass

from changebot.errors import ConfigError, ConfigProblem
from changebot.flows.context import Context
from changebot.policy import classify, evaluate
from changebot.policy.codeowners import parse as parse_codeowners
from changebot.policy.config import CONFIG_PATH, Config, load_config
from changebot.policy.facts import PullFacts
from changebot.policy.verdict import ConfigFinding, Verdict
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
    verdict: Verdict
    report: CheckReport
    #: Problems of the base branch's policy (the PR is judged by defaults).
    base_problems: tuple[ConfigProblem, ...] = ()

    @property
    def needs_action(self) -> bool:
        """Tell whether a person must do something before this PR can merge."""
        return self.report.conclusion not in PASSING

    @property
    def proposed_problems(self) -> tuple[ConfigFinding, ...]:
        """Return the problems of the `.changebot.yml` the PR proposes."""
        return self.verdict.config_problems


def judge(ctx: Context, repo: str, number: int) -> Judgement:
    """Evaluate a PR without writing anything to GitHub."""
    facts = ctx.forge.pull(repo, number)
    facts = ctx.notes.annotate(facts) if ctx.notes else facts
    facts = _with_proposed_policy(ctx, facts)
    config, base_problems = _base_policy(ctx, repo, facts.base_ref)
    facts = with_memberships(ctx, facts, config)
    verdict = evaluate(facts, config)
    report = _report(render_check(verdict), base_problems)
    return Judgement(facts, config, verdict, report, base_problems)


def evaluate_pull(ctx: Context, repo: str, number: int) -> Judgement:
    """Judge a PR, set its check run, and ask for action in a comment if needed."""
    judgement = judge(ctx, repo, number)
    _check_run(ctx, judgement)
    _comment(ctx, judgement)
    log.info(
        "pull evaluated",
        extra={"repo": repo, "pr": number, "conclusion": judgement.report.conclusion},
    )
    return judgement


def _check_run(ctx: Context, judgement: Judgement) -> None:
    """Set the check run, unless it already says exactly this.

    The ledger keeps the run's id by head SHA, so that no worker looks it up
    on GitHub, nor makes a second run of the same name on that SHA.
    """
    facts = judgement.facts
    key = f"check.{facts.repo.lower()}#{facts.number}"
    said = _digest(repr(judgement.report))
    if _noted(ctx, key) == said:
        return
    run_key = f"checkrun.{facts.repo.lower()}@{facts.head_sha}"
    known = _noted(ctx, run_key)
    fresh = ctx.ledger is not None and known is None
    if fresh:
        _note(ctx, run_key, "pending")  # a crash before the id is noted: look up
    run_id = int(known) if known and known.isdigit() else None
    run_id = ctx.forge.set_check_run(facts.repo, judgement.report, run_id, fresh=fresh)
    _note(ctx, run_key, str(run_id))
    _note(ctx, key, said)


def _comment(ctx: Context, judgement: Judgement) -> None:
    """Ask for action in the PR comment, or say the ask is met when one was made.

    NOTE: a passing PR gets no comment of its own; but a comment that asked
    for action must not stay behind, stale, once the PR passes.
    """
    facts = judgement.facts
    key = f"commented.{facts.repo.lower()}#{facts.number}"
    before = _noted(ctx, key)
    if not judgement.needs_action and before is None:
        return
    body = render("pr/summary.md", judgement=judgement, report=judgement.report)
    if _digest(body) == before:
        return
    ctx.forge.upsert_comment(facts.repo, facts.number, MARKER, body)
    _note(ctx, key, _digest(body))


def _noted(ctx: Context, key: str) -> str | None:
    # NOTE: with no ledger (the Action) nothing is remembered: the check run
    # is always written, and a passing PR gets no comment, at the risk of
    # leaving a stale one.
    return ctx.ledger.noted(key) if ctx.ledger is not None else None


def _note(ctx: Context, key: str, value: str) -> None:
    if ctx.ledger is not None:
        ctx.ledger.note(key, value)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def with_memberships(ctx: Context, facts: PullFacts, config: Config) -> PullFacts:
    """Return ``facts`` with the members of the teams whose approval counts here.

    Only the teams of the touched areas and of the code owners of the changed
    files are asked for, and none when nobody approved: membership only ever
    makes an approval count, and each team costs a call.
    """
    if not any(review.state == "APPROVED" for review in facts.reviews):
        return facts
    owner = facts.repo.split("/", 1)[0]
    memberships: dict[str, set[str]] = {}
    for team in sorted(_teams(facts, config, owner)):
        org, slug = team.split("/", 1)
        for login in ctx.forge.team_members(org, slug):
            memberships.setdefault(login.lower(), set()).add(team)
    merged = {login: frozenset(teams) for login, teams in memberships.items()}
    return dataclasses.replace(facts, memberships={**facts.memberships, **merged})


def _teams(facts: PullFacts, config: Config, owner: str) -> set[str]:
    touched = classify(facts.files, config.areas)
    named = [team for area, _ in touched for team in area.reviewers.teams]
    if config.codeowners.enabled and facts.codeowners:
        paths = [f.path for _, files in touched for f in files]
        if config.codeowners.scope == "all":
            paths = [f.path for f in facts.files]
        owners = parse_codeowners(facts.codeowners).owners_by_path(paths)
        named += [o for group in owners.values() for o in group if "/" in o]
    return {(t if "/" in t else f"{owner}/{t}").lower() for t in named}


def _base_policy(
    ctx: Context, repo: str, base_ref: str
) -> tuple[Config, tuple[ConfigProblem, ...]]:
    try:
        return ctx.policy(repo, base_ref), ()
    except ConfigError as err:
        problems = tuple(err.problems) or (ConfigProblem(str(err)),)
        log.warning("base policy invalid", extra={"repo": repo, "ref": base_ref})
        return load_config(None), problems


def _with_proposed_policy(ctx: Context, facts: PullFacts) -> PullFacts:
    """Return ``facts`` with the `.changebot.yml` of the head, when the PR edits it."""
    if not any(CONFIG_PATH in (f.path, f.previous_path) for f in facts.files):
        return facts
    text = ctx.forge.file_at(facts.repo, facts.head_sha, CONFIG_PATH)
    return dataclasses.replace(facts, head_config=text)


def _report(report: CheckReport, base: tuple[ConfigProblem, ...]) -> CheckReport:
    """Fail the check, and say why first, when the base branch's policy is invalid."""
    if not base:
        return report
    extra = render("pr/config_problems.md", base=base, path=CONFIG_PATH)
    return dataclasses.replace(
        report,
        conclusion="failure",
        summary=f"{extra}\n\n{report.summary}".strip(),
    )
