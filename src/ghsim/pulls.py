"""Pull requests: open, read, edit, list, their files and commits, synchronize.

See: https://docs.github.com/rest/pulls/pulls
"""

from __future__ import annotations

from typing import Any

from ghsim import shapes
from ghsim.commits import commit_shape, file_shape
from ghsim.hub import Hub
from ghsim.routing import Call, Reply, invalid, not_found, paginate, route
from ghsim.state import Pull, Repo, now, stamp

FILES_MAX = 3000
COMMITS_MAX = 250


def find_pull(repo: Repo, number: int) -> Pull:
    """Return a PR by number, or answer 404."""
    pull = repo.pulls.get(number)
    if pull is None:
        raise not_found()
    return pull


def refresh_base(repo: Repo, pull: Pull) -> None:
    """Follow the base branch while the PR is open, as GitHub's `base.sha` does."""
    if pull.state == "open":
        pull.base_sha = repo.git.resolve(f"refs/heads/{pull.base_ref}") or pull.base_sha


def diff_base(repo: Repo, pull: Pull) -> str:
    """Return the commit the PR's diff starts from (the merge base)."""
    return repo.git.merge_base(pull.base_sha, pull.head_sha) or pull.base_sha


def pull_shape(hub: Hub, repo: Repo, pull: Pull, full: bool = True) -> dict[str, Any]:
    """Return a pull-request (``full``) or a pull-request-simple."""
    refresh_base(repo, pull)
    api = f"{hub.base_url}/repos/{repo.full_name}"
    web = f"{hub.base_url}/{repo.full_name}/pull/{pull.number}"
    issue = f"{api}/issues/{pull.number}"
    shaped: dict[str, Any] = {
        "url": f"{api}/pulls/{pull.number}",
        "id": pull.id,
        "node_id": shapes.node_id("PullRequest", pull.id),
        "html_url": web,
        "diff_url": f"{web}.diff",
        "patch_url": f"{web}.patch",
        "issue_url": issue,
        "commits_url": f"{api}/pulls/{pull.number}/commits",
        "review_comments_url": f"{api}/pulls/{pull.number}/comments",
        "review_comment_url": f"{api}/pulls/comments{{/number}}",
        "comments_url": f"{issue}/comments",
        "statuses_url": f"{api}/statuses/{pull.head_sha}",
        "number": pull.number,
        "state": pull.state,
        "locked": False,
        "title": pull.title,
        "user": hub.user_shape(pull.user),
        "body": pull.body,
        "labels": [label_shape(hub, repo, name) for name in pull.labels],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": stamp(pull.created_at),
        "updated_at": stamp(pull.updated_at),
        "closed_at": stamp(pull.closed_at),
        "merged_at": stamp(pull.merged_at),
        "merge_commit_sha": pull.merge_commit_sha,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _branch(hub, repo, pull.head_ref, pull.head_sha),
        "base": _branch(hub, repo, pull.base_ref, pull.base_sha),
        "_links": _links(api, web, pull),
        "author_association": _association(hub, repo, pull.user),
        "auto_merge": None,
        "draft": pull.draft,
    }
    if full:
        shaped |= _stats(hub, repo, pull)
    return shaped


def _stats(hub: Hub, repo: Repo, pull: Pull) -> dict[str, Any]:
    start = diff_base(repo, pull)
    changes = repo.git.diff(start, pull.head_sha)
    count = len(repo.git.text("rev-list", f"{start}..{pull.head_sha}").split())
    mergeable = (
        pull.state == "open"
        and repo.git.merge_trees(pull.base_sha, pull.head_sha) is not None
    )
    comments = sum(
        1 for c in hub.world.snapshot(repo.comments) if c.number == pull.number
    )
    return {
        "merged": pull.merged_at is not None,
        "mergeable": mergeable if pull.state == "open" else None,
        "rebaseable": mergeable if pull.state == "open" else None,
        "mergeable_state": (
            "draft" if pull.draft else "clean" if mergeable else "dirty"
        )
        if pull.state == "open"
        else "unknown",
        "merged_by": hub.user_shape(pull.merged_by),
        "comments": comments,
        "review_comments": 0,
        "maintainer_can_modify": False,
        "commits": count,
        "additions": sum(c.additions for c in changes),
        "deletions": sum(c.deletions for c in changes),
        "changed_files": len(changes),
    }


def _branch(hub: Hub, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
    return {
        "label": f"{repo.owner}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": hub.user_shape(repo.owner),
        "repo": hub.repo_shape(repo),
    }


def _links(api: str, web: str, pull: Pull) -> dict[str, Any]:
    def link(href: str) -> dict[str, str]:
        return {"href": href}

    return {
        "self": link(f"{api}/pulls/{pull.number}"),
        "html": link(web),
        "issue": link(f"{api}/issues/{pull.number}"),
        "comments": link(f"{api}/issues/{pull.number}/comments"),
        "review_comments": link(f"{api}/pulls/{pull.number}/comments"),
        "review_comment": link(f"{api}/pulls/comments{{/number}}"),
        "commits": link(f"{api}/pulls/{pull.number}/commits"),
        "statuses": link(f"{api}/statuses/{pull.head_sha}"),
    }


def _association(hub: Hub, repo: Repo, login: str) -> str:
    if login.lower() == repo.owner.lower():
        return "OWNER"
    owner = hub.world.account(repo.owner)
    if login.lower() in owner.members:
        return "MEMBER"
    if login.lower() in repo.collaborators:
        return "COLLABORATOR"
    return (
        "CONTRIBUTOR"
        if any(p.user == login for p in hub.world.snapshot(repo.pulls) if p.merged_at)
        else "NONE"
    )


def label_shape(hub: Hub, repo: Repo, name: str) -> dict[str, Any]:
    """Return a label (labels come into being when first used)."""
    ident = abs(hash((repo.id, name))) % 10**9
    return {
        "id": ident,
        "node_id": shapes.node_id("Label", ident),
        "url": f"{hub.base_url}/repos/{repo.full_name}/labels/{name}",
        "name": name,
        "description": None,
        "color": "ededed",
        "default": False,
    }


def pull_event(
    hub: Hub, repo: Repo, pull: Pull, action: str, sender: str, **extra: Any
) -> None:
    """Send a `pull_request` webhook."""
    payload = {
        "action": action,
        "number": pull.number,
        "pull_request": pull_shape(hub, repo, pull),
        **extra,
    }
    hub.event("pull_request", payload, repo=repo, sender=sender)


# --- endpoints ----------------------------------------------------------------


@route("POST", "/repos/<owner>/<name>/pulls")
def create_pull(call: Call, owner: str, name: str) -> Reply:
    """Open a PR from a head branch into a base branch."""
    repo = call.hub.repo(call, owner, name)
    head_ref = str(call.need("head")).split(":")[-1]
    base_ref = str(call.need("base"))
    head, base = _branches(repo, head_ref, base_ref)
    with call.hub.world.lock:
        pull = Pull(
            repo.next_number,
            call.hub.world.new_id(),
            str(call.need("title")),
            call.field("body"),
            call.login,
            head_ref,
            head,
            base_ref,
            base,
            bool(call.field("draft", False)),
            now(),
            now(),
        )
        repo.pulls[pull.number] = pull
        repo.next_number += 1
    pull_event(call.hub, repo, pull, "opened", call.login)
    return Reply(201, pull_shape(call.hub, repo, pull))


def _branches(repo: Repo, head_ref: str, base_ref: str) -> tuple[str, str]:
    """Return the tips of a new PR's branches, or answer 422 as GitHub does."""
    head = repo.git.resolve(f"refs/heads/{head_ref}")
    base = repo.git.resolve(f"refs/heads/{base_ref}")
    if head is None or base is None:
        raise invalid("PullRequest", "head" if head is None else "base")
    if repo.git.is_ancestor(head, base):
        nothing = f"No commits between {base_ref} and {head_ref}"
        raise invalid("PullRequest", "base", "custom", nothing)
    return head, base


@route("GET", "/repos/<owner>/<name>/pulls/<int:number>")
def get_pull(call: Call, owner: str, name: str, number: int) -> dict[str, Any]:
    """Return one PR with its counts and mergeability."""
    repo = call.hub.repo(call, owner, name)
    return pull_shape(call.hub, repo, find_pull(repo, number))


@route("GET", "/repos/<owner>/<name>/pulls")
def list_pulls(call: Call, owner: str, name: str) -> Reply:
    """List PRs filtered by state, base and head, sorted as asked."""
    repo = call.hub.repo(call, owner, name)
    state = call.arg("state", "open")
    pulls = call.hub.world.snapshot(repo.pulls)
    found = [p for p in pulls if state == "all" or p.state == state]
    if call.arg("base"):
        found = [p for p in found if p.base_ref == call.arg("base")]
    if call.arg("head"):
        found = [p for p in found if p.head_ref == str(call.arg("head")).split(":")[-1]]
    by_updated = call.arg("sort") in ("updated", "long-running")
    found.sort(
        key=lambda p: (p.updated_at if by_updated else p.created_at, p.number),
        reverse=call.arg("direction", "desc") != "asc",
    )
    return paginate(call, [pull_shape(call.hub, repo, p, full=False) for p in found])


@route("PATCH", "/repos/<owner>/<name>/pulls/<int:number>")
def update_pull(call: Call, owner: str, name: str, number: int) -> dict[str, Any]:
    """Edit title, body or base, or close and reopen a PR."""
    repo = call.hub.repo(call, owner, name)
    pull = find_pull(repo, number)
    _may_edit(call, repo, pull)
    changes = _edit(pull, call)
    state = call.field("state")
    if changes:
        pull.updated_at = now()
        pull_event(call.hub, repo, pull, "edited", call.login, changes=changes)
    _set_draft(call, repo, pull)
    if state == "closed" and pull.state == "open":
        close(call.hub, repo, pull, call.login)
    elif state == "open" and pull.state == "closed" and not pull.merged_at:
        pull.state, pull.closed_at, pull.updated_at = "open", None, now()
        pull_event(call.hub, repo, pull, "reopened", call.login)
    return pull_shape(call.hub, repo, pull)


def _set_draft(call: Call, repo: Repo, pull: Pull) -> None:
    """Turn a draft ready for review, or back into a draft.

    NOTE: GitHub does this through GraphQL only; the simulator also takes
    `draft` in this PATCH so that tests can drive both webhooks over REST.
    """
    draft = call.field("draft")
    if draft is None or bool(draft) == pull.draft:
        return
    pull.draft, pull.updated_at = bool(draft), now()
    action = "converted_to_draft" if pull.draft else "ready_for_review"
    pull_event(call.hub, repo, pull, action, call.login)


def _may_edit(call: Call, repo: Repo, pull: Pull) -> None:
    if call.login.lower() == pull.user.lower():
        return
    call.hub.repo(call, repo.owner, repo.name, need="triage")


def _edit(pull: Pull, call: Call) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field in ("title", "body"):
        value = call.field(field)
        if value is not None and value != getattr(pull, field):
            changes[field] = {"from": getattr(pull, field)}
            setattr(pull, field, value)
    base = call.field("base")
    if base and base != pull.base_ref:
        changes["base"] = {
            "ref": {"from": pull.base_ref},
            "sha": {"from": pull.base_sha},
        }
        pull.base_ref = base
    return changes


def close(hub: Hub, repo: Repo, pull: Pull, sender: str) -> None:
    """Close a PR (merged or not) and send `closed`."""
    pull.state, pull.closed_at, pull.updated_at = "closed", now(), now()
    pull_event(hub, repo, pull, "closed", sender)


@route("GET", "/repos/<owner>/<name>/pulls/<int:number>/files")
def list_files(call: Call, owner: str, name: str, number: int) -> Reply:
    """List a PR's files, renames included, 3,000 at most across all pages."""
    repo = call.hub.repo(call, owner, name)
    pull = find_pull(repo, number)
    refresh_base(repo, pull)
    changes = repo.git.diff(diff_base(repo, pull), pull.head_sha)[:FILES_MAX]
    page = paginate(call, changes)
    page.body = [file_shape(call.hub, repo, pull.head_sha, c) for c in page.body]
    return page


@route("GET", "/repos/<owner>/<name>/pulls/<int:number>/commits")
def list_pull_commits(call: Call, owner: str, name: str, number: int) -> Reply:
    """List a PR's commits, oldest first (250 at most)."""
    repo = call.hub.repo(call, owner, name)
    pull = find_pull(repo, number)
    refresh_base(repo, pull)
    infos = repo.git.log(["--reverse", f"{diff_base(repo, pull)}..{pull.head_sha}"])
    page = paginate(call, infos[-COMMITS_MAX:])
    page.body = [commit_shape(call.hub, repo, info) for info in page.body]
    return page


@route("GET", "/repos/<owner>/<name>/commits/<sha>/pulls")
def pulls_for_commit(call: Call, owner: str, name: str, sha: str) -> Reply:
    """List PRs whose head is, or that merged, or that contain a commit."""
    repo = call.hub.repo(call, owner, name)
    found = [
        p
        for p in call.hub.world.snapshot(repo.pulls)
        if sha in (p.head_sha, p.merge_commit_sha)
        or (p.state == "open" and repo.git.is_ancestor(sha, p.head_sha))
    ]
    return paginate(call, [pull_shape(call.hub, repo, p, full=False) for p in found])


def synchronize(hub: Hub, repo: Repo, branch: str, after: str, pusher: str) -> None:
    """Move the head of every open PR on ``branch`` and send `synchronize`."""
    for pull in list(repo.pulls.values()):
        if pull.state != "open" or pull.head_ref != branch or pull.head_sha == after:
            continue
        before, pull.head_sha, pull.updated_at = pull.head_sha, after, now()
        pull_event(hub, repo, pull, "synchronize", pusher, before=before, after=after)
