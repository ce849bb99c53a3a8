"""A full shard's payloads file: written when the shard fills, read, verified.

The shards are made 4 entries wide here, so that a small log fills several;
the format is otherwise the real one, on real git repositories.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, Request, SigningKey, layout, verify
from changebot.audit.reader import decode_entry
from changebot.errors import ForgeError

from .branch import tamper

WIDTH = 4


@pytest.fixture(autouse=True)
def narrow_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout, "SHARD_SIZE", WIDTH)


def request(i: int) -> Request:
    return Request("access", "acme/infra", {"actor": f"dev{i}"}, f"k{i}")


def one_by_one(repo: Path, key: SigningKey, count: int) -> AuditLog:
    log = AuditLog(GitStore(repo), key)
    for i in range(count):
        log.append_many([request(i)])
    return log


def payloads(store: GitStore, indices: Iterable[int]) -> bytes:
    """The payloads of ``indices`` as the entry files hold them, a line each."""
    head = store.head()
    assert head is not None
    found = []
    for i in indices:
        data = store.read(head, layout.entry_path(i))
        assert data is not None
        found.append(decode_entry(data)[0].payload + b"\n")
    return b"".join(found)


def test_a_shard_gets_its_payloads_file_when_its_last_entry_is_appended(
    repo: Path, key: SigningKey
) -> None:
    log = one_by_one(repo, key, 2 * WIDTH + 1)
    store = GitStore(repo)
    head = store.head()
    assert head is not None

    assert store.list(head, layout.PAYLOADS) == ["0.jsonl", "1.jsonl"]
    assert store.read(head, "payloads/0.jsonl") == payloads(store, range(WIDTH))
    assert store.read(head, "payloads/1.jsonl") == payloads(
        store, range(WIDTH, 2 * WIDTH)
    )
    assert verify(store, [key.public]).ok
    assert [e["actor"] for e in log.entries()] == [
        f"dev{i}" for i in range(2 * WIDTH + 1)
    ]


def test_one_append_that_fills_shards_writes_each_file(
    repo: Path, key: SigningKey
) -> None:
    log = AuditLog(GitStore(repo), key)
    log.append_many([request(i) for i in range(2)])
    log.append_many([request(i) for i in range(2, 3 * WIDTH - 1)])
    store = GitStore(repo)

    assert store.list(store.head() or "", layout.PAYLOADS) == ["0.jsonl", "1.jsonl"]
    assert verify(store, [key.public]).ok


class Flaky(GitStore):
    """A GitStore whose shard listings fail while ``down`` is set."""

    down = False

    def walk(self, commit: str, path: str) -> Iterator[tuple[str, bytes]]:
        if self.down:
            raise ForgeError("GitHub answered 502", hint="retry later")
        return super().walk(commit, path)


def test_a_shard_that_cannot_be_read_back_loses_its_file_not_its_entry(
    repo: Path, key: SigningKey
) -> None:
    store = Flaky(repo)
    log = AuditLog(store, key)
    for i in range(WIDTH - 1):
        log.append_many([request(i)])
    store.down = True

    appended = log.append("access", "acme/infra", {"actor": "last"}, "last")
    store.down = False

    assert appended.index == WIDTH - 1
    assert store.list(store.head() or "", layout.PAYLOADS) == []
    assert verify(store, [key.public]).ok
    assert [e["actor"] for e in log.entries()][-1] == "last"


class Unfiled(AuditLog):
    """A log written as before shards had payloads files."""

    def _payload_lines(self, draft: object, shard: int) -> None:
        return None


class ApiLike(GitStore):
    """A GitStore seen as a store that reads a file a call (no bulk reads)."""

    def __getattribute__(self, name: str) -> object:
        if name in ("cache_dir", "blob_ids", "read_blobs"):
            raise AttributeError(name)
        return super().__getattribute__(name)


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        # From a clone, every earlier shard gets its file; through the API,
        # the oldest one.
        (GitStore, ["0.jsonl", "1.jsonl", "2.jsonl"]),
        (ApiLike, ["0.jsonl", "2.jsonl"]),
    ],
)
def test_shards_filled_before_payloads_files_get_theirs_with_a_later_fill(
    repo: Path, key: SigningKey, store: type[GitStore], expected: list[str]
) -> None:
    old = Unfiled(GitStore(repo), key)
    old.append_many([request(i) for i in range(2 * WIDTH + 1)])
    log = AuditLog(store(repo), key)
    for i in range(2 * WIDTH + 1, 3 * WIDTH - 1):
        log.append_many([request(i)])
    reader = GitStore(repo)
    assert reader.list(reader.head() or "", layout.PAYLOADS) == []

    log.append_many([request(3 * WIDTH - 1)])

    assert reader.list(reader.head() or "", layout.PAYLOADS) == expected
    assert verify(reader, [key.public]).ok


class Counting(GitStore):
    """A GitStore that counts the entry files it reads in bulk."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.blobs = 0

    def read_blobs(self, files: Iterable[tuple[str, str]]) -> Iterator[bytes]:
        for data in super().read_blobs(files):
            self.blobs += 1
            yield data


def test_readers_take_a_full_shard_from_its_payloads_file(
    repo: Path, key: SigningKey
) -> None:
    one_by_one(repo, key, 2 * WIDTH + 1)
    store = Counting(repo)
    log = AuditLog(store, key)

    entries = list(log.entries())

    assert [e["index"] for e in entries] == list(range(2 * WIDTH + 1))
    assert store.blobs == 1, "only the open shard's entry is read from git"


def edit_line(work: Path) -> None:
    path = work / "payloads" / "1.jsonl"
    path.write_bytes(path.read_bytes().replace(b'"dev6"', b'"eve6"'))


def drop_last_line(work: Path) -> None:
    path = work / "payloads" / "1.jsonl"
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:-1]))


def add_line(work: Path) -> None:
    path = work / "payloads" / "1.jsonl"
    path.write_bytes(path.read_bytes() + b'{"index":8}\n')


def swap_lines(work: Path) -> None:
    path = work / "payloads" / "1.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join([lines[1], lines[0], *lines[2:]]))


def open_shard(work: Path) -> None:
    (work / "payloads" / "2.jsonl").write_bytes(b"")


def no_shard(work: Path) -> None:
    (work / "payloads" / "7.jsonl").write_bytes(b"")


def misnamed(work: Path) -> None:
    (work / "payloads" / "01.jsonl").write_bytes(b"")


@pytest.mark.parametrize(
    ("change", "index", "message", "path"),
    [
        (edit_line, 6, "does not match its line", "payloads/1.jsonl"),
        (swap_lines, 4, "does not match its line", "payloads/1.jsonl"),
        (drop_last_line, 7, "does not match its line", "payloads/1.jsonl"),
        (add_line, None, "does not hold the shard's payloads", "payloads/1.jsonl"),
        (open_shard, 8, "does not match its line", "payloads/2.jsonl"),
        (no_shard, None, "stray file", "payloads/7.jsonl"),
        (misnamed, None, "stray file", "payloads/01.jsonl"),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_verify_finds_a_payloads_file_that_differs_from_the_entries(
    repo: Path,
    key: SigningKey,
    tmp_path: Path,
    change: Callable[[Path], None],
    index: int | None,
    message: str,
    path: str,
) -> None:
    one_by_one(repo, key, 2 * WIDTH + 1)
    tamper(repo, tmp_path / "work", change)

    for jobs in (1, 2):
        report = verify(GitStore(repo), [key.public], jobs=jobs)

        assert not report.ok
        assert [(f.index, f.path) for f in report.findings] == [(index, path)]
        assert message in report.findings[0].message


def test_an_edited_entry_no_longer_matches_its_line(
    repo: Path, key: SigningKey, tmp_path: Path
) -> None:
    one_by_one(repo, key, 2 * WIDTH + 1)

    def entry_edited(work: Path) -> None:
        # Another entry's file in its place: well formed and signed.
        source = (work / "entries" / "1" / "5.json").read_bytes()
        (work / "entries" / "1" / "6.json").write_bytes(source)

    tamper(repo, tmp_path / "work", entry_edited)
    report = verify(GitStore(repo), [key.public])

    found = [(f.index, f.message) for f in report.findings]
    assert (6, "does not match its line of the payloads file") in found


def test_readers_read_the_entry_files_when_a_line_is_not_the_entry(
    repo: Path, key: SigningKey, tmp_path: Path
) -> None:
    one_by_one(repo, key, 2 * WIDTH + 1)
    tamper(repo, tmp_path / "work", swap_lines)
    store = Counting(repo)

    entries = list(AuditLog(store, key).entries())

    assert [e["index"] for e in entries] == list(range(2 * WIDTH + 1))
    assert [e["actor"] for e in entries] == [f"dev{i}" for i in range(2 * WIDTH + 1)]
    assert store.blobs == 3, "the two swapped lines and the open shard's entry"


@pytest.mark.parametrize("name", ["payloads", "keys", "idempotency", "entries"])
def test_a_file_in_place_of_a_directory_is_a_finding(
    repo: Path, key: SigningKey, tmp_path: Path, name: str
) -> None:
    one_by_one(repo, key, WIDTH - 1)

    def replace_directory(work: Path) -> None:
        target = work / name
        shutil.rmtree(target, ignore_errors=True)
        target.write_bytes(b"not a directory\n")

    tamper(repo, tmp_path / "work", replace_directory)
    report = verify(GitStore(repo), [key.public])

    assert not report.ok
    assert (None, name) in [(f.index, f.path) for f in report.findings]
