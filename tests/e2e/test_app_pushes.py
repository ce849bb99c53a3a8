"""Pushes, access changes and installations, from the simulator's webhooks.

Each test acts on the simulated GitHub as a person would; the App receives
the signed deliveries, queues them, and a worker runs the flows. The test
then reads what the audit branch and the notices ended up with.
"""

from __future__ import annotations

import time

import pytest
from flows.apphost import AppHost

pytestmark = pytest.mark.e2e


REPO = "acme/infra"


def test_a_direct_push_to_the_default_branch_is_recorded(app_host, infra):
    before = infra.head()

    after = infra.commit("main", {"infra/main.tf": "# hotfix\n"}, login="pat")
    app_host.work()

    [entry] = app_host.entries(REPO, "direct-push")
    assert entry["ref"] == "refs/heads/main"
    assert (entry["before"], entry["after"]) == (before, after)
    assert entry["commits"] == [after]
    assert entry["forced"] is False
    assert entry["pusher"] == "pat"
    assert entry["paths"] == ["infra/main.tf"]
    assert entry["idempotency_key"] == f"direct-push:{REPO}:main:{before}..{after}"
    [notice] = app_host.notices.of_kind("direct-push")
    assert "main" in notice.title and "pat" in notice.title
    assert f"#{entry['index']}" in notice.text
    app_host.verified(REPO)


def test_a_direct_push_is_looked_at_twice_before_it_is_recorded(
    simulator, seeded_repo, tmp_path
):
    app_host = AppHost(simulator, tmp_path / "app", push_settle_seconds=0.3)
    app_host.listen()

    after = seeded_repo.commit("main", {"infra/main.tf": "# hotfix\n"}, login="pat")
    app_host.work()

    # NOTE: nothing written yet: the job waits for GitHub to link the commit.
    assert app_host.store(REPO).head() is None
    assert app_host.services.queue.depth() == 1
    time.sleep(0.4)
    app_host.work()

    [entry] = app_host.entries(REPO, "direct-push")
    assert entry["after"] == after
    assert len(app_host.notices.of_kind("direct-push")) == 1


def test_a_force_push_that_rewrites_history_is_recorded(app_host, infra):
    base = infra.head()
    infra.commit("main", {"README.md": "# infra\n\nfirst\n"}, login="pat")
    app_host.work()
    rewritten = infra.head()

    after = infra.commit(
        "main", {"README.md": "# infra\n\nrewritten\n"}, login="pat", force_parent=base
    )
    app_host.work()

    entries = app_host.entries(REPO, "direct-push")
    assert len(entries) == 2
    forced = entries[1]
    assert forced["forced"] is True
    assert (forced["before"], forced["after"]) == (rewritten, after)
    notices = app_host.notices.of_kind("direct-push")
    assert "Force push" in notices[-1].title
    app_host.verified(REPO)


def test_a_push_to_another_branch_records_nothing(app_host, infra):
    infra.commit("feature", {"infra/main.tf": "# wip\n"}, login="dev")
    app_host.work()

    assert app_host.store(REPO).head() is None
    assert app_host.notices.sent == {}


def test_a_push_to_a_configured_protected_branch_is_recorded(
    simulator, seeded_repo, tmp_path
):
    app_host = AppHost(simulator, tmp_path / "app", protected_branches=("release",))
    app_host.listen()
    seeded_repo.commit("release", {"README.md": "# release\n"}, login="pat")

    after = seeded_repo.commit("release", {"infra/main.tf": "# pin\n"}, login="pat")
    seeded_repo.commit("feature", {"infra/main.tf": "# wip\n"}, login="dev")
    app_host.work()

    [entry] = app_host.entries(REPO, "direct-push")
    assert (entry["ref"], entry["after"]) == ("refs/heads/release", after)


def test_a_redelivered_push_is_recorded_once(app_host, infra):
    infra.commit("main", {"infra/main.tf": "# hotfix\n"}, login="pat")
    app_host.work()
    [push] = infra.simulator.deliveries("push")[-1:]

    infra.simulator.hub.hooks.redeliver(push.id)
    app_host.work()

    assert len(app_host.entries(REPO, "direct-push")) == 1
    # NOTE: the same delivery id is acknowledged and not queued again.
    assert app_host.answers[-1] == ("push", 200)


def test_branch_protection_and_membership_changes_are_recorded(app_host, infra):
    admin = infra.client()
    protected = admin.put(
        f"/repos/{REPO}/branches/main/protection",
        json={
            "required_status_checks": {"strict": True, "contexts": ["changebot"]},
            "enforce_admins": True,
            "required_pull_request_reviews": {"required_approving_review_count": 1},
            "restrictions": None,
        },
    )
    assert protected.status_code == 200, protected.text
    added = admin.put(
        f"/repos/{REPO}/collaborators/mallory", json={"permission": "admin"}
    )
    assert added.status_code == 204, added.text
    app_host.work()

    rule, member = app_host.entries(REPO, "access")
    assert (rule["event"], rule["action"], rule["actor"]) == (
        "branch_protection_rule",
        "created",
        "admin",
    )
    assert rule["details"]["rule"] == "main"
    assert (member["event"], member["action"]) == ("member", "added")
    assert member["details"]["member"] == "mallory"
    assert member["details"]["changes"] == {"permission": {"to": "admin"}}
    titles = [n.title for n in app_host.notices.of_kind("access")]
    assert any("mallory" in t for t in titles)
    assert any("protection" in t for t in titles)
    app_host.verified(REPO)


def test_installing_on_a_repository_bootstraps_its_audit_branch(app_host, simulator):
    app_host.listen()
    admin = simulator.client("admin")
    assert admin.post("/orgs/acme/repos", json={"name": "web"}).status_code == 201

    app_host.work()

    store = app_host.store("acme/web")
    head = store.head()
    assert head is not None
    readme = store.read(head, "README.md")
    assert readme is not None and b"changebot audit verify" in readme
    assert store.list(head, "keys") == [f"{app_host.key.keyid}.pub"]
    assert app_host.entries("acme/web") == []
    report = app_host.verified("acme/web")
    assert report.size == 0


def test_installing_again_leaves_the_audit_branch_as_it_is(app_host, infra):
    infra.commit("main", {"infra/main.tf": "# hotfix\n"}, login="pat")
    app_host.work()
    head = app_host.store(REPO).head()
    [added] = infra.simulator.deliveries("installation_repositories")[-1:]

    # NOTE: sent anew (a new delivery id), as when the App is reinstalled.
    infra.simulator.hub.hooks.send("installation_repositories", added.payload)
    app_host.work()

    assert app_host.store(REPO).head() == head
