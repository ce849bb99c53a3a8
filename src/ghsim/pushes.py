"""Moving branches: the one path every ref change takes, and the push webhook.

A ref moved by the contents API, the git data API or a merge is a push as
GitHub sees it: it sends `push`, and `pull_request` `synchronize` for every
open PR whose head branch moved.
"""

from __future__ import annotations

import logging
from typing import Any

from ghsim.commits import login_of
from ghsim.gitstore import EMPTY_TREE, ZERO_SHA, CommitInfo
from ghsim.hub import Hub
from ghsim.routing import ApiError
from ghsim.state import Repo, now

log = logging.getLogger(__name__)

PUSH_COMMITS_MAX = 20


def move_ref(
    hub: Hub,
    repo: Repo,
    ref: str,
    new: str | None,
    old: str | None,
    pusher: str,
    force: bool = False,
) -> None:
    """Move ``ref`` from ``old`` to ``new`` (None deletes) atomically, then tell."""
    forced = bool(new and old and not repo.git.is_ancestor(old, new))
    if forced and not force:
        raise ApiError(422, "Update is not a fast forward")
    with hub.world.lock:
        if new is None:
            if old is None:
                raise ApiError(422, "Reference does not exist")
            repo.git.delete_ref(ref)
        elif not repo.git.set_ref(ref, new, old):
            raise ApiError(422, "Reference cannot be updated")
        repo.pushed_at = now()
    after_push(hub, repo, ref, old, new, pusher, forced)


def after_push(
    hub: Hub,
    repo: Repo,
    ref: str,
    before: str | None,
    after: str | None,
    pusher: str,
    forced: bool,
) -> None:
    """Send `push`, then resynchronize the open PRs whose head moved."""
    hub.event(
        "push",
        push_payload(hub, repo, ref, before, after, pusher, forced),
        repo=repo,
        sender=pusher,
    )
    if not ref.startswith("refs/heads/") or after is None:
        return
    from ghsim.pulls import synchronize  # NOTE: pulls builds on pushes

    synchronize(hub, repo, ref.removeprefix("refs/heads/"), after, pusher)


def push_payload(
    hub: Hub,
    repo: Repo,
    ref: str,
    before: str | None,
    after: str | None,
    pusher: str,
    forced: bool,
) -> dict[str, Any]:
    """Return the body of a `push` webhook."""
    commits = _pushed_commits(hub, repo, before, after)
    web = f"{hub.base_url}/{repo.full_name}"
    span = f"{(before or ZERO_SHA)[:12]}...{(after or ZERO_SHA)[:12]}"
    return {
        "ref": ref,
        "before": before or ZERO_SHA,
        "after": after or ZERO_SHA,
        "created": before is None,
        "deleted": after is None,
        "forced": forced,
        "base_ref": None,
        "compare": f"{web}/compare/{span}",
        "commits": commits,
        "head_commit": commits[-1] if commits else None,
        "pusher": {"name": pusher, "email": f"{pusher}@users.noreply.github.com"},
    }


def _pushed_commits(
    hub: Hub, repo: Repo, before: str | None, after: str | None
) -> list[dict[str, Any]]:
    if after is None:
        return []
    span = [after] if before is None else [f"{before}..{after}"]
    infos = repo.git.log(["--reverse", f"-{PUSH_COMMITS_MAX}", *span])
    if before is None:
        infos = infos[-1:]
    return [_push_commit(hub, repo, info) for info in infos]


def _push_commit(hub: Hub, repo: Repo, info: CommitInfo) -> dict[str, Any]:
    sha = info.sha
    parent = info.parents[0] if info.parents else EMPTY_TREE
    changes = repo.git.diff(parent, sha)
    return {
        "id": sha,
        "tree_id": info.tree,
        "distinct": True,
        "message": info.message,
        "timestamp": info.committer.date,
        "url": f"{hub.base_url}/{repo.full_name}/commit/{sha}",
        "author": _git_user(hub, info.author.name, info.author.email, info),
        "committer": _git_user(hub, info.committer.name, info.committer.email, info),
        "added": [c.path for c in changes if c.status in "AC"],
        "removed": [c.path for c in changes if c.status == "D"]
        + [c.previous_path for c in changes if c.status == "R" and c.previous_path],
        "modified": [c.path for c in changes if c.status in "MTR"],
    }


def _git_user(hub: Hub, name: str, email: str, info: Any) -> dict[str, Any]:
    shaped: dict[str, Any] = {"name": name, "email": email}
    login = login_of(hub, info.author if info.author.email == email else info.committer)
    if login:
        shaped["username"] = login
    return shaped
