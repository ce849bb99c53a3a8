"""GitHub's JSON answers turned into changebot's own types.

Pure functions over the decoded REST answers: no requests, no PyGithub. The
adapter in `changebot.adapters.github` fetches, this module reads. Logins are
lower-cased everywhere, since GitHub compares them without case.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from changebot.errors import ForgeError, UsageError
from changebot.policy.facts import (
    ChangedFile,
    Commit,
    FileStatus,
    PullFacts,
    Review,
    ReviewState,
)
from changebot.ports import (
    Comparison,
    Delivery,
    DeploymentRecord,
    MergedPull,
    Permission,
)

Json = Mapping[str, Any]

#: GitHub lists at most this many files of a pull request.
FILES_LIMIT = 3000
#: GitHub lists at most this many files of a compare.
COMPARE_FILES_LIMIT = 300
#: Longest check run summary or text GitHub accepts.
CHECK_TEXT_LIMIT = 65_535
#: Longest issue or PR comment GitHub accepts.
COMMENT_LIMIT = 65_536
#: Longest deployment status description GitHub accepts.
DEPLOYMENT_DESCRIPTION_LIMIT = 140
#: Most annotations GitHub takes in one check run request.
ANNOTATIONS_PER_REQUEST = 50

_ROLES: dict[str, Permission] = {
    "admin": "admin",
    "maintain": "maintain",
    "write": "write",
    "triage": "triage",
    "read": "read",
}
_REVIEW_STATES = {"APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"}


def login(user: Json | None) -> str | None:
    """Return a user object's login in lower case, or None for a ghost."""
    if not user or not user.get("login"):
        return None
    return str(user["login"]).lower()


def timestamp(value: str | None) -> datetime | None:
    """Parse GitHub's ISO 8601 time (`Z` suffix) into an aware datetime."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _required_time(item: Json, key: str) -> datetime:
    value = timestamp(item.get(key))
    if value is None:
        raise ForgeError(
            f"GitHub sent an object without `{key}`",
            hint="report this; the GitHub API answer does not match its schema",
        )
    return value


def cut(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "\u2026"


def changed_file(item: Json) -> ChangedFile:
    """Read one entry of the PR files listing, renames included."""
    status = item.get("status", "modified")
    return ChangedFile(
        path=item["filename"],
        status=cast(FileStatus, status),
        previous_path=item.get("previous_filename"),
    )


def commit(item: Json) -> Commit:
    """Read one entry of the PR commits listing."""
    detail = item.get("commit") or {}
    return Commit(
        sha=item["sha"],
        author=login(item.get("author")),
        committer=login(item.get("committer")),
        message=detail.get("message", ""),
        tree=(detail.get("tree") or {}).get("sha"),
    )


def review(item: Json, trees: Mapping[str, str | None]) -> Review | None:
    """Read one review; its tree comes from the PR's commits when known."""
    state = item.get("state")
    user = login(item.get("user"))
    if state not in _REVIEW_STATES or user is None:
        return None
    commit_id = item.get("commit_id")
    return Review(
        user=user,
        state=cast(ReviewState, state),
        commit_id=commit_id,
        submitted_at=timestamp(item.get("submitted_at")),
        tree=trees.get(commit_id) if commit_id else None,
    )


def pull_facts(
    repo: str,
    pull: Json,
    files: Iterable[Json],
    commits: Iterable[Json],
    reviews: Iterable[Json],
    codeowners: str | None,
) -> PullFacts:
    """Assemble the facts of a PR from its REST answers."""
    changed = tuple(changed_file(item) for item in files)
    history = tuple(commit(item) for item in commits)
    trees = {c.sha: c.tree for c in history}
    head_sha = pull["head"]["sha"]
    return PullFacts(
        repo=repo,
        number=pull["number"],
        title=pull.get("title") or "",
        body=pull.get("body") or "",
        author=login(pull.get("user")),
        base_ref=pull["base"]["ref"],
        base_sha=pull["base"]["sha"],
        head_ref=pull["head"]["ref"],
        head_sha=head_sha,
        head_tree=trees.get(head_sha),
        draft=bool(pull.get("draft")),
        labels=tuple(label["name"] for label in pull.get("labels") or ()),
        files=changed,
        commits=history,
        reviews=tuple(r for r in (review(i, trees) for i in reviews) if r),
        codeowners=codeowners,
        files_truncated=_truncated(pull, len(changed)),
        merged=bool(pull.get("merged") or pull.get("merged_at")),
        html_url=pull.get("html_url"),
    )


def _truncated(pull: Json, listed: int) -> bool:
    expected = pull.get("changed_files")
    if isinstance(expected, int) and expected > listed:
        return True
    return listed >= FILES_LIMIT


def merged_pull(pull: Json) -> MergedPull | None:
    """Return how a PR was merged, or None when it was closed unmerged."""
    merged_at = timestamp(pull.get("merged_at"))
    if merged_at is None or not pull.get("merge_commit_sha"):
        return None
    return MergedPull(
        number=pull["number"],
        merged_at=merged_at,
        merge_sha=pull["merge_commit_sha"],
        merged_by=login(pull.get("merged_by")),
        base_ref=pull["base"]["ref"],
    )


def comparison(answer: Json, commits: Iterable[Json]) -> Comparison:
    """Read a compare answer, with the commits of every page, oldest first."""
    return Comparison(
        status=answer["status"],
        ahead_by=int(answer.get("ahead_by", 0)),
        behind_by=int(answer.get("behind_by", 0)),
        commits=tuple(item["sha"] for item in commits),
        html_url=answer.get("html_url"),
    )


def delivery(item: Json) -> Delivery:
    """Read one entry of the App's webhook deliveries listing."""
    return Delivery(
        id=int(item["id"]),
        guid=item["guid"],
        event=item["event"],
        status_code=int(item.get("status_code") or 0),
        delivered_at=_required_time(item, "delivered_at"),
        redelivery=bool(item.get("redelivery")),
    )


def succeeded(item: Delivery) -> bool:
    """Tell whether the receiving server accepted a delivery."""
    return 200 <= item.status_code < 300


def permission(answer: Json) -> Permission:
    """Read a collaborator permission answer; the finer `role_name` wins."""
    for key in ("role_name", "permission"):
        role = _ROLES.get(str(answer.get(key)))
        if role is not None:
            return role
    return "none"


def deployment(item: Json, state: str | None) -> DeploymentRecord:
    """Read one deployment and the state of its latest status."""
    payload = item.get("payload")
    return DeploymentRecord(
        id=int(item["id"]),
        sha=item["sha"],
        environment=item["environment"],
        creator=login(item.get("creator")),
        created_at=_required_time(item, "created_at"),
        state=state,
        payload=payload if isinstance(payload, dict) else {},
    )


def check_output(
    title: str, summary: str, text: str, annotations: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """Build a check run `output` object within GitHub's limits."""
    output: dict[str, Any] = {
        "title": title,
        "summary": cut(summary, CHECK_TEXT_LIMIT),
    }
    if text:
        output["text"] = cut(text, CHECK_TEXT_LIMIT)
    batch = [dict(a) for a in annotations]
    if batch:
        output["annotations"] = batch
    return output


def batches(items: tuple[Any, ...], size: int) -> list[tuple[Any, ...]]:
    """Split ``items`` into runs of at most ``size`` (none when empty)."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def split(repo: str) -> tuple[str, str]:
    """Split ``owner/name`` into its parts."""
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name:
        raise UsageError(f"{repo!r} is not a repository name like owner/name")
    return owner, name
