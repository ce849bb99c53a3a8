"""`changebot action` summarizing deployments: a deploy step and deployment_status."""

from __future__ import annotations

import pytest

from action.harness import RATIONALE, event

pytestmark = pytest.mark.e2e


def _recorded_merge(runner, infra, branch: str) -> tuple[int, str]:
    number = infra.open_pull(
        branch, {"infra/main.tf": f"# {branch}\n"}, title=branch, body=RATIONALE
    )
    infra.review(number, "pat")
    merge_sha = infra.merge(number, login="paula")
    payload = event("pull_request.closed", pull_request__number=number)
    step = runner.run("pull_request_target", payload, signing_key=runner.signing_key)
    assert step.exit_code == 0, step.stderr
    return number, merge_sha


def _deploy(runner, sha: str, **inputs: str):
    dispatch = event("workflow_dispatch", inputs={"environment": "production"})
    return runner.run(
        "workflow_dispatch",
        dispatch,
        mode="deploy",
        environment="production",
        sha=sha,
        signing_key=runner.signing_key,
        **inputs,
    )


def test_a_deploy_step_records_the_deployment_and_its_pull_requests(
    runner, seeded_repo
):
    base = runner.head()
    first = _deploy(runner, base)
    assert first.exit_code == 0, first.stderr
    assert first.outputs["classification"] == "deploy"
    assert first.outputs["previous_sha"] == ""

    number, merge_sha = _recorded_merge(runner, seeded_repo, "tf")
    step = _deploy(runner, merge_sha)

    assert step.exit_code == 0, step.stderr
    deployment = runner.entries("deployment")[-1]
    assert deployment["sha"] == merge_sha
    assert deployment["previous_sha"] == base
    assert deployment["pulls"] == [number]
    assert deployment["deployer"] == "admin"
    assert step.outputs["classification"] == "deploy"
    assert step.outputs["previous_sha"] == base
    assert step.outputs["pulls"] == str(number)
    assert step.outputs["entry_index"] == str(deployment["index"])
    assert step.outputs["checkpoint"].splitlines()[1] == str(deployment["index"] + 1)
    assert "Deploy to production" in step.summary
    assert f"#{number}" in step.summary
    comments = runner.simulator.comments(runner.repo, number)
    assert any("production" in c.body for c in comments)
    runner.verified()


def test_going_back_is_recorded_as_a_rollback_with_its_reason(runner, seeded_repo):
    base = runner.head()
    _deploy(runner, base)
    number, merge_sha = _recorded_merge(runner, seeded_repo, "tf")
    _deploy(runner, merge_sha)

    step = _deploy(runner, base, reason="the plan replaced the wrong resource")

    assert step.exit_code == 0, step.stderr
    [rollback] = runner.entries("rollback")
    assert rollback["reason"] == "the plan replaced the wrong resource"
    assert step.outputs["classification"] == "rollback"
    assert step.outputs["previous_sha"] == merge_sha
    assert step.outputs["pulls"] == str(number)
    assert "Rollback of production" in step.summary


def test_a_successful_deployment_status_is_recorded(runner, seeded_repo):
    sha = runner.head()
    deployment = seeded_repo.call(
        "admin",
        "POST",
        "deployments",
        json={"ref": sha, "environment": "staging", "required_contexts": []},
    )
    payload = event(
        "deployment_status.created",
        deployment__id=deployment["id"],
        deployment__sha=sha,
        deployment__environment="staging",
        deployment_status__state="success",
    )

    step = runner.run("deployment_status", payload, signing_key=runner.signing_key)

    assert step.exit_code == 0, step.stderr
    [entry] = runner.entries("deployment")
    assert entry["deployment_id"] == deployment["id"]
    assert entry["environment"] == "staging"
    assert step.outputs["entry_index"] == str(entry["index"])
    assert step.outputs["classification"] == "deploy"
    assert "Deploy to staging" in step.summary
    runner.verified()
