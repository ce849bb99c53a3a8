"""Reconcile after lost webhooks: no merge is left without its entry.

The simulator stops delivering (GitHub's side failed), people merge and
push, then `changebot reconcile` runs as the operator or the periodic job
would: merged PRs without an entry get one, and every failed delivery is
redelivered through the deliveries API, once.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from flows.apphost import RATIONALE

from changebot.cli import main

pytestmark = pytest.mark.e2e

REPO = "acme/infra"


@pytest.fixture
def reconcile(app_host, monkeypatch):
    """Run `changebot reconcile` with the App's settings, as the operator would."""
    settings = app_host.settings
    env = {
        "CHANGEBOT_APP_ID": settings.app_id,
        "CHANGEBOT_PRIVATE_KEY": settings.private_key,
        "CHANGEBOT_WEBHOOK_SECRET": settings.webhook_secret,
        "CHANGEBOT_SIGNING_KEY_PATH": str(settings.signing_key_path),
        "CHANGEBOT_DATA_DIR": str(settings.data_dir),
        "CHANGEBOT_GITHUB_URL": settings.github_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def run() -> str:
        result = CliRunner().invoke(main, ["reconcile"])
        assert result.exit_code == 0, result.output
        return result.output

    return run


def _lost(simulator) -> set[str]:
    delivered = {d.guid for d in simulator.deliveries() if d.ok}
    return {d.guid for d in simulator.deliveries() if not d.ok} - delivered


def test_reconcile_fills_the_holes_lost_webhooks_left(app_host, infra, reconcile):
    simulator = infra.simulator
    known = infra.open_pull("known", {"README.md": "# infra\n\nknown\n"})
    app_host.work()

    simulator.drop_webhooks()
    reviewed = infra.open_pull(
        "tf", {"infra/main.tf": "# two\n"}, title="Reviewed", body=RATIONALE
    )
    infra.review(reviewed, "pat")
    infra.merge(reviewed, method="squash", login="paula")
    unreviewed = infra.open_pull("k8s", {"k8s/deploy.yaml": "kind: Pod\n"})
    infra.merge(unreviewed, login="admin")
    hotfix = infra.commit("main", {"infra/main.tf": "# hotfix\n"}, login="pat")
    simulator.drop_webhooks(False)
    lost = _lost(simulator)
    assert app_host.entries(REPO, "change") == []

    said = reconcile()
    app_host.work()

    changes = {e["pr"]["number"]: e for e in app_host.entries(REPO, "change")}
    assert sorted(changes) == [reviewed, unreviewed]
    assert changes[reviewed]["approvers"][0]["login"] == "pat"
    assert changes[reviewed]["merger"] == "paula"
    assert changes[unreviewed]["bypassed"] is True
    pushes = app_host.entries(REPO, "direct-push")
    assert [p["after"] for p in pushes if p["after"] == hotfix] == [hotfix]
    assert _lost(simulator) == set()
    redelivered = [d.guid for d in simulator.deliveries() if d.redelivery]
    assert sorted(redelivered) == sorted(lost)
    assert app_host.check(REPO, known).status == "completed"
    report = app_host.verified(REPO)
    assert report.size == len(app_host.entries(REPO))
    assert "Recorded 2 merges the webhooks missed" in said
    for number in (reviewed, unreviewed):
        index = changes[number]["index"]
        assert f"{REPO}#{number}  audit entry #{index}" in said
    assert f"redeliver {len(lost)} failed webhooks" in said

    said = reconcile()
    app_host.work()

    assert "No failed webhook delivery to redeliver." in said

    assert [d.guid for d in simulator.deliveries() if d.redelivery] == redelivered
    assert app_host.verified(REPO).size == report.size


def test_reconcile_knows_the_repositories_of_an_installation(
    app_host, simulator, seeded_repo, reconcile
):
    app_host.listen()
    admin = simulator.client("admin")
    created = admin.post("/orgs/acme/repos", json={"name": "web"})
    assert created.status_code == 201, created.text
    app_host.work()

    # NOTE: only the installation named the repository before the outage.
    simulator.drop_webhooks()
    web = type(seeded_repo)(simulator, "acme", "web")
    blob = {"path": "README.md", "mode": "100644", "type": "blob", "content": "# w\n"}
    tree = web.call(None, "POST", "git/trees", json={"tree": [blob]})["sha"]
    start = {"message": "Start", "tree": tree, "parents": []}
    root = web.call(None, "POST", "git/commits", json=start)["sha"]
    web.call(None, "POST", "git/refs", json={"ref": "refs/heads/main", "sha": root})
    number = web.open_pull("docs", {"docs/run.md": "# run\n"}, author="admin")
    web.merge(number, login="admin")
    simulator.drop_webhooks(False)

    said = reconcile()

    [change] = app_host.entries("acme/web", "change")
    assert change["pr"]["number"] == number
    assert f"acme/web#{number}  audit entry #{change['index']}" in said
