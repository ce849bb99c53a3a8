"""The changes, deployments, rollbacks and overrides in a window of time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from changebot.deploy.ledger import Entry

TIMELINE_KINDS = ("change", "direct-push", "override", "deployment", "rollback")


def parse_time(text: str) -> datetime:
    """Read an RFC 3339 time (a trailing ``Z`` or no zone means UTC)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def timeline(
    entries: Iterable[Entry],
    since: datetime,
    until: datetime | None = None,
    *,
    repo: str | None = None,
    environment: str | None = None,
) -> list[Entry]:
    """Return the entries of interest in ``[since, until)``, in log order.

    An environment keeps only its own deployments and rollbacks; changes,
    pushes and overrides stay, since they reach every environment.
    """
    chosen = []
    for entry in entries:
        if entry.get("kind") not in TIMELINE_KINDS:
            continue
        if repo is not None and entry.get("repo") != repo:
            continue
        if environment is not None and entry.get("environment") not in (
            None,
            environment,
        ):
            continue
        moment = parse_time(str(entry["time"]))
        if moment >= since and (until is None or moment < until):
            chosen.append(entry)
    return sorted(chosen, key=lambda e: int(e["index"]))
