"""`changebot demo`: the story, played for real, as a newcomer runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from changebot.cli import main
from changebot.demo.slackroom import SlackRoom

pytestmark = pytest.mark.e2e

ENTRY = "from changebot.cli import main; main(prog_name='changebot')"
#: One line per step the story promises, as the narration says it.
PROMISED = [
    "1. A pull request without a rationale",
    "check `changebot` failed",
    "with the rationale alone the check waits",
    "after pat's approval it passes",
    "pat's approval no longer counts",
    "(change): #1 by dev",
    "signed, chained and checkpointed: intact",
    "(direct-push)",
    "the override is refused",
    "(override, refused)",
    "(override, granted) by olga",
    "links override",
    "(deploy to staging): PRs #1, #2",
    "(deploy to production): PRs #1, #2",
    "(rollback in production): takes out PRs #2",
    "says it was removed from production",
    "All 11 steps happened as narrated",
]


@pytest.fixture(scope="module")
def played(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    data = tmp_path_factory.mktemp("demo") / "data"
    run = subprocess.run(
        [sys.executable, "-c", ENTRY, "demo", "--no-serve", "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    return run, data


def test_the_story_plays_through_and_exits_zero(played) -> None:
    run, _ = played

    assert run.returncode == 0, run.stdout + run.stderr
    for line in PROMISED:
        assert line in run.stdout, f"{line!r} missing from:\n{run.stdout}"
    assert "did not happen as narrated" not in run.stdout


def test_the_audit_branch_it_leaves_verifies_with_the_cli(played) -> None:
    run, data = played
    git_dir = data / "github" / "repos" / "acme" / "infra.git"

    verified = CliRunner().invoke(
        main,
        [
            "audit",
            "verify",
            "--repo",
            str(git_dir),
            "--trusted-key",
            str(data / "keys" / "audit.pub"),
            "--json",
        ],
    )

    assert verified.exit_code == 0, verified.output
    report = json.loads(verified.output)
    assert report["ok"] is True
    assert report["checkpoint_size"] == 8


def test_the_app_server_is_gone_after_the_story(played) -> None:
    run, _ = played
    app_url = next(
        line.split()[2] for line in run.stdout.splitlines() if "changebot App" in line
    )

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{app_url}/healthz", timeout=2)


def test_a_data_directory_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me\n")

    result = CliRunner().invoke(main, ["demo", "--no-serve", "--data", str(tmp_path)])

    assert result.exit_code == 2
    assert "is not empty" in result.output
    assert (tmp_path / "precious.txt").read_text() == "keep me\n"


def test_the_slack_stand_in_keeps_what_it_is_sent() -> None:
    room = SlackRoom().start()
    try:
        ok = requests.post(room.url, json={"text": "Deploy of acme/infra"}, timeout=5)
        bad = requests.post(room.url, data=b"{not json", timeout=5)
    finally:
        room.stop()

    assert (ok.status_code, ok.text) == (200, "ok")
    assert bad.status_code == 400
    assert room.texts() == ['{"text": "Deploy of acme/infra"}']
