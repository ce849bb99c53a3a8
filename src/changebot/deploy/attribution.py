"""Which recorded change, direct push or nothing brought each commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from changebot.deploy.ancestry import Ancestry
from changebot.deploy.ledger import Entry, Ledger
from changebot.errors import ChangebotError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attribution:
    """The entries behind a range of commits, and the commits with none."""

    changes: tuple[Entry, ...] = ()
    pushes: tuple[Entry, ...] = ()
    unrecorded: tuple[str, ...] = ()


def attribute(
    commits: Sequence[str], ledger: Ledger, ancestry: Ancestry
) -> Attribution:
    """Map each commit of a range to its entry; flag the commits with none.

    Changes and pushes come back in log order. The commits of a PR merged with
    a merge commit are covered by that PR: one ``rev_list`` per such PR.
    """
    changes: dict[int, Entry] = {}
    pushes: dict[int, Entry] = {}
    covered: set[str] = set()
    for sha in commits:
        entry = ledger.change(sha) or ledger.push(sha)
        if entry is None:
            continue
        covered.add(sha.lower())
        found = changes if entry["kind"] == "change" else pushes
        found[int(entry["index"])] = entry

    in_range = {sha.lower() for sha in commits}
    covered |= _branch_commits(changes.values(), in_range, ancestry)
    unrecorded = tuple(sha for sha in commits if sha.lower() not in covered)
    return Attribution(_ordered(changes), _ordered(pushes), unrecorded)


def _ordered(found: dict[int, Entry]) -> tuple[Entry, ...]:
    return tuple(found[i] for i in sorted(found))


def _branch_commits(
    changes: Iterable[Entry], in_range: set[str], ancestry: Ancestry
) -> set[str]:
    """Return the commits that merge-commit PRs brought along with their merge."""
    # TODO: a PR merged by rebase brings several commits but its entry names
    # only the last (the merge SHA); the others show as unrecorded.
    covered: set[str] = set()
    for change in changes:
        shas = change.get("shas") or {}
        head, base = shas.get("head"), shas.get("base")
        if change.get("merge_method") != "merge" or not head or not base:
            continue
        if head.lower() not in in_range:
            continue
        covered.update(sha.lower() for sha in _rev_list(ancestry, base, head))
    return covered


def _rev_list(ancestry: Ancestry, base: str, head: str) -> list[str]:
    try:
        return ancestry.rev_list(base, head)
    except ChangebotError as err:
        # NOTE: failing closed: the PR's commits then show as unrecorded.
        log.warning("cannot list the commits of a merged pr: %s", err)
        return []
