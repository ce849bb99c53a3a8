"""What `changebot action` says when a step is set up wrong, and App credentials."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from action.harness import RATIONALE, event

pytestmark = pytest.mark.e2e


def _opened(number: int) -> dict:
    return event("pull_request.opened", number=number, pull_request__number=number)


def test_without_a_token_the_step_names_the_input(runner, seeded_repo):
    number = seeded_repo.open_pull("tf", {"infra/main.tf": "# x\n"}, title="Tweak")

    step = runner.run("pull_request_target", _opened(number), token=None)

    assert step.exit_code == 2
    assert "the `token` input is not set (CHANGEBOT_TOKEN)" in step.stderr
    [error] = step.commands("error")
    assert error.startswith("::error title=changebot could not run::")
    assert "token" in error
    assert step.outputs == {}


def test_recording_without_a_signing_key_names_the_input(runner, seeded_repo):
    number = seeded_repo.open_pull(
        "tf", {"infra/main.tf": "# x\n"}, title="Tweak", body=RATIONALE
    )
    seeded_repo.review(number, "pat")
    seeded_repo.merge(number, login="paula")
    payload = event("pull_request.closed", pull_request__number=number)

    step = runner.run("pull_request_target", payload)

    assert step.exit_code == 2
    assert "the `signing_key` input is not set" in step.stderr
    assert runner.entries() == []
    # NOTE: the key is asked for before any work, so no comment was posted.
    assert runner.simulator.comments(runner.repo, number) == []


def test_a_deploy_step_without_an_environment_names_the_input(runner):
    step = runner.run(
        "workflow_dispatch",
        event("workflow_dispatch"),
        mode="deploy",
        signing_key=runner.signing_key,
    )

    assert step.exit_code == 2
    assert "the `environment` input is not set" in step.stderr


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"mode": "yolo"}, "the `mode` input is 'yolo'"),
        ({"fail_on": "sometimes"}, "the `fail_on` input is 'sometimes'"),
        ({"sha": "main", "mode": "deploy"}, "the `sha` input is 'main'"),
        ({"lookback_days": "-3"}, "the `lookback_days` input is '-3'"),
        ({"signing_key": "not a key", "mode": "reconcile"}, "not an Ed25519"),
    ],
)
def test_a_bad_input_is_refused_with_its_name(runner, inputs, message):
    step = runner.run("workflow_dispatch", event("workflow_dispatch"), **inputs)

    assert step.exit_code == 2
    assert message in step.stderr


def test_an_event_changebot_does_not_handle_asks_for_a_mode(runner):
    step = runner.run("release", event("schedule"))

    assert step.exit_code == 2
    assert "does not know what to do on `release` events" in step.stderr


def test_a_missing_event_file_is_explained(runner):
    step = runner.run(
        "push", {}, github={"GITHUB_EVENT_PATH": "/nonexistent/event.json"}
    )

    assert step.exit_code == 2
    assert "cannot read the event payload" in step.stderr


def test_as_a_github_app_the_installation_token_is_masked(runner, seeded_repo):
    app = runner.simulator.app
    number = seeded_repo.open_pull("tf", {"infra/main.tf": "# x\n"}, title="Tweak")

    step = runner.run(
        "pull_request_target",
        _opened(number),
        token=None,
        app_id=str(app["id"]),
        app_private_key=app["private_key"].replace("\n", "\\n"),
        fail_on="never",
    )

    assert step.exit_code == 0, step.stderr
    [mask] = step.commands("add-mask")
    assert re.fullmatch(r"::add-mask::ghs_[0-9a-f]+", mask)
    assert step.stdout.index(mask) == 0
    assert runner.check(number).conclusion == "failure"
    assert mask.removeprefix("::add-mask::") not in step.stderr


def test_outside_a_workflow_the_command_says_so(tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", "from changebot.cli import main; main()", "action"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 2
    assert done.stdout.startswith("::error title=changebot could not run::")
    assert "GITHUB_EVENT_NAME is not set" in done.stdout
    assert "GITHUB_EVENT_NAME is not set" in done.stderr
