"""Real git histories, and audit entries shaped as docs/audit-format.md says."""

from __future__ import annotations

import itertools
import os
import subprocess
from pathlib import Path
from typing import Any

REPO = "acme/infra"


class History:
    """A real git repository in a temporary directory, grown commit by commit."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self._clock = itertools.count(1_700_000_000, 60)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        stamp = f"{next(self._clock)} +0000"
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "dev",
            "GIT_AUTHOR_EMAIL": "dev@example.com",
            "GIT_COMMITTER_NAME": "dev",
            "GIT_COMMITTER_EMAIL": "dev@example.com",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
            "GIT_CONFIG_GLOBAL": "/dev/null",
        }
        done = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()

    def commit(self, name: str) -> str:
        """Commit a file called ``name`` on the current branch; return its SHA."""
        (self.path / name).write_text(name + "\n")
        self.git("add", name)
        self.git("commit", "-q", "-m", name)
        return self.git("rev-parse", "HEAD")

    def merge(self, branch: str, message: str) -> str:
        """Merge ``branch`` with a merge commit; return the merge SHA."""
        self.git("merge", "-q", "--no-ff", "-m", message, branch)
        return self.git("rev-parse", "HEAD")


class Log:
    """Audit entries as plain dicts, indexed densely like the real log."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, kind: str, **fields: Any) -> dict[str, Any]:
        entry = {
            "format": 1,
            "index": len(self.entries),
            "time": f"2026-01-01T00:{len(self.entries):02d}:00Z",
            "kind": kind,
            "repo": REPO,
            "idempotency_key": f"{kind}:{len(self.entries)}",
            **fields,
        }
        self.entries.append(entry)
        return entry

    def change(self, number: int, merge: str, **fields: Any) -> dict[str, Any]:
        """Record a merged PR whose merge SHA is ``merge``."""
        shas = {"base": None, "head": None, "merge": merge, "tree": None}
        shas.update(fields.pop("shas", {}))
        values: dict[str, Any] = {
            "pr": {
                "number": number,
                "title": f"PR {number}",
                "url": None,
                "base_ref": "main",
                "head_ref": f"pr-{number}",
            },
            "shas": shas,
            "merge_method": "squash",
            "areas": ["terraform"],
            "paths": [],
            "author": f"author{number}",
            "approvers": [{"login": "reviewer", "commit": merge}],
            "merger": "reviewer",
            "rationale": f"## Why\nBecause of {number}.\n## Risk\nLow for {number}.",
            "tickets": [],
            "verdict": {"conclusion": "success", "failed": []},
            "bypassed": False,
            "override": None,
        }
        values.update(fields)
        return self.add("change", **values)

    def deployment(self, environment: str, sha: str, previous: str | None) -> None:
        """Record that ``sha`` went live in ``environment``."""
        self.add(
            "deployment",
            environment=environment,
            sha=sha,
            previous_sha=previous,
            classification="deploy",
            pulls=[],
            unrecorded=[],
            deployer="ci",
            reason=None,
            deployment_id=None,
        )


class Recorder:
    """A notifier that keeps what it was sent (the one fake of the Notifier port)."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.notices: list[Any] = []
        self.fail = fail

    def send(self, notice: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.notices.append(notice)


def change_fields(number: int, merge: str, **fields: Any) -> dict[str, Any]:
    """Return the fields of a `change` entry for PR ``number`` merged as ``merge``."""
    entry = Log().change(number, merge, **fields)
    for reserved in ("format", "index", "time", "kind", "repo", "idempotency_key"):
        entry.pop(reserved)
    return entry
