"""`changebot demo`: the story, played for real, as a newcomer runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from changebot.cli import main
from changebot.demo.slackroom import SlackRoom

pytestmark = pytest.mark.e2e

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
    "the log only grew since the checkpoint quoted in #1's comment (size 1)",
    "All 11 steps happened as narrated",
]


@pytest.fixture(scope="module")
def played(demo_runs) -> tuple[str, int, Path]:
    """Return what `changebot demo --no-serve` printed, its exit and its data."""
    run = demo_runs["no-serve"]
    output = run.finished()
    return output, run.process.returncode, run.data


def test_the_story_plays_through_and_exits_zero(played) -> None:
    output, status, _ = played

    assert status == 0, output
    for line in PROMISED:
        assert line in output, f"{line!r} missing from:\n{output}"
    assert "did not happen as narrated" not in output


def test_the_audit_branch_it_leaves_verifies_with_the_cli(played) -> None:
    _, _, data = played
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
    output, _, _ = played
    app_url = next(
        line.split()[2] for line in output.splitlines() if "changebot App" in line
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
        shown = requests.get(room.url, timeout=5)
    finally:
        room.stop()

    assert (ok.status_code, ok.text) == (200, "ok")
    assert bad.status_code == 400
    assert room.texts() == ['{"text": "Deploy of acme/infra"}']
    assert shown.json() == [{"text": "Deploy of acme/infra"}]


def test_a_step_that_does_not_happen_is_told_and_counted(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from changebot.demo.narration import Narrator
    from changebot.demo.story import Scene, _run
    from changebot.errors import DemoError

    told: list[str] = []
    stage = SimpleNamespace(app_log=tmp_path / "app.log")
    scene = Scene(stage, None, None, Narrator(told.append))  # type: ignore[arg-type]

    def never(scene: Scene) -> dict[str, object]:
        raise DemoError("not seen within 30 s: check `changebot` on #1 is failure")

    happened = _run(scene, "rationale_missing", never)

    assert happened is False
    [said] = told
    assert "did not happen as narrated" in said
    assert "check `changebot` on #1 is failure" in said
    assert str(tmp_path / "app.log") in said


@pytest.mark.parametrize(
    ("api", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://github.example.com/api/v3", "https://github.example.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_setup_finds_githubs_web_address_from_its_api(api: str, web: str) -> None:
    from changebot.server.setup import github_web_url

    assert github_web_url(api, environ={}) == web
    assert github_web_url(api, environ={"CHANGEBOT_GITHUB_WEB_URL": "https://w/"}) == (
        "https://w"
    )
