"""Judge a pull request against the policy: the one entry to the pure core."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache

from changebot.policy import rationale, reviews
from changebot.policy.codeowners import Codeowners
from changebot.policy.codeowners import parse as parse_codeowners
from changebot.policy.config import CONFIG_PATH, Area, Config, validate_config
from changebot.policy.facts import ChangedFile, PullFacts
from changebot.policy.patterns import PathMatcher, matcher_for
from changebot.policy.verdict import (
    AreaFile,
    AreaResult,
    Conclusion,
    ConfigFinding,
    RationaleReport,
    RuleResult,
    Verdict,
    worst,
)

log = logging.getLogger(__name__)


def evaluate(facts: PullFacts, config: Config) -> Verdict:
    """Judge ``facts`` against ``config`` and explain the verdict.

    1. classify the changed files (renames under both paths) into areas;
    2. judge each area's reviewers, then the code owners;
    3. judge the rationale when a touched area asks for one;
    4. check a `.changebot.yml` the PR proposes;
    5. conclude (an override turns any verdict into success).
    """
    # 1. areas
    touched = classify(facts.files, config.areas)

    # 2. reviewers and owners
    standing = reviews.standing(facts)
    report = _rationale(facts, config, touched)
    areas = tuple(_judge_area(area, files, standing, config) for area, files in touched)
    owners, notes = _codeowners(facts, config, touched, standing)

    # 3. rationale, 4. proposed config
    problems = _config_findings(facts)
    rules = (
        *owners,
        _rationale_rule(report),
        *_config_rule(facts, problems),
        *_files_rule(facts),
    )

    # 5. conclusion
    verdict = Verdict(
        conclusion="neutral",
        repo=facts.repo,
        number=facts.number,
        head_sha=facts.head_sha,
        areas=areas,
        rules=rules,
        rationale=report,
        paths=tuple(f.path for f in facts.files),
        config_source=config.source,
        config_problems=problems,
        notes=notes,
        overridden_by=facts.override[0] if facts.override else None,
        override_reason=facts.override[1] if facts.override else None,
        files_truncated=facts.files_truncated,
        draft=facts.draft,
    )
    conclusion = _conclude(verdict)
    log.debug(
        "evaluated pull",
        extra={"repo": facts.repo, "pr": facts.number, "conclusion": conclusion},
    )
    return _with_conclusion(verdict, conclusion)


# --- 1. areas ---------------------------------------------------------------


def classify(
    files: Iterable[ChangedFile], areas: tuple[Area, ...]
) -> list[tuple[Area, tuple[AreaFile, ...]]]:
    """Return the areas the files fall into, in config order, with their files."""
    matcher, owner = _area_matcher(areas)
    found: dict[int, list[AreaFile]] = {}
    for changed in files:
        hit = _areas_of(matcher, owner, changed.path)
        if changed.previous_path:
            hit |= _areas_of(matcher, owner, changed.previous_path)
        entry = AreaFile(changed.path, changed.previous_path)
        for index in hit:
            found.setdefault(index, []).append(entry)
    return [(areas[i], tuple(found[i])) for i in sorted(found)]


@lru_cache(maxsize=32)
def _area_matcher(
    areas: tuple[Area, ...],
) -> tuple[PathMatcher, tuple[tuple[int, bool], ...]]:
    patterns = tuple(p for area in areas for p in area.paths)
    owner = tuple(
        (i, not p.startswith("!")) for i, a in enumerate(areas) for p in a.paths
    )
    return matcher_for(patterns), owner


def _areas_of(
    matcher: PathMatcher, owner: tuple[tuple[int, bool], ...], path: str
) -> set[int]:
    # Within an area the last matching pattern decides, so `!` can exclude.
    last: dict[int, bool] = {}
    for index in matcher.matching(path):
        area, include = owner[index]
        last[area] = include
    return {area for area, include in last.items() if include}


# --- 2. reviewers and owners ----------------------------------------------


def _judge_area(
    area: Area,
    files: tuple[AreaFile, ...],
    standing: reviews.Standing,
    config: Config,
) -> AreaResult:
    need = _requirement(area, config)
    rule = reviews.judge(standing, need, rule="reviewers", area=area.name)
    return AreaResult(area.name, area.description, files, (rule,), area.rationale)


def _requirement(area: Area, config: Config) -> reviews.Requirement:
    wanted = area.reviewers
    approvals = config.approvals
    return reviews.Requirement(
        count=wanted.count,
        users=wanted.users,
        teams=wanted.teams,
        exclude_author=wanted.exclude_author,
        exclude_committers=_either(
            wanted.exclude_committers, approvals.exclude_committers
        ),
        invalidate_on_push=_either(
            wanted.invalidate_on_push, approvals.invalidate_on_push
        ),
    )


def _either(value: bool | None, default: bool) -> bool:
    return default if value is None else value


def _codeowners(
    facts: PullFacts,
    config: Config,
    touched: list[tuple[Area, tuple[AreaFile, ...]]],
    standing: reviews.Standing,
) -> tuple[tuple[RuleResult, ...], tuple[str, ...]]:
    if not config.codeowners.enabled or not facts.codeowners:
        return (), ()
    parsed = _parsed_codeowners(facts.codeowners)
    paths = _owner_scope(facts, config, touched)
    groups = _owner_groups(parsed, paths)
    if not groups:
        return (), parsed.notes
    results = [
        _judge_owners(standing, config, owners, files)
        for owners, files in groups.items()
    ]
    return (_merge_owner_rules(results),), parsed.notes


@lru_cache(maxsize=16)
def _parsed_codeowners(text: str) -> Codeowners:
    return parse_codeowners(text)


def _owner_scope(
    facts: PullFacts, config: Config, touched: list[tuple[Area, tuple[AreaFile, ...]]]
) -> list[str]:
    if config.codeowners.scope == "all":
        files: Iterable[AreaFile] = (
            AreaFile(f.path, f.previous_path) for f in facts.files
        )
    else:
        files = {f: None for _, fs in touched for f in fs}
    paths: dict[str, None] = {}
    for f in files:
        paths[f.path] = None
        if f.previous_path:
            paths[f.previous_path] = None
    return list(paths)


def _owner_groups(
    parsed: Codeowners, paths: list[str]
) -> dict[tuple[str, ...], list[str]]:
    groups: dict[tuple[str, ...], list[str]] = {}
    for path, owners in parsed.owners_by_path(paths).items():
        groups.setdefault(owners, []).append(path)
    return groups


def _judge_owners(
    standing: reviews.Standing,
    config: Config,
    owners: tuple[str, ...],
    files: list[str],
) -> RuleResult:
    need = reviews.Requirement(
        count=1,
        users=tuple(o for o in owners if "/" not in o),
        teams=tuple(o for o in owners if "/" in o),
        exclude_committers=config.approvals.exclude_committers,
        invalidate_on_push=config.approvals.invalidate_on_push,
    )
    result = reviews.judge(standing, need, rule="codeowners", area=None)
    scope = f"{len(files)} file(s) owned by {', '.join('@' + o for o in owners)}"
    return RuleResult(
        rule=result.rule,
        state=result.state,
        reasons=tuple(
            f"{scope}: {r}"
            for r in result.reasons
            if not r.endswith("is not a required reviewer")
        ),
        required=1,
        approvals=result.approvals,
        blocked_by=result.blocked_by,
        can_approve_users=result.can_approve_users,
        can_approve_teams=result.can_approve_teams,
    )


def _merge_owner_rules(results: list[RuleResult]) -> RuleResult:
    def union(values: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for group in values for v in group))

    waiting = [r for r in results if r.state in ("pending", "failed")]
    return RuleResult(
        rule="codeowners",
        state=worst([r.state for r in results]),
        reasons=tuple(reason for r in results for reason in r.reasons),
        required=len(results),
        approvals=tuple({a.login: a for r in results for a in r.approvals}.values()),
        blocked_by=union(r.blocked_by for r in results),
        can_approve_users=union(r.can_approve_users for r in waiting),
        can_approve_teams=union(r.can_approve_teams for r in waiting),
    )


# --- 3. rationale -----------------------------------------------------------


def _rationale(
    facts: PullFacts, config: Config, touched: list[tuple[Area, tuple[AreaFile, ...]]]
) -> RationaleReport:
    report = rationale.judge(
        facts.title, facts.body, facts.extra_rationale, config.rationale
    )
    if not any(area.rationale for area, _ in touched):
        return RationaleReport(
            required=False,
            sections=report.sections,
            tickets=report.tickets,
            words=report.words,
            text=report.text,
        )
    return report


def _rationale_rule(report: RationaleReport) -> RuleResult:
    if not report.required:
        return RuleResult("rationale", "skipped", ("no changed area asks for one",))
    if report.ok:
        return RuleResult("rationale", "satisfied", ("the rationale is complete",))
    return RuleResult("rationale", "failed", tuple(f.message for f in report.findings))


# --- 4. proposed config -----------------------------------------------------


def _config_findings(facts: PullFacts) -> tuple[ConfigFinding, ...]:
    if facts.head_config is None:
        return ()
    problems = validate_config(facts.head_config)
    return tuple(ConfigFinding(p.message, p.path, p.line) for p in problems)


def _config_rule(
    facts: PullFacts, problems: tuple[ConfigFinding, ...]
) -> tuple[RuleResult, ...]:
    if facts.head_config is None:
        return ()
    if not problems:
        reason = f"the proposed {CONFIG_PATH} is valid"
        return (RuleResult("config", "satisfied", (reason,)),)
    reason = f"the proposed {CONFIG_PATH} has {len(problems)} problem(s)"
    return (RuleResult("config", "failed", (reason,)),)


def _files_rule(facts: PullFacts) -> tuple[RuleResult, ...]:
    if not facts.files_truncated:
        return ()
    reason = (
        f"GitHub listed only the first {len(facts.files)} changed files, so the "
        "areas cannot be known; split the PR or let changebot diff a clone"
    )
    return (RuleResult("files", "failed", (reason,)),)


# --- 5. conclusion ----------------------------------------------------------


def _conclude(verdict: Verdict) -> Conclusion:
    state = worst([r.state for r in verdict.all_rules])
    if verdict.overridden_by:
        return "success"
    if state == "skipped":
        return "neutral"
    if state == "failed":
        return "failure"
    return "pending" if state == "pending" else "success"


def _with_conclusion(verdict: Verdict, conclusion: Conclusion) -> Verdict:
    return replace(verdict, conclusion=conclusion)
