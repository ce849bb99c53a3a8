"""Build PullFacts for policy tests: one obvious default, every field overridable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from changebot.policy.config import load_config
from changebot.policy.facts import ChangedFile, Commit, PullFacts, Review

HEAD = "h" * 40
OLD = "o" * 40
TREE = "t" * 40
OLD_TREE = "p" * 40
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

BODY = """\
## Why
The cluster runs out of memory every night during the batch window.

## Risk
Nodes restart one at a time; a bad image would stall the rollout.

## Rollback plan
Revert this PR; the previous node group stays available for a day.
"""

POLICY = """\
areas:
  terraform:
    paths: ["infra/**/*.tf", "!infra/sandbox/**"]
    reviewers: {count: 1, teams: [platform], users: [olga]}
  workflows:
    paths: [".github/workflows/**"]
    reviewers: {count: 2, teams: [acme/security]}
codeowners: false
rationale:
  sections: [Why, Risk, Rollback plan]
  ticket: "[A-Z][A-Z0-9]+-[0-9]+"
  ticket_required: false
  min_words: 10
approvals: {invalidate_on_push: true, exclude_committers: true}
"""


def policy(text: str = POLICY) -> Any:
    """Load a policy from YAML text."""
    return load_config(text, source="test")


def review(
    user: str,
    state: str = "APPROVED",
    *,
    minute: int = 0,
    commit: str = HEAD,
    tree: str | None = TREE,
) -> Review:
    """Return a review submitted ``minute`` minutes after T0."""
    return Review(user, state, commit, T0 + timedelta(minutes=minute), tree)  # type: ignore[arg-type]


def pull(*paths: str | ChangedFile, **fields: Any) -> PullFacts:
    """Return a PR by amy changing ``paths``, with ``fields`` overridden."""
    files = tuple(p if isinstance(p, ChangedFile) else ChangedFile(p) for p in paths)
    base = PullFacts(
        repo="acme/infra",
        number=12,
        title="Raise node memory",
        body=BODY,
        author="amy",
        base_ref="main",
        base_sha="b" * 40,
        head_ref="memory",
        head_sha=HEAD,
        head_tree=TREE,
        files=files,
        commits=(Commit(HEAD, "amy", "amy", "Raise node memory", TREE),),
        memberships={
            "pat": frozenset({"acme/platform"}),
            "sam": frozenset({"acme/security"}),
            "sue": frozenset({"acme/security"}),
        },
    )
    return replace(base, **fields)
