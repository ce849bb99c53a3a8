"""Tampering anywhere in a long log is found, and named, as in a short one.

An intact run of entries is checked together; one that is not is checked
entry by entry. These tests tamper at the edges of those runs and in the
middle of one, in a log of several runs, and expect the findings to name
the entry tampered with, and to be those of checking every entry alone.
"""

from __future__ import annotations

import base64
import importlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, Request, SigningKey, verify
from changebot.audit.envelope import seal

verify_module = importlib.import_module("changebot.audit.verify")

ENTRIES = 150
RUN = verify_module._RUN
#: The first entry, the last of a run and the first of the next, one inside
#: a run, the last entry.
PLACES = [0, 2 * RUN - 1, 2 * RUN, 2 * RUN + RUN // 2, ENTRIES - 1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SigningKey]:
    key = SigningKey.generate("audit-test")
    repo = tmp_path_factory.mktemp("long") / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    log = AuditLog(GitStore(repo), key)
    log.append_many(
        [
            Request("access", "acme/infra", {"actor": f"dev{i}"}, f"event-{i}")
            for i in range(ENTRIES)
        ]
    )
    return repo, key


@pytest.fixture
def work(built: tuple[Path, SigningKey], tmp_path: Path) -> Path:
    """A copy of the log checked out in a worktree, as an attacker would."""
    repo = tmp_path / "repo"
    shutil.copytree(built[0], repo)
    work = tmp_path / "work"
    git(repo, "worktree", "add", "-q", str(work), "changebot/audit")
    return work


def git(path: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True)


def entry(work: Path, index: int) -> Path:
    return work / "entries" / "0" / f"{index}.json"


def edit_payload(work: Path, index: int) -> None:
    envelope = json.loads(entry(work, index).read_bytes())
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["actor"] = "someone-else"
    envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    entry(work, index).write_text(json.dumps(envelope))


def resign_payload(work: Path, index: int) -> None:
    envelope = json.loads(entry(work, index).read_bytes())
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["actor"] = "someone-else"
    forged = seal(json.dumps(payload).encode(), [SigningKey.generate("mallory")])
    entry(work, index).write_bytes(forged.encode())


def unknown_kind(work: Path, index: int) -> None:
    envelope = json.loads(entry(work, index).read_bytes())
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["kind"] = ["change"]
    envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    entry(work, index).write_text(json.dumps(envelope))


def huge_index(work: Path, index: int) -> None:
    envelope = json.loads(entry(work, index).read_bytes())
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["index"] = 2**70 + index
    envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    entry(work, index).write_text(json.dumps(envelope))


def delete(work: Path, index: int) -> None:
    entry(work, index).unlink()


CASES: list[tuple[Callable[[Path, int], None], str]] = [
    (edit_payload, "signature of key"),
    (resign_payload, "not signed by a trusted key"),
    (unknown_kind, "malformed: unknown kind"),
    (huge_index, "the entry says it is entry 11805916207174113"),
    (delete, "missing"),
]


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize(
    ("tamper", "finding"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_tampering_in_a_long_log_names_the_entry(
    built: tuple[Path, SigningKey],
    work: Path,
    tamper: Callable[[Path, int], None],
    finding: str,
    place: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tamper(work, place)
    git(work, "add", "-A")
    git(work, "-c", "user.name=m", "-c", "user.email=m@x.test", "commit", "-qm", "x")

    report = verify(GitStore(work), [built[1].public])
    monkeypatch.setattr(verify_module, "decode_run", lambda files: None)
    alone = verify(GitStore(work), [built[1].public])

    if tamper is delete and place == ENTRIES - 1:
        # NOTE: nothing follows the last entry to show the gap: the log is
        # one shorter than its checkpoint says.
        place, finding = place - 1, f"the checkpoint says the log has {ENTRIES}"
    assert not report.ok
    assert any(f.index == place and finding in f.message for f in report.findings), (
        report.findings
    )
    assert report.findings == alone.findings
    assert report.size == ENTRIES - (tamper is delete)


def test_an_intact_long_log_verifies(built: tuple[Path, SigningKey]) -> None:
    report = verify(GitStore(built[0]), [built[1].public])

    assert report.ok, report.findings
    assert report.size == ENTRIES
