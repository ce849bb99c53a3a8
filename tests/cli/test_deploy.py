"""`changebot deploy` and `changebot timeline` through click's runner."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import changebot.cli.deploy  # noqa: F401  (adds the commands to `main`)
from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, SigningKey
from changebot.cli import main

REPO = "acme/infra"


class Clone:
    """A real repository with a remote name, commits and an audit branch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir()
        self.git("init", "-q", "-b", "main")
        self.git("remote", "add", "origin", f"https://github.example/{REPO}.git")
        self.log = AuditLog(GitStore(path), SigningKey.generate())

    def git(self, *args: str) -> str:
        who = {"NAME": "dev", "EMAIL": "dev@example.com"}
        env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null"}
        for role in ("AUTHOR", "COMMITTER"):
            env.update({f"GIT_{role}_{k}": v for k, v in who.items()})
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=env, check=True,
            capture_output=True, text=True,
        )  # fmt: skip
        return done.stdout.strip()

    def merge_pr(self, number: int, title: str) -> str:
        (self.path / f"pr{number}.tf").write_text(title)
        self.git("add", ".")
        self.git("commit", "-q", "-m", title)
        sha = self.git("rev-parse", "HEAD")
        fields = {
            "pr": {"number": number, "title": title, "url": None,
                   "base_ref": "main", "head_ref": f"pr-{number}"},
            "shas": {"base": None, "head": None, "merge": sha, "tree": None},
            "merge_method": "squash", "areas": ["terraform"], "paths": [],
            "author": "dev", "approvers": [{"login": "rev", "commit": sha}],
            "merger": "rev", "rationale": f"Why: {title}\nRisk: low",
            "tickets": [], "verdict": {"conclusion": "success", "failed": []},
            "bypassed": False, "override": None,
        }  # fmt: skip
        self.log.append("change", REPO, fields, f"change:{number}")
        return sha


@pytest.fixture
def clone(tmp_path: Path) -> Clone:
    return Clone(tmp_path / "repo")


@pytest.fixture
def key(tmp_path: Path) -> str:
    secret, _, _ = SigningKey.generate().save(tmp_path / "signer")
    return str(secret)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CHANGEBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CHANGEBOT_SLACK_WEBHOOK", raising=False)
    monkeypatch.delenv("CHANGEBOT_SIGNING_KEY_PATH", raising=False)
    return CliRunner()


def run_deploy(runner, clone, key, sha, *extra):
    args = ["deploy", "--repo", str(clone.path), "--environment", "production",
            "--sha", sha, "--key", key, "--deployer", "ana", *extra]  # fmt: skip
    return runner.invoke(main, args, catch_exceptions=False)


def test_deploy_prints_the_summary_and_records_the_entry(runner, clone, key):
    first = clone.merge_pr(1, "Create the VPC")
    assert run_deploy(runner, clone, key, first).exit_code == 0
    clone.merge_pr(2, "Add a NAT gateway")

    result = run_deploy(runner, clone, key, "main")

    assert result.exit_code == 0, result.output
    assert "Deploy to production" in result.output
    assert "Add a NAT gateway" in result.output
    assert "recorded as audit entry" in result.output
    last = list(clone.log.entries())[-1]
    assert last["kind"] == "deployment"
    assert last["repo"] == REPO
    assert last["pulls"] == [2]
    assert last["previous_sha"] == first


def test_rollback_with_reason_as_json(runner, clone, key):
    first = clone.merge_pr(1, "Create the VPC")
    run_deploy(runner, clone, key, first)
    second = clone.merge_pr(2, "Resize the database")
    run_deploy(runner, clone, key, second)

    result = run_deploy(runner, clone, key, first, "--reason", "db errors", "--json")

    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["classification"] == "rollback"
    assert [p["number"] for p in out["removed"]["pulls"]] == [2]
    assert out["created"] is True
    assert clone.log.entry(out["index"])["reason"] == "db errors"


def test_summary_file_gets_the_markdown_appended(runner, clone, key, tmp_path):
    sha = clone.merge_pr(1, "Create the VPC")
    summary_file = tmp_path / "step-summary.md"
    summary_file.write_text("earlier step\n")

    run_deploy(runner, clone, key, sha, "--summary-file", str(summary_file))

    text = summary_file.read_text()
    assert text.startswith("earlier step\n")
    assert "Deploy to production" in text


def test_deploy_without_a_signing_key_explains_itself(runner, clone):
    sha = clone.merge_pr(1, "Create the VPC")

    args = ["deploy", "--repo", str(clone.path), "--environment", "prod", "--sha", sha]
    result = runner.invoke(main, args)

    assert result.exit_code == 2
    assert "no signing key" in result.output
    assert "CHANGEBOT_SIGNING_KEY_PATH" in result.output


def test_timeline_lists_changes_and_deployments_in_order(runner, clone, key):
    first = clone.merge_pr(1, "Create the VPC")
    run_deploy(runner, clone, key, first)
    clone.merge_pr(2, "Add a NAT gateway")
    run_deploy(runner, clone, key, "main", "--reason", "release")

    result = runner.invoke(
        main, ["timeline", "--repo", str(clone.path), "--since", "2000-01-01T00:00Z"]
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    kinds = [line.split()[2] for line in lines]
    assert kinds == ["change", "deployment", "change", "deployment"]
    assert "PR #2 Add a NAT gateway" in lines[2]
    assert "production deploy" in lines[3] and "#2" in lines[3]


def test_timeline_window_and_environment_as_json(runner, clone, key):
    sha = clone.merge_pr(1, "Create the VPC")
    run_deploy(runner, clone, key, sha)
    args = ["timeline", "--repo", str(clone.path), "--json"]

    future = runner.invoke(main, [*args, "--since", "2999-01-01T00:00:00Z"])
    staging = runner.invoke(
        main, [*args, "--since", "2000-01-01", "--environment", "staging"]
    )

    assert json.loads(future.output) == []
    assert [e["kind"] for e in json.loads(staging.output)] == ["change"]


def test_timeline_refuses_a_time_it_cannot_read(runner, clone):
    result = runner.invoke(
        main, ["timeline", "--repo", str(clone.path), "--since", "last tuesday"]
    )

    assert result.exit_code == 2
    assert "not a time" in result.output
