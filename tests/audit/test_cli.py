"""The `changebot keys` and `changebot audit` commands, through click's runner."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from changebot.cli import main


@pytest.fixture
def cli(repo: Path, tmp_path: Path) -> CliRunner:
    runner = CliRunner()
    done = runner.invoke(
        main, ["keys", "generate", "--out", str(tmp_path / "k1"), "--name", "acme"]
    )
    assert done.exit_code == 0, done.output
    return runner


def run(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def append(
    runner: CliRunner,
    repo: Path,
    tmp_path: Path,
    kind: str,
    data: dict,
    key: str = "k1",
) -> str:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(data))
    return run(
        runner,
        "audit",
        "append",
        "--repo",
        str(repo),
        "--key",
        str(tmp_path / f"{key}.key"),
        "--kind",
        kind,
        "--data",
        str(path),
    ).strip()


def test_keys_generate_writes_three_files_and_prints_the_keyid(
    cli: CliRunner, tmp_path: Path
) -> None:
    output = run(cli, "keys", "generate", "--out", str(tmp_path / "k2"))

    assert len(output.strip()) == 64
    assert stat.S_IMODE((tmp_path / "k2.key").stat().st_mode) == 0o600
    assert (tmp_path / "k2.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert (tmp_path / "k2.vkey").read_text().startswith("changebot+")


def test_append_prints_the_index_and_is_idempotent(
    cli: CliRunner, repo: Path, tmp_path: Path
) -> None:
    data = {
        "repo": "acme/infra",
        "pr": {"number": 7},
        "author": "ana",
        "areas": ["terraform"],
    }

    assert append(cli, repo, tmp_path, "change", data) == "0"
    assert append(cli, repo, tmp_path, "change", data) == "0"
    assert append(cli, repo, tmp_path, "change", data | {"author": "bo"}) == "1"


def test_read_commands_show_filter_and_export(
    cli: CliRunner, repo: Path, tmp_path: Path
) -> None:
    append(
        cli,
        repo,
        tmp_path,
        "change",
        {"repo": "acme/infra", "author": "ana", "areas": ["terraform"]},
    )
    append(
        cli,
        repo,
        tmp_path,
        "deployment",
        {"repo": "acme/web", "deployer": "bo", "environment": "production"},
    )
    base = ["--repo", str(repo)]

    log_all = run(cli, "audit", "log", *base)
    log_bo = run(cli, "audit", "log", *base, "--actor", "BO")
    log_tf = run(cli, "audit", "log", *base, "--area", "terraform")
    shown = json.loads(run(cli, "audit", "show", *base, "1"))
    jsonl = run(cli, "audit", "export", *base, "--kind", "change")
    rows = list(
        csv.DictReader(
            io.StringIO(run(cli, "audit", "export", *base, "--format", "csv"))
        )
    )
    note = run(cli, "audit", "checkpoint", *base)

    assert len(log_all.splitlines()) == 2
    assert "acme/web" in log_bo and "acme/infra" not in log_bo
    assert "acme/infra" in log_tf and "acme/web" not in log_tf
    assert shown["environment"] == "production" and shown["index"] == 1
    assert [json.loads(line)["kind"] for line in jsonl.splitlines()] == ["change"]
    assert [r["kind"] for r in rows] == ["change", "deployment"]
    assert rows[1]["actors"] == "bo"
    assert note.splitlines()[1] == "2"


def test_receipt_verifies_offline(cli: CliRunner, repo: Path, tmp_path: Path) -> None:
    for n in range(3):
        append(cli, repo, tmp_path, "access", {"repo": "acme/infra", "actor": f"u{n}"})
    receipt = tmp_path / "receipt.json"
    receipt.write_text(run(cli, "audit", "receipt", "--repo", str(repo), "2"))
    stranger = tmp_path / "k9"
    run(cli, "keys", "generate", "--out", str(stranger))

    good = cli.invoke(
        main,
        [
            "audit",
            "verify-receipt",
            str(receipt),
            "--trusted-key",
            str(tmp_path / "k1.vkey"),
        ],
    )
    bad = cli.invoke(
        main,
        [
            "audit",
            "verify-receipt",
            str(receipt),
            "--trusted-key",
            str(tmp_path / "k9.pub"),
        ],
    )

    assert good.exit_code == 0, good.output
    assert "receipt of entry 2 verifies" in good.output
    assert bad.exit_code == 1
    assert "not signed by a trusted key" in bad.output


def test_keys_rotate_then_verify_with_the_first_key(
    cli: CliRunner, repo: Path, tmp_path: Path
) -> None:
    append(cli, repo, tmp_path, "access", {"repo": "acme/infra", "actor": "ana"})
    run(cli, "keys", "generate", "--out", str(tmp_path / "k2"))

    index = run(
        cli,
        "keys",
        "rotate",
        "--repo",
        str(repo),
        "--old",
        str(tmp_path / "k1.key"),
        "--new",
        str(tmp_path / "k2.key"),
    )
    append(
        cli, repo, tmp_path, "access", {"repo": "acme/infra", "actor": "bo"}, key="k2"
    )
    verified = cli.invoke(
        main,
        [
            "audit",
            "verify",
            "--repo",
            str(repo),
            "--trusted-key",
            str(tmp_path / "k1.pub"),
        ],
    )

    assert index.strip() == "1"
    assert verified.exit_code == 0, verified.output
    assert "intact: entries 0..2 (3 entries)" in verified.output
