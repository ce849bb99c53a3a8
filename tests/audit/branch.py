"""Change an audit branch as someone who can push to it would."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path


def tamper(repo: Path, work: Path, change: Callable[[Path], None]) -> None:
    """Check the branch out at ``work``, let ``change`` edit it, and commit."""
    git = ["git", "-C", str(work)]
    subprocess.run(
        ["git", "-C", str(repo), "worktree", "add", "-q", str(work), "changebot/audit"],
        check=True,
    )
    change(work)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run(
        [*git, "-c", "user.name=m", "-c", "user.email=m@x", "commit", "-qm", "x"],
        check=True,
    )
