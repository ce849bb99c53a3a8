"""Bare git repositories on disk, driven through the `git` command line.

Everything the simulator says about commits, trees, diffs and merges comes
from real git, so a client cannot pass against answers git would not give.
"""

from __future__ import annotations

import logging
import os
import subprocess  # noqa: S404 - the simulator plays GitHub with real git
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ZERO_SHA = "0" * 40
#: Git knows the empty tree without storing it; a root commit diffs against it.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_SEP = "\x1f"
_END = "\x1e"
_LOG_FORMAT = _SEP.join(
    ["%H", "%T", "%P", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%B"]
)


class GitFailed(Exception):
    """A git command failed; the message carries git's own words."""


@dataclass(frozen=True)
class Person:
    """An author or committer line of a commit."""

    name: str
    email: str
    date: str


@dataclass(frozen=True)
class CommitInfo:
    """One commit as `git log` reports it."""

    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


@dataclass(frozen=True)
class TreeEntry:
    """One line of `git ls-tree`."""

    mode: str
    type: str
    sha: str
    path: str
    size: int | None


@dataclass(frozen=True)
class FileChange:
    """One file of a diff between two commits."""

    path: str
    status: str
    previous_path: str | None
    additions: int
    deletions: int
    #: The blob at ``path`` in the newer commit (zeros when removed).
    sha: str = ZERO_SHA


class BareRepo:
    """One bare repository; every method is one or a few git commands."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, path: Path, default_branch: str) -> BareRepo:
        """Make an empty bare repository whose HEAD names ``default_branch``."""
        path.mkdir(parents=True, exist_ok=True)
        _run(["git", "init", "-q", "--bare", "-b", default_branch, str(path)])
        return cls(path)

    def git(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> bytes:
        """Run git in this repository and return its standard output."""
        return _run(["git", "--git-dir", str(self.path), *args], stdin, env)

    def text(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> str:
        """Run git and return its output as stripped text."""
        return self.git(*args, stdin=stdin, env=env).decode().strip()

    # --- objects -------------------------------------------------------------

    def write_blob(self, content: bytes) -> str:
        """Store ``content`` as a blob and return its SHA."""
        return self.text("hash-object", "-w", "--stdin", stdin=content)

    def write_blobs(self, contents: list[bytes]) -> list[str]:
        """Store many blobs with one git process (a pack); return their SHAs."""
        if len(contents) < 2:
            return [self.write_blob(data) for data in contents]
        stream = b"".join(
            b"blob\nmark :%d\ndata %d\n%s\n" % (n + 1, len(data), data)
            for n, data in enumerate(contents)
        )
        with tempfile.TemporaryDirectory(prefix="ghsim-blobs-") as tmp:
            marks = os.path.join(tmp, "marks")
            self.git("fast-import", "--quiet", f"--export-marks={marks}", stdin=stream)
            pairs = (line.split() for line in Path(marks).read_text().splitlines())
            by_mark = {int(mark[1:]): sha for mark, sha in pairs}
        return [by_mark[n + 1] for n in range(len(contents))]

    def read_blob(self, sha: str) -> bytes:
        """Return the bytes of a blob."""
        return self.git("cat-file", "blob", sha)

    def object_type(self, sha: str) -> str | None:
        """Return `blob`, `tree`, `commit` or `tag`, or None when absent."""
        try:
            return self.text("cat-file", "-t", sha)
        except GitFailed:
            return None

    def build_tree(
        self, base_tree: str | None, entries: list[tuple[str, str, str | None]]
    ) -> str:
        """Write a tree: ``base_tree`` with (path, mode, sha) set; sha None deletes."""
        with tempfile.TemporaryDirectory(prefix="ghsim-index-") as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            if base_tree:
                self.git("read-tree", base_tree, env=env)
            lines = [_index_line(path, mode, sha) for path, mode, sha in entries]
            self.git(
                "update-index", "--index-info", stdin="".join(lines).encode(), env=env
            )
            return self.text("write-tree", env=env)

    def ls_tree(self, tree: str, recursive: bool = False) -> list[TreeEntry]:
        """List a tree's entries (every level with ``recursive``)."""
        args = ["ls-tree", "-l", "-z", *(["-r", "-t"] if recursive else []), tree]
        return [_tree_entry(line) for line in _split(self.git(*args), "\0")]

    def entry_at(self, commit: str, path: str) -> TreeEntry | None:
        """Return the tree entry at ``path`` in ``commit``, or None."""
        out = self.git("ls-tree", "-l", "-z", commit, "--", path.rstrip("/"))
        entries = [_tree_entry(line) for line in _split(out, "\0")]
        return entries[0] if entries else None

    def commit_tree(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: Person,
        committer: Person | None = None,
    ) -> str:
        """Write a commit object and return its SHA."""
        committer = committer or author
        args = ["commit-tree", tree, *[a for p in parents for a in ("-p", p)]]
        env = _person_env("AUTHOR", author) | _person_env("COMMITTER", committer)
        return self.text(*args, stdin=message.encode(), env=env)

    def commit(self, sha: str) -> CommitInfo:
        """Return one commit's details."""
        return self.log(["-1", sha])[0]

    def log(self, args: list[str]) -> list[CommitInfo]:
        """Return the commits `git log ARGS` lists."""
        out = self.text("log", f"--format={_LOG_FORMAT}{_END}", *args)
        return [_commit_info(rec) for rec in out.split(_END) if rec.strip()]

    # --- refs ----------------------------------------------------------------

    def resolve(self, rev: str) -> str | None:
        """Return the commit SHA ``rev`` names, or None."""
        try:
            return self.text("rev-parse", "--verify", "-q", f"{rev}^{{commit}}")
        except GitFailed:
            return None

    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        """Return every ref under ``prefix`` with the object it points at."""
        out = self.text("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        pairs = (line.split(" ") for line in out.splitlines() if line)
        return {name: sha for name, sha in pairs}

    def set_ref(self, ref: str, new: str, old: str | None) -> bool:
        """Move ``ref`` to ``new`` only if it is at ``old`` (None: must not exist)."""
        try:
            self.git("update-ref", ref, new, old or ZERO_SHA)
        except GitFailed as err:
            log.debug("ref update refused", extra={"ref": ref, "error": str(err)})
            return False
        return True

    def delete_ref(self, ref: str) -> None:
        """Delete a ref."""
        self.git("update-ref", "-d", ref)

    def head_branch(self) -> str:
        """Return the branch HEAD names."""
        return self.text("symbolic-ref", "--short", "HEAD")

    def set_head_branch(self, branch: str) -> None:
        """Point HEAD at ``branch``."""
        self.git("symbolic-ref", "HEAD", f"refs/heads/{branch}")

    # --- history -------------------------------------------------------------

    def is_ancestor(self, old: str, new: str) -> bool:
        """Say whether ``old`` is reachable from ``new``."""
        try:
            self.git("merge-base", "--is-ancestor", old, new)
        except GitFailed:
            return False
        return True

    def merge_base(self, a: str, b: str) -> str | None:
        """Return the best common ancestor of two commits, or None."""
        try:
            return self.text("merge-base", a, b)
        except GitFailed:
            return None

    def ahead_behind(self, base: str, head: str) -> tuple[int, int]:
        """Return (commits only in head, commits only in base)."""
        out = self.text("rev-list", "--left-right", "--count", f"{base}...{head}")
        behind, ahead = out.split()
        return int(ahead), int(behind)

    def diff(self, base: str, head: str) -> list[FileChange]:
        """Return the files that differ between two commits, renames detected."""
        stats = self._numstat(base, head)
        out = self.git("diff", "--raw", "--no-abbrev", "-z", "-M", base, head).decode()
        fields = out.split("\0")
        changes: list[FileChange] = []
        i = 0
        while i < len(fields) - 1:
            meta = fields[i].split()
            code, blob = meta[4], meta[3]
            if code[0] in "RC":
                old, path, i = fields[i + 1], fields[i + 2], i + 3
            else:
                old, path, i = None, fields[i + 1], i + 2
            added, deleted = stats.get(path, (0, 0))
            changes.append(FileChange(path, code[0], old, added, deleted, blob))
        return changes

    def _numstat(self, base: str, head: str) -> dict[str, tuple[int, int]]:
        out = self.git("diff", "--numstat", "-z", "-M", base, head).decode()
        fields = out.split("\0")
        stats: dict[str, tuple[int, int]] = {}
        i = 0
        while i < len(fields) - 1:
            added, deleted, path = fields[i].split("\t", 2)
            if path == "":
                path, i = fields[i + 2], i + 3
            else:
                i += 1
            stats[path] = (_count(added), _count(deleted))
        return stats

    def merge_trees(self, ours: str, theirs: str) -> str | None:
        """Return the tree of merging ``theirs`` into ``ours``, or None on conflict."""
        try:
            out = self.text("merge-tree", "--write-tree", "--no-messages", ours, theirs)
        except GitFailed:
            return None
        return out.splitlines()[0]

    def rebase(self, onto: str, base: str, head: str, committer: Person) -> str | None:
        """Replay ``base..head`` onto ``onto``; return the new tip, None on conflict."""
        with tempfile.TemporaryDirectory(prefix="ghsim-rebase-") as tmp:
            work = os.path.join(tmp, "w")
            self.git("worktree", "add", "-q", "--detach", work, onto)
            env = _person_env("COMMITTER", committer)
            try:
                wt = ["git", "-C", work]
                commits = self.text(
                    "rev-list", "--reverse", "--no-merges", f"{base}..{head}"
                )
                for sha in commits.split():
                    _run(
                        [
                            *wt,
                            "cherry-pick",
                            "--allow-empty",
                            "--keep-redundant-commits",
                            sha,
                        ],
                        None,
                        env,
                    )
                return _run([*wt, "rev-parse", "HEAD"], None, {}).decode().strip()
            except GitFailed:
                return None
            finally:
                self.git("worktree", "remove", "--force", work)


def _run(
    args: list[str], stdin: bytes | None = None, env: dict[str, str] | None = None
) -> bytes:
    full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    proc = subprocess.run(  # noqa: S603 - fixed git argv, no shell
        args, input=stdin, capture_output=True, env=full_env, check=False
    )
    if proc.returncode != 0:
        raise GitFailed(
            proc.stderr.decode(errors="replace").strip() or f"{args[1:3]} failed"
        )
    return proc.stdout


def _index_line(path: str, mode: str, sha: str | None) -> str:
    if sha is None:
        return f"0 {ZERO_SHA}\t{path}\n"
    return f"{mode} {sha}\t{path}\n"


def _split(out: bytes, sep: str) -> list[str]:
    return [part for part in out.decode().split(sep) if part]


def _tree_entry(line: str) -> TreeEntry:
    meta, path = line.split("\t", 1)
    mode, kind, sha, size = meta.split()
    return TreeEntry(mode, kind, sha, path, None if size == "-" else int(size))


def _commit_info(record: str) -> CommitInfo:
    parts = record.lstrip("\n").split(_SEP)
    sha, tree, parents, an, ae, ad, cn, ce, cd, body = parts
    return CommitInfo(
        sha=sha,
        tree=tree,
        parents=tuple(parents.split()),
        author=Person(an, ae, ad),
        committer=Person(cn, ce, cd),
        message=body.rstrip("\n"),
    )


def _person_env(role: str, person: Person) -> dict[str, str]:
    return {
        f"GIT_{role}_NAME": person.name,
        f"GIT_{role}_EMAIL": person.email,
        f"GIT_{role}_DATE": person.date,
    }


def _count(text: str) -> int:
    return 0 if text == "-" else int(text)
