"""Merged pull requests recorded by the App, from the simulator's webhooks.

A merge on the simulated GitHub sends `pull_request` closed (and `push`);
the worker appends the `change` entry to the audit branch on the simulated
repository, and says so in the PR's summary comment. The tests read the
entries back from the branch's git directory and verify the whole log.
"""

from __future__ import annotations

import base64

import pytest
from flows.apphost import RATIONALE

pytestmark = pytest.mark.e2e


REPO = "acme/infra"


def _approved_pull(infra, branch: str, commits: int = 1) -> tuple[int, str]:
    number = infra.open_pull(
        branch,
        {"infra/main.tf": "# one\n"},
        title=f"Change {branch}",
        body=RATIONALE,
    )
    for step in range(1, commits):
        infra.commit(branch, {f"infra/step{step}.tf": "# more\n"}, login="dev")
    infra.review(number, "pat")
    head = infra.simulator.pull(REPO, number).head_sha
    return number, head


@pytest.mark.parametrize(
    ("method", "commits"), [("merge", 1), ("squash", 2), ("rebase", 2)]
)
def test_a_merge_is_recorded_with_who_approved_and_why(
    app_host, infra, method, commits
):
    number, head = _approved_pull(infra, f"tf-{method}", commits)
    app_host.work()

    merge_sha = infra.merge(number, method=method, login="paula")
    app_host.work()

    [change] = app_host.entries(REPO, "change")
    assert change["idempotency_key"] == f"change:{REPO}#{number}"
    assert change["pr"]["number"] == number
    assert change["pr"]["base_ref"] == "main"
    assert change["shas"]["head"] == head
    assert change["shas"]["merge"] == merge_sha
    assert change["merge_method"] == method
    assert change["areas"] == ["terraform"]
    assert "infra/main.tf" in change["paths"]
    assert change["author"] == "dev"
    assert change["approvers"] == [{"login": "pat", "commit": head}]
    assert change["merger"] == "paula"
    assert change["rationale"] == RATIONALE
    assert change["verdict"] == {"conclusion": "success", "failed": []}
    assert change["bypassed"] is False
    # NOTE: the push that the merge made is a PR's, not a direct push.
    assert app_host.entries(REPO, "direct-push") == []
    [comment] = app_host.summary_comments(REPO, number)
    assert f"#{change['index']}" in comment
    assert app_host.verified(REPO).checkpoint_size == change["index"] + 1
    assert app_host.notices.sent == {}


def test_a_merge_while_failing_is_recorded_as_bypassed(app_host, infra):
    number = infra.open_pull(
        "tf", {"infra/main.tf": "# yolo\n"}, title="No questions asked"
    )
    app_host.work()
    assert app_host.check(REPO, number).conclusion == "failure"

    infra.merge(number, login="admin")
    app_host.work()

    [change] = app_host.entries(REPO, "change")
    assert change["bypassed"] is True
    assert change["verdict"]["conclusion"] == "failure"
    assert change["verdict"]["failed"]
    assert change["approvers"] == []
    assert change["merger"] == "admin"
    [notice] = app_host.notices.of_kind("bypass")
    assert f"{REPO}#{number}" in notice.title
    assert f"#{change['index']}" in notice.text
    assert notice.areas == ("terraform",)
    [comment] = app_host.summary_comments(REPO, number)
    assert "bypassed" in comment
    app_host.verified(REPO)


def test_a_merge_before_the_approvals_is_recorded_as_bypassed(app_host, infra):
    number = infra.open_pull(
        "tf", {"infra/main.tf": "# soon\n"}, title="Too early", body=RATIONALE
    )
    app_host.work()
    assert app_host.check(REPO, number).status == "in_progress"

    infra.merge(number, login="dev")
    app_host.work()

    [change] = app_host.entries(REPO, "change")
    assert change["bypassed"] is True
    assert change["verdict"] == {
        "conclusion": "pending",
        "failed": [],
    }
    assert [n.key for n in app_host.notices.of_kind("bypass")] == [
        f"bypass:{REPO}#{number}"
    ]


def test_a_merged_policy_change_gets_a_config_entry(app_host, infra):
    current = infra.call(None, "GET", "contents/.changebot.yml")
    text = base64.b64decode(current["content"]).decode()
    stricter = text.replace(
        "areas:\n", "areas:\n  secrets:\n    paths: ['secrets/**']\n"
    )
    number = infra.open_pull(
        "policy", {".changebot.yml": stricter}, title="Guard secrets", body=RATIONALE
    )
    infra.review(number, "pat")
    infra.review(number, "sam")
    app_host.work()

    merge_sha = infra.merge(number, method="squash", login="paula")
    app_host.work()

    change, config = app_host.entries(REPO)[-2:]
    assert change["kind"] == "change"
    assert config["kind"] == "config"
    assert config["pr"] == {"number": number}
    assert (config["sha"], config["path"]) == (merge_sha, ".changebot.yml")
    [notice] = app_host.notices.of_kind("config")
    assert f"#{config['index']}" in notice.text
    app_host.verified(REPO)


def test_a_closed_pr_that_was_not_merged_records_nothing(app_host, infra):
    number, _ = _approved_pull(infra, "tf")
    infra.call("dev", "PATCH", f"pulls/{number}", json={"state": "closed"})
    app_host.work()

    assert app_host.entries(REPO, "change") == []
