"""`changebot action` recording merges and pushes on the audit branch.

The entries are read back from the simulated repository's git directory and
the whole log is verified against the step's signing key.
"""

from __future__ import annotations

import pytest

from action.harness import RATIONALE, event

pytestmark = pytest.mark.e2e


def _merged(infra, branch: str = "tf") -> tuple[int, str]:
    number = infra.open_pull(
        branch, {"infra/main.tf": f"# {branch}\n"}, title="Replace", body=RATIONALE
    )
    infra.review(number, "pat")
    return number, infra.merge(number, login="paula")


def _closed(number: int, merge_sha: str) -> dict:
    return event(
        "pull_request.closed",
        number=number,
        pull_request__number=number,
        pull_request__merged=True,
        pull_request__merge_commit_sha=merge_sha,
    )


def _push(runner, before: str, after: str, files: list[str]) -> dict:
    commit = {"id": after, "added": [], "removed": [], "modified": files}
    return event(
        "push", before=before, after=after, commits=[commit], head_commit=commit
    )


def test_a_merged_pull_request_is_recorded_with_its_checkpoint(runner, seeded_repo):
    number, merge_sha = _merged(seeded_repo)

    step = runner.run(
        "pull_request_target",
        _closed(number, merge_sha),
        signing_key=runner.signing_key,
    )

    assert step.exit_code == 0, step.stderr
    [change] = runner.entries("change")
    assert change["pr"]["number"] == number
    assert change["shas"]["merge"] == merge_sha
    assert change["approvers"][0]["login"] == "pat"
    assert change["verdict"]["conclusion"] == "success"
    report = runner.verified()
    assert step.outputs["entry_index"] == str(change["index"])
    checkpoint = step.outputs["checkpoint"].splitlines()
    assert checkpoint[0].endswith("/acme/infra@changebot/audit")
    assert checkpoint[1] == str(report.checkpoint_size)
    assert "merge recorded in the audit log" in step.summary
    assert f"Audit entry **#{change['index']}**" in step.summary


def test_recording_the_same_merge_twice_appends_one_entry(runner, seeded_repo):
    number, merge_sha = _merged(seeded_repo)
    payload = _closed(number, merge_sha)

    first = runner.run("pull_request_target", payload, signing_key=runner.signing_key)
    again = runner.run("pull_request_target", payload, signing_key=runner.signing_key)

    assert first.outputs["entry_index"] == again.outputs["entry_index"]
    assert len(runner.entries("change")) == 1
    runner.verified()


def test_a_direct_push_to_the_default_branch_is_recorded_and_warned_about(
    runner, seeded_repo
):
    before = runner.head()
    after = seeded_repo.commit("main", {"k8s/deploy.yaml": "x: 1\n"}, login="admin")

    step = runner.run(
        "push",
        _push(runner, before, after, ["k8s/deploy.yaml"]),
        signing_key=runner.signing_key,
    )

    assert step.exit_code == 0, step.stderr
    [entry] = runner.entries("direct-push")
    assert (entry["before"], entry["after"]) == (before, after)
    assert entry["commits"] == [after]
    assert entry["paths"] == ["k8s/deploy.yaml"]
    assert step.outputs["entry_index"] == str(entry["index"])
    [warning] = step.commands("warning")
    assert f"audit entry #{entry['index']}" in warning
    assert "direct push recorded" in step.summary
    runner.verified()


def test_the_push_of_a_merge_records_nothing_more(runner, seeded_repo):
    before = runner.head()
    _, merge_sha = _merged(seeded_repo)

    step = runner.run(
        "push",
        _push(runner, before, merge_sha, ["infra/main.tf"]),
        signing_key=runner.signing_key,
    )

    assert step.exit_code == 0, step.stderr
    assert step.outputs == {}
    assert "Nothing to record" in step.summary
    assert runner.entries() == []


def test_an_invalid_policy_is_recorded_under_the_defaults_with_a_warning(
    runner, seeded_repo
):
    seeded_repo.commit(
        "main", {".changebot.yml": "areas: [\n"}, message="break", login="admin"
    )
    number, merge_sha = _merged(seeded_repo)

    step = runner.run(
        "pull_request_target",
        _closed(number, merge_sha),
        signing_key=runner.signing_key,
    )

    assert step.exit_code == 0, step.stderr
    assert len(runner.entries("change")) == 1
    warnings = [w for w in step.commands("warning") if "file=.changebot.yml" in w]
    assert warnings and all(",line=" in w for w in warnings)
