"""The App's deployment notices follow the repository's own Slack settings.

The App runs with its real notifier; two Slack stand-ins play the App's own
webhook and the one the repository's `.changebot.yml` (default branch) names
through `notify.slack.webhook_env`. A deployment's `deployment_status`
webhook must reach the repository's choice, and the App's own webhook when
the policy names none.
"""

from __future__ import annotations

import json

import pytest
from flows.apphost import AppHost
from seeding import SEED_FILES

from changebot.adapters.slack import AppNotifier
from changebot.demo.slackroom import SlackRoom

pytestmark = pytest.mark.e2e

REPO = "acme/infra"
ROUTED = SEED_FILES[".changebot.yml"] + (
    "notify:\n  slack: {webhook_env: SLACK_WEBHOOK_INFRA}\n"
)


@pytest.fixture
def rooms():
    default, theirs = SlackRoom().start(), SlackRoom().start()
    yield default, theirs
    default.stop()
    theirs.stop()


@pytest.fixture
def app_host(simulator, tmp_path, rooms):
    default, theirs = rooms
    host = AppHost(simulator, tmp_path / "app")
    # NOTE: the App's real notifier, with its secrets given as the environment.
    host.services.notifier = AppNotifier(  # type: ignore[misc]
        {"SLACK_WEBHOOK_INFRA": theirs.url, "CHANGEBOT_PRIVATE_KEY": "secret"},
        data_dir=tmp_path / "app" / "notices",
        webhook_url=default.url,
    )
    return host


def _deploy(infra, environment: str) -> int:
    deployment = infra.call(
        "admin",
        "POST",
        "deployments",
        json={"ref": infra.head(), "environment": environment},
    )
    infra.call(
        "admin",
        "POST",
        f"deployments/{deployment['id']}/statuses",
        json={"state": "success"},
    )
    return int(deployment["id"])


def test_a_deployment_goes_where_the_repository_routes_it(app_host, seeded_repo, rooms):
    default, theirs = rooms
    seeded_repo.commit("main", {".changebot.yml": ROUTED}, message="Route prod")
    app_host.listen()

    _deploy(seeded_repo, "production")
    app_host.work()

    assert len(theirs.messages) == 1
    assert "production" in theirs.texts()[0]
    assert default.messages == []


def test_a_repository_with_no_slack_settings_uses_the_apps_webhook(
    app_host, seeded_repo, rooms
):
    default, theirs = rooms
    app_host.listen()

    _deploy(seeded_repo, "staging")
    app_host.work()

    assert len(default.messages) == 1
    assert "staging" in default.texts()[0]
    assert theirs.messages == []


def test_a_policy_naming_another_secret_falls_back_to_the_apps_webhook(
    app_host, seeded_repo, rooms
):
    default, theirs = rooms
    sneaky = SEED_FILES[".changebot.yml"] + (
        "notify:\n  slack: {webhook_env: CHANGEBOT_PRIVATE_KEY}\n"
    )
    seeded_repo.commit("main", {".changebot.yml": sneaky}, message="Sneaky")
    app_host.listen()

    _deploy(seeded_repo, "production")
    app_host.work()

    assert len(default.messages) == 1
    assert "secret" not in json.dumps(default.messages)
    assert theirs.messages == []
