"""Tell a deploy from a rollback, a redeploy or a hotfix, and what is live."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from changebot.deploy.ancestry import Ancestry
from changebot.ports import DeploymentRecord

Classification = Literal["deploy", "rollback", "redeploy", "hotfix"]
DEPLOY_KINDS = ("deployment", "rollback")


@dataclass(frozen=True)
class Movement:
    """What a deployment changes in an environment.

    ``added`` are the commits that reach the environment, ``removed`` the
    commits that leave it; both newest first.
    """

    classification: Classification
    sha: str
    previous_sha: str | None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    #: The parents of the commits in ``added`` and ``removed``, when known.
    parents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def first(self) -> bool:
        """Tell whether nothing was live in the environment before."""
        return self.previous_sha is None


def classify(
    previous: str | None,
    sha: str,
    earlier: Iterable[str],
    ancestry: Ancestry,
) -> Movement:
    """Classify deploying ``sha`` where ``previous`` is live.

    ``earlier`` holds the SHAs deployed to the environment before. A SHA
    deployed before counts as a rollback unless it is ahead of the live one.
    """
    if previous is None:
        # NOTE: a first deployment has nothing to compare with; listing the
        # whole history would drown the summary, so its range is empty.
        return Movement("deploy", sha, None)
    if _same(previous, sha):
        return Movement("redeploy", sha, previous)

    # NOTE: each range is listed before the question of its ancestry, so that
    # an ancestry that lists ranges with their parents answers from the list.
    added = tuple(ancestry.rev_list(previous, sha))
    if ancestry.is_ancestor(previous, sha):
        parents = ancestry.parents(previous, sha)
        return Movement("deploy", sha, previous, added=added, parents=parents)

    removed = tuple(ancestry.rev_list(sha, previous))
    parents = ancestry.parents(sha, previous)
    if ancestry.is_ancestor(sha, previous):
        return Movement("rollback", sha, previous, removed=removed, parents=parents)

    parents = {**parents, **ancestry.parents(previous, sha)}
    # NOTE: going back to a SHA this environment ran before is a rollback even
    # when that SHA sits on another branch (say, before a hotfix).
    kind: Classification = (
        "rollback" if any(_same(sha, e) for e in earlier) else "hotfix"
    )
    return Movement(kind, sha, previous, added, removed, parents)


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def deployments_of(
    entries: Iterable[Mapping[str, Any]], repo: str, environment: str
) -> list[Mapping[str, Any]]:
    """Return the deployment and rollback entries of one environment, in order."""
    return [
        e
        for e in entries
        if e.get("kind") in DEPLOY_KINDS
        and e.get("repo") == repo
        and e.get("environment") == environment
    ]


def live_sha(
    history: Sequence[Mapping[str, Any]], fallback: Sequence[DeploymentRecord] = ()
) -> str | None:
    """Return the SHA live in an environment.

    ``history`` is the environment's entries from `deployments_of`; when it is
    empty, ``fallback`` (the forge's deployment records, newest first) gives
    the latest successful deployment.
    """
    if history:
        sha: str = history[-1]["sha"]
        return sha
    for record in fallback:
        if record.state == "success":
            return record.sha
    return None


def earlier_shas(
    history: Sequence[Mapping[str, Any]], fallback: Sequence[DeploymentRecord] = ()
) -> set[str]:
    """Return every SHA the environment has run, lower-case."""
    shas = {str(e["sha"]).lower() for e in history}
    shas.update(r.sha.lower() for r in fallback if r.state == "success")
    return shas
