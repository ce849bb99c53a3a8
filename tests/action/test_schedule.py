"""`changebot action` on schedule and workflow_dispatch: reconcile, then verify."""

from __future__ import annotations

import pytest

from action.harness import RATIONALE, event
from changebot.audit import SigningKey

pytestmark = pytest.mark.e2e


def _merged_unrecorded(infra, branch: str) -> int:
    number = infra.open_pull(
        branch, {"infra/main.tf": f"# {branch}\n"}, title=branch, body=RATIONALE
    )
    infra.review(number, "pat")
    infra.merge(number, login="paula")
    return number


def test_a_nightly_run_records_missed_merges_then_verifies_the_log(runner, seeded_repo):
    missed = [_merged_unrecorded(seeded_repo, b) for b in ("one", "two")]

    step = runner.run(
        "schedule",
        event("schedule"),
        signing_key=runner.signing_key,
        trusted_keys=runner.vkey,
    )

    assert step.exit_code == 0, step.stderr
    changes = runner.entries("change")
    assert sorted(c["pr"]["number"] for c in changes) == missed
    assert step.outputs["entry_index"] == str(changes[-1]["index"])
    assert step.outputs["checkpoint"].splitlines()[1] == "2"
    assert "changebot-test" in step.outputs["checkpoint"]
    assert "Recorded 2 merged pull requests" in step.summary
    assert "`intact: entries 0..1" in step.summary
    runner.verified()

    again = runner.run("workflow_dispatch", event("workflow_dispatch"),
                       signing_key=runner.signing_key)  # fmt: skip
    assert again.exit_code == 0, again.stderr
    assert "already has its audit entry" in again.summary
    assert len(runner.entries("change")) == 2


def test_a_log_signed_by_an_untrusted_key_fails_verification(runner, seeded_repo):
    _merged_unrecorded(seeded_repo, "one")
    runner.run("schedule", event("schedule"), signing_key=runner.signing_key)
    stranger = SigningKey.generate("stranger")

    step = runner.run(
        "schedule",
        event("schedule"),
        mode="verify",
        trusted_keys=stranger.public.vkey(stranger.name),
    )

    assert step.exit_code == 1
    assert "❌" in step.summary
    findings = [c for c in step.commands("error") if "title=audit log finding" in c]
    assert findings and "entry 0" in findings[0]
    [failed] = [c for c in step.commands("error") if "title=changebot::" in c]
    assert "TAMPERING FOUND" in failed


def test_a_verify_step_needs_a_key_to_trust(runner, seeded_repo):
    step = runner.run("schedule", event("schedule"), mode="verify")

    assert step.exit_code == 2
    assert "`trusted_keys` input is not set" in step.stderr
    [error] = step.commands("error")
    assert "trusted_keys" in error
