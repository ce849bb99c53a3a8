"""Local git repositories, through GitPython (the only GitPython import).

`LocalRepo` answers the read-only questions that `changebot check`,
`changebot deploy` and the timeline ask of a working repository.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import hashlib
import io
import itertools
import logging
import re
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import git
from git.db import (  # type: ignore[attr-defined]  # gitdb ships no stubs
    IStream,
    LooseObjectDB,
)

from changebot.errors import AuditError, ChangebotError, UsageError
from changebot.policy.facts import ChangedFile, Commit, FileStatus

log = logging.getLogger(__name__)

_STATUS: dict[str, FileStatus] = {
    "A": "added",
    "D": "removed",
    "M": "modified",
    "R": "renamed",
    "C": "copied",
    "T": "changed",
}


_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
#: A row of a tree object: octal mode, space, name, NUL, 20-byte object id.
_TREE_ROW = re.compile(rb"([0-7]+) ([^\0]*)\0(.{20})", re.DOTALL)
_TREE = re.compile(rb"(?:[0-7]+ [^\0]*\0.{20})*", re.DOTALL)
#: How many listed ranges a `LocalRepo` keeps (a deployment asks about two).
_RANGES_KEPT = 8


class LocalRepo:
    """A git repository on disk, asked read-only questions by ref or SHA."""

    def __init__(self, path: str | Path) -> None:
        try:
            self._repo = git.Repo(path)
        except (git.NoSuchPathError, git.InvalidGitRepositoryError) as err:
            raise UsageError(
                f"{path} is not a git repository",
                hint="pass --repo with the path of a clone",
            ) from err
        self.path = Path(self._repo.git_dir).parent
        self._listed: dict[
            tuple[str | None, str], list[tuple[str, tuple[str, ...]]]
        ] = {}

    def _git(self, *args: str) -> str:
        try:
            out: str = self._repo.git.execute(["git", *args])
        except git.GitCommandError as err:
            raise _failed(args, err.stderr.strip() or str(err)) from err
        return out

    def _listing(self, *args: str) -> str:
        """Run git for a long listing, with room to write it all at once.

        NOTE: a range of 10,000 commits and their parents is 800 KB of text.
        Through a 64 KiB pipe, git waits for this thread after each 64 KiB,
        and a thread that lists a range while another decodes the log gets
        its turn every few milliseconds; a megabyte of pipe lets git finish
        on its own core (bench_deploy: 10 ms of a 120 ms summary).
        """
        command: Any = self._repo.git.execute(["git", *args], as_process=True)
        proc = command.proc
        _widen(proc.stdout)
        out, err = proc.communicate()
        if proc.returncode != 0:
            stderr = err.decode(errors="replace").strip()
            raise _failed(args, stderr or f"exit status {proc.returncode}")
        return str(out.decode(errors="replace"))

    def resolve(self, ref: str) -> str:
        """Return the commit SHA that ``ref`` names."""
        return self._git(
            "rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}"
        )

    def tree_of(self, ref: str) -> str:
        """Return the tree SHA of the commit ``ref`` names."""
        return self._git("rev-parse", "--verify", "--end-of-options", f"{ref}^{{tree}}")

    def file_at(self, ref: str, path: str) -> str | None:
        """Return a file's text at ``ref``, or None when it is not there."""
        try:
            blob = self._repo.commit(self.resolve(ref)).tree / path
        except KeyError:
            return None
        data: bytes = blob.data_stream.read()
        return data.decode("utf-8", errors="replace")

    def diff_files(self, base: str, head: str) -> list[ChangedFile]:
        """List the files a PR from ``head`` into ``base`` changes, with renames."""
        out = self._git(
            "diff", "--name-status", "-z", "-M", "--no-color", f"{base}...{head}"
        )
        return _parse_name_status(out)

    def commits(self, base: str, head: str) -> list[Commit]:
        """Return the commits in ``base..head``, oldest first."""
        fmt = "%H%x00%T%x00%an%x00%cn%x00%s%x1e"
        out = self._git("log", "--reverse", f"--format={fmt}", f"{base}..{head}")
        commits = []
        for record in filter(None, (r.strip("\n") for r in out.split("\x1e"))):
            sha, tree, author, committer, subject = record.split("\x00")
            commits.append(
                Commit(sha, author or None, committer or None, subject, tree)
            )
        return commits

    def rev_list(
        self, base: str | None, head: str, *, first_parent: bool = False
    ) -> list[str]:
        """Return the SHAs in ``base..head`` (all of ``head``), newest first.

        With ``first_parent``, follow only the first parent of each merge: the
        commits made on the branch itself, merge commits included.
        """
        if first_parent:
            out = self._git("rev-list", "--first-parent", *_range_spec(base, head))
            return out.split()
        return [sha for sha, _ in self.lineage(base, head)]

    def parents(self, base: str | None, head: str) -> dict[str, tuple[str, ...]]:
        """Return the parents of each commit in ``base..head``."""
        return dict(self.lineage(base, head))

    def lineage(self, base: str | None, head: str) -> list[tuple[str, tuple[str, ...]]]:
        """Return each commit of ``base..head``, newest first, with its parents.

        One `git rev-list --parents`. The answer for a pair of full SHAs is
        kept (they name fixed commits), so that asking again, or asking
        `is_ancestor` of the same pair, runs no git at all.
        """
        key = (base, head)
        listed = self._listed.get(key)
        if listed is None:
            out = self._listing("rev-list", "--parents", *_range_spec(base, head))
            rows = (line.partition(" ") for line in out.split("\n"))
            listed = [(sha, tuple(rest.split())) for sha, _, rest in rows if sha]
            if _is_sha(base) and _is_sha(head):
                self._remember(key, listed)
        return listed

    def _remember(
        self, key: tuple[str | None, str], listed: list[tuple[str, tuple[str, ...]]]
    ) -> None:
        self._listed[key] = listed
        while len(self._listed) > _RANGES_KEPT:
            del self._listed[next(iter(self._listed))]

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Tell whether ``ancestor`` is reachable from ``descendant``."""
        listed = self._listed.get((ancestor, descendant))
        if listed is not None:
            # NOTE: the parents of a range that lie outside it are all reachable
            # from its base; the base is among them exactly when it is reachable
            # from the head (or the range is empty because both are one commit).
            return ancestor == descendant or any(
                ancestor in parents for _, parents in listed
            )
        try:
            self._repo.git.merge_base("--is-ancestor", ancestor, descendant)
        except git.GitCommandError:
            return False
        return True

    def merge_base(self, a: str, b: str) -> str | None:
        """Return the best common ancestor of two commits, or None."""
        try:
            out: str = self._repo.git.merge_base(a, b)
        except git.GitCommandError:
            return None
        return out.strip() or None


def _failed(args: Sequence[str], detail: str) -> ChangebotError:
    """Say which git command failed in a clone, and why."""
    return ChangebotError(
        f"git {args[0]} failed: {detail}",
        hint="check that the refs exist in this clone (`git fetch`)",
    )


def _range_spec(base: str | None, head: str) -> list[str]:
    return [head, f"^{base}"] if base else [head]


def _is_sha(name: str | None) -> bool:
    return name is not None and _SHA.fullmatch(name) is not None


def _parse_name_status(out: str) -> list[ChangedFile]:
    fields = out.split("\x00")
    files: list[ChangedFile] = []
    i = 0
    while i < len(fields) and fields[i]:
        code = fields[i][0]
        status = _STATUS.get(code, "changed")
        if code in "RC":
            files.append(ChangedFile(fields[i + 2], status, fields[i + 1]))
            i += 3
        else:
            files.append(ChangedFile(fields[i + 1], status))
            i += 2
    return files


# --- the audit branch -------------------------------------------------------

_TREE_MODE = 0o040000
_BLOB_MODE = 0o100644
_ZERO = "0" * 40
_IDENTITY = b"changebot <changebot@users.noreply.github.com>"

_Changes = dict[str, "bytes | _Changes"]
_TreeRows = list[tuple[bytes, int, str]]
# NOTE: an alias, because the method `list` hides the builtin in the class.
_BlobIds = list[tuple[str, str]]


class GitStore:
    """The audit branch of a local repository (an `AuditStore`).

    Objects are written straight into the object database and read through
    one long-lived `git cat-file --batch`, so an append costs one process
    (`git update-ref`, the atomic compare-and-swap) however long the log is.

    A store pickles as its repository, branch and origin: another process
    opens its own, with its own git processes (see `parallel_reads`).
    """

    #: Another process can read this branch alongside (the verifier's workers).
    parallel_reads = True

    def __init__(
        self,
        path: str | Path,
        branch: str = "changebot/audit",
        *,
        origin: str | None = None,
    ) -> None:
        try:
            self._repo = git.Repo(path)
        except (git.NoSuchPathError, git.InvalidGitRepositoryError) as err:
            raise AuditError(
                f"{path} is not a git repository",
                hint="pass --repo with the path of a clone",
            ) from err
        self.path = Path(self._repo.git_dir)
        self._opened = str(path)
        self.branch = branch
        self.ref = f"refs/heads/{branch}"
        self.origin = origin or f"{_origin_of(self._repo)}@{branch}"
        self._lock = threading.Lock()
        #: The `git cat-file` of walks, while no walk is using it.
        self._reader: _BlobReader | None = None
        #: The path and rows of the tree `_tree` read last.
        self._last_tree: tuple[str, _TreeRows] | None = None
        # NOTE: written in-process: GitPython's own store runs `git hash-object`
        # once per object, which would make an append cost ten processes.
        self._objects = LooseObjectDB(str(Path(self._repo.common_dir) / "objects"))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the repository, branch and origin, never as open processes."""
        return (_reopen, (self._opened, self.branch, self.origin))

    def head(self) -> str | None:
        """Return the commit the branch points at, or None if it does not exist."""
        try:
            sha: str = git.SymbolicReference.dereference_recursive(self._repo, self.ref)
        except ValueError:
            return None
        return sha

    def read(self, commit: str, path: str) -> bytes | None:
        """Return a file's bytes at ``commit``, or None when it is absent."""
        found = self._object(f"{commit}:{path}")
        if found is None or found[0] != "blob":
            return None
        return found[1]

    def list(self, commit: str, path: str) -> list[str]:
        """Return the names directly under the directory ``path`` at ``commit``."""
        return [name for _, _, name in self._tree(commit, path)]

    def walk(self, commit: str, path: str) -> Iterator[tuple[str, bytes]]:
        """Yield (path, bytes) of every file below ``path``, in git's tree order.

        A ``path`` that names a file yields that file alone.
        """
        path = path.strip("/")
        rows = self._tree(commit, path)
        if not rows:
            found = self._object(f"{commit}:{path}")
            if found is not None and found[0] == "blob":
                yield path, found[1]
            return
        yield from self._read_blobs(self._files_in(path, rows))

    def walk_each(
        self, commit: str, paths: Sequence[str]
    ) -> Iterator[tuple[str, bytes]]:
        """Yield what `walk` yields for each of ``paths``, in order.

        One `git cat-file` stream for them all, where `walk` starts one each.
        """
        yield from self._read_blobs(self._files_at(commit, paths))

    def blob_ids(self, commit: str, path: str) -> _BlobIds:
        """Return (name, object id) of the files directly under ``path``."""
        rows = self._tree(commit, path)
        return [
            (name, binsha.hex()) for binsha, mode, name in rows if mode != _TREE_MODE
        ]

    def read_blobs(self, files: Iterable[tuple[str, str]]) -> Iterator[bytes]:
        """Yield the bytes of each (path, object id) of ``files``, in order.

        One `git cat-file` stream for them all.
        """
        for _, data in self._read_blobs(iter(files)):
            yield data

    def cache_dir(self) -> Path | None:
        """Return where the entry cache of this branch lives: in the git directory.

        Each branch has its own directory, named by a hash of its ref.
        """
        digest = hashlib.sha256(self.ref.encode()).hexdigest()[:16]
        return Path(self._repo.common_dir) / "changebot" / "entries" / digest

    def _files_at(self, commit: str, paths: Sequence[str]) -> Iterator[tuple[str, str]]:
        """List the files at or below each path (a file names itself)."""
        parents: dict[str, dict[str, tuple[bytes, int]]] = {}
        for path in (p.strip("/") for p in paths):
            parent, _, name = path.rpartition("/")
            if parent not in parents:
                rows = self._tree(commit, parent)
                parents[parent] = {n: (binsha, mode) for binsha, mode, n in rows}
            found = parents[parent].get(name)
            if found is None:
                continue
            if found[1] == _TREE_MODE:
                yield from self._files(commit, path)
            else:
                yield path, found[0].hex()

    def write(
        self, parent: str | None, changes: Mapping[str, bytes], message: str
    ) -> str:
        """Make a commit on top of ``parent`` with ``changes``; move no ref."""
        base = self._tree_of(parent) if parent else None
        tree = self._write_tree(base, _nest(changes))
        return self._write_commit(tree, parent, message)

    def advance(self, old: str | None, new: str) -> bool:
        """Move the branch from ``old`` to ``new`` if it is still at ``old``."""
        self._check_descends(old, new)
        try:
            self._repo.git.update_ref(
                "-m", "changebot: audit append", self.ref, new, old or _ZERO
            )
        except git.GitCommandError as err:
            log.debug("update-ref lost the race", extra={"ref": self.ref, "err": err})
            return False
        if new.startswith("00"):
            self._maintain()
        return True

    def _maintain(self) -> None:
        # NOTE: appends write loose objects and no porcelain command runs here
        # to pack them; about one append in 256 lets git decide whether to.
        try:
            self._repo.git.gc("--auto", "--quiet")
        except git.GitCommandError as err:
            log.warning("git gc --auto failed", extra={"error": str(err)})

    # --- objects --------------------------------------------------------

    def _read_blobs(
        self, files: Iterator[tuple[str, str]]
    ) -> Iterator[tuple[str, bytes]]:
        """Read blobs as ``files`` lists them, through the store's `git cat-file`.

        One process serves walk after walk (starting git costs more than a
        shard's reads); a walk that starts while another is under way, or
        after one stopped half-way, gets a process of its own.
        """
        with self._lock:
            reader, self._reader = self._reader, None
        if reader is None or not reader.alive():
            reader = _BlobReader(self._repo)
        try:
            yield from reader.read(files)
        finally:
            if reader.clean:
                reader = self._keep(reader)
            if reader is not None:
                reader.close()

    def _keep(self, reader: _BlobReader) -> _BlobReader | None:
        """Keep ``reader`` for the next walk; return it if one is kept already."""
        with self._lock:
            if self._reader is None:
                self._reader = reader
                return None
        return reader

    def _object(self, name: str) -> tuple[str, bytes] | None:
        with self._lock:
            try:
                _, kind, _, data = self._repo.git.get_object_data(name)
            except ValueError:
                return None
        # NOTE: GitPython hands the type back as bytes, whatever its annotation says.
        return (kind.decode() if isinstance(kind, bytes) else kind), data

    def _tree(self, commit: str, path: str) -> _TreeRows:
        """Return the rows of a tree, or none if ``path`` is not a directory."""
        # NOTE: readers list a directory, then walk it; the rows of the last
        # tree read at a commit id (never a branch name, which moves) serve both.
        name = f"{commit}:{path.strip('/')}"
        last = self._last_tree
        if last is not None and last[0] == name:
            return last[1]
        found = self._object(name)
        rows = tree_entries_from_data(found[1]) if found and found[0] == "tree" else []
        if _SHA.fullmatch(commit):
            self._last_tree = (name, rows)
        return rows

    def _files(self, commit: str, path: str) -> Iterator[tuple[str, str]]:
        yield from self._files_in(path, self._tree(commit, path))

    def _files_in(self, path: str, rows: _TreeRows) -> Iterator[tuple[str, str]]:
        """List the files of the tree ``rows`` at ``path``, in its subtrees too."""
        # NOTE: the subtrees are read in one stream, not asked for one by one
        # (`idempotency/` has 256).
        children = [(f"{path}/{name}" if path else name, b, m) for b, m, name in rows]
        subtrees = self._read_blobs(
            (child, binsha.hex())
            for child, binsha, mode in children
            if mode == _TREE_MODE
        )
        for child, binsha, mode in children:
            if mode == _TREE_MODE:
                _, data = next(subtrees)
                yield from self._files_in(child, tree_entries_from_data(data))
            else:
                yield child, binsha.hex()

    def _tree_of(self, commit: str) -> bytes:
        found = self._object(commit)
        if found is None or found[0] != "commit":
            raise AuditError(f"commit {commit} is not in {self.path}")
        return bytes.fromhex(found[1][5:45].decode())

    def _store(self, kind: bytes, data: bytes) -> bytes:
        stream = self._objects.store(IStream(kind, len(data), io.BytesIO(data)))
        binsha: bytes = stream.binsha
        return binsha

    def _write_tree(self, base: bytes | None, changes: _Changes) -> bytes:
        entries: dict[str, tuple[bytes, int]] = {}
        if base is not None:
            found = self._object(base.hex())
            rows = tree_entries_from_data(found[1]) if found else []
            entries = {name: (binsha, mode) for binsha, mode, name in rows}
        for name, change in changes.items():
            if isinstance(change, bytes):
                entries[name] = (self._store(b"blob", change), _BLOB_MODE)
                continue
            old = entries.get(name)
            sub = old[0] if old and old[1] == _TREE_MODE else None
            entries[name] = (self._write_tree(sub, change), _TREE_MODE)
        return self._store(b"tree", _tree_bytes(entries))

    def _write_commit(self, tree: bytes, parent: str | None, message: str) -> str:
        stamp = b"%d +0000" % int(time.time())
        lines = [b"tree " + tree.hex().encode()]
        if parent:
            lines.append(b"parent " + parent.encode())
        lines.append(b"author " + _IDENTITY + b" " + stamp)
        lines.append(b"committer " + _IDENTITY + b" " + stamp)
        body = b"\n".join(lines) + b"\n\n" + message.encode() + b"\n"
        return self._store(b"commit", body).hex()

    def _check_descends(self, old: str | None, new: str) -> None:
        found = self._object(new)
        if found is None or found[0] != "commit":
            raise AuditError(f"commit {new} is not in {self.path}")
        parents = re.findall(rb"^parent ([0-9a-f]{40})$", found[1], re.MULTILINE)
        if old is not None and [p.decode() for p in parents[:1]] != [old]:
            raise AuditError(
                f"commit {new} does not extend {old}",
                hint="the audit branch only moves forward; write on its head",
            )


def _reopen(path: str, branch: str, origin: str) -> GitStore:
    return GitStore(path, branch, origin=origin)


def _tree_bytes(entries: dict[str, tuple[bytes, int]]) -> bytes:
    # NOTE: git orders tree entries as if directory names ended in "/".
    def order(name: str) -> bytes:
        return (name + "/" if entries[name][1] == _TREE_MODE else name).encode()

    return b"".join(
        b"%o %s\0%s" % (entries[name][1], name.encode(), entries[name][0])
        for name in sorted(entries, key=order)
    )


def tree_entries_from_data(data: bytes) -> _TreeRows:
    """Parse a raw tree object into (binsha, mode, name) rows."""
    # NOTE: one regular expression reads a well-formed tree three times faster
    # than the loop below, which is left for any other.
    if _TREE.fullmatch(data):
        return [
            (binsha, int(mode, 8), name.decode())
            for mode, name, binsha in _TREE_ROW.findall(data)
        ]
    rows = []
    start = 0
    while start < len(data):
        space = data.index(b" ", start)
        nul = data.index(b"\0", space)
        mode = int(data[start:space], 8)
        rows.append((data[nul + 1 : nul + 21], mode, data[space + 1 : nul].decode()))
        start = nul + 21
    return rows


def _nest(changes: Mapping[str, bytes]) -> _Changes:
    root: _Changes = {}
    for path, data in changes.items():
        *dirs, name = path.strip("/").split("/")
        node = root
        for part in dirs:
            child = node.setdefault(part, {})
            if isinstance(child, bytes):
                raise AuditError(f"{path} is below a file")
            node = child
        node[name] = data
    return root


class _BlobReader:
    """One `git cat-file --batch` that reads the blobs of one walk after another.

    Object ids go to git a window at a time, never more than a pipe holds,
    so that neither side can block the other: no thread is needed, git reads
    ahead of the caller by a window at most, and memory holds one object.
    """

    def __init__(self, repo: git.Repo) -> None:
        # NOTE: without --buffer, git writes each object out whole as soon as
        # it is read, which the window needs: --buffer would keep the last
        # ones back until stdin closes.
        self._proc = repo.git.cat_file(
            "--batch", as_process=True, istream=subprocess.PIPE
        )
        #: Whether every object asked for was read back (git is ready for more).
        self.clean = True
        self._window = _window(self._proc.proc.stdin)
        _widen(self._proc.proc.stdout)

    def read(self, files: Iterator[tuple[str, str]]) -> Iterator[tuple[str, bytes]]:
        """Yield (path, bytes) of each (path, object id) of ``files``, in order."""
        self.clean = False
        out = self._proc.proc.stdout
        waiting: collections.deque[str] = collections.deque()
        listing: Iterator[tuple[str, str]] | None = files
        while True:
            if listing is not None and len(waiting) <= self._window // 2:
                batch = _next_files(listing, self._window - len(waiting))
                if len(batch) < self._window - len(waiting):
                    listing = None
                self._ask(batch)
                waiting.extend(path for path, _ in batch)
            if not waiting:
                self.clean = True
                return
            path = waiting.popleft()
            yield path, _read_object(out, path)

    def alive(self) -> bool:
        """Tell whether git still runs."""
        return self._proc.proc.poll() is None

    def close(self) -> None:
        """Stop git, whatever it still has to say."""
        # NOTE: killed, not left to see the end of its input: a worker forked
        # since it started may hold that pipe open too.
        proc = self._proc.proc
        with contextlib.suppress(OSError):
            proc.stdin.close()
        proc.stdout.close()
        proc.kill()
        proc.wait()

    def _ask(self, files: list[tuple[str, str]]) -> None:
        if not files:
            return
        try:
            self._proc.proc.stdin.write(
                "".join(f"{oid}\n" for _, oid in files).encode()
            )
            self._proc.proc.stdin.flush()
        except OSError as err:
            raise AuditError(f"git cat-file stopped reading: {err}") from err


#: The most object ids a `_BlobReader` has git read ahead of the caller.
_WINDOW = 256
#: The bytes of the longest id line (SHA-256), and the smallest pipe (a page).
_ID_LINE = 65
_SMALL_PIPE = 4096
#: The pipe git's objects come through, where Linux allows it (its default limit).
_WIDE_PIPE = 1 << 20


def _window(stdin: Any) -> int:
    """Return how many ids may wait in git's input at once: all of them fit."""
    # NOTE: a pipe holds 64 KiB unless the system is short of pipe memory, and
    # a full one would block the write while git waits for its output to be
    # read: ask Linux its size, and assume a page elsewhere.
    capacity = _SMALL_PIPE
    with contextlib.suppress(AttributeError, OSError, ValueError):
        capacity = fcntl.fcntl(stdin.fileno(), fcntl.F_GETPIPE_SZ)
    return max(1, min(_WINDOW, capacity // _ID_LINE))


def _widen(stdout: Any) -> None:
    """Let git write up to a megabyte ahead of the reader, where Linux allows."""
    # NOTE: a caller that checks blobs in runs (the verifier takes 64 entries
    # at a time) stops reading while it works; in a 64 KiB pipe git would
    # stop too, after 40 entries, and the caller would then wait for the rest.
    with contextlib.suppress(AttributeError, OSError, ValueError):
        fcntl.fcntl(stdout.fileno(), fcntl.F_SETPIPE_SZ, _WIDE_PIPE)


def _next_files(files: Iterator[tuple[str, str]], count: int) -> list[tuple[str, str]]:
    try:
        return list(itertools.islice(files, count))
    except Exception as err:
        raise AuditError(f"cannot list the audit branch: {err}") from err


def _read_object(out: Any, path: str) -> bytes:
    header = out.readline().split()
    if len(header) != 3:
        raise AuditError(f"git cat-file could not read {path}")
    size = int(header[2])
    data: bytes = out.read(size + 1)[:size]
    return data


def _origin_of(repo: git.Repo) -> str:
    """Name the repository as `host/owner/name`, or by its path if it has no remote."""
    try:
        url = repo.remotes.origin.url
    except (AttributeError, IndexError, ValueError):
        return str(Path(repo.git_dir).parent.resolve())
    match = re.search(r"(?:@|//)([^/:@]+)[:/]+(.+?)(?:\.git)?/?$", url)
    return "/".join(match.groups()) if match else url
