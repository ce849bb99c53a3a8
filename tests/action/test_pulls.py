"""`changebot action` on pull request events: the verdict, as a check run.

Each step runs on a payload from `events/` for a PR opened on the simulated
`acme/infra`; the test asserts what a workflow's author sees (the exit
status, the outputs, the job summary, the annotations) and what GitHub
ends up with (the `changebot` check run, no audit entry).
"""

from __future__ import annotations

import pytest

from action.harness import RATIONALE, event

pytestmark = pytest.mark.e2e

BROKEN_POLICY = (
    "areas:\n"
    "  terraform:\n"
    '    paths: ["infra/**/*.tf"]\n'
    "    reviewers: {count: two, teams: [platform]}\n"
)


def _opened(infra, number: int, action: str = "opened") -> dict:
    pull = infra.simulator.pull(infra.full_name, number)
    return event(
        "pull_request.opened",
        action=action,
        number=number,
        pull_request__number=number,
        pull_request__head__sha=pull.head_sha,
    )


def test_a_pull_request_without_rationale_fails_its_check_and_the_step(
    runner, seeded_repo
):
    number = seeded_repo.open_pull("tf", {"infra/main.tf": "# x\n"}, title="Tweak")

    step = runner.run("pull_request_target", _opened(seeded_repo, number))

    assert step.exit_code == 1
    assert step.outputs == {"verdict": "failure"}
    assert runner.check(number).conclusion == "failure"
    assert step.summary.startswith(f"## changebot: failure on #{number} Tweak")
    assert "terraform" in step.summary
    [error] = step.commands("error")
    assert error.startswith("::error title=changebot::changebot verdict: failure")
    assert runner.entries() == []


def test_fail_on_never_reports_the_failure_and_passes_the_step(runner, seeded_repo):
    number = seeded_repo.open_pull("tf", {"infra/main.tf": "# x\n"}, title="Tweak")

    step = runner.run("pull_request", _opened(seeded_repo, number), fail_on="never")

    assert step.exit_code == 0
    assert step.outputs["verdict"] == "failure"
    assert runner.check(number).conclusion == "failure"
    assert step.commands("error") == []


def test_an_approved_pull_request_passes_on_its_review(runner, seeded_repo):
    number = seeded_repo.open_pull(
        "tf", {"infra/main.tf": "# x\n"}, title="Tweak", body=RATIONALE
    )
    seeded_repo.review(number, "pat")
    payload = event("pull_request_review.submitted", pull_request__number=number)

    step = runner.run("pull_request_review", payload)

    assert step.exit_code == 0
    assert step.outputs == {"verdict": "success"}
    check = runner.check(number)
    assert (check.status, check.conclusion) == ("completed", "success")
    assert "approved by pat" in step.summary


@pytest.mark.parametrize(("fail_on", "exit_code"), [("pending", 1), ("failure", 0)])
def test_a_pull_request_waiting_for_reviewers_is_pending(
    runner, seeded_repo, fail_on, exit_code
):
    number = seeded_repo.open_pull(
        "tf", {"infra/main.tf": "# x\n"}, title="Tweak", body=RATIONALE
    )

    step = runner.run(
        "pull_request_target", _opened(seeded_repo, number), fail_on=fail_on
    )

    assert step.exit_code == exit_code
    assert step.outputs == {"verdict": "pending"}
    assert runner.check(number).status == "in_progress"


def test_an_invalid_base_policy_is_annotated_at_its_line(runner, seeded_repo):
    seeded_repo.commit("main", {".changebot.yml": BROKEN_POLICY}, login="admin")
    number = seeded_repo.open_pull(
        "tf", {"infra/main.tf": "# x\n"}, title="Tweak", body=RATIONALE
    )

    step = runner.run("pull_request_target", _opened(seeded_repo, number))

    assert step.exit_code == 1
    assert step.outputs == {"verdict": "failure"}
    [problem] = [c for c in step.commands("error") if "file=" in c]
    assert problem.startswith(
        "::error file=.changebot.yml,line=4,title=.changebot.yml of the base branch"
        " is invalid%3A the PR is judged by the defaults::"
    )
    assert problem.endswith(
        "::must be a integer, not 'two' (at areas.terraform.reviewers.count)"
    )
    assert runner.check(number).conclusion == "failure"


def test_the_policy_a_pull_request_proposes_does_not_judge_it(
    runner, seeded_repo, tmp_path, monkeypatch
):
    # NOTE: pull_request_target runs with secrets; the PR's own files, in the
    # API or in a workspace someone checked out, must not decide its verdict.
    permissive = "areas: {}\n"
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / ".changebot.yml").write_text(permissive)
    monkeypatch.chdir(workspace)
    number = seeded_repo.open_pull(
        "loosen",
        {"infra/main.tf": "# x\n", ".changebot.yml": permissive},
        title="Loosen the policy",
    )

    step = runner.run(
        "pull_request_target",
        _opened(seeded_repo, number),
        github={"GITHUB_WORKSPACE": str(workspace)},
    )

    assert step.exit_code == 1
    assert step.outputs == {"verdict": "failure"}
    assert runner.check(number).conclusion == "failure"
    assert "terraform" in step.summary


def test_problems_of_a_proposed_policy_are_annotated_at_their_line(runner, seeded_repo):
    number = seeded_repo.open_pull(
        "policy",
        {".changebot.yml": BROKEN_POLICY},
        title="Count in words",
        body=RATIONALE,
    )

    step = runner.run("pull_request_target", _opened(seeded_repo, number))

    [problem] = [c for c in step.commands("error") if "file=" in c]
    assert problem.startswith(
        "::error file=.changebot.yml,line=4,title=.changebot.yml proposed by this PR"
        " is invalid::"
    )
    assert step.outputs == {"verdict": "failure"}


def test_a_closed_unmerged_pull_request_is_left_alone(runner, seeded_repo):
    number = seeded_repo.open_pull("tf", {"infra/main.tf": "# x\n"}, title="Tweak")
    payload = event(
        "pull_request.closed", pull_request__number=number, pull_request__merged=False
    )

    step = runner.run("pull_request_target", payload, signing_key=runner.signing_key)

    assert step.exit_code == 0
    assert step.outputs == {}
    assert "closed without being merged" in step.summary
    assert runner.simulator.check_runs(runner.repo, "changebot") == []
