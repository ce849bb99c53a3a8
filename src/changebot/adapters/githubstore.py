"""The audit branch kept on GitHub, through its git data API.

`GitDataStore` implements the `AuditStore` port without a clone: it reads
through the contents and trees APIs and writes blobs, one tree on top of the
parent's (``base_tree``, full paths), one commit and one ref update that
GitHub refuses unless it fast-forwards. An append costs the same number of
calls however long the log is; objects named by a SHA are cached.

See: https://docs.github.com/en/rest/git
"""

from __future__ import annotations

import base64
import logging
import re
import secrets
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from changebot.adapters.github import GitHubForge
from changebot.adapters.githubcache import ShaCache
from changebot.errors import ForgeError, NotFound

log = logging.getLogger(__name__)

DEFAULT_BRANCH = "changebot/audit"
#: The contents API lists at most this many entries of a directory.
CONTENTS_LIMIT = 1000

# NOTE: aliases, because the method `list` hides the builtin in the class.
Names = list[str]
Blobs = list[tuple[str, str]]

_SHA = re.compile(r"[0-9a-f]{40}")
#: What GitHub says when a ref moved under a writer or exists already.
_LOST_RACE = re.compile(r"fast.forward|already exists|reference", re.IGNORECASE)


class GitDataStore:
    """A branch of a GitHub repository that only ever moves forward."""

    def __init__(
        self,
        forge: GitHubForge,
        repo: str,
        branch: str = DEFAULT_BRANCH,
        *,
        origin: str | None = None,
        blobs: ShaCache[bytes] | None = None,
    ) -> None:
        self.repo = repo
        self.branch = branch
        self.origin = origin or f"{_host(forge.auth.base_url)}/{repo}@{branch}"
        self._forge = forge
        self._roots: ShaCache[str] = ShaCache()
        self._trees: ShaCache[tuple[Mapping[str, Any], ...]] = ShaCache(1024)
        self._files: ShaCache[bytes | None] = ShaCache()
        # NOTE: blobs never change, so a process may share one cache among
        # the stores it opens job after job (keyed by repository as well).
        self._blobs: ShaCache[bytes] = ShaCache() if blobs is None else blobs

    def __repr__(self) -> str:
        return f"GitDataStore({self.origin!r})"

    # --- reads ------------------------------------------------------------------

    def head(self) -> str | None:
        """Return the commit the branch points at, or None if it does not exist."""
        try:
            answer = self._call(
                "GET",
                "/repos/{owner}/{repo}/git/ref/{ref}",
                {"ref": f"heads/{self.branch}"},
            )
        except NotFound:
            return None
        return str(answer["object"]["sha"])

    def read(self, commit: str, path: str) -> bytes | None:
        """Return a file's bytes at ``commit``, or None when it is absent."""
        key = (commit, path)
        found, data = self._files.lookup(key)
        if found:
            return data
        try:
            answer = self._call(
                "GET",
                "/repos/{owner}/{repo}/contents/{path}",
                {"path": path},
                query={"ref": commit},
            )
        except NotFound:
            answer = None
        data = self._forge.content(self.repo, answer)
        return self._files.put(key, data) if _SHA.fullmatch(commit) else data

    def list(self, commit: str, path: str) -> Names:
        """Return the names directly under the directory ``path`` at ``commit``."""
        path = path.strip("/")
        if path:
            names = self._listed(commit, path)
            if names is not None and len(names) < CONTENTS_LIMIT:
                return names
        tree = self._subtree(commit, path)
        return sorted(e["path"] for e in self._tree(tree)) if tree else []

    def _listed(self, commit: str, path: str) -> Names | None:
        """List a directory through the contents API (at most 1,000 names)."""
        try:
            answer = self._call(
                "GET",
                "/repos/{owner}/{repo}/contents/{path}",
                {"path": path},
                query={"ref": commit},
            )
        except NotFound:
            return []
        if not isinstance(answer, list):
            return []
        return sorted(item["name"] for item in answer)

    def walk(self, commit: str, path: str) -> Iterator[tuple[str, bytes]]:
        """Yield (path, bytes) of every file below ``path``, in path order."""
        path = path.strip("/")
        tree = self._subtree(commit, path)
        if tree is None:
            return
        prefix = f"{path}/" if path else ""
        for name, blob in sorted(self._blobs_below(tree)):
            yield prefix + name, self._blob(blob)

    def _blobs_below(self, tree: str) -> Blobs:
        """Return (relative path, blob SHA) of every file below a tree."""
        answer = self._call(
            "GET",
            "/repos/{owner}/{repo}/git/trees/{tree_sha}",
            {"tree_sha": tree},
            query={"recursive": "1"},
        )
        if not answer.get("truncated"):
            return [
                (e["path"], e["sha"]) for e in answer["tree"] if e["type"] == "blob"
            ]

        # NOTE: GitHub cuts a recursive listing short past 100,000 entries;
        # then each subtree is listed on its own.
        found: Blobs = []
        for entry in self._tree(tree):
            if entry["type"] == "blob":
                found.append((entry["path"], entry["sha"]))
            elif entry["type"] == "tree":
                below = self._blobs_below(entry["sha"])
                found.extend((f"{entry['path']}/{p}", s) for p, s in below)
        return found

    def _subtree(self, commit: str, path: str) -> str | None:
        """Return the SHA of the tree at ``path`` in ``commit``, or None."""
        tree = self._root(commit)
        for name in filter(None, path.split("/")):
            entry = next((e for e in self._tree(tree) if e["path"] == name), None)
            if entry is None or entry["type"] != "tree":
                return None
            tree = str(entry["sha"])
        return tree

    def _root(self, commit: str) -> str:
        found = self._roots.get(commit)
        if found is not None:
            return found
        answer = self._call(
            "GET",
            "/repos/{owner}/{repo}/git/commits/{commit_sha}",
            {"commit_sha": commit},
        )
        return self._roots.put(commit, str(answer["tree"]["sha"]))

    def _tree(self, tree: str) -> tuple[Mapping[str, Any], ...]:
        found = self._trees.get(tree)
        if found is not None:
            return found
        answer = self._call(
            "GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}", {"tree_sha": tree}
        )
        return self._trees.put(tree, tuple(answer["tree"]))

    def _blob(self, sha: str) -> bytes:
        found = self._blobs.get((self.repo, sha))
        if found is not None:
            return found
        answer = self._call(
            "GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}", {"file_sha": sha}
        )
        return self._blobs.put((self.repo, sha), base64.b64decode(answer["content"]))

    # --- writes -----------------------------------------------------------------

    def write(
        self, parent: str | None, changes: Mapping[str, bytes], message: str
    ) -> str:
        """Make a commit on top of ``parent`` with ``changes``; move no ref."""
        entries = [
            {"path": path, "mode": "100644", "type": "blob", "sha": self._put(data)}
            for path, data in sorted(changes.items())
        ]
        tree_body: dict[str, Any] = {"tree": entries}
        if parent is not None:
            tree_body["base_tree"] = self._root(parent)
        tree = self._call("POST", "/repos/{owner}/{repo}/git/trees", body=tree_body)

        commit = self._call(
            "POST",
            "/repos/{owner}/{repo}/git/commits",
            body={
                "message": _with_writer(message),
                "tree": tree["sha"],
                "parents": [parent] if parent else [],
            },
        )
        self._roots.put(commit["sha"], tree["sha"])
        return str(commit["sha"])

    def _put(self, data: bytes) -> str:
        answer = self._call(
            "POST",
            "/repos/{owner}/{repo}/git/blobs",
            body={"content": base64.b64encode(data).decode(), "encoding": "base64"},
        )
        return str(answer["sha"])

    def advance(self, old: str | None, new: str) -> bool:
        """Move the branch from ``old`` to ``new`` if it is still at ``old``.

        GitHub refuses a ref update that does not fast-forward, and the
        creation of a ref that exists: either means another writer won.
        """
        try:
            if old is None:
                self._create_branch(new)
            else:
                self._fast_forward(new)
        except ForgeError as err:
            if not _lost_race(err):
                raise
            log.info(
                "audit branch moved by another writer",
                extra={"repo": self.repo, "branch": self.branch},
            )
            return False
        return True

    def _create_branch(self, new: str) -> None:
        self._call(
            "POST",
            "/repos/{owner}/{repo}/git/refs",
            body={"ref": f"refs/heads/{self.branch}", "sha": new},
        )

    def _fast_forward(self, new: str) -> None:
        self._call(
            "PATCH",
            "/repos/{owner}/{repo}/git/refs/{ref}",
            {"ref": f"heads/{self.branch}"},
            body={"sha": new, "force": False},
        )

    def _call(
        self,
        method: str,
        route: str,
        params: Mapping[str, str | int] | None = None,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        answer = self._forge.call(
            self.repo, method, route, params, query=query, body=body
        )
        return answer.data


def _lost_race(err: ForgeError) -> bool:
    """Tell whether a refused ref update means that another writer won."""
    if err.status == 409:
        return True
    return err.status == 422 and bool(_LOST_RACE.search(str(err)))


def _host(base_url: str) -> str:
    """Name the GitHub host for an API URL (`api.github.com` -> `github.com`)."""
    netloc = urlsplit(base_url).netloc
    return netloc.removeprefix("api.")


def _with_writer(message: str) -> str:
    """Mark a commit with a nonce of the writer that made it.

    NOTE: GitHub's ref update takes no expected old value: it accepts any
    fast-forward, including a move to the commit the branch is already at.
    Two writers that build the same entry in the same second (signatures are
    deterministic) would make the same commit, and both would see their
    update accepted. The nonce makes every writer's commit its own, so the
    fast-forward check alone decides who won.
    """
    return f"{message.rstrip()}\n\nWriter: {secrets.token_hex(8)}\n"
