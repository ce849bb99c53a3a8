"""Every kind of tampering is caught: exit 1 and a finding naming what changed.

The attacker here can push to the repository: they check the audit branch
out in a worktree, edit files with ordinary tools, commit and move the
branch. Only the verifier's trusted key is out of their reach.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, SigningKey
from changebot.audit.checkpoint import open_note, sign
from changebot.audit.envelope import seal
from changebot.cli import main

ENTRIES = 12


@dataclass
class Log:
    """A 12-entry log, its key, a saved checkpoint and an attacker's worktree."""

    repo: Path
    key: SigningKey
    pub: Path
    since: Path
    work: Path
    tmp: Path

    def entry(self, index: int) -> Path:
        return self.work / "entries" / "0" / f"{index}.json"

    def payload(self, index: int) -> dict[str, object]:
        envelope = json.loads(self.entry(index).read_bytes())
        return json.loads(base64.b64decode(envelope["payload"]))

    def rewrite(self, index: int, entry: dict[str, object], signer: SigningKey) -> None:
        payload = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
        self.entry(index).write_bytes(seal(payload, [signer]).encode())

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(self.work), *args], check=True, capture_output=True
        )
        return done.stdout.decode().strip()

    def commit(self) -> None:
        self.git("add", "-A")
        self.git(
            "-c",
            "user.name=mallory",
            "-c",
            "user.email=m@example.test",
            "commit",
            "-q",
            "-m",
            "tidy up",
        )


def _build(tmp: Path, key: SigningKey, count: int, tag: str = "") -> Path:
    repo = tmp / f"repo{tag}"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    log = AuditLog(
        GitStore(repo, origin="example.test/acme/infra@changebot/audit"), key
    )
    for i in range(count):
        fields = {
            "event": "push",
            "action": "merge",
            "actor": f"dev{i}{tag}",
            "details": {},
        }
        log.append("access", "acme/infra", fields, f"event-{i}{tag}")
    return repo


@pytest.fixture
def audit_log(tmp_path: Path) -> Log:
    key = SigningKey.generate("audit-test")
    key.save(tmp_path / "signer")
    repo = _build(tmp_path, key, ENTRIES)
    since = tmp_path / "saved-checkpoint"
    since.write_text(AuditLog(GitStore(repo), key).checkpoint() or "")
    work = tmp_path / "work"
    subprocess.run(
        ["git", "-C", str(repo), "worktree", "add", "-q", str(work), "changebot/audit"],
        check=True,
    )
    return Log(repo, key, tmp_path / "signer.pub", since, work, tmp_path)


def edit_payload(log: Log) -> None:
    entry = log.payload(5)
    envelope = json.loads(log.entry(5).read_bytes())
    entry["actor"] = "someone-else"
    envelope["payload"] = base64.b64encode(
        json.dumps(entry, separators=(",", ":")).encode()
    ).decode()
    log.entry(5).write_text(json.dumps(envelope))


def resign_payload(log: Log) -> None:
    entry = log.payload(5)
    entry["actor"] = "someone-else"
    log.rewrite(5, entry, SigningKey.generate("mallory"))


def delete_entry(log: Log) -> None:
    log.entry(5).unlink()


def swap_entries(log: Log) -> None:
    four, five = log.entry(4).read_bytes(), log.entry(5).read_bytes()
    log.entry(4).write_bytes(five)
    log.entry(5).write_bytes(four)


def duplicate_entry(log: Log) -> None:
    shutil.copy(log.entry(5), log.entry(ENTRIES))


def insert_forged_entry(log: Log) -> None:
    for index in range(ENTRIES - 1, 4, -1):
        log.entry(index).rename(log.entry(index + 1))
    forged = log.payload(4) | {
        "index": 5,
        "actor": "ghost",
        "idempotency_key": "forged",
    }
    log.rewrite(5, forged, SigningKey.generate("mallory"))


def resign_checkpoint(log: Log) -> None:
    path = log.work / "checkpoint"
    point = open_note(path.read_text(), []).checkpoint
    path.write_text(sign(point, [SigningKey.generate("audit-test")]))


def edit_checkpoint_size(log: Log) -> None:
    path = log.work / "checkpoint"
    lines = path.read_text().split("\n")
    lines[1] = str(ENTRIES + 1)
    path.write_text("\n".join(lines))


def edit_checkpoint_root(log: Log) -> None:
    path = log.work / "checkpoint"
    lines = path.read_text().split("\n")
    lines[2] = base64.b64encode(bytes(32)).decode()
    path.write_text("\n".join(lines))


def add_stray_file(log: Log) -> None:
    (log.work / "notes.txt").write_text("nothing to see\n")


def nest_envelope_deeply(log: Log) -> None:
    log.entry(5).write_bytes(b"[" * 100_000 + b"]" * 100_000)


def nest_payload_deeply(log: Log) -> None:
    payload = b"[" * 100_000 + b"]" * 100_000
    log.entry(5).write_bytes(seal(payload, [SigningKey.generate("mallory")]).encode())


Tamper = Callable[[Log], None]

CASES: list[tuple[Tamper, str]] = [
    (edit_payload, "entry 5: signature of key"),
    (resign_payload, "entry 5: not signed by a trusted key"),
    (delete_entry, "entry 5: missing"),
    (swap_entries, "entry 4: the entry says it is entry 5"),
    (duplicate_entry, "entry 12: the entry says it is entry 5"),
    (insert_forged_entry, "entry 5: not signed by a trusted key"),
    (resign_checkpoint, "checkpoint: the checkpoint (size 12) is not signed by a"),
    (edit_checkpoint_size, "entry 11: the checkpoint says the log has 13 entries"),
    (edit_checkpoint_root, "entry 11: the checkpoint's root does not match"),
    (add_stray_file, "notes.txt: stray file"),
    (nest_envelope_deeply, "entry 5: unreadable: not a DSSE envelope"),
    (nest_payload_deeply, "entry 5: unreadable: the payload is not JSON"),
]


def run_verify(log: Log, *extra: str) -> tuple[int, str]:
    args = ["audit", "verify", "--repo", str(log.repo), "--trusted-key", str(log.pub)]
    result = CliRunner().invoke(main, [*args, *extra])
    return result.exit_code, result.output


def test_an_untouched_log_verifies(audit_log: Log) -> None:
    code, output = run_verify(audit_log, "--since", str(audit_log.since))

    assert code == 0, output
    assert "intact: entries 0..11 (12 entries)" in output


@pytest.mark.parametrize(
    ("tamper", "finding"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_tampering_is_found(audit_log: Log, tamper: Tamper, finding: str) -> None:
    tamper(audit_log)
    audit_log.commit()

    code, output = run_verify(audit_log)

    assert code == 1, output
    assert finding in output
    assert "TAMPERING FOUND" in output.splitlines()[-1]


def test_truncation_is_found_given_an_earlier_checkpoint(audit_log: Log) -> None:
    subprocess.run(
        [
            "git",
            "-C",
            str(audit_log.repo),
            "update-ref",
            "refs/heads/changebot/audit",
            "changebot/audit~3",
        ],
        check=True,
    )

    assert run_verify(audit_log)[0] == 0
    code, output = run_verify(audit_log, "--since", str(audit_log.since))

    assert code == 1, output
    assert "entry 9: truncated: the log has 9 entries" in output


def test_a_fork_rebuilt_with_the_real_key_is_found_given_an_earlier_checkpoint(
    audit_log: Log,
) -> None:
    forked = _build(audit_log.tmp, audit_log.key, ENTRIES + 2, tag="-fork")
    git = ["git", "-C", str(audit_log.repo)]
    subprocess.run([*git, "fetch", "-q", str(forked), "changebot/audit"], check=True)
    subprocess.run(
        [*git, "update-ref", "refs/heads/changebot/audit", "FETCH_HEAD"], check=True
    )

    assert run_verify(audit_log)[0] == 0
    code, output = run_verify(audit_log, "--since", str(audit_log.since))

    assert code == 1, output
    assert "entry 11: entries 0..11 no longer hash to the root" in output


def test_json_output_lists_findings_with_their_entry(audit_log: Log) -> None:
    delete_entry(audit_log)
    audit_log.commit()

    code, output = run_verify(audit_log, "--json")
    report = json.loads(output)

    assert code == 1
    assert report["exit_code"] == 1
    assert {"index": 5, "path": None, "message": "missing"} in report["findings"]


def test_a_missing_branch_or_key_cannot_be_verified(
    audit_log: Log, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    subprocess.run(["git", "init", "-q", str(empty)], check=True)
    args = ["audit", "verify", "--trusted-key", str(audit_log.pub)]

    missing_branch = CliRunner().invoke(main, [*args, "--repo", str(empty)])
    bad_key = CliRunner().invoke(
        main,
        [
            "audit",
            "verify",
            "--repo",
            str(audit_log.repo),
            "--trusted-key",
            str(tmp_path / "nope.pub"),
        ],
    )

    assert missing_branch.exit_code == 2
    assert "could not verify" in missing_branch.output
    assert bad_key.exit_code == 2
    assert "could not verify" in bad_key.output


def test_jobs_find_the_same_findings(audit_log: Log) -> None:
    edit_payload(audit_log)
    audit_log.commit()

    one = run_verify(audit_log)
    two = run_verify(audit_log, "--jobs", "2")

    assert one == two
    assert one[0] == 1
