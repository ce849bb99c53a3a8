"""Verifying in runs of shards, each read by its own process, finds what one does.

The shards are made 4 entries wide here, so that a small log spans several
runs; the format is otherwise the real one, on real git repositories.
"""

from __future__ import annotations

import base64
import json
import pickle
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, Request, SigningKey, layout, verify
from changebot.audit.segments import split

from .branch import tamper

ENTRIES = 14
ORIGIN = "example.test/acme/infra@changebot/audit"


@pytest.fixture(autouse=True)
def narrow_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "SHARD_SIZE", 4)


def build(repo: Path, key: SigningKey, count: int = ENTRIES, tag: str = "") -> AuditLog:
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    log = AuditLog(GitStore(repo, origin=ORIGIN), key)
    log.append_many(
        [
            Request("access", "acme/infra", {"actor": f"dev{i}{tag}"}, f"k{i}{tag}")
            for i in range(count)
        ]
    )
    return log


def entry(work: Path, index: int) -> Path:
    return work / "entries" / str(index // 4) / f"{index}.json"


def delete(index: int) -> Callable[[Path], None]:
    return lambda work: entry(work, index).unlink()


def edit(index: int) -> Callable[[Path], None]:
    def change(work: Path) -> None:
        envelope = json.loads(entry(work, index).read_bytes())
        payload = json.loads(base64.b64decode(envelope["payload"]))
        payload["actor"] = "someone-else"
        envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
        entry(work, index).write_text(json.dumps(envelope))

    return change


def swap(a: int, b: int) -> Callable[[Path], None]:
    def change(work: Path) -> None:
        first, second = entry(work, a).read_bytes(), entry(work, b).read_bytes()
        entry(work, a).write_bytes(second)
        entry(work, b).write_bytes(first)

    return change


def garble(index: int) -> Callable[[Path], None]:
    return lambda work: entry(work, index).write_text("not json\n")


def stray(work: Path) -> None:
    (work / "entries" / "3" / "notes.txt").write_text("hello\n")


def stray_idempotency(work: Path) -> None:
    (work / "idempotency" / "notes.txt").write_text("hello\n")
    (work / "idempotency" / "zz").mkdir()
    (work / "idempotency" / "zz" / "more.txt").write_text("hello\n")


def findings(repo: Path, key: SigningKey, jobs: int, **options: str) -> list[str]:
    report = verify(GitStore(repo), [key.public], jobs=jobs, **options)  # type: ignore[arg-type]
    assert report.error is None
    return [f.line() for f in report.findings]


def test_the_runs_cut_the_shards_in_order() -> None:
    listed = [(n, str(n)) for n in range(5)] + [(None, "odd")]

    runs = split(listed, 3)

    assert runs == [listed[0:2], listed[2:4], listed[4:6]]
    assert split(listed[:1], 4) == [listed[:1]]


@pytest.mark.parametrize(
    ("change", "index"),
    [
        (delete(8), 8),
        (delete(7), 7),
        (edit(8), 8),
        (garble(8), 8),
        (swap(7, 8), 7),
        (swap(3, 12), 3),
        (stray, None),
        (stray_idempotency, None),
    ],
    ids=[
        "first-of-run",
        "last-of-run",
        "edit",
        "garbled-first-of-run",
        "swap-at-cut",
        "swap-far",
        "stray",
        "stray-idempotency",
    ],
)
def test_runs_find_what_one_process_finds(
    tmp_path: Path, change: Callable[[Path], None], index: int | None
) -> None:
    key = SigningKey.generate("t")
    repo = tmp_path / "repo"
    build(repo, key)
    tamper(repo, tmp_path / "work", change)

    one = findings(repo, key, 1)

    assert one, "the tampering is caught"
    assert any(line.startswith(f"entry {index}:") for line in one) or index is None
    assert findings(repo, key, 2) == one
    assert findings(repo, key, 3) == one


def test_an_intact_log_verifies_in_runs(tmp_path: Path) -> None:
    key = SigningKey.generate("t")
    repo = tmp_path / "repo"
    build(repo, key)

    report = verify(GitStore(repo), [key.public], jobs=2)

    assert report.ok
    assert report.size == ENTRIES
    assert report.root == verify(GitStore(repo), [key.public]).root


def test_a_rotation_in_an_earlier_run_is_followed(tmp_path: Path) -> None:
    old, new = SigningKey.generate("old"), SigningKey.generate("new")
    repo = tmp_path / "repo"
    log = build(repo, old, count=3)
    log.rotate(new)
    log.append_many(
        [Request("access", "acme/infra", {"n": i}, f"after{i}") for i in range(10)]
    )

    report = verify(GitStore(repo), [old.public], jobs=2)

    assert report.ok, report.findings
    assert report.keys == [new.keyid]


def test_an_earlier_checkpoint_inside_a_later_run_is_checked(tmp_path: Path) -> None:
    key = SigningKey.generate("t")
    repo, other = tmp_path / "repo", tmp_path / "other"
    build(repo, key, count=10)
    saved = AuditLog(GitStore(repo, origin=ORIGIN), key).checkpoint()
    forked = build(other, key, count=10, tag="-forked").checkpoint()
    AuditLog(GitStore(repo, origin=ORIGIN), key).append_many(
        [Request("access", "acme/infra", {"n": i}, f"more{i}") for i in range(4)]
    )
    assert saved and forked

    grown = verify(GitStore(repo), [key.public], jobs=2, since=saved)
    rewritten = findings(repo, key, 2, since=forked)

    assert grown.ok, grown.findings
    assert rewritten == findings(repo, key, 1, since=forked)
    assert any("no longer hash to the root" in line for line in rewritten)


def test_a_store_pickles_as_its_branch_and_opens_its_own(tmp_path: Path) -> None:
    key = SigningKey.generate("t")
    repo = tmp_path / "repo"
    build(repo, key, count=2)
    store = GitStore(repo, origin=ORIGIN)
    store.read(store.head() or "", layout.CHECKPOINT)

    copy = pickle.loads(pickle.dumps(store))  # noqa: S301 -- bytes pickled here

    assert copy is not store
    assert (copy.head(), copy.origin, copy.branch) == (
        store.head(),
        ORIGIN,
        store.branch,
    )
    assert copy.read(copy.head(), layout.CHECKPOINT) == store.read(
        store.head() or "", layout.CHECKPOINT
    )
