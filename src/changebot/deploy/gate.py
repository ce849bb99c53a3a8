"""Approve or reject a deployment by policy (GitHub's deployment protection rule)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from changebot.deploy.summary import PullLine, Summary


class Environment(Protocol):
    """An environment of the config's ``deployments`` section."""

    @property
    def protected(self) -> bool: ...


@dataclass(frozen=True)
class GatePolicy:
    """What keeps a deployment out of an environment.

    Only a protected environment (``deployments.<name>.protected`` in
    `.changebot.yml`) is guarded. There, unrecorded commits and bypassed PRs
    are refused; overrides pass, being recorded and approved exceptions.
    """

    protected: bool = True
    unrecorded: bool = True
    bypassed: bool = True
    overridden: bool = False

    @classmethod
    def for_environment(cls, environment: Environment | None) -> GatePolicy:
        """Return the policy of an environment of the config (None: unknown)."""
        return cls(protected=bool(environment and environment.protected))


@dataclass(frozen=True)
class GateDecision:
    """The gate's answer and what it found; templates turn it into words."""

    approved: bool
    unrecorded: tuple[str, ...] = ()
    bypassed: tuple[PullLine, ...] = ()
    overridden: tuple[PullLine, ...] = ()


def decide(summary: Summary, policy: GatePolicy) -> GateDecision:
    """Approve the deployment unless its range breaks ``policy``."""
    # Only what reaches the environment matters: a rollback removes changes.
    unrecorded = summary.added.unrecorded
    bypassed = tuple(p for p in summary.added.pulls if p.bypassed)
    overridden = tuple(p for p in summary.added.pulls if p.overridden)
    refused = policy.protected and (
        (policy.unrecorded and bool(unrecorded))
        or (policy.bypassed and bool(bypassed))
        or (policy.overridden and bool(overridden))
    )
    return GateDecision(not refused, unrecorded, bypassed, overridden)
