"""record_push: commits that reached a guarded branch outside a merged PR.

1. Only pushes to the default branch or a protected one count.
2. List what the push brought: every commit of the compare, not just the 20
   the payload carries.
3. A commit that belongs to no merged PR went in directly (asked twice, a
   few seconds apart: GitHub links commits to PRs a moment late); a forced
   push rewrote history. Either gets a `direct-push` entry and a notice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from changebot import metrics
from changebot.audit.log import Appended
from changebot.errors import Deferred
from changebot.flows.context import Context
from changebot.ports import Notice
from changebot.render import render

log = logging.getLogger(__name__)

ZERO = "0" * 40
#: A push of more commits than this is checked by its newest ones only.
MAX_CHECKED = 250


def record_push(ctx: Context, payload: Mapping[str, Any]) -> Appended | None:
    """Record a push to a guarded branch that did not come from a merged PR."""
    repo = str(payload["repository"]["full_name"])
    branch = _guarded_branch(ctx, payload)
    if branch is None or payload.get("deleted") or payload.get("before") == ZERO:
        return None

    before, after = str(payload["before"]), str(payload["after"])
    forced = bool(payload.get("forced"))
    direct = _outside_pulls(ctx, repo, before, after)
    if direct:
        _settle(ctx, repo, branch, f"{before}..{after}")
    if not direct and not forced:
        log.info("push came from merged pulls", extra={"repo": repo, "ref": branch})
        return None

    fields = {
        "ref": f"refs/heads/{branch}",
        "before": before,
        "after": after,
        "forced": forced,
        "pusher": _pusher(payload),
        "commits": direct,
        "areas": [],
        "paths": _paths(payload, set(direct)),
    }
    audit = ctx.audit(repo, ctx.lenient_policy(repo, after))
    entry = audit.append(
        "direct-push", repo, fields, f"direct-push:{repo}:{branch}:{before}..{after}"
    )
    if entry.created:
        metrics.audit_appended("direct-push")
    # NOTE: sent on every run; the notifier sends each key once.
    ctx.notifier.send(_notice(repo, branch, fields, entry))
    log.warning(
        "direct push recorded",
        extra={"repo": repo, "ref": branch, "index": entry.index},
    )
    return entry


def _outside_pulls(ctx: Context, repo: str, before: str, after: str) -> list[str]:
    """Return the pushed commits that belong to no merged PR, oldest first."""
    # NOTE: a merge, squash or rebase puts its PR's merge commit on top, so
    # one question settles the usual push; only the others cost one per commit.
    if ctx.forge.pulls_for_commit(repo, after):
        return []
    pushed = ctx.forge.compare(repo, before, after).commits[-MAX_CHECKED:]
    return [sha for sha in pushed if not ctx.forge.pulls_for_commit(repo, sha)]


def _settle(ctx: Context, repo: str, branch: str, span: str) -> None:
    """Look again later, once, before calling commits direct.

    NOTE: GitHub links a merge's commits to its pull request a moment after
    the push, so a push read at once can look direct when it is not.
    """
    if ctx.settle_seconds <= 0 or ctx.ledger is None:
        return
    key = f"settled.{repo.lower()}:{branch}:{span}"
    if ctx.ledger.noted(key) is not None:
        return
    ctx.ledger.note(key, "waited")
    raise Deferred(
        f"commits {span} of {repo} seem to bypass pull requests; looking again",
        delay=ctx.settle_seconds,
    )


def _guarded_branch(ctx: Context, payload: Mapping[str, Any]) -> str | None:
    ref = str(payload.get("ref", ""))
    if not ref.startswith("refs/heads/"):
        return None
    branch = ref.removeprefix("refs/heads/")
    default = payload["repository"].get("default_branch")
    return branch if branch == default or branch in ctx.protected_branches else None


def _pusher(payload: Mapping[str, Any]) -> str | None:
    sender = payload.get("sender") or {}
    pusher = payload.get("pusher") or {}
    return sender.get("login") or pusher.get("name")


def _paths(payload: Mapping[str, Any], direct: set[str]) -> list[str]:
    # NOTE: the payload lists the files of its first 20 commits only.
    paths: set[str] = set()
    for commit in payload.get("commits") or []:
        if commit.get("id") in direct:
            for key in ("added", "modified", "removed"):
                paths.update(commit.get(key) or [])
    return sorted(paths)


def _notice(
    repo: str, branch: str, fields: Mapping[str, Any], entry: Appended
) -> Notice:
    return Notice(
        kind="direct-push",
        key=f"direct-push:{repo}:{fields['before']}..{fields['after']}",
        repo=repo,
        title=render(
            "pr/direct_push_title.txt", repo=repo, branch=branch, push=fields
        ).strip(),
        text=render(
            "pr/direct_push.md", repo=repo, branch=branch, push=fields, entry=entry
        ),
    )
