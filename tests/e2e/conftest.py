"""The App on loopback, listening to the simulator: shared by the end-to-end tests."""

from __future__ import annotations

import pytest
from flows.apphost import AppHost


@pytest.fixture
def app_host(simulator, tmp_path):
    """Return the App (web intake, queue, worker) wired to ``simulator``."""
    return AppHost(simulator, tmp_path / "app")


@pytest.fixture
def infra(app_host, seeded_repo):
    """Return ``acme/infra``, seeded before the App listens (installed later)."""
    app_host.listen()
    return seeded_repo
