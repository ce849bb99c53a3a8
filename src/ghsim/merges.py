"""Merging a pull request with real git: merge commit, squash or rebase.

See: https://docs.github.com/rest/pulls/pulls#merge-a-pull-request
"""

from __future__ import annotations

from typing import Any

from ghsim.commits import person
from ghsim.pulls import close, diff_base, find_pull, refresh_base
from ghsim.pushes import move_ref
from ghsim.routing import ApiError, Call, Reply, route
from ghsim.state import Pull, Repo, now

METHODS = ("merge", "squash", "rebase")


@route("PUT", "/repos/<owner>/<name>/pulls/<int:number>/merge")
def merge_pull(call: Call, owner: str, name: str, number: int) -> dict[str, Any]:
    """Merge a PR; 409 when `sha` is no longer its head, 405 when it cannot merge."""
    repo = call.hub.repo(call, owner, name, need="write")
    pull = find_pull(repo, number)
    method = call.field("merge_method", "merge")
    if method not in METHODS:
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "PullRequest", "field": "merge_method", "code": "invalid"}],
        )
    with call.hub.world.lock:
        _check_mergeable(call, repo, pull)
        sha = _merge_commit(call, repo, pull, method)
        move_ref(
            call.hub,
            repo,
            f"refs/heads/{pull.base_ref}",
            sha,
            pull.base_sha,
            call.login,
        )
        pull.merged_at, pull.merged_by, pull.merge_commit_sha = now(), call.login, sha
    close(call.hub, repo, pull, call.login)
    return {"sha": sha, "merged": True, "message": "Pull Request successfully merged"}


@route("GET", "/repos/<owner>/<name>/pulls/<int:number>/merge")
def is_merged(call: Call, owner: str, name: str, number: int) -> Any:
    """Answer 204 when a PR is merged, 404 when not."""
    repo = call.hub.repo(call, owner, name)
    if find_pull(repo, number).merged_at is None:
        raise ApiError(404, "Not Found")
    return Reply(204)


def _check_mergeable(call: Call, repo: Repo, pull: Pull) -> None:
    if pull.state != "open":
        raise ApiError(405, "Pull Request is not mergeable")
    if pull.draft:
        raise ApiError(405, "Pull Request is still a draft")
    expected = call.field("sha")
    if expected and expected != pull.head_sha:
        raise ApiError(409, "Head branch was modified. Review and try the merge again.")
    refresh_base(repo, pull)


def _merge_commit(call: Call, repo: Repo, pull: Pull, method: str) -> str:
    """Write the commit(s) that merge the PR and return the new base tip."""
    merger = person(call.login)
    if method == "rebase":
        tip = repo.git.rebase(
            pull.base_sha, diff_base(repo, pull), pull.head_sha, merger
        )
        if tip is None:
            raise ApiError(405, "This branch can't be rebased")
        return tip
    tree = repo.git.merge_trees(pull.base_sha, pull.head_sha)
    if tree is None:
        raise ApiError(405, "Pull Request is not mergeable")
    title = call.field("commit_title") or _default_title(repo, pull, method)
    body = call.field("commit_message") or (pull.title if method == "merge" else "")
    message = f"{title}\n\n{body}".rstrip() + "\n"
    parents = [pull.base_sha, pull.head_sha] if method == "merge" else [pull.base_sha]
    author = person(pull.user) if method == "squash" else merger
    return repo.git.commit_tree(tree, parents, message, author, merger)


def _default_title(repo: Repo, pull: Pull, method: str) -> str:
    if method == "squash":
        return f"{pull.title} (#{pull.number})"
    return f"Merge pull request #{pull.number} from {repo.owner}/{pull.head_ref}"
