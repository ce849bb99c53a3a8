"""The ports: what the flows need from GitHub, the audit branch and Slack.

Each port is a small Protocol in the project's own types. Adapters implement
them (``changebot.adapters``); the flows and the pure core never see
PyGithub, GitPython or slack_sdk objects.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from changebot.policy.facts import PullFacts

Permission = Literal["admin", "maintain", "write", "triage", "read", "none"]


# --- the audit branch -----------------------------------------------------


class AuditStore(Protocol):
    """A branch of git objects that only ever moves forward.

    Both the local GitPython store and the GitHub git-data store implement
    this, and pass the same contract tests. Paths are ``/``-separated and
    relative to the root of the branch's tree.
    """

    #: Names the log in checkpoints, e.g. ``github.com/org/repo@changebot/audit``.
    origin: str

    def head(self) -> str | None:
        """Return the commit the branch points at, or None if it does not exist."""
        ...

    def read(self, commit: str, path: str) -> bytes | None:
        """Return a file's bytes at ``commit``, or None when it is absent."""
        ...

    def list(self, commit: str, path: str) -> list[str]:
        """Return the names directly under the directory ``path`` at ``commit``."""
        ...

    def walk(self, commit: str, path: str) -> Iterator[tuple[str, bytes]]:
        """Yield (path, bytes) of every file below ``path``, in path order."""
        ...

    def write(
        self, parent: str | None, changes: Mapping[str, bytes], message: str
    ) -> str:
        """Make a commit on top of ``parent`` with ``changes``; move no ref."""
        ...

    def advance(self, old: str | None, new: str) -> bool:
        """Move the branch from ``old`` to ``new`` if it is still at ``old``.

        Return False when another writer moved it first (the caller re-reads
        and retries). Never forces: ``new`` must descend from ``old``.
        """
        ...


# --- GitHub -----------------------------------------------------------------


@dataclass(frozen=True)
class CheckReport:
    """The `changebot` check run as changebot wants it to look."""

    head_sha: str
    status: Literal["queued", "in_progress", "completed"]
    conclusion: (
        Literal["success", "failure", "neutral", "action_required", "skipped"] | None
    )
    title: str
    summary: str
    text: str = ""
    details_url: str | None = None
    annotations: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class MergedPull:
    """A merged pull request as reconcile and the audit entries see it."""

    number: int
    merged_at: datetime
    merge_sha: str
    merged_by: str | None
    base_ref: str


@dataclass(frozen=True)
class Comparison:
    """How ``head`` relates to ``base``, and the commits between them."""

    status: Literal["ahead", "behind", "identical", "diverged"]
    ahead_by: int
    behind_by: int
    commits: tuple[str, ...]
    html_url: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery as GitHub's deliveries API lists it."""

    id: int
    guid: str
    event: str
    status_code: int
    delivered_at: datetime
    redelivery: bool = False


@dataclass(frozen=True)
class DeploymentRecord:
    """A GitHub deployment with its latest state."""

    id: int
    sha: str
    environment: str
    creator: str | None
    created_at: datetime
    state: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


class Forge(Protocol):
    """What changebot reads from and writes to GitHub."""

    def pull(self, repo: str, number: int) -> PullFacts:
        """Return the facts of a PR: files (all pages), commits, reviews, owners.

        Logins are lower-case. ``memberships`` is left empty: the flow fills
        it from `team_members` for the teams its policy names.
        """
        ...

    def file_at(self, repo: str, ref: str, path: str) -> str | None:
        """Return a text file's content at ``ref``, or None when absent."""
        ...

    def team_members(self, org: str, team: str) -> frozenset[str]:
        """Return the logins of a team's members (lower-case)."""
        ...

    def permission(self, repo: str, login: str) -> Permission:
        """Return a user's permission on a repository."""
        ...

    def default_branch(self, repo: str) -> str:
        """Return the repository's default branch name."""
        ...

    def set_check_run(
        self,
        repo: str,
        report: CheckReport,
        run_id: int | None = None,
        *,
        fresh: bool = False,
    ) -> int:
        """Create or update the `changebot` check run on ``report.head_sha``.

        ``run_id`` names the run when the caller knows it; ``fresh`` says the
        caller knows changebot made none on that SHA yet (no lookup needed).
        Return the run's id.
        """
        ...

    def upsert_comment(self, repo: str, number: int, marker: str, body: str) -> None:
        """Create, or update in place, the one comment carrying ``marker``."""
        ...

    def reply(self, repo: str, number: int, body: str) -> None:
        """Post a new comment on a PR or issue."""
        ...

    def merged_pulls(self, repo: str, since: datetime) -> list[MergedPull]:
        """Return PRs merged since ``since``, oldest first (all pages)."""
        ...

    def merged_pull(self, repo: str, number: int) -> MergedPull | None:
        """Return how a PR was merged, or None if it is not merged."""
        ...

    def pulls_for_commit(self, repo: str, sha: str) -> list[int]:
        """Return the merged PRs that contain ``sha`` (for direct-push checks)."""
        ...

    def compare(self, repo: str, base: str, head: str) -> Comparison:
        """Compare two commits, following every page of commits."""
        ...

    def deployments(
        self, repo: str, environment: str, limit: int = 10
    ) -> list[DeploymentRecord]:
        """Return an environment's latest ``limit`` deployments, newest first."""
        ...

    def set_deployment_status(
        self,
        repo: str,
        deployment_id: int,
        state: str,
        description: str,
        log_url: str | None = None,
    ) -> None:
        """Add a status to a deployment (description cut to 140 characters)."""
        ...

    def review_deployment_gate(
        self, repo: str, run_id: int, environment: str, approved: bool, comment: str
    ) -> None:
        """Approve or reject a deployment waiting on changebot's protection rule."""
        ...

    def failed_deliveries(self, since: datetime) -> list[Delivery]:
        """Return App webhook deliveries since ``since`` that did not succeed."""
        ...

    def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to deliver a webhook again."""
        ...

    def installed_repos(self) -> list[str]:
        """Return the repositories the App is installed on (none for a token)."""
        ...


# --- notices ----------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """Something a person should hear about now.

    ``key`` makes the notice idempotent: the same key is sent (or updated)
    once, however often a retried job produces it.
    """

    kind: Literal[
        "deployment",
        "rollback",
        "override",
        "bypass",
        "direct-push",
        "access",
        "config",
        "verification-failure",
        "refusal",
    ]
    key: str
    repo: str
    title: str
    text: str
    environment: str | None = None
    areas: tuple[str, ...] = ()
    blocks: tuple[Mapping[str, Any], ...] = ()


class Notifier(Protocol):
    """Sends notices to people (Slack, or the log when none is set)."""

    def send(self, notice: Notice) -> None:
        """Deliver ``notice``; a retry of the same key updates, never repeats."""
        ...


@runtime_checkable
class RoutingNotifier(Protocol):
    """A notifier that can also follow one repository's own routes.

    ``config`` is the repository's `changebot.policy.config.Config`; the App's
    notifier reads its ``notify`` and ``deployments`` sections.
    """

    def send(self, notice: Notice) -> None:
        """Deliver ``notice`` where the notifier's own settings say."""
        ...

    def for_config(self, config: Any) -> Notifier:
        """Return the notifier ``config`` routes to."""
        ...
