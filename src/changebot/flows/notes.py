"""What people told changebot by command, kept where every worker can read it.

A rationale given with `/changebot rationale` and an override granted with
`/changebot override` live in the queue's ledger (its SQLite file, or Redis),
so that every evaluation of the PR, on any machine, sees them. An override
holds for the head SHA it was granted on: a new push voids it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from changebot.policy.facts import PullFacts

log = logging.getLogger(__name__)


class KeyValue(Protocol):
    """A shared store of small texts by key (the queue's `Ledger` is one)."""

    def note(self, key: str, value: str) -> None:
        """Remember ``value`` under ``key``."""
        ...

    def noted(self, key: str) -> str | None:
        """Return what was noted under ``key``, or None."""
        ...


@dataclass(frozen=True)
class GivenRationale:
    """A rationale given by command: who wrote it, in which comment."""

    login: str
    text: str
    comment_id: int


@dataclass(frozen=True)
class GrantedOverride:
    """An override granted by command, for one head SHA of the PR."""

    login: str
    reason: str
    head_sha: str
    comment_id: int
    #: The index of its `override` entry in the audit log.
    index: int | None = None


class Notes:
    """Rationales and overrides by repository and PR, over a `KeyValue`."""

    def __init__(self, store: KeyValue) -> None:
        self.store = store

    def rationale(self, repo: str, number: int) -> GivenRationale | None:
        """Return the latest rationale given by command on a PR."""
        found = self._read("rationale", repo, number)
        return GivenRationale(**found) if found else None

    def give_rationale(self, repo: str, number: int, given: GivenRationale) -> None:
        """Keep ``given`` as the PR's rationale by command (replacing any other)."""
        self._write("rationale", repo, number, dataclasses.asdict(given))

    def override(self, repo: str, number: int) -> GrantedOverride | None:
        """Return the latest override granted on a PR, whatever its head."""
        found = self._read("override", repo, number)
        return GrantedOverride(**found) if found else None

    def grant_override(self, repo: str, number: int, granted: GrantedOverride) -> None:
        """Keep ``granted`` as the PR's override (replacing any other)."""
        self._write("override", repo, number, dataclasses.asdict(granted))

    def active_override(self, facts: PullFacts) -> GrantedOverride | None:
        """Return the override that holds for the PR's current head, if any."""
        granted = self.override(facts.repo, facts.number)
        if granted is None or granted.head_sha != facts.head_sha:
            return None
        return granted

    def override_index(self, facts: PullFacts) -> int | None:
        """Return the audit index of the override active for the PR's head."""
        granted = self.active_override(facts)
        return granted.index if granted else None

    def annotate(self, facts: PullFacts) -> PullFacts:
        """Return ``facts`` with the rationale and the override given by command."""
        given = self.rationale(facts.repo, facts.number)
        granted = self.active_override(facts)
        return dataclasses.replace(
            facts,
            extra_rationale=given.text if given else facts.extra_rationale,
            override=(granted.login, granted.reason) if granted else facts.override,
        )

    def _read(self, kind: str, repo: str, number: int) -> dict[str, Any] | None:
        raw = self.store.noted(_key(kind, repo, number))
        if raw is None:
            return None
        try:
            found: dict[str, Any] = json.loads(raw)
        except ValueError:
            log.warning("unreadable note", extra={"repo": repo, "pr": number})
            return None
        return found

    def _write(self, kind: str, repo: str, number: int, value: dict[str, Any]) -> None:
        self.store.note(_key(kind, repo, number), json.dumps(value, sort_keys=True))


def _key(kind: str, repo: str, number: int) -> str:
    return f"notes.{kind}.{repo.lower()}#{number}"
