"""Real signed audit logs on real git repositories, for the browser's tests."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from changebot.adapters.git import GitStore
from changebot.audit.log import AuditLog
from changebot.audit.signing import SigningKey

START = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


class Clock:
    """A clock that moves ten minutes on each reading."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=10)
        return self.now


def git_repo(path: Path) -> Path:
    """Create an empty git repository at ``path``."""
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def signed_log(path: Path, key: SigningKey | None = None) -> tuple[GitStore, AuditLog]:
    """Return a fresh audit log on a new repository at ``path``."""
    store = GitStore(git_repo(path), origin=f"example.test/{path.name}@changebot/audit")
    log = AuditLog(store, key or SigningKey.generate(), clock=Clock())
    log.bootstrap([log.signer.public])
    return store, log


def change(log: AuditLog, repo: str, number: int, **fields: Any) -> int:
    """Append a merged change of PR ``number``; return its index."""
    body = {
        "pr": {
            "number": number,
            "title": fields.pop("title", f"Change {number}"),
            "url": None,
            "base_ref": "main",
            "head_ref": f"topic-{number}",
        },
        "shas": {
            "base": "a" * 40,
            "head": "b" * 40,
            "merge": f"{number:040x}",
            "tree": "c" * 40,
        },
        "areas": ["terraform"],
        "paths": ["infra/main.tf"],
        "author": "alice",
        "approvers": [{"login": "bob", "commit": "b" * 40}],
        "merger": "alice",
        "rationale": f"Why: scale the workers for ticket OPS-{number}.",
        "verdict": {"conclusion": "success", "failed": []},
        "bypassed": False,
    } | fields
    return log.append("change", repo, body, f"{repo}#change-{number}").index


def override(log: AuditLog, repo: str, number: int, reason: str) -> int:
    """Append a granted override of PR ``number``."""
    body = {
        "pr": {"number": number, "head_sha": "b" * 40},
        "actor": "carol",
        "reason": reason,
        "granted": True,
    }
    return log.append("override", repo, body, f"{repo}#override-{number}").index


def deployment(
    log: AuditLog,
    repo: str,
    environment: str,
    pulls: list[int],
    kind: str = "deployment",
) -> int:
    """Append a deployment (or rollback) that shipped ``pulls``."""
    body = {
        "environment": environment,
        "sha": "d" * 40,
        "previous_sha": "e" * 40,
        "classification": "deploy" if kind == "deployment" else "rollback",
        "pulls": pulls,
        "deployer": "dave",
        "reason": "weekly release",
        "deployment_id": 7,
    }
    key = f"{repo}#{kind}-{environment}-{'-'.join(map(str, pulls))}"
    return log.append(kind, repo, body, key).index
