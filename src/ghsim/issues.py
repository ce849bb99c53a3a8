"""Issue comments and labels; a PR's conversation is its issue's.

See: https://docs.github.com/rest/issues/comments
"""

from __future__ import annotations

from typing import Any

from ghsim import shapes
from ghsim.hub import Hub
from ghsim.pulls import find_pull, label_shape, pull_event, pull_shape
from ghsim.routing import ApiError, Call, Reply, not_found, paginate, route
from ghsim.state import Comment, Pull, Repo, now, stamp


def comment_shape(hub: Hub, repo: Repo, comment: Comment) -> dict[str, Any]:
    """Return an issue-comment."""
    api = f"{hub.base_url}/repos/{repo.full_name}"
    web = f"{hub.base_url}/{repo.full_name}/pull/{comment.number}"
    return {
        "id": comment.id,
        "node_id": shapes.node_id("IssueComment", comment.id),
        "url": f"{api}/issues/comments/{comment.id}",
        "html_url": f"{web}#issuecomment-{comment.id}",
        "issue_url": f"{api}/issues/{comment.number}",
        "body": comment.body,
        "user": hub.user_shape(comment.user),
        "created_at": stamp(comment.created_at),
        "updated_at": stamp(comment.updated_at),
        "author_association": "NONE",
        "performed_via_github_app": None,
        "reactions": _no_reactions(f"{api}/issues/comments/{comment.id}/reactions"),
    }


def _no_reactions(url: str) -> dict[str, Any]:
    names = ["+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket"]
    return {"url": url, "total_count": 0, **dict.fromkeys(names, 0)}


def issue_shape(hub: Hub, repo: Repo, pull: Pull) -> dict[str, Any]:
    """Return the issue behind a PR, with `pull_request` set as GitHub does."""
    shaped = pull_shape(hub, repo, pull, full=False)
    api = f"{hub.base_url}/repos/{repo.full_name}"
    return {
        key: shaped[key]
        for key in (
            "id",
            "node_id",
            "number",
            "title",
            "user",
            "labels",
            "state",
            "locked",
            "assignee",
            "assignees",
            "milestone",
            "created_at",
            "updated_at",
            "closed_at",
            "author_association",
            "active_lock_reason",
            "body",
            "draft",
        )
    } | {
        "url": f"{api}/issues/{pull.number}",
        "repository_url": api,
        "labels_url": f"{api}/issues/{pull.number}/labels{{/name}}",
        "comments_url": f"{api}/issues/{pull.number}/comments",
        "events_url": f"{api}/issues/{pull.number}/events",
        "html_url": f"{hub.base_url}/{repo.full_name}/pull/{pull.number}",
        "comments": sum(
            1 for c in hub.world.snapshot(repo.comments) if c.number == pull.number
        ),
        "reactions": _no_reactions(f"{api}/issues/{pull.number}/reactions"),
        "performed_via_github_app": None,
        "state_reason": None,
        "timeline_url": f"{api}/issues/{pull.number}/timeline",
        "pull_request": {
            "url": f"{api}/pulls/{pull.number}",
            "html_url": f"{hub.base_url}/{repo.full_name}/pull/{pull.number}",
            "diff_url": f"{hub.base_url}/{repo.full_name}/pull/{pull.number}.diff",
            "patch_url": f"{hub.base_url}/{repo.full_name}/pull/{pull.number}.patch",
            "merged_at": stamp(pull.merged_at),
        },
    }


def _comment_event(
    hub: Hub, repo: Repo, comment: Comment, action: str, **extra: Any
) -> None:
    pull = find_pull(repo, comment.number)
    hub.event(
        "issue_comment",
        {
            "action": action,
            "issue": issue_shape(hub, repo, pull),
            "comment": comment_shape(hub, repo, comment),
            **extra,
        },
        repo=repo,
        sender=comment.user,
    )


@route("POST", "/repos/<owner>/<name>/issues/<int:number>/comments")
def create_comment(call: Call, owner: str, name: str, number: int) -> Reply:
    """Comment on a PR's conversation."""
    repo = call.hub.repo(call, owner, name)
    find_pull(repo, number)
    body = str(call.need("body"))
    if len(body) > 65536:
        raise ApiError(
            422,
            "Validation Failed",
            [
                {
                    "resource": "IssueComment",
                    "code": "custom",
                    "field": "body",
                    "message": "body is too long (maximum is 65536 characters)",
                }
            ],
        )
    comment = Comment(call.hub.world.new_id(), number, call.login, body, now(), now())
    repo.comments[comment.id] = comment
    _comment_event(call.hub, repo, comment, "created")
    return Reply(201, comment_shape(call.hub, repo, comment))


@route("GET", "/repos/<owner>/<name>/issues/<int:number>/comments")
def list_comments(call: Call, owner: str, name: str, number: int) -> Reply:
    """List a PR's comments, oldest first."""
    repo = call.hub.repo(call, owner, name)
    find_pull(repo, number)
    found = [c for c in call.hub.world.snapshot(repo.comments) if c.number == number]
    return paginate(call, [comment_shape(call.hub, repo, c) for c in found])


@route("GET", "/repos/<owner>/<name>/issues/comments/<int:comment_id>")
def get_comment(call: Call, owner: str, name: str, comment_id: int) -> dict[str, Any]:
    """Return one comment."""
    repo = call.hub.repo(call, owner, name)
    return comment_shape(call.hub, repo, _find(repo, comment_id))


@route("PATCH", "/repos/<owner>/<name>/issues/comments/<int:comment_id>")
def update_comment(
    call: Call, owner: str, name: str, comment_id: int
) -> dict[str, Any]:
    """Edit a comment (its author, or someone with write access)."""
    repo = call.hub.repo(call, owner, name)
    comment = _find(repo, comment_id)
    if call.login.lower() != comment.user.lower():
        call.hub.repo(call, owner, name, need="write")
    before = comment.body
    comment.body, comment.updated_at = str(call.need("body")), now()
    _comment_event(
        call.hub, repo, comment, "edited", changes={"body": {"from": before}}
    )
    return comment_shape(call.hub, repo, comment)


def _find(repo: Repo, comment_id: int) -> Comment:
    comment = repo.comments.get(comment_id)
    if comment is None:
        raise not_found()
    return comment


# --- labels -------------------------------------------------------------------


@route("POST", "/repos/<owner>/<name>/issues/<int:number>/labels")
def add_labels(call: Call, owner: str, name: str, number: int) -> list[dict[str, Any]]:
    """Add labels to a PR; each new one sends `labeled`."""
    repo = call.hub.repo(call, owner, name, need="triage")
    pull = find_pull(repo, number)
    wanted = call.body if isinstance(call.body, list) else call.need("labels")
    for label in [str(x.get("name") if isinstance(x, dict) else x) for x in wanted]:
        if label not in pull.labels:
            pull.labels.append(label)
            pull_event(
                call.hub,
                repo,
                pull,
                "labeled",
                call.login,
                label=label_shape(call.hub, repo, label),
            )
    return [label_shape(call.hub, repo, n) for n in pull.labels]


@route("DELETE", "/repos/<owner>/<name>/issues/<int:number>/labels/<label>")
def remove_label(
    call: Call, owner: str, name: str, number: int, label: str
) -> list[dict[str, Any]]:
    """Remove a label from a PR and send `unlabeled`."""
    repo = call.hub.repo(call, owner, name, need="triage")
    pull = find_pull(repo, number)
    if label not in pull.labels:
        raise ApiError(404, "Label does not exist")
    pull.labels.remove(label)
    pull_event(
        call.hub,
        repo,
        pull,
        "unlabeled",
        call.login,
        label=label_shape(call.hub, repo, label),
    )
    return [label_shape(call.hub, repo, n) for n in pull.labels]


@route("GET", "/repos/<owner>/<name>/issues/<int:number>/labels")
def list_labels(call: Call, owner: str, name: str, number: int) -> Reply:
    """List a PR's labels."""
    repo = call.hub.repo(call, owner, name)
    pull = find_pull(repo, number)
    return paginate(call, [label_shape(call.hub, repo, n) for n in pull.labels])
