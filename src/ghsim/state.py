"""What the simulated GitHub remembers: accounts, repositories and their objects.

Git objects and refs live in bare repositories; everything else GitHub keeps
beside git (pulls, reviews, comments, check runs, ...) lives here, in memory,
behind one lock.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ghsim.gitstore import BareRepo

V = TypeVar("V")

PERMISSIONS = ("none", "read", "triage", "write", "maintain", "admin")


def now() -> datetime:
    """Return the current UTC time at second precision, as GitHub reports it."""
    return datetime.now(UTC).replace(microsecond=0)


def stamp(when: datetime | None) -> str | None:
    """Format a time the way GitHub's JSON does."""
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def rank(permission: str) -> int:
    """Order permissions so that a higher one includes the lower ones."""
    return PERMISSIONS.index(permission)


@dataclass
class Account:
    """A user, an organization or an App's bot user."""

    id: int
    login: str
    type: str  # "User", "Organization" or "Bot"
    created_at: datetime = field(default_factory=now)
    #: Organization members: login -> "admin" or "member".
    members: dict[str, str] = field(default_factory=dict)


@dataclass
class Team:
    """A team of an organization."""

    id: int
    org: str
    slug: str
    name: str
    description: str | None
    privacy: str
    #: login -> "member" or "maintainer".
    members: dict[str, str] = field(default_factory=dict)
    #: repository full name -> permission.
    repos: dict[str, str] = field(default_factory=dict)


@dataclass
class Review:
    """A submitted pull request review."""

    id: int
    user: str
    state: str
    body: str
    commit_id: str
    submitted_at: datetime


@dataclass
class Pull:
    """A pull request; its commits and files come from git."""

    number: int
    id: int
    title: str
    body: str | None
    user: str
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    closed_at: datetime | None = None
    merged_at: datetime | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    labels: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)


@dataclass
class Comment:
    """An issue comment (pull request conversation comments are these too)."""

    id: int
    number: int
    user: str
    body: str
    created_at: datetime
    updated_at: datetime


@dataclass
class CheckRun:
    """A check run on a commit."""

    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: datetime
    completed_at: datetime | None
    output: dict[str, Any]
    details_url: str | None
    external_id: str | None
    app_slug: str
    annotations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Status:
    """A commit status."""

    id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: datetime


@dataclass
class DeploymentStatus:
    """One status of a deployment."""

    id: int
    state: str
    description: str
    environment: str
    log_url: str | None
    environment_url: str | None
    creator: str
    created_at: datetime


@dataclass
class Deployment:
    """A deployment of a ref to an environment."""

    id: int
    sha: str
    ref: str
    task: str
    environment: str
    description: str | None
    payload: Any
    creator: str
    created_at: datetime
    transient: bool = False
    production: bool = True
    statuses: list[DeploymentStatus] = field(default_factory=list)


@dataclass
class GateReview:
    """An answer to a deployment protection rule, as an App posted it."""

    environment: str
    state: str | None
    comment: str | None
    reviewer: str
    created_at: datetime


@dataclass
class Gate:
    """A workflow run waiting on a custom deployment protection rule."""

    run_id: int
    environment: str
    deployment_id: int
    reviews: list[GateReview] = field(default_factory=list)


@dataclass
class Repo:
    """A repository: a bare git repository plus what GitHub keeps beside it."""

    id: int
    owner: str
    name: str
    private: bool
    description: str | None
    git: BareRepo
    default_branch: str
    created_at: datetime = field(default_factory=now)
    pushed_at: datetime | None = None
    collaborators: dict[str, str] = field(default_factory=dict)
    pulls: dict[int, Pull] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    statuses: list[Status] = field(default_factory=list)
    deployments: dict[int, Deployment] = field(default_factory=dict)
    #: workflow run id -> the deployment protection rule it waits on.
    gates: dict[int, Gate] = field(default_factory=dict)
    #: branch -> its protection rule, as the webhook shows it.
    protections: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        """Return `owner/name`."""
        return f"{self.owner}/{self.name}"


@dataclass
class World:
    """Every account and repository of the simulated GitHub."""

    root: Path
    accounts: dict[str, Account] = field(default_factory=dict)
    repos: dict[str, Repo] = field(default_factory=dict)
    teams: dict[tuple[str, str], Team] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def new_id(self) -> int:
        """Return a fresh id, unique across every kind of object."""
        return next(self._ids)

    def snapshot(self, items: Mapping[Any, V]) -> list[V]:
        """Return the values of ``items`` as they are, however other threads add.

        NOTE: iterating a dict that another request's thread grows raises
        "dictionary changed size during iteration": read a copy.
        """
        with self.lock:
            return list(items.values())

    def account(self, login: str, kind: str = "User") -> Account:
        """Return the account called ``login``, bringing it into being if new."""
        key = login.lower()
        if key not in self.accounts:
            self.accounts[key] = Account(self.new_id(), login, kind)
        return self.accounts[key]

    def find_account(self, login: str) -> Account | None:
        """Return an existing account, or None."""
        return self.accounts.get(login.lower())

    def repo(self, owner: str, name: str) -> Repo | None:
        """Return a repository by owner and name (case-insensitive), or None."""
        return self.repos.get(f"{owner}/{name}".lower())

    def repo_by_id(self, repo_id: int) -> Repo | None:
        """Return a repository by its id, or None."""
        return next((r for r in self.repos.values() if r.id == repo_id), None)

    def add_repo(
        self,
        owner: str,
        name: str,
        private: bool,
        description: str | None,
        default_branch: str,
    ) -> Repo:
        """Create a repository with an empty bare git repository behind it."""
        path = self.root / "repos" / owner.lower() / f"{name.lower()}.git"
        bare = BareRepo.create(path, default_branch)
        repo = Repo(
            self.new_id(), owner, name, private, description, bare, default_branch
        )
        self.repos[repo.full_name.lower()] = repo
        return repo

    def permission(self, repo: Repo, login: str) -> str:
        """Return the permission ``login`` has on ``repo``."""
        owner = self.account(repo.owner)
        if login.lower() == repo.owner.lower():
            return "admin"
        best = "none" if repo.private else "read"
        if owner.members.get(login.lower()) == "admin":
            return "admin"
        if login.lower() in owner.members:
            best = _higher(best, "read")
        best = _higher(best, repo.collaborators.get(login.lower(), "none"))
        for team in self.teams.values():
            if team.org.lower() == repo.owner.lower() and login.lower() in team.members:
                best = _higher(best, team.repos.get(repo.full_name.lower(), "none"))
        return best


def _higher(a: str, b: str) -> str:
    return a if rank(a) >= rank(b) else b
