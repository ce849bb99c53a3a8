"""`changebot check` on real git repositories, through click's runner."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner

from changebot.cli import main

POLICY = """\
areas:
  terraform:
    paths: ["infra/**"]
    reviewers: {count: 1, teams: [platform]}
rationale:
  sections: [Why, Risk]
  min_words: 5
"""

GOOD_BODY = "## Why\nThe nightly batch runs out of memory.\n## Risk\nLow.\n"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def commit(repo: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def make_repo(tmp_path: Path, policy: str | None = POLICY) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "amy")
    git(repo, "config", "user.email", "amy@example.com")
    base = {"README.md": "hello\n", "infra/main.tf": "a\n"}
    if policy is not None:
        base[".changebot.yml"] = policy
    commit(repo, base, "init")
    git(repo, "checkout", "-q", "-b", "change")
    return repo


def run(repo: Path, *args: str, body: str | None = None) -> tuple[int, str]:
    options = ["check", "--repo", str(repo), "--base", "main", "--head", "change"]
    options += ["--name", "acme/infra"]
    if body is not None:
        (repo.parent / "body.md").write_text(body)
        options += ["--body-file", str(repo.parent / "body.md")]
    result = CliRunner().invoke(main, [*options, *args])
    return result.exit_code, result.output


def test_a_complete_rationale_exits_0_and_reviewers_are_pending(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit(repo, {"infra/main.tf": "b\n"}, "Grow memory")

    code, out = run(repo, body=GOOD_BODY)

    assert code == 0, out
    assert "terraform (1 file): needs 1 approval from acme/platform" in out
    assert "Rationale: complete" in out


def test_a_missing_rationale_exits_1_and_says_what_is_missing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit(repo, {"infra/main.tf": "b\n"}, "Grow memory")

    code, out = run(repo, body="## Why\nBecause.\n")

    assert code == 1
    assert "the “Risk” section is missing" in out


def test_json_prints_the_verdict(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    git(repo, "mv", "infra/main.tf", "attic.tf")
    git(repo, "commit", "-q", "-m", "Move it")

    code, out = run(repo, "--json", body=GOOD_BODY)

    data = json.loads(out)
    assert code == 0
    assert data["conclusion"] == "pending"
    files = data["areas"][0]["files"]
    assert files == [{"path": "attic.tf", "previous_path": "infra/main.tf"}]


def test_the_policy_comes_from_the_base_not_the_head(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    weakened = POLICY.replace("infra/**", "nowhere/**")
    commit(repo, {".changebot.yml": weakened, "infra/main.tf": "b\n"}, "Weaken")

    code, out = run(repo, body=GOOD_BODY)

    assert code == 0
    assert "terraform (1 file)" in out


def test_a_proposed_invalid_policy_exits_1_with_its_lines(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    commit(repo, {".changebot.yml": "areas:\n  x:\n    paths: 5\n"}, "Break it")

    code, out = run(repo, body=GOOD_BODY)

    assert code == 1
    assert "line 3 at areas.x.paths" in out


def test_an_invalid_base_policy_exits_1(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, policy="areas: nope\n")
    commit(repo, {"infra/main.tf": "b\n"}, "Grow memory")

    code, out = run(repo, body=GOOD_BODY)

    assert code == 1
    assert ".changebot.yml:1: areas: must be a mapping" in out


def test_no_policy_file_means_the_preset(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, policy=None)
    commit(repo, {"deploy/Dockerfile": "FROM scratch\n"}, "Add an image")

    code, out = run(repo, body="")

    assert code == 1
    assert "policy: default preset" in out
    assert "containers (1 file)" in out


def test_a_bad_ref_is_a_usage_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    result = CliRunner().invoke(
        main, ["check", "--repo", str(repo), "--base", "nope", "--head", "change"]
    )

    assert result.exit_code == 2
    assert "git rev-parse failed" in result.output
