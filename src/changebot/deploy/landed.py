"""The commits each recorded change landed on its base branch.

A `change` entry lists them in ``commits`` (docs/audit-format.md): the merge
commit and the PR's commits for a merge commit, the one commit of a squash,
every rebased commit of a rebase. Attribution reads them here, so a rebased
PR covers all its commits and a merge-commit PR needs no forge call to list
what it brought. Entries written before the field existed fall back to the
merge SHA and the commit graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cached_property

from changebot.deploy.ancestry import Ancestry
from changebot.deploy.ledger import Entry, Ledger


def landed(change: Entry) -> tuple[str, ...]:
    """Return the commits a change entry says it landed (lower-case; may be empty)."""
    listed = change.get("commits")
    if not isinstance(listed, list):
        return ()
    return tuple(str(sha).lower() for sha in listed if sha)


def with_landed(ledger: Ledger) -> Ledger:
    """Return a copy of ``ledger`` that also finds each change by its landed commits."""
    changes = dict(ledger.changes)
    for change in ledger.changes.values():
        for sha in landed(change):
            changes.setdefault(sha, change)
    return replace(ledger, changes=changes)


class LandedAncestry:
    """Answer the commits of a recorded merge from its entry; ask ``ancestry`` the rest.

    Attribution lists ``base..head`` of each merge-commit PR it cannot place
    from the range's own graph; the entry knows that list already.
    """

    def __init__(self, ancestry: Ancestry, ledger: Ledger) -> None:
        self._ancestry = ancestry
        self._ledger = ledger

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Tell whether ``ancestor`` is reachable from ``descendant``."""
        return self._ancestry.is_ancestor(ancestor, descendant)

    def rev_list(self, base: str | None, head: str) -> list[str]:
        """Return the SHAs in ``base..head``, from an entry when one recorded them."""
        found = self._ranges.get((str(base).lower(), head.lower()))
        if found is not None:
            return list(found)
        return self._ancestry.rev_list(base, head)

    @cached_property
    def _ranges(self) -> dict[tuple[str, str], tuple[str, ...]]:
        # NOTE: found when first asked: attribution asks only for PRs the
        # range's own graph cannot place, and most summaries have none.
        return _listed_ranges(self._ledger)

    def parents(self, base: str | None, head: str) -> Mapping[str, tuple[str, ...]]:
        """Return the parents of each commit in ``base..head``; empty if unknown."""
        return self._ancestry.parents(base, head)


def _listed_ranges(ledger: Ledger) -> dict[tuple[str, str], tuple[str, ...]]:
    """Return (base, head) -> PR commits, for merge-commit changes listing them."""
    ranges: dict[tuple[str, str], tuple[str, ...]] = {}
    # NOTE: a change is under each commit it landed; each is looked at once.
    changes = {id(change): change for change in ledger.changes.values()}
    for change in changes.values():
        shas = change.get("shas") or {}
        merge = str(shas.get("merge") or "").lower()
        commits = tuple(sha for sha in landed(change) if sha != merge)
        if change.get("merge_method") == "merge" and commits and shas.get("base"):
            ranges[(str(shas["base"]).lower(), str(shas.get("head")).lower())] = commits
    return ranges
