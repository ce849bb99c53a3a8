"""record_merge: write the `change` entry of a merged PR, and say where it is.

1. Confirm the PR is merged, and judge it as it stood at the merge.
2. Infer the merge method from the commit graph.
3. Append the `change` entry (idempotency key `change:<repo>#<number>`),
   and a `config` entry when the PR changed `.changebot.yml`.
4. A merge while the verdict failed is `bypassed`, and raises a notice.
5. Update the PR comment with the entry index and the new checkpoint.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from changebot import metrics
from changebot.audit.log import Appended
from changebot.flows.context import Context
from changebot.flows.pull import MARKER, PASSING, Judgement, judge
from changebot.policy.config import CONFIG_PATH
from changebot.policy.facts import PullFacts, Review
from changebot.ports import MergedPull, Notice
from changebot.render import render

log = logging.getLogger(__name__)

#: GitHub lists at most this many commits of a PR.
PULL_COMMITS_LIMIT = 250


@dataclass(frozen=True)
class Recorded:
    """What record_merge wrote."""

    change: Appended
    config: Appended | None
    bypassed: bool


def change_key(repo: str, number: int) -> str:
    """Return the idempotency key of a PR's `change` entry."""
    return f"change:{repo}#{number}"


def record_merge(ctx: Context, repo: str, number: int) -> Recorded | None:
    """Record a merged PR in the audit log; return None if it is not merged."""
    merged = ctx.forge.merged_pull(repo, number)
    if merged is None:
        log.info(
            "pull not merged, nothing to record", extra={"repo": repo, "pr": number}
        )
        return None

    # 1. judge the PR under its base policy, as it stood at the merge
    judgement = judge(ctx, repo, number)
    bypassed = (
        judgement.report.conclusion not in PASSING and judgement.facts.override is None
    )

    # 2-3. append the entries
    # NOTE: the judging policy, or the default one when the base's is invalid.
    audit = ctx.audit(repo, judgement.config)
    method = merge_method(ctx, judgement.facts, merged)
    fields = change_fields(judgement, merged, method, bypassed)
    fields["commits"] = landed_commits(ctx, judgement.facts, merged, method)
    if ctx.notes:
        fields["override"] = ctx.notes.override_index(judgement.facts)
    change = audit.append("change", repo, fields, change_key(repo, number))
    _count(change, "change")
    config = _record_config(ctx, audit, judgement.facts, merged)

    # 4-5. tell people
    # NOTE: sent on every run: the notifier sends a key once, and a run that
    # failed after the append (Slack down) must not leave the notice unsent.
    if bypassed:
        ctx.notifier.send(_bypass_notice(judgement, merged, change))
    body = render(
        "pr/recorded.md", change=change, config=config, bypassed=bypassed, merged=merged
    )
    ctx.forge.upsert_comment(repo, number, MARKER, body)
    log.info(
        "merge recorded", extra={"repo": repo, "pr": number, "index": change.index}
    )
    return Recorded(change, config, bypassed)


def change_fields(
    judgement: Judgement, merged: MergedPull, method: str, bypassed: bool
) -> dict[str, Any]:
    """Return the fields of a `change` entry (docs/audit-format.md)."""
    facts, verdict = judgement.facts, judgement.verdict
    return {
        "pr": {
            "number": facts.number,
            "title": facts.title,
            "url": facts.html_url,
            "base_ref": facts.base_ref,
            "head_ref": facts.head_ref,
        },
        "shas": {
            "base": facts.base_sha,
            "head": facts.head_sha,
            "merge": merged.merge_sha,
            # NOTE: the tree the approvals were judged against (the head's).
            "tree": facts.head_tree,
        },
        "merge_method": method,
        "areas": sorted(area.name for area in verdict.areas),
        "paths": sorted(f.path for f in facts.files),
        "author": facts.author,
        "approvers": approvers(facts.reviews),
        "merger": merged.merged_by,
        "rationale": rationale(facts),
        "tickets": sorted(verdict.tickets),
        "verdict": {
            # NOTE: a pending verdict leaves the check run without a conclusion.
            "conclusion": judgement.report.conclusion or verdict.conclusion,
            "failed": sorted(verdict.failed),
        },
        "bypassed": bypassed,
        "override": None,
    }


def approvers(reviews: tuple[Review, ...]) -> list[dict[str, str | None]]:
    """Return who approved, with the commit each last approved, by login."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review.user.lower()] = review
    return [
        {"login": review.user, "commit": review.commit_id}
        for _, review in sorted(latest.items())
        if review.state == "APPROVED"
    ]


def rationale(facts: PullFacts) -> str:
    """Return the rationale as written: the PR body, and any `/changebot rationale`."""
    parts = [facts.body.strip()]
    if facts.extra_rationale:
        parts.append(facts.extra_rationale.strip())
    return "\n\n".join(part for part in parts if part)


def merge_method(ctx: Context, facts: PullFacts, merged: MergedPull) -> str:
    """Infer how GitHub merged the PR: `merge`, `squash` or `rebase`.

    NOTE: GitHub does not say. A merge commit keeps the head as an ancestor.
    Squash and rebase both rewrite it: a squash puts one commit on the base,
    a rebase one per commit of the PR. A one-commit PR squashed or rebased
    leaves the same graph (one commit, the PR's tree) and is called `squash`.
    """
    if merged.merge_sha == facts.head_sha:
        return "rebase"
    if ctx.forge.compare(facts.repo, facts.head_sha, merged.merge_sha).status in (
        "ahead",
        "identical",
    ):
        return "merge"
    if len(facts.commits) < 2:
        return "squash"
    landed = ctx.forge.compare(facts.repo, facts.base_sha, merged.merge_sha)
    return "rebase" if landed.ahead_by >= len(facts.commits) else "squash"


def landed_commits(
    ctx: Context, facts: PullFacts, merged: MergedPull, method: str
) -> list[str]:
    """Return the commits the merge put on the base branch, oldest first.

    Deployments attribute each of them to the PR (`changebot.deploy.landed`).
    A merge commit brings the PR's commits and itself, a squash one commit, a
    rebase one rewritten commit per commit of the PR: the last ones of the
    base's history up to the merge SHA.
    """
    pulled = [commit.sha for commit in facts.commits]
    if method == "squash" or not pulled:
        return [merged.merge_sha]
    if method == "merge":
        return [*_all_commits(ctx, facts, pulled), merged.merge_sha]
    if merged.merge_sha == facts.head_sha:
        return pulled
    # TODO: a rebase of more than 250 commits lists only the last 250; the
    # earlier ones show as unrecorded in deployments (failing closed).
    landed = ctx.forge.compare(facts.repo, facts.base_sha, merged.merge_sha)
    return list(landed.commits[-len(pulled) :])


def _all_commits(ctx: Context, facts: PullFacts, pulled: list[str]) -> list[str]:
    """Return every commit of a PR: GitHub lists 250 at most, compare lists all."""
    if len(pulled) < PULL_COMMITS_LIMIT:
        return pulled
    return list(ctx.forge.compare(facts.repo, facts.base_sha, facts.head_sha).commits)


def _record_config(
    ctx: Context, audit: Any, facts: PullFacts, merged: MergedPull
) -> Appended | None:
    if not any(CONFIG_PATH in (f.path, f.previous_path) for f in facts.files):
        return None
    fields = {
        "pr": {"number": facts.number},
        "sha": merged.merge_sha,
        "path": CONFIG_PATH,
    }
    appended: Appended = audit.append(
        "config", facts.repo, fields, f"config:{facts.repo}#{facts.number}"
    )
    _count(appended, "config")
    ctx.notifier.send(
        Notice(
            kind="config",
            key=f"config:{facts.repo}#{facts.number}",
            repo=facts.repo,
            title=render("pr/config_notice_title.txt", facts=facts).strip(),
            text=render(
                "pr/config_notice.md", facts=facts, merged=merged, entry=appended
            ),
        )
    )
    return appended


def _bypass_notice(
    judgement: Judgement, merged: MergedPull, change: Appended
) -> Notice:
    facts = judgement.facts
    return Notice(
        kind="bypass",
        key=f"bypass:{facts.repo}#{facts.number}",
        repo=facts.repo,
        title=render("pr/bypass_notice_title.txt", facts=facts).strip(),
        text=render(
            "pr/bypass_notice.md",
            facts=facts,
            merged=merged,
            change=change,
            report=judgement.report,
        ),
        areas=tuple(sorted(area.name for area in judgement.verdict.areas)),
    )


def _count(appended: Appended, kind: str) -> None:
    if appended.created:
        metrics.audit_appended(kind)
