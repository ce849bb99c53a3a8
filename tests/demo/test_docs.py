"""The docs say what is true: the commands they show run as written.

Each command below must appear in its page verbatim, and is then run with
click's runner against a real git repository and real keys, in the order
an operator or an auditor follows the page.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from changebot.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def run(page: str, command: str, expect: int = 0) -> Result:
    """Run a command the page shows (`> FILE` redirects stdout); check its exit."""
    text = (DOCS / page).read_text()
    assert command in text, f"{page} no longer shows: {command}"
    words = shlex.split(command)
    target = None
    if ">" in words:
        at = words.index(">")
        words, target = words[:at], words[at + 1]
    assert words[0] == "changebot"
    result = CliRunner().invoke(main, words[1:])
    assert result.exit_code == expect, f"{command}\n{result.output}"
    if target is not None:
        Path(target).write_text(result.stdout)
    return result


def setup_command(*args: str) -> str:
    """Run a command the test needs but no page shows; return its output."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def append(repo: str, key: str, kind: str, fields: dict[str, Any]) -> str:
    Path("entry.json").write_text(json.dumps({"repo": "acme/infra", **fields}))
    return setup_command(
        "audit", "append", "--repo", repo, "--key", key, "--kind", kind,
        "--data", "entry.json",
    ).strip()  # fmt: skip


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory with a git repository `infra-audit`, as the pages assume."""
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "-q", "infra-audit"], check=True)
    return tmp_path


def _changes(repo: str, key: str, authors: list[str]) -> None:
    for author in authors:
        append(repo, key, "change", {"author": author, "pr": {"number": 1}})


def _reference_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "config_reference", ROOT / "scripts" / "config_reference.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- configuration.md ----------------------------------------------------------


def test_the_configuration_reference_matches_the_schema() -> None:
    written = (DOCS / "configuration.md").read_text()

    assert written == _reference_module().reference(), (
        "docs/configuration.md is out of date: run scripts/config_reference.py"
    )


def test_the_configuration_reference_names_every_key_of_the_schema() -> None:
    from changebot.policy.config import schema

    written = (DOCS / "configuration.md").read_text()

    for key in schema()["properties"]:
        assert f"| `{key}` |" in written


def test_the_example_policy_of_getting_started_is_valid(workdir: Path) -> None:
    page = (DOCS / "getting-started.md").read_text()
    [policy] = re.findall(r"```yaml\n(.*?)```", page, flags=re.S)
    Path(".changebot.yml").write_text(policy)

    result = run("getting-started.md", "changebot config validate .changebot.yml")

    assert "valid (3 areas" in result.output


# --- auditors.md -----------------------------------------------------------------


def test_an_auditor_follows_the_page_from_verify_to_receipt(workdir: Path) -> None:
    setup_command("keys", "generate", "--out", "changebot-audit")
    _changes("infra-audit", "changebot-audit.key", ["ana", "bo"])

    verified = run(
        "auditors.md",
        "changebot audit verify --repo infra-audit --trusted-key changebot-audit.pub",
    )
    run(
        "auditors.md",
        "changebot audit checkpoint --repo infra-audit > checkpoint-2026-12.txt",
    )
    _changes("infra-audit", "changebot-audit.key", ["cy"])
    grown = run(
        "auditors.md",
        "changebot audit verify --repo infra-audit --trusted-key changebot-audit.pub"
        " --since checkpoint-2026-12.txt",
    )
    run("auditors.md", "changebot audit receipt --repo infra-audit 0 > receipt.json")
    receipt = run(
        "auditors.md",
        "changebot audit verify-receipt receipt.json --trusted-key changebot-audit.pub",
    )
    listed = run("auditors.md", "changebot audit log --repo infra-audit")
    run(
        "auditors.md",
        "changebot audit export --repo infra-audit --format csv --out entries.csv",
    )

    assert "intact" in verified.output and "2 entries" in verified.output
    assert "intact" in grown.output and "3 entries" in grown.output
    assert receipt.exit_code == 0
    assert "cy" in listed.output
    assert len(Path("entries.csv").read_text().strip().splitlines()) == 4


def test_a_rebuilt_log_fails_against_a_kept_checkpoint(workdir: Path) -> None:
    setup_command("keys", "generate", "--out", "changebot-audit")
    _changes("infra-audit", "changebot-audit.key", ["ana", "bo"])
    run(
        "auditors.md",
        "changebot audit checkpoint --repo infra-audit > checkpoint-2026-12.txt",
    )

    # The key's holder throws the branch away and writes another history.
    subprocess.run(
        ["git", "-C", "infra-audit", "update-ref", "-d", "refs/heads/changebot/audit"],
        check=True,
    )
    _changes("infra-audit", "changebot-audit.key", ["mallory", "bo", "cy"])

    run(
        "auditors.md",
        "changebot audit verify --repo infra-audit --trusted-key changebot-audit.pub",
    )
    run(
        "auditors.md",
        "changebot audit verify --repo infra-audit --trusted-key changebot-audit.pub"
        " --since checkpoint-2026-12.txt",
        expect=1,
    )


def test_a_receipt_does_not_verify_under_another_key(workdir: Path) -> None:
    setup_command("keys", "generate", "--out", "other")
    _changes("infra-audit", "other.key", ["ana"])
    setup_command("keys", "generate", "--out", "changebot-audit")
    Path("receipt.json").write_text(
        setup_command("audit", "receipt", "--repo", "infra-audit", "0")
    )

    run(
        "auditors.md",
        "changebot audit verify-receipt receipt.json --trusted-key changebot-audit.pub",
        expect=1,
    )


# --- production.md ---------------------------------------------------------------


def test_a_rotation_as_production_shows_it_keeps_the_log_verifiable(
    workdir: Path,
) -> None:
    setup_command("keys", "generate", "--out", "audit-signing")
    _changes("infra-audit", "audit-signing.key", ["ana"])

    keyid = run("production.md", "changebot keys generate --out audit-2027").stdout
    run(
        "production.md",
        "changebot keys rotate --repo infra-audit --old audit-signing.key"
        " --new audit-2027.key",
    )
    _changes("infra-audit", "audit-2027.key", ["bo"])
    verified = run(
        "production.md",
        "changebot audit verify --repo infra-audit --trusted-key audit-signing.pub",
    )

    assert len(keyid.strip()) == 64
    assert Path("audit-2027.key").stat().st_mode & 0o777 == 0o600
    assert "intact" in verified.output and "3 entries" in verified.output


def test_after_a_rotation_the_old_key_alone_is_refused(workdir: Path) -> None:
    setup_command("keys", "generate", "--out", "audit-signing")
    _changes("infra-audit", "audit-signing.key", ["ana"])
    run("production.md", "changebot keys generate --out audit-2027")
    run(
        "production.md",
        "changebot keys rotate --repo infra-audit --old audit-signing.key"
        " --new audit-2027.key",
    )

    _changes("infra-audit", "audit-signing.key", ["mallory"])

    run(
        "production.md",
        "changebot audit verify --repo infra-audit --trusted-key audit-signing.pub",
        expect=1,
    )


# --- every page ------------------------------------------------------------------


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_relative_links_of_the_docs_lead_somewhere(page: str) -> None:
    text = (DOCS / page).read_text()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)

    missing = [
        target
        for target in targets
        if "://" not in target and not (DOCS / target).resolve().exists()
    ]

    assert missing == [], f"{page} links to what does not exist: {missing}"
