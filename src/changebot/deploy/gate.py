"""Approve or reject a deployment by policy (GitHub's deployment protection rule)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from changebot.deploy.summary import PullLine, Summary


@dataclass(frozen=True)
class GatePolicy:
    """What keeps a deployment out of an environment.

    Read from ``deployments.<environment>.gate`` in `.changebot.yml`; by
    default unrecorded commits and bypassed PRs are refused, overrides pass
    (an override is itself a recorded, approved exception).
    """

    unrecorded: bool = True
    bypassed: bool = True
    overridden: bool = False

    @classmethod
    def from_config(
        cls, deployments: Mapping[str, Any] | None, environment: str
    ) -> GatePolicy:
        """Return the policy of ``environment`` from the ``deployments`` section."""
        settings = ((deployments or {}).get(environment) or {}).get("gate") or {}
        if settings is False:
            return cls(unrecorded=False, bypassed=False)
        return cls(
            unrecorded=bool(settings.get("unrecorded", True)),
            bypassed=bool(settings.get("bypassed", True)),
            overridden=bool(settings.get("overridden", False)),
        )


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
    unrecorded = summary.added.unrecorded if policy.unrecorded else ()
    bypassed = tuple(p for p in summary.added.pulls if p.bypassed)
    overridden = tuple(p for p in summary.added.pulls if p.overridden)
    refused = (
        bool(unrecorded)
        or (policy.bypassed and bool(bypassed))
        or (policy.overridden and bool(overridden))
    )
    return GateDecision(not refused, unrecorded, bypassed, overridden)
