"""Shared fixtures: a GitHub simulator per test, and a seeded repository on it.

Fixture names are a contract other test packages rely on:

- ``simulator``: a fresh `ghsim.Simulator` serving on a loopback port, its
  state under ``tmp_path / "github"``; webhooks are recorded (and delivered
  synchronously to ``simulator.set_webhook_sink(...)`` or a URL when set).
- ``seeded_repo``: a `SeededRepo` (``tests/seeding.py``) for ``acme/infra``
  on that simulator, with org members, teams and the files an
  infrastructure repository has, made through GitHub's own endpoints.
- ``openapi``: the `OpenAPI` helper of ``tests/openapi.py`` (GitHub's schemas
  for the operations and webhooks the simulator serves).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from seeding import SEED_FILES, SeededRepo, put_file, seed

from ghsim import Simulator

__all__ = ["SEED_FILES", "SeededRepo", "put_file", "seed"]


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[Simulator]:
    """Serve a fresh simulated GitHub for one test."""
    with Simulator(tmp_path / "github") as sim:
        yield sim


@pytest.fixture
def seeded_repo(simulator: Simulator) -> SeededRepo:
    """Return ``acme/infra`` seeded on the test's simulator."""
    return seed(simulator)


@pytest.fixture(scope="session")
def openapi() -> Any:
    """Return GitHub's schemas for the operations and webhooks the simulator serves."""
    from openapi import OpenAPI  # tests/openapi.py; tests/ is on sys.path

    return OpenAPI.load()
