"""The audit log's entries indexed by commit, built once per summary.

The commit-to-PR mapping comes from the log's own `change` entries (their
merge SHA is the commit on the branch, whatever the merge method) and from
`direct-push` entries, never from one forge call per commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Entry = Mapping[str, Any]


@dataclass
class Ledger:
    """Change, direct-push and override entries of one repository, by key."""

    repo: str
    changes: dict[str, Entry] = field(default_factory=dict)
    pushes: dict[str, Entry] = field(default_factory=dict)
    overrides: dict[int, Entry] = field(default_factory=dict)
    granted: dict[tuple[int, str], Entry] = field(default_factory=dict)

    @classmethod
    def build(cls, entries: Iterable[Entry], repo: str) -> Ledger:
        """Index the entries of ``repo`` in one pass over the log."""
        ledger = cls(repo)
        for entry in entries:
            if entry.get("repo") == repo:
                ledger.add(entry)
        return ledger

    def add(self, entry: Entry) -> None:
        """Index one entry; later entries win over earlier ones."""
        kind = entry.get("kind")
        if kind == "change":
            merge = (entry.get("shas") or {}).get("merge")
            if merge:
                self.changes[merge.lower()] = entry
        elif kind == "direct-push":
            for sha in entry.get("commits") or ():
                self.pushes[sha.lower()] = entry
        elif kind == "override":
            self.overrides[int(entry["index"])] = entry
            if entry.get("granted"):
                self.granted[_pull_key(entry.get("pr"), "head_sha")] = entry

    def change(self, sha: str) -> Entry | None:
        """Return the change entry whose merge SHA is ``sha``."""
        return self.changes.get(sha.lower())

    def push(self, sha: str) -> Entry | None:
        """Return the direct-push entry that brought ``sha``."""
        return self.pushes.get(sha.lower())

    def override_of(self, change: Entry) -> Entry | None:
        """Return the granted override a change was merged under, if any."""
        index = change.get("override")
        if index is not None and int(index) in self.overrides:
            return self.overrides[int(index)]
        if not self.granted:
            return None
        # NOTE: an override counts for the head it was granted on, so a change
        # entry that does not name its override still shows it.
        pull = {**(change.get("pr") or {}), **(change.get("shas") or {})}
        return self.granted.get(_pull_key(pull, "head"))


def _pull_key(pull: Mapping[str, Any] | None, sha_field: str) -> tuple[int, str]:
    pull = pull or {}
    return int(pull.get("number") or 0), str(pull.get(sha_field) or "").lower()
