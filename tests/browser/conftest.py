"""Fixtures of the audit browser's tests: a simulated GitHub, a signed log, an app."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_logs import change, deployment, override, signed_log
from browsing import XSS
from flask import Flask

from changebot.index import Indexer
from changebot.index.refresh import refresh
from changebot.server.browser import BrowserConfig, register_browser
from ghsim.simulator import Simulator


@pytest.fixture()
def github(simulator: Simulator) -> Simulator:
    """Return a simulated GitHub: alice reads acme/app and acme/secret, bob acme/app."""
    admin = simulator.client("acme-admin")
    for name in ("app", "secret"):
        admin.post("/orgs/acme/repos", json={"name": name, "private": True})
    for repo, login in (("app", "alice"), ("secret", "alice"), ("app", "bob")):
        admin.put(
            f"/repos/acme/{repo}/collaborators/{login}", json={"permission": "pull"}
        )
    return simulator


@pytest.fixture()
def audit(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Return (store, log, index path) of a verified log over both repositories."""
    store, log = signed_log(tmp_path / "audit")
    change(log, "acme/app", 1, title="Scale workers", areas=["terraform", "k8s"])
    change(
        log,
        "acme/secret",
        2,
        title="Rotate vault tokens",
        areas=["secrets"],
        rationale="Why: the secret-only rationale word zanzibar",
    )
    override(log, "acme/app", 3, XSS)
    change(log, "acme/app", 3, bypassed=True, override=2, rationale=XSS)
    deployment(log, "acme/app", "production", [1, 3])
    deployment(log, "acme/secret", "vault-prod", [2])
    index = tmp_path / "index.sqlite3"
    refresh(Indexer(index), "acme/audit", store, [log.signer.public])
    return store, log, index


@pytest.fixture()
def config(tmp_path: Path, github: Simulator, audit) -> BrowserConfig:  # type: ignore[no-untyped-def]
    """Return the browser's settings against the simulator and the test index."""
    return BrowserConfig(
        index_path=audit[2],
        sessions_path=tmp_path / "sessions.sqlite3",
        client_id=github.app["client_id"],
        client_secret=github.app["client_secret"],
        github_web=github.base_url,
        github_api=github.base_url,
        secure_cookies=False,
    )


@pytest.fixture()
def app(config: BrowserConfig) -> Flask:
    """Return a Flask app with the audit browser mounted."""
    flask_app = Flask("browser-test")
    register_browser(flask_app, config)
    return flask_app
