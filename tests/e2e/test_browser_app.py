"""The App feeds the audit browser: a merge webhook ends up under /audit.

The simulator sends its signed webhooks to the App's `POST /webhook`; the
worker runs the flows, appends to the audit branch on the simulated
repository through GitHub's git data API, and then refreshes the index under
CHANGEBOT_DATA_DIR through the same store. Readers sign in with the
simulator's OAuth flow and see the entry only if GitHub lets them read the
repository.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner
from flask.testing import FlaskClient
from flows.apphost import RATIONALE, AppHost

from changebot.cli import main
from changebot.index import Indexer
from changebot.index.feed import INDEX_FILE, LOCATED, feed_of
from changebot.server import create_app
from changebot.tasks import run_reconcile

pytestmark = pytest.mark.e2e

REPO = "acme/infra"
HTTPS = "https://changebot.test"


@pytest.fixture
def app_host(simulator, tmp_path, monkeypatch):
    monkeypatch.setenv("CHANGEBOT_OAUTH_CLIENT_ID", simulator.app["client_id"])
    monkeypatch.setenv("CHANGEBOT_OAUTH_CLIENT_SECRET", simulator.app["client_secret"])
    monkeypatch.setenv("CHANGEBOT_GITHUB_WEB_URL", simulator.base_url)
    return AppHost(simulator, tmp_path / "app")


@pytest.fixture
def infra(app_host, seeded_repo):
    """Return ``acme/infra``, private: ``alice`` may read it, ``mallory`` not."""
    admin = seeded_repo.client()
    assert admin.patch(f"/repos/{REPO}", json={"private": True}).ok
    grant = admin.put(f"/repos/{REPO}/collaborators/alice", json={"permission": "pull"})
    assert grant.ok
    app_host.listen()
    return seeded_repo


@pytest.fixture
def web(app_host) -> FlaskClient:
    """Return a client of the App's web process, with the browser mounted."""
    return create_app(services=app_host.services).test_client()


def merge_a_change(app_host: AppHost, infra: Any, branch: str) -> int:
    """Open, approve and merge a PR; run the worker; return the PR number."""
    number = infra.open_pull(
        branch, {"infra/main.tf": f"# {branch}\n"}, title=branch, body=RATIONALE
    )
    infra.review(number, "pat")
    app_host.work()
    infra.merge(number, login="paula")
    app_host.work()
    return number


def sign_in(client: FlaskClient, login: str) -> None:
    """Go through the simulator's OAuth web flow as ``login``."""
    start = client.get("/audit/login?next=/audit/", base_url=HTTPS)
    authorize = requests.get(
        start.headers["Location"] + f"&login={login}", allow_redirects=False, timeout=10
    )
    callback = urlsplit(authorize.headers["Location"])
    done = client.get(f"{callback.path}?{callback.query}", base_url=HTTPS)
    assert done.status_code == 302, done.text


def entries(client: FlaskClient, **query: str) -> list[dict[str, Any]]:
    answer = client.get("/audit/api/entries", query_string=query, base_url=HTTPS)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json["entries"]
    return found


def test_a_merged_change_appears_only_for_readers_of_its_repository(
    app_host, infra, web
) -> None:
    number = merge_a_change(app_host, infra, "tf-scale")

    sign_in(web, "alice")
    [change] = entries(web, kind="change")
    assert change["repo"] == REPO
    assert change["log"] == REPO
    assert change["pr"] == number
    assert change["rationale"] == RATIONALE
    page = web.get(change["url"], base_url=HTTPS)
    assert page.status_code == 200
    assert f"Verified: this entry is leaf {change['index']}" in page.text
    entry_api = f"/audit/api/entries/{REPO}/{change['index']}"
    assert web.get(entry_api, base_url=HTTPS).json["proof_verified"] is True
    [state] = web.get("/audit/api/verification", base_url=HTTPS).json["logs"]
    assert state["verification"]["ok"] is True
    assert state["head"] == app_host.store(REPO).head()

    stranger = create_app(services=app_host.services).test_client()
    sign_in(stranger, "mallory")
    assert entries(stranger) == []
    assert entries(stranger, q="replaced") == []
    assert stranger.get(entry_api, base_url=HTTPS).status_code == 404
    listing = stranger.get("/audit/", base_url=HTTPS).text
    assert REPO not in listing
    assert RATIONALE.splitlines()[1] not in listing
    logs = stranger.get("/audit/api/verification", base_url=HTTPS).json["logs"]
    assert logs == []


def test_each_append_is_indexed_and_checked_without_a_full_verification(
    app_host, infra
) -> None:
    merge_a_change(app_host, infra, "tf-one")
    indexer = Indexer(app_host.settings.data_dir / INDEX_FILE)
    first = indexer.verified(REPO)
    assert first is not None and first.ok
    # NOTE: date the full verification an hour back, so that a second one
    # (due only after a day) would show.
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    indexer.record(REPO, replace(first, full_at=hour_ago))

    merge_a_change(app_host, infra, "tf-two")
    second = indexer.verified(REPO)
    assert second is not None and second.ok
    assert second.size > first.size
    assert second.head == app_host.store(REPO).head()
    assert second.full_at == hour_ago


def test_a_tampered_branch_fails_the_next_refresh(app_host, infra) -> None:
    merge_a_change(app_host, infra, "tf-one")
    store = app_host.store(REPO)
    head = store.head()
    forged = store.write(head, {"entries/0/0.json": b'{"payload": "x"}\n'}, "tamper")
    assert store.advance(head, forged)

    feed = feed_of(app_host.services)
    assert feed is not None
    store_on_github = app_host.services.audit_store(REPO, "changebot/audit", None)
    result = feed.refresh(REPO, store_on_github)
    assert result is not None and not result.ok
    assert any(f.index == 0 for f in result.findings)


def test_the_periodic_task_and_the_cli_rebuild_a_lost_index(
    app_host, infra, monkeypatch
) -> None:
    merge_a_change(app_host, infra, "tf-one")
    assert REPO in app_host.services.forge.installed_repos()
    path = app_host.settings.data_dir / INDEX_FILE
    size = Indexer(path).known(REPO)[1]
    path.unlink()

    run_reconcile(app_host.services)
    assert Indexer(path).known(REPO)[1] == size
    # NOTE: the next periodic refresh reads the log's ref, not the policy again.
    assert app_host.services.queue.ledger.noted(LOCATED + REPO) is not None

    path.unlink()
    for name, value in settings_env(app_host).items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["audit", "reindex", "--app"])
    assert result.exit_code == 0, result.output
    assert f"indexed {REPO}: {size} entries, verified intact" in result.output
    assert Indexer(path).known(REPO)[1] == size


def settings_env(app_host: AppHost) -> dict[str, str]:
    """Return the environment that gives `changebot` the App host's settings."""
    settings = app_host.settings
    key_file = Path(str(settings.signing_key_path)).parent / "app.pem"
    key_file.write_text(str(settings.private_key))
    return {
        "CHANGEBOT_APP_ID": str(settings.app_id),
        "CHANGEBOT_PRIVATE_KEY_PATH": str(key_file),
        "CHANGEBOT_WEBHOOK_SECRET": str(settings.webhook_secret),
        "CHANGEBOT_SIGNING_KEY_PATH": str(settings.signing_key_path),
        "CHANGEBOT_DATA_DIR": str(settings.data_dir),
        "CHANGEBOT_GITHUB_URL": settings.github_url,
        "PATH": os.environ.get("PATH", ""),
    }
