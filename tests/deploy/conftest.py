"""Fixtures of the deployment tests: a git history, its audit log, a notifier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from histories import History, Log, Recorder


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "repo")


@pytest.fixture
def log() -> Log:
    return Log()


@pytest.fixture
def audit(history: History) -> Any:
    from changebot.adapters.git import GitStore
    from changebot.audit import AuditLog, SigningKey

    history.commit("README")
    return AuditLog(GitStore(history.path, "changebot/audit"), SigningKey.generate())


@pytest.fixture
def notifier() -> Recorder:
    return Recorder()
