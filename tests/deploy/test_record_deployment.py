"""record_deployment over real git histories and a real signed audit log."""

from __future__ import annotations

import gc

import pytest
from histories import REPO, Recorder, change_fields

from changebot.adapters.git import LocalRepo
from changebot.audit import layout
from changebot.audit.log import Request
from changebot.deploy import outputs
from changebot.errors import NotifyError
from changebot.flows.deploy import DeploymentRequest, record_deployment


def deploy(history, audit, notifier, sha, environment="production", **fields):
    request = DeploymentRequest(REPO, environment, sha, deployer="ana", **fields)
    return record_deployment(
        request, audit=audit, ancestry=LocalRepo(history.path), notifier=notifier
    )


def merge_pr(history, audit, number, **fields):
    sha = history.commit(f"pr-{number}")
    audit.append(
        "change", REPO, change_fields(number, sha, **fields), f"change:{number}"
    )
    return sha


def test_forward_deploy_lists_the_prs_added(history, audit, notifier):
    first = merge_pr(history, audit, 1)
    deploy(history, audit, notifier, first)
    merge_pr(history, audit, 2)
    head = merge_pr(history, audit, 3)

    outcome = deploy(history, audit, notifier, head)

    summary = outcome.summary
    assert summary.classification == "deploy"
    assert summary.previous_sha == first
    assert [p.number for p in summary.added.pulls] == [2, 3]
    assert summary.added.pulls[0].risk == "Low for 2."
    assert summary.added.pulls[0].approvers == ("reviewer",)
    assert summary.unrecorded == ()
    entry = audit.entry(outcome.index)
    assert entry["kind"] == "deployment"
    assert entry["pulls"] == [2, 3]
    assert entry["previous_sha"] == first
    assert entry["deployer"] == "ana"


def test_first_deployment_has_nothing_to_compare(history, audit, notifier):
    sha = merge_pr(history, audit, 1)

    outcome = deploy(history, audit, notifier, sha)

    assert outcome.summary.classification == "deploy"
    assert outcome.summary.previous_sha is None
    assert audit.entry(outcome.index)["pulls"] == []


def test_redeploy_of_the_live_sha_with_a_new_run_id(history, audit, notifier):
    sha = merge_pr(history, audit, 1)
    deploy(history, audit, notifier, sha, key="run-1")

    outcome = deploy(history, audit, notifier, sha, key="run-2")

    assert outcome.created
    assert outcome.summary.classification == "redeploy"
    assert audit.entry(outcome.index)["classification"] == "redeploy"


def test_rerun_of_the_cli_is_idempotent(history, audit, notifier):
    a = merge_pr(history, audit, 1)
    deploy(history, audit, notifier, a)
    b = merge_pr(history, audit, 2)
    first = deploy(history, audit, notifier, b)

    again = deploy(history, audit, notifier, b)

    assert not again.created
    assert again.index == first.index
    assert again.summary.classification == "deploy"
    assert [p.number for p in again.summary.added.pulls] == [2]


def test_rollback_to_an_earlier_deploy_lists_the_prs_removed(history, audit, notifier):
    a = merge_pr(history, audit, 1)
    deploy(history, audit, notifier, a)
    merge_pr(history, audit, 2)
    c = merge_pr(history, audit, 3)
    deploy(history, audit, notifier, c)

    outcome = deploy(history, audit, notifier, a, reason="500s after #3")

    summary = outcome.summary
    assert summary.classification == "rollback"
    assert [p.number for p in summary.removed.pulls] == [2, 3]
    assert summary.added.empty
    entry = audit.entry(outcome.index)
    assert entry["kind"] == "rollback"
    assert entry["pulls"] == [2, 3]
    assert entry["reason"] == "500s after #3"
    assert notifier.notices[-1].kind == "rollback"


def test_rollback_to_a_commit_never_deployed(history, audit, notifier):
    merge_pr(history, audit, 1)
    b = merge_pr(history, audit, 2)
    c = merge_pr(history, audit, 3)
    deploy(history, audit, notifier, c)

    outcome = deploy(history, audit, notifier, b)

    assert outcome.summary.classification == "rollback"
    assert [p.number for p in outcome.summary.removed.pulls] == [3]


def test_hotfix_on_a_diverged_branch(history, audit, notifier):
    base = merge_pr(history, audit, 1)
    deploy(history, audit, notifier, base)
    main = merge_pr(history, audit, 2)
    deploy(history, audit, notifier, main)
    history.git("checkout", "-q", "-b", "hotfix", base)
    fix = merge_pr(history, audit, 3)

    outcome = deploy(history, audit, notifier, fix, reason="hotfix for prod")

    summary = outcome.summary
    assert summary.classification == "hotfix"
    assert [p.number for p in summary.added.pulls] == [3]
    assert [p.number for p in summary.removed.pulls] == [2]
    assert audit.entry(outcome.index)["pulls"] == [3, 2]


def test_direct_push_override_bypass_and_unrecorded(history, audit, notifier):
    a = merge_pr(history, audit, 1)
    deploy(history, audit, notifier, a)
    pushed = history.commit("hand-edit")
    audit.append(
        "direct-push", REPO,
        {"ref": "refs/heads/main", "before": a, "after": pushed, "forced": False,
         "pusher": "mallory", "commits": [pushed], "areas": ["terraform"], "paths": []},
        "push:1",
    )  # fmt: skip
    stray = history.commit("lost-webhook")
    override = audit.append(
        "override", REPO,
        {"pr": {"number": 4, "head_sha": "h4"}, "actor": "lead", "reason": "outage",
         "granted": True, "refusal": None},
        "override:4",
    )  # fmt: skip
    merge_pr(history, audit, 4, override=override.index)
    head = merge_pr(history, audit, 5, bypassed=True)

    summary = deploy(history, audit, notifier, head).summary

    assert [p.pusher for p in summary.added.pushes] == ["mallory"]
    assert summary.added.unrecorded == (stray,)
    pulls = {p.number: p for p in summary.added.pulls}
    assert pulls[4].overridden and pulls[4].override_by == "lead"
    assert pulls[5].bypassed and not pulls[5].overridden
    assert [p.number for p in summary.flagged] == [4, 5]


def test_commits_of_a_merge_commit_pr_are_recorded(history, audit, notifier):
    base = merge_pr(history, audit, 1)
    deploy(history, audit, notifier, base)
    history.git("checkout", "-q", "-b", "feature")
    history.commit("f1")
    head = history.commit("f2")
    history.git("checkout", "-q", "main")
    merge = history.merge("feature", "Merge pull request #2")
    fields = change_fields(
        2, merge, merge_method="merge", shas={"base": base, "head": head}
    )
    audit.append("change", REPO, fields, "change:2")

    summary = deploy(history, audit, notifier, merge).summary

    assert [p.number for p in summary.added.pulls] == [2]
    assert summary.unrecorded == ()


def test_a_slack_outage_keeps_the_entry(history, audit):
    sha = merge_pr(history, audit, 1)
    broken = Recorder(fail=NotifyError("slack failed 4 times"))

    outcome = deploy(history, audit, broken, sha)

    assert outcome.created and not outcome.notified
    assert audit.entry(outcome.index)["kind"] == "deployment"


def test_an_in_progress_deployment_is_announced_not_recorded(history, audit, notifier):
    sha = merge_pr(history, audit, 1)

    outcome = deploy(
        history, audit, notifier, sha, deployment_id=9, state="in_progress"
    )

    assert outcome.index is None
    assert audit.find(outcome.key) is None
    assert notifier.notices[0].key == f"deployment:{REPO}:production:9"


def test_deployment_id_keys_the_entry_per_state(history, audit, notifier):
    sha = merge_pr(history, audit, 1)

    first = deploy(history, audit, notifier, sha, deployment_id=9)
    again = deploy(history, audit, notifier, sha, deployment_id=9)

    assert first.key == f"deployment:{REPO}:production:9:success"
    assert again.index == first.index and not again.created


@pytest.mark.parametrize("environment", ["staging"])
def test_environments_are_independent(history, audit, notifier, environment):
    a = merge_pr(history, audit, 1)
    deploy(history, audit, notifier, a)
    b = merge_pr(history, audit, 2)

    outcome = deploy(history, audit, notifier, b, environment=environment)

    assert outcome.summary.previous_sha is None


def test_a_deployment_status_webhook_becomes_a_request():
    from changebot.flows.deploy import request_from_status

    payload = {
        "repository": {"full_name": REPO, "html_url": "https://github.example/acme/infra"},
        "deployment": {"id": 42, "sha": "abc", "environment": "production",
                       "creator": {"login": "deploy-bot"}, "description": None,
                       "payload": {"reason": "roll back the cache change"}},
        "deployment_status": {"state": "success", "log_url": "https://ci.example/1",
                              "target_url": None},
    }  # fmt: skip

    request = request_from_status(payload)

    assert (request.repo, request.environment, request.sha) == (
        REPO,
        "production",
        "abc",
    )
    assert request.deployment_id == 42 and request.state == "success"
    assert request.deployer == "deploy-bot"
    assert request.reason == "roll back the cache change"
    assert request.log_url == "https://ci.example/1"
    assert not request.set_status


@pytest.mark.parametrize("collecting", [True, False])
def test_a_deployment_leaves_the_cycle_collector_as_it_was(
    history, audit, notifier, collecting
):
    deploy(history, audit, notifier, merge_pr(history, audit, 1))
    head = merge_pr(history, audit, 2)
    was = gc.isenabled()
    (gc.enable if collecting else gc.disable)()
    try:
        outcome = deploy(history, audit, notifier, head)

        assert gc.isenabled() is collecting
    finally:
        (gc.enable if was else gc.disable)()
    assert [p.number for p in outcome.summary.added.pulls] == [2]


def test_a_log_of_several_shards_is_read_whole(history, audit, notifier):
    live = merge_pr(history, audit, 1)
    head = merge_pr(history, audit, 2)
    other = [
        Request("direct-push", "acme/other", {"commits": []}, f"push:{n}")
        for n in range(layout.SHARD_SIZE)
    ]
    audit.append_many(other)
    deploy(history, audit, notifier, live)

    outcome = deploy(history, audit, notifier, head)

    assert layout.shard_of(outcome.index) == 1
    assert outcome.summary.previous_sha == live
    assert [p.number for p in outcome.summary.added.pulls] == [2]
    assert outcome.summary.unrecorded == ()


def test_a_log_url_that_would_break_out_of_its_link_is_not_linked(
    history, audit, notifier
):
    first = merge_pr(history, audit, 1)
    deploy(history, audit, notifier, first)
    head = merge_pr(history, audit, 2)
    hostile = "https://ci.test/run/1) @acme/everyone ![x](https://tracker.test/p"

    outcome = deploy(history, audit, notifier, head, log_url=hostile)

    assert outcome.summary.log_url is None
    for comment in outputs.pull_comments(outcome.summary):
        assert "tracker.test" not in comment.body
        assert "[Deployment log]" not in comment.body
