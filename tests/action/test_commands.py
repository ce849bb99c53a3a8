"""`changebot action` on issue_comment: `/changebot` commands in a PR."""

from __future__ import annotations

import pytest

from action.harness import RATIONALE, event

pytestmark = pytest.mark.e2e


def _comment(number: int, body: str, login: str, comment_id: int = 4242) -> dict:
    return event(
        "issue_comment.created",
        issue__number=number,
        comment__id=comment_id,
        comment__body=body,
        comment__user__login=login,
    )


def test_status_is_answered_in_the_pull_request(runner, seeded_repo):
    number = seeded_repo.open_pull(
        "tf", {"infra/main.tf": "# x\n"}, title="Tweak", body=RATIONALE
    )

    step = runner.run("issue_comment", _comment(number, "/changebot status", "pat"))

    assert step.exit_code == 0, step.stderr
    [reply] = [
        c
        for c in runner.simulator.comments(runner.repo, number)
        if "<!-- changebot:command:4242 -->" in c.body
    ]
    assert "@pat" in reply.body
    assert "terraform" in reply.body
    assert runner.check(number).status == "in_progress"
    assert "| `/changebot status` | answered |" in step.summary


def test_a_verify_command_needs_the_signing_key(runner, seeded_repo):
    number = seeded_repo.open_pull("tf", {"infra/main.tf": "# x\n"}, title="Tweak")

    step = runner.run("issue_comment", _comment(number, "/changebot verify", "pat"))

    assert step.exit_code == 2
    assert "`signing_key` input is not set" in step.stderr


def test_a_comment_without_a_command_does_nothing(runner, seeded_repo):
    number = seeded_repo.open_pull("tf", {"infra/main.tf": "# x\n"}, title="Tweak")
    before = runner.simulator.comments(runner.repo, number)

    step = runner.run("issue_comment", _comment(number, "Looks good to me", "pat"))

    assert step.exit_code == 0, step.stderr
    assert "runs no `/changebot` command" in step.summary
    assert runner.simulator.comments(runner.repo, number) == before
