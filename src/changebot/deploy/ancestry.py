"""How two commits relate, asked of a local clone or of the forge.

A local clone (`LocalRepo`) answers `Ancestry` as it is; the forge answers
through `ForgeAncestry`, one compare call per pair of SHAs whatever the number
of commits between them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Protocol

from changebot.errors import ChangebotError
from changebot.ports import Comparison, Forge

log = logging.getLogger(__name__)


class Ancestry(Protocol):
    """Answers how two commits relate."""

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Tell whether ``ancestor`` is reachable from ``descendant``."""
        ...

    def rev_list(self, base: str | None, head: str) -> list[str]:
        """Return the SHAs in ``base..head``, newest first."""
        ...

    def parents(self, base: str | None, head: str) -> Mapping[str, tuple[str, ...]]:
        """Return the parents of each commit in ``base..head``; empty if unknown."""
        ...


class ForgeAncestry:
    """Answer `Ancestry` from the forge's compare API, remembering each answer."""

    def __init__(self, forge: Forge, repo: str) -> None:
        self._forge = forge
        self._repo = repo
        self._seen: dict[tuple[str, str], Comparison] = {}

    def compare(self, base: str, head: str) -> Comparison:
        """Return the comparison of ``base...head``, asking the forge once."""
        key = (base, head)
        if key not in self._seen:
            self._seen[key] = self._forge.compare(self._repo, base, head)
        return self._seen[key]

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Tell whether ``ancestor`` is reachable from ``descendant``."""
        reverse = self._seen.get((descendant, ancestor))
        if reverse is not None:
            return reverse.status in ("behind", "identical")
        return self.compare(ancestor, descendant).status in ("ahead", "identical")

    def rev_list(self, base: str | None, head: str) -> list[str]:
        """Return the SHAs in ``base..head``, newest first."""
        if base is None:
            # NOTE: the forge has no cheap "whole history"; classification
            # never asks for it (a first deployment has an empty range).
            return []
        # GitHub lists compare commits oldest first.
        return list(reversed(self.compare(base, head).commits))

    def parents(self, base: str | None, head: str) -> Mapping[str, tuple[str, ...]]:
        """Return nothing: compare answers no parents (attribution asks per PR)."""
        return {}

    def compare_url(self, base: str, head: str) -> str | None:
        """Return the forge's page for ``base...head``, when it was fetched."""
        seen = self._seen.get((base, head))
        return seen.html_url if seen else None


def lists_locally(ancestry: Ancestry) -> bool:
    """Tell whether ``ancestry`` answers on this machine, not through the forge."""
    return not isinstance(ancestry, ForgeAncestry)


def list_ahead(ancestry: Ancestry, base: str, head: str) -> Callable[[], None]:
    """Start listing ``base..head`` on another thread; return what waits for it.

    A local clone keeps the range it listed, so classifying the same pair
    later runs no git. A failure is left for that later question to meet.
    """

    def ask() -> None:
        try:
            ancestry.rev_list(base, head)
            ancestry.parents(base, head)
        except ChangebotError as err:
            log.debug("range not listed ahead: %s", err)

    thread = threading.Thread(target=ask, name="changebot-list-ahead", daemon=True)
    thread.start()
    return thread.join
