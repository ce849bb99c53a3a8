"""Local git repositories, through GitPython (the only GitPython import).

`LocalRepo` answers the read-only questions that `changebot check`,
`changebot deploy` and the timeline ask of a working repository.
"""

from __future__ import annotations

import logging
from pathlib import Path

import git

from changebot.errors import ChangebotError, UsageError
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

    def _git(self, *args: str) -> str:
        try:
            out: str = self._repo.git.execute(["git", *args])
        except git.GitCommandError as err:
            raise ChangebotError(
                f"git {args[0]} failed: {err.stderr.strip() or err}",
                hint="check that the refs exist in this clone (`git fetch`)",
            ) from err
        return out

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

    def rev_list(self, base: str | None, head: str) -> list[str]:
        """Return the SHAs in ``base..head`` (all of ``head``), newest first."""
        spec = [head, f"^{base}"] if base else [head]
        out = self._git("rev-list", *spec)
        return out.split()

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Tell whether ``ancestor`` is reachable from ``descendant``."""
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
