"""Fixtures of the Action's tests: a seeded repository and a runner for it."""

from __future__ import annotations

import pytest

from action.harness import WorkflowRun


@pytest.fixture
def runner(simulator, seeded_repo, tmp_path) -> WorkflowRun:
    """Return a runner of `changebot action` steps for ``acme/infra``."""
    return WorkflowRun(simulator, tmp_path, seeded_repo.full_name)
