"""What the policy core knows about a pull request: plain, frozen values.

The forge adapter (or `changebot check`, from a local repository) fills these
in; the policy core reads them and does no I/O of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

FileStatus = Literal[
    "added", "removed", "modified", "renamed", "copied", "changed", "unchanged"
]
ReviewState = Literal[
    "APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"
]


@dataclass(frozen=True)
class ChangedFile:
    """One file of the PR diff; a rename also names the path it came from."""

    path: str
    status: FileStatus = "modified"
    previous_path: str | None = None


@dataclass(frozen=True)
class Commit:
    """One commit of the PR, with who wrote it and who committed it."""

    sha: str
    author: str | None
    committer: str | None
    message: str = ""
    tree: str | None = None


@dataclass(frozen=True)
class Review:
    """One submitted review: who, what state, on which commit, when."""

    user: str
    state: ReviewState
    commit_id: str | None
    submitted_at: datetime | None = None
    #: The tree of `commit_id`, when the forge could resolve it; approvals
    #: compare trees so that a rebase with no content change keeps them.
    tree: str | None = None


@dataclass(frozen=True)
class PullFacts:
    """Everything the policy needs to judge one pull request."""

    repo: str
    number: int
    title: str
    body: str
    author: str | None
    base_ref: str
    base_sha: str
    head_ref: str
    head_sha: str
    head_tree: str | None = None
    draft: bool = False
    labels: tuple[str, ...] = ()
    files: tuple[ChangedFile, ...] = ()
    commits: tuple[Commit, ...] = ()
    reviews: tuple[Review, ...] = ()
    #: login -> the `org/team` slugs that login belongs to (lower-case).
    memberships: dict[str, frozenset[str]] = field(default_factory=dict)
    #: CODEOWNERS text from the base branch, or None when there is none.
    codeowners: str | None = None
    #: True when the file list was cut short (GitHub lists 3,000 at most).
    files_truncated: bool = False
    #: A rationale given by `/changebot rationale`, judged as part of the body.
    extra_rationale: str | None = None
    #: An override active for `head_sha`: (login, reason).
    override: tuple[str, str] | None = None
    merged: bool = False
    html_url: str | None = None
    #: The `.changebot.yml` text at the head, when the PR changes it; the
    #: verdict then shows that file's problems (the base's file still judges).
    head_config: str | None = None
