"""Find the CODEOWNERS file GitHub would use at a commit, with as few calls as can be.

GitHub reads the first of `.github/CODEOWNERS`, `CODEOWNERS` and
`docs/CODEOWNERS`. The first time changebot looks in a repository it asks
for each path in that order (one to three calls). Later, at a new base
commit, one listing of the commit's root tree names the blob at the root and
the trees of `.github/` and `docs/`; those are content-addressed, so what
was learnt of a tree or a blob before still holds, and usually that one
listing is the only call. A repository whose file sits in `.github/` is
asked for that path first, which settles it in one call as well.

See: https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from changebot.adapters.githubcache import ShaCache

#: Where GitHub looks for CODEOWNERS, in its order.
LOCATIONS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")
NAME = "CODEOWNERS"

#: A file found: its blob SHA and its text.
Found = tuple[str, str]
#: A root tree listing: entry name -> (type, SHA).
Listing = Mapping[str, tuple[str, str]]


class OwnersSource(Protocol):
    """The three reads the finder needs; the GitHub adapter provides them."""

    def probe(self, repo: str, commit: str, path: str) -> Found | None:
        """Return the blob SHA and text of a file at ``commit``, or None."""
        ...

    def root(self, repo: str, commit: str) -> Listing:
        """Return the entries of the root tree of ``commit``."""
        ...

    def blob_text(self, repo: str, blob: str) -> str:
        """Return the text of a blob."""
        ...


class CodeownersFinder:
    """Finds CODEOWNERS at a commit, remembering what SHAs already told."""

    def __init__(self, source: OwnersSource) -> None:
        self._source = source
        self._at_commit: ShaCache[str | None] = ShaCache()
        #: (repo, tree SHA of a directory) -> blob SHA of its CODEOWNERS, or None.
        self._in_tree: ShaCache[str | None] = ShaCache()
        self._texts: ShaCache[str] = ShaCache(256)
        #: repo -> where its CODEOWNERS was last found (None: nowhere).
        self._last: ShaCache[str | None] = ShaCache()

    def find(self, repo: str, commit: str) -> str | None:
        """Return the text of the CODEOWNERS GitHub would use at ``commit``."""
        found, text = self._at_commit.lookup((repo, commit))
        if found:
            return text
        seen, last = self._last.lookup(repo)
        location, text = self._find(repo, commit, seen, last)
        self._last.put(repo, location)
        return self._at_commit.put((repo, commit), text)

    def _find(
        self, repo: str, commit: str, seen: bool, last: str | None
    ) -> tuple[str | None, str | None]:
        # NOTE: the first location wins whenever it exists, so asking for it
        # first is right; it is worth a call where it was found before.
        probed = not seen or last == LOCATIONS[0]
        if probed:
            first = self._probe(repo, commit, LOCATIONS[0])
            if first is not None:
                return LOCATIONS[0], first[1]
        if not seen:
            return self._probe_rest(repo, commit)
        return self._from_root(repo, commit, probed)

    def _probe_rest(self, repo: str, commit: str) -> tuple[str | None, str | None]:
        """Ask for each later location in turn (a repository seen the first time)."""
        for location in LOCATIONS[1:]:
            found = self._probe(repo, commit, location)
            if found is not None:
                return location, found[1]
        return None, None

    def _from_root(
        self, repo: str, commit: str, probed: bool
    ) -> tuple[str | None, str | None]:
        """Decide from the root tree, asking only about trees not seen before."""
        root = self._source.root(repo, commit)
        for location in LOCATIONS:
            if location == LOCATIONS[0] and probed:
                self._learn(repo, root, location, None)
                continue
            blob = self._blob_at(repo, commit, root, location)
            if blob is not None:
                return location, self._text(repo, blob)
        return None, None

    def _blob_at(
        self, repo: str, commit: str, root: Listing, location: str
    ) -> str | None:
        directory, _, _ = location.rpartition("/")
        if not directory:
            kind, sha = root.get(NAME, ("", ""))
            return sha if kind == "blob" else None
        kind, tree = root.get(directory, ("", ""))
        if kind != "tree":
            return None
        known, blob = self._in_tree.lookup((repo, tree))
        if known:
            return blob
        found = self._probe(repo, commit, location)
        return self._in_tree.put((repo, tree), found[0] if found else None)

    def _learn(self, repo: str, root: Listing, location: str, blob: str | None) -> None:
        directory = location.rpartition("/")[0]
        kind, tree = root.get(directory, ("", ""))
        if kind == "tree":
            self._in_tree.put((repo, tree), blob)

    def _probe(self, repo: str, commit: str, path: str) -> Found | None:
        found = self._source.probe(repo, commit, path)
        if found is not None:
            self._texts.put((repo, found[0]), found[1])
        return found

    def _text(self, repo: str, blob: str) -> str:
        found, text = self._texts.lookup((repo, blob))
        if found and text is not None:
            return text
        return self._texts.put((repo, blob), self._source.blob_text(repo, blob))
