"""Pull requests judged by the App, from the simulator's webhooks.

People open, edit, review and push to PRs on the simulated GitHub; the App
receives the deliveries, queues them, and a worker evaluates the PR with the
policy of its base branch. The tests read the `changebot` check run and the
one summary comment GitHub ended up with.
"""

from __future__ import annotations

import pytest
from flows.apphost import RATIONALE

pytestmark = pytest.mark.e2e


REPO = "acme/infra"
TF = {"infra/main.tf": 'resource "null_resource" "demo" { count = 2 }\n'}


def test_a_pr_without_rationale_fails_and_asks_for_one(app_host, infra):
    number = infra.open_pull("tf", TF, title="Scale the demo")
    app_host.work()

    run = app_host.check(REPO, number)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert "terraform" in run.output["summary"]
    assert "Why" in run.output["summary"]
    [comment] = app_host.summary_comments(REPO, number)
    assert "terraform" in comment


def test_rationale_and_approval_make_it_pass(app_host, infra):
    number = infra.open_pull("tf", TF, title="Scale the demo")
    app_host.work()

    infra.call("dev", "PATCH", f"pulls/{number}", json={"body": RATIONALE})
    infra.review(number, "pat")
    app_host.work()

    run = app_host.check(REPO, number)
    assert run.conclusion == "success"
    # NOTE: the comment that asked for action must not stay stale.
    [comment] = app_host.summary_comments(REPO, number)
    assert "Nothing more is needed" in comment


def test_a_passing_pr_gets_no_comment(app_host, infra):
    number = infra.open_pull("tf", TF, title="Scale the demo", body=RATIONALE)
    infra.review(number, "paula")
    app_host.work()

    assert app_host.check(REPO, number).conclusion == "success"
    assert app_host.summary_comments(REPO, number) == []


def test_a_push_after_approval_voids_the_approval(app_host, infra):
    number = infra.open_pull("tf", TF, title="Scale the demo", body=RATIONALE)
    infra.review(number, "pat")
    app_host.work()
    assert app_host.check(REPO, number).conclusion == "success"

    infra.commit("tf", {"infra/main.tf": "# something else\n"}, login="dev")
    app_host.work()

    run = app_host.check(REPO, number)
    # NOTE: waiting for a fresh approval holds the check in progress.
    assert (run.status, run.conclusion) == ("in_progress", None)
    assert "pat approved" in run.output["summary"]
    assert "must be renewed" in run.output["summary"]
    [comment] = app_host.summary_comments(REPO, number)
    assert "Nothing more is needed" not in comment


def test_a_pr_that_breaks_the_policy_file_shows_its_errors(app_host, infra):
    broken = "areas:\n  terraform:\n    paths: 42\n    reviewers: {count: -1}\n"
    number = infra.open_pull(
        "policy", {".changebot.yml": broken}, title="Loosen", body=RATIONALE
    )
    infra.review(number, "pat")
    app_host.work()

    run = app_host.check(REPO, number)
    assert run.conclusion == "failure"
    assert ".changebot.yml" in run.output["title"]
    assert "paths" in run.output["summary"]
    assert "line" in run.output["summary"]


def test_an_evaluation_that_changes_nothing_writes_nothing(app_host, infra):
    number = infra.open_pull("tf", TF, title="Scale the demo")
    app_host.work()
    seen = len(infra.simulator.exchanges())

    infra.call("dev", "POST", f"issues/{number}/labels", json={"labels": ["infra"]})
    app_host.work()

    later = infra.simulator.exchanges()[seen:]
    assert any(e.path.endswith(f"/pulls/{number}") for e in later), "not evaluated"
    writes = [f"{e.method} {e.path}" for e in later if e.method != "GET"]
    assert [w for w in writes if "/labels" not in w] == []
    assert app_host.check(REPO, number).conclusion == "failure"
    assert len(app_host.summary_comments(REPO, number)) == 1
