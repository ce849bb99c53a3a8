"""Commits: their shapes, reading them, compare, and the statuses on them."""

from __future__ import annotations

from typing import Any

from ghsim import shapes
from ghsim.gitstore import EMPTY_TREE, CommitInfo, FileChange, Person
from ghsim.hub import Hub
from ghsim.routing import ApiError, Call, Reply, not_found, paginate, route
from ghsim.state import Repo, Status, now, stamp

NOREPLY = "users.noreply.github.com"
STATUS_NAMES = {
    "A": "added",
    "D": "removed",
    "M": "modified",
    "R": "renamed",
    "C": "copied",
    "T": "changed",
}
COMPARE_FILES_MAX = 300
COMPARE_COMMITS_MAX = 250


def person(login: str) -> Person:
    """Return the git identity the simulator writes for a GitHub login."""
    return Person(login, f"{login}@{NOREPLY}", stamp(now()) or "")


def login_of(hub: Hub, who: Person) -> str | None:
    """Return the login behind a git identity the simulator wrote, if any."""
    local, _, domain = who.email.partition("@")
    if domain == NOREPLY and hub.world.find_account(local):
        return local
    return None


def resolve(repo: Repo, ref: str) -> str:
    """Return the commit a SHA, branch or tag names, or answer 404/422."""
    sha = repo.git.resolve(ref)
    if sha is None:
        raise ApiError(422, f"No commit found for SHA: {ref}")
    return sha


def git_person(who: Person) -> dict[str, str]:
    """Return an author or committer as the git data API shows it."""
    return {"name": who.name, "email": who.email, "date": who.date}


def git_commit_shape(hub: Hub, repo: Repo, info: CommitInfo) -> dict[str, Any]:
    """Return a git-commit (the git data API's view of a commit)."""
    api = f"{hub.base_url}/repos/{repo.full_name}"
    return {
        "sha": info.sha,
        "node_id": shapes.node_id("Commit", int(info.sha[:7], 16)),
        "url": f"{api}/git/commits/{info.sha}",
        "html_url": f"{hub.base_url}/{repo.full_name}/commit/{info.sha}",
        "author": git_person(info.author),
        "committer": git_person(info.committer),
        "message": info.message,
        "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
        "parents": [_parent(hub, repo, p) for p in info.parents],
        "verification": _unsigned(),
    }


def commit_shape(hub: Hub, repo: Repo, info: CommitInfo) -> dict[str, Any]:
    """Return a commit as the commits, pulls and compare APIs show it."""
    api = f"{hub.base_url}/repos/{repo.full_name}"
    inner = git_commit_shape(hub, repo, info)
    return {
        "sha": info.sha,
        "node_id": inner["node_id"],
        "url": f"{api}/commits/{info.sha}",
        "html_url": inner["html_url"],
        "comments_url": f"{api}/commits/{info.sha}/comments",
        "commit": {
            "url": inner["url"],
            "author": inner["author"],
            "committer": inner["committer"],
            "message": info.message,
            "comment_count": 0,
            "tree": inner["tree"],
            "verification": _unsigned(),
        },
        "author": hub.user_shape(login_of(hub, info.author)),
        "committer": hub.user_shape(login_of(hub, info.committer)),
        "parents": inner["parents"],
    }


def file_shape(hub: Hub, repo: Repo, head: str, change: FileChange) -> dict[str, Any]:
    """Return a diff-entry (one file of a compare or a PR)."""
    web = f"{hub.base_url}/{repo.full_name}"
    api = f"{hub.base_url}/repos/{repo.full_name}"
    shaped: dict[str, Any] = {
        "sha": change.sha,
        "filename": change.path,
        "status": STATUS_NAMES.get(change.status, "modified"),
        "additions": change.additions,
        "deletions": change.deletions,
        "changes": change.additions + change.deletions,
        "blob_url": f"{web}/blob/{head}/{change.path}",
        "raw_url": f"{web}/raw/{head}/{change.path}",
        "contents_url": f"{api}/contents/{change.path}?ref={head}",
    }
    if change.previous_path:
        shaped["previous_filename"] = change.previous_path
    return shaped


def _parent(hub: Hub, repo: Repo, sha: str) -> dict[str, str]:
    return {
        "sha": sha,
        "url": f"{hub.base_url}/repos/{repo.full_name}/commits/{sha}",
        "html_url": f"{hub.base_url}/{repo.full_name}/commit/{sha}",
    }


def _unsigned() -> dict[str, Any]:
    return {
        "verified": False,
        "reason": "unsigned",
        "signature": None,
        "payload": None,
        "verified_at": None,
    }


# --- endpoints ----------------------------------------------------------------


@route("GET", "/repos/<owner>/<name>/commits/<path:ref>")
def get_commit(call: Call, owner: str, name: str, ref: str) -> dict[str, Any]:
    """Return one commit with its files against its first parent."""
    repo = call.hub.repo(call, owner, name)
    info = repo.git.commit(resolve(repo, ref))
    shaped = commit_shape(call.hub, repo, info)
    parent = info.parents[0] if info.parents else EMPTY_TREE
    changes = repo.git.diff(parent, info.sha)
    shaped["files"] = [
        file_shape(call.hub, repo, info.sha, c) for c in changes[:COMPARE_FILES_MAX]
    ]
    added = sum(c.additions for c in changes)
    deleted = sum(c.deletions for c in changes)
    shaped["stats"] = {
        "additions": added,
        "deletions": deleted,
        "total": added + deleted,
    }
    return shaped


@route("GET", "/repos/<owner>/<name>/commits")
def list_commits(call: Call, owner: str, name: str) -> Reply:
    """List the history of a ref (the default branch unless `sha` is given)."""
    repo = call.hub.repo(call, owner, name)
    tip = resolve(repo, call.arg("sha") or repo.default_branch)
    args = [tip] + (["--", call.query["path"]] if call.arg("path") else [])
    return paginate(call, [commit_shape(call.hub, repo, c) for c in repo.git.log(args)])


@route("GET", "/repos/<owner>/<name>/compare/<path:basehead>")
def compare(call: Call, owner: str, name: str, basehead: str) -> Reply:
    """Compare two commits: status, counts, commits and files, as GitHub pages them.

    Unpaged, the commits are the latest 250; paged, 100 at most a page. The
    files (300 at most) come with every page.
    """
    repo = call.hub.repo(call, owner, name)
    if "..." not in basehead:
        raise not_found()
    base_ref, head_ref = basehead.split("...", 1)
    base, head = resolve(repo, base_ref), resolve(repo, head_ref)
    ahead, behind = repo.git.ahead_behind(base, head)
    merge_base = repo.git.merge_base(base, head) or base
    listed = repo.git.log(["--reverse", f"{merge_base}..{head}"])
    if call.arg("per_page") is None and call.arg("page") is None:
        # NOTE: unpaged, GitHub answers the latest 250 commits in one piece.
        page = Reply(200, listed[-COMPARE_COMMITS_MAX:])
    else:
        page = paginate(call, listed)
    changes = repo.git.diff(merge_base, head)[:COMPARE_FILES_MAX]
    web = f"{call.hub.base_url}/{repo.full_name}/compare/{basehead}"
    page.body = {
        "url": f"{call.hub.base_url}/repos/{repo.full_name}/compare/{basehead}",
        "html_url": web,
        "permalink_url": web,
        "diff_url": f"{web}.diff",
        "patch_url": f"{web}.patch",
        "base_commit": commit_shape(call.hub, repo, repo.git.commit(base)),
        "merge_base_commit": commit_shape(call.hub, repo, repo.git.commit(merge_base)),
        "status": _relation(ahead, behind),
        "ahead_by": ahead,
        "behind_by": behind,
        "total_commits": ahead,
        "commits": [commit_shape(call.hub, repo, c) for c in page.body],
        "files": [file_shape(call.hub, repo, head, c) for c in changes],
    }
    return page


def _relation(ahead: int, behind: int) -> str:
    if ahead and behind:
        return "diverged"
    if ahead:
        return "ahead"
    return "behind" if behind else "identical"


@route("POST", "/repos/<owner>/<name>/statuses/<sha>")
def create_status(call: Call, owner: str, name: str, sha: str) -> Reply:
    """Set a commit status."""
    repo = call.hub.repo(call, owner, name, need="write")
    state = call.need("state")
    if state not in ("error", "failure", "pending", "success"):
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "Status", "field": "state", "code": "invalid"}],
        )
    status = Status(
        call.hub.world.new_id(),
        resolve(repo, sha),
        state,
        call.field("context", "default"),
        call.field("description"),
        call.field("target_url"),
        call.login,
        now(),
    )
    repo.statuses.append(status)
    return Reply(201, status_shape(call.hub, repo, status))


@route("GET", "/repos/<owner>/<name>/commits/<path:ref>/statuses")
def list_statuses(call: Call, owner: str, name: str, ref: str) -> Reply:
    """List a commit's statuses, newest first."""
    repo = call.hub.repo(call, owner, name)
    sha = resolve(repo, ref)
    found = [s for s in reversed(repo.statuses) if s.sha == sha]
    return paginate(call, [status_shape(call.hub, repo, s) for s in found])


def status_shape(hub: Hub, repo: Repo, status: Status) -> dict[str, Any]:
    """Return a commit status."""
    return {
        "id": status.id,
        "node_id": shapes.node_id("StatusContext", status.id),
        "url": f"{hub.base_url}/repos/{repo.full_name}/statuses/{status.sha}",
        "avatar_url": None,
        "state": status.state,
        "description": status.description,
        "target_url": status.target_url,
        "context": status.context,
        "created_at": stamp(status.created_at),
        "updated_at": stamp(status.created_at),
        "creator": hub.user_shape(status.creator),
    }
