"""Classification of deployments against real git histories."""

from __future__ import annotations

from datetime import UTC, datetime

from changebot.adapters.git import LocalRepo
from changebot.deploy.classify import classify, deployments_of, earlier_shas, live_sha
from changebot.ports import DeploymentRecord


def test_first_deployment_is_a_deploy_with_an_empty_range(history):
    a = history.commit("a")

    movement = classify(None, a, [], LocalRepo(history.path))

    assert movement.classification == "deploy"
    assert movement.first
    assert movement.added == ()


def test_a_descendant_is_a_deploy_of_the_commits_between(history):
    a = history.commit("a")
    b = history.commit("b")
    c = history.commit("c")

    movement = classify(a, c, [a], LocalRepo(history.path))

    assert movement.classification == "deploy"
    assert movement.added == (c, b)
    assert movement.removed == ()


def test_the_live_sha_again_is_a_redeploy(history):
    a = history.commit("a")

    movement = classify(a, a.upper(), [a], LocalRepo(history.path))

    assert movement.classification == "redeploy"
    assert movement.added == movement.removed == ()


def test_an_ancestor_is_a_rollback_of_the_commits_after_it(history):
    a = history.commit("a")
    b = history.commit("b")
    c = history.commit("c")

    movement = classify(c, a, [a, c], LocalRepo(history.path))

    assert movement.classification == "rollback"
    assert movement.removed == (c, b)
    assert movement.added == ()


def test_an_ancestor_never_deployed_is_still_a_rollback(history):
    history.commit("a")
    b = history.commit("b")
    c = history.commit("c")

    movement = classify(c, b, [c], LocalRepo(history.path))

    assert movement.classification == "rollback"
    assert movement.removed == (c,)


def test_a_diverged_sha_is_a_hotfix_with_both_sides(history):
    base = history.commit("base")
    main = history.commit("feature-on-main")
    history.git("checkout", "-q", "-b", "hotfix", base)
    fix = history.commit("fix")

    movement = classify(main, fix, [main], LocalRepo(history.path))

    assert movement.classification == "hotfix"
    assert movement.added == (fix,)
    assert movement.removed == (main,)


def test_going_back_to_a_diverged_sha_deployed_before_is_a_rollback(history):
    base = history.commit("base")
    history.git("checkout", "-q", "-b", "hotfix", base)
    fix = history.commit("fix")
    history.git("checkout", "-q", "main")
    main = history.commit("feature-on-main")

    movement = classify(main, fix, [fix, main], LocalRepo(history.path))

    assert movement.classification == "rollback"
    assert movement.added == (fix,)
    assert movement.removed == (main,)


def test_rolling_forward_to_a_sha_deployed_before_is_a_deploy(history):
    a = history.commit("a")
    b = history.commit("b")

    movement = classify(a, b, [a, b], LocalRepo(history.path))

    assert movement.classification == "deploy"


def test_live_sha_comes_from_the_last_entry_of_the_environment(log):
    log.deployment("production", "aaa", None)
    log.deployment("staging", "bbb", None)
    log.deployment("production", "ccc", "aaa")

    history = deployments_of(log.entries, "acme/infra", "production")

    assert live_sha(history) == "ccc"
    assert earlier_shas(history) == {"aaa", "ccc"}


def test_live_sha_falls_back_to_the_latest_successful_forge_deployment():
    when = datetime(2026, 1, 1, tzinfo=UTC)
    records = [
        DeploymentRecord(3, "ccc", "production", "ci", when, state="failure"),
        DeploymentRecord(2, "bbb", "production", "ci", when, state="success"),
        DeploymentRecord(1, "aaa", "production", "ci", when, state="success"),
    ]

    assert live_sha([], records) == "bbb"
    assert earlier_shas([], records) == {"aaa", "bbb"}
    assert live_sha([], []) is None
