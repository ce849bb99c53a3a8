"""`changebot audit reindex` through click's runner, on a real signed branch."""

from __future__ import annotations

from pathlib import Path

from browser_logs import change, signed_log
from click.testing import CliRunner

from changebot.cli import main
from changebot.index import Filter, Search


def test_reindex_builds_and_verifies(tmp_path: Path) -> None:
    store, log = signed_log(tmp_path / "audit")
    for number in (1, 2, 3):
        change(log, "acme/app", number)
    key = tmp_path / "trusted.pub"
    key.write_bytes(log.signer.public.pem())
    index = tmp_path / "index.sqlite3"
    args = [
        "audit",
        "reindex",
        "--repo",
        str(tmp_path / "audit"),
        "--name",
        "acme/audit",
        "--index",
        str(index),
        "--trusted-key",
        str(key),
    ]

    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "3 entries, verified intact" in result.output
    records = Search(index).page(frozenset({"acme/app"}), Filter()).records
    assert [r.pr for r in records] == [3, 2, 1]

    head = store.head()
    forged = store.write(head, {"entries/0/1.json": b"{}"}, "tamper")
    store.advance(head, forged)
    failed = CliRunner().invoke(main, args)
    assert failed.exit_code == 1
    assert "verification FAILED" in failed.output


def test_reindex_needs_a_trusted_key(tmp_path: Path) -> None:
    signed_log(tmp_path / "audit")
    result = CliRunner().invoke(
        main, ["audit", "reindex", "--repo", str(tmp_path / "audit"), "--name", "a/b"]
    )
    assert result.exit_code == 2
    assert "--trusted-key" in result.output
