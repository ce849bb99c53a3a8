"""Fixtures of the audit tests: real git repositories and real keys."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from changebot.adapters.git import GitStore
from changebot.audit import SigningKey
from changebot.ports import AuditStore


def git_init(path: Path) -> Path:
    """Make an empty git repository at ``path``."""
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository."""
    return git_init(tmp_path / "repo")


@pytest.fixture
def key() -> SigningKey:
    """The log's signing key."""
    return SigningKey.generate("audit-test")


@pytest.fixture
def store(repo: Path) -> GitStore:
    """A GitStore on the empty repository."""
    return GitStore(repo, origin="example.test/acme/infra@changebot/audit")


@pytest.fixture
def store_factory(
    tmp_path: Path,
) -> Callable[[], tuple[AuditStore, Callable[[], AuditStore]]]:
    """Make fresh GitStores, each with a way to open it again (the contract)."""
    count = iter(range(1000))

    def make() -> tuple[AuditStore, Callable[[], AuditStore]]:
        path = git_init(tmp_path / f"contract-{next(count)}")
        return GitStore(path), lambda: GitStore(path)

    return make
