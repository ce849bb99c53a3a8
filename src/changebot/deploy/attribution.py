"""Which recorded change, direct push or nothing brought each commit."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from changebot.deploy.ancestry import Ancestry
from changebot.deploy.ledger import Entry, Ledger
from changebot.errors import ChangebotError

log = logging.getLogger(__name__)

Parents = Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Attribution:
    """The entries behind a range of commits, and the commits with none."""

    changes: tuple[Entry, ...] = ()
    pushes: tuple[Entry, ...] = ()
    unrecorded: tuple[str, ...] = ()


def attribute(
    commits: Sequence[str],
    ledger: Ledger,
    ancestry: Ancestry,
    parents: Parents | None = None,
) -> Attribution:
    """Map each commit of a range to its entry; flag the commits with none.

    Changes and pushes come back in log order. The commits of a PR merged with
    a merge commit are covered by that PR. ``parents`` (of every commit in the
    range, as `Ancestry.parents` lists them) lets the range's own graph say
    which commits each merge brought; a PR it cannot place costs one
    ``rev_list``.
    """
    changes: dict[int, Entry] = {}
    pushes: dict[int, Entry] = {}
    covered: set[str] = set()
    lowered = [sha.lower() for sha in commits]
    for sha in lowered:
        entry = ledger.changes.get(sha) or ledger.pushes.get(sha)
        if entry is None:
            continue
        covered.add(sha)
        found = changes if entry["kind"] == "change" else pushes
        found[int(entry["index"])] = entry

    in_range = set(lowered)
    # NOTE: a change entry lists the commits it landed (`landed`), found above;
    # the range's graph is walked only for commits that are still unplaced,
    # those of entries that do not list theirs.
    if len(covered) < len(in_range):
        covered |= _merged_branches(changes.values(), in_range, parents, ancestry)
    unrecorded = tuple(
        sha for sha, low in zip(commits, lowered, strict=True) if low not in covered
    )
    return Attribution(_ordered(changes), _ordered(pushes), unrecorded)


def _merged_branches(
    changes: Iterable[Entry],
    in_range: set[str],
    parents: Parents | None,
    ancestry: Ancestry,
) -> set[str]:
    """Return the commits that merge-commit PRs merged in the range brought."""
    merged = [c for c in changes if _merged_head(c, in_range)]
    if not merged:
        return set()
    placed = _Graph(in_range, parents or {}).merges(merged)
    others = [c for c in merged if _merge_sha(c) not in placed.merges]
    return set(placed.covered) | _branch_commits(others, ancestry)


def _ordered(found: dict[int, Entry]) -> tuple[Entry, ...]:
    return tuple(found[i] for i in sorted(found))


def _merge_sha(change: Entry) -> str:
    return str((change.get("shas") or {}).get("merge") or "").lower()


def _merged_head(change: Entry, in_range: set[str]) -> bool:
    """Tell whether a change was merged with a merge commit whose head is in range."""
    shas = change.get("shas") or {}
    head, base = shas.get("head"), shas.get("base")
    if change.get("merge_method") != "merge" or not head or not base:
        return False
    return str(head).lower() in in_range


@dataclass(frozen=True)
class _Placed:
    """The merges the graph placed, and the commits their PRs brought."""

    merges: frozenset[str]
    covered: frozenset[str]


class _Graph:
    """The commits of one range and their parents, walked along its mainline."""

    def __init__(self, in_range: set[str], parents: Parents) -> None:
        self.in_range = in_range
        self.parents = _lowered(parents)
        self.claimed: set[str] = set()

    def merges(self, changes: Iterable[Entry]) -> _Placed:
        """Place the merge-commit PRs whose merge is on the range's mainline.

        Walking the mainline oldest first, each commit claims what its merged
        parents bring that nothing older claimed, which is exactly what is not
        reachable from its first parent. The commits a recorded PR's merge
        brings from the PR's recorded head are covered by it.
        """
        wanted = {_merge_sha(c): c for c in changes}
        if not wanted or not self._complete():
            return _Placed(frozenset(), frozenset())
        placed: set[str] = set()
        covered: set[str] = set()
        for commit in reversed(list(self._mainline())):
            self.claimed.add(commit)
            change = wanted.get(commit)
            head = _recorded_head(change, self.parents[commit]) if change else None
            if change is not None and head is not None and self._base_ok(change):
                covered |= self._claim(head)
                placed.add(commit)
            for parent in self.parents[commit][1:]:
                self._claim(parent)
        return _Placed(frozenset(placed), frozenset(covered))

    def _complete(self) -> bool:
        """Tell whether every commit of the range has its parents listed."""
        return all(sha in self.parents for sha in self.in_range)

    def _mainline(self) -> Iterator[str]:
        """Yield the first-parent chain of the range's head, newest first."""
        children = set(itertools.chain.from_iterable(self.parents.values()))
        tips = [sha for sha in self.in_range if sha not in children]
        commit = tips[0] if len(tips) == 1 else None
        while commit is not None and commit in self.in_range:
            yield commit
            first = self.parents[commit][:1]
            commit = first[0] if first else None

    def _base_ok(self, change: Entry) -> bool:
        # NOTE: a recorded base inside the range must be behind the merge's first
        # parent (claimed already), or the graph and the entry disagree: the PR
        # is then listed the old way, from its recorded base and head.
        base = str((change.get("shas") or {}).get("base") or "").lower()
        return base not in self.in_range or base in self.claimed

    def _claim(self, start: str) -> set[str]:
        """Claim the unclaimed commits of the range reachable from ``start``."""
        found: set[str] = set()
        stack = [start]
        while stack:
            commit = stack.pop()
            if commit in self.claimed or commit not in self.in_range:
                continue
            self.claimed.add(commit)
            found.add(commit)
            stack.extend(self.parents[commit])
        return found


def _lowered(parents: Parents) -> dict[str, tuple[str, ...]]:
    """Return ``parents`` with every SHA in lower case."""
    # NOTE: git lists SHAs in lower case; one pass over them all says so, where
    # lowering ten thousand commits and their parents one by one costs 3 ms.
    every = "".join(itertools.chain(parents, *parents.values()))
    if every == every.lower():
        return dict(parents)
    return {sha.lower(): tuple(p.lower() for p in ps) for sha, ps in parents.items()}


def _recorded_head(change: Entry, parents: tuple[str, ...]) -> str | None:
    """Return the change's recorded head if its merge commit merged it."""
    head = str((change.get("shas") or {}).get("head") or "").lower()
    return head if head in parents[1:] else None


def _branch_commits(changes: Iterable[Entry], ancestry: Ancestry) -> set[str]:
    """Return the commits that merge-commit PRs brought, one rev_list per PR."""
    # TODO: a PR merged by rebase brings several commits but its entry names
    # only the last (the merge SHA); the others show as unrecorded.
    covered: set[str] = set()
    for change in changes:
        shas = change.get("shas") or {}
        listed = _rev_list(ancestry, str(shas["base"]), str(shas["head"]))
        covered.update(sha.lower() for sha in listed)
    return covered


def _rev_list(ancestry: Ancestry, base: str, head: str) -> list[str]:
    try:
        return ancestry.rev_list(base, head)
    except ChangebotError as err:
        # NOTE: failing closed: the PR's commits then show as unrecorded.
        log.warning("cannot list the commits of a merged pr: %s", err)
        return []
