"""The entry cache answers what the branch holds, and a bad cache is only a miss."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, SigningKey, layout
from changebot.audit.cache import HEADER
from changebot.audit.envelope import PAYLOAD_TYPE, seal
from changebot.errors import AuditError


class CountingStore(GitStore):
    """A GitStore that counts the entry files it reads from git."""

    read_count = 0

    def read_blobs(self, files: Iterable[tuple[str, str]]) -> Iterator[bytes]:
        listed = list(files)
        self.read_count += len(listed)
        yield from super().read_blobs(listed)


@pytest.fixture
def counting(repo: Path) -> CountingStore:
    return CountingStore(repo, origin="example.test/acme/infra@changebot/audit")


def fill(audit: AuditLog, count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        audit.append("change", "acme/infra", {"pr": {"number": n}}, f"change:{n}")


def shard_file(store: GitStore, shard: int = 0) -> Path:
    directory = store.cache_dir()
    assert directory is not None
    return directory / f"{shard}.lines"


def truth(store: GitStore) -> list[dict[str, Any]]:
    """Return the entries as decoded from git, with no cache at all."""
    plain = AuditLog(NoCache(store.path), SigningKey.generate("reader"))
    return list(plain.entries())


class NoCache(GitStore):
    """A GitStore that offers no cache."""

    def cache_dir(self) -> Path | None:
        return None


def test_the_cache_lives_in_the_git_directory(store: GitStore, repo: Path) -> None:
    directory = store.cache_dir()

    assert directory is not None
    assert directory.is_relative_to(repo / ".git")


def test_a_second_read_decodes_nothing_from_git(
    counting: CountingStore, key: SigningKey
) -> None:
    audit = AuditLog(counting, key)
    fill(audit, 5)

    first = list(audit.entries())
    read_then = counting.read_count
    second = list(audit.entries())

    assert read_then == 5
    assert counting.read_count == read_then
    assert second == first == truth(counting)


def test_new_entries_are_read_from_git_and_kept(
    counting: CountingStore, key: SigningKey
) -> None:
    audit = AuditLog(counting, key)
    fill(audit, 3)
    list(audit.entries())

    fill(audit, 2, start=3)
    entries = list(audit.entries())
    list(audit.entries())

    assert [e["index"] for e in entries] == [0, 1, 2, 3, 4]
    assert counting.read_count == 3 + 2
    assert entries == truth(counting)


def test_entries_from_a_start_skip_earlier_ones(
    store: GitStore, key: SigningKey
) -> None:
    audit = AuditLog(store, key)
    fill(audit, 4)
    list(audit.entries())

    assert [e["index"] for e in audit.entries(2)] == [2, 3]


def test_an_edited_entry_is_read_as_the_branch_holds_it(
    store: GitStore, key: SigningKey
) -> None:
    audit = AuditLog(store, key)
    fill(audit, 3)
    list(audit.entries())

    head = store.head()
    assert head is not None
    forged = b'{"index":1,"kind":"change","repo":"acme/infra","forged":true}'
    edit = {layout.entry_path(1): seal(forged, [key]).encode()}
    assert store.advance(head, store.write(head, edit, "edit entry 1"))

    entries = list(audit.entries())

    assert entries[1] == {
        "index": 1,
        "kind": "change",
        "repo": "acme/infra",
        "forged": True,
    }
    assert entries == truth(store)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x00\xff garbage \x80",
        b"not the header\n",
        HEADER,
        HEADER + b"\n" + b"x" * 100_000,
        HEADER + b"\nonly-an-id\n",
        HEADER + b"\n%(oid)s {not json\n",
        HEADER + b"\n%(oid)s [1,2,3]\n",
        HEADER + b"\n%(oid)s " + b"[" * 100_000 + b"\n",
        HEADER + b'\n%(oid)s {"index":7,"kind":"change"}\n',
        HEADER + b'\n%(oid)s {"index":0,"kind":"change"',
    ],
    ids=[
        "empty",
        "binary",
        "foreign",
        "header-only",
        "endless-line",
        "no-payload",
        "bad-json",
        "no-object",
        "deep-nesting",
        "wrong-index",
        "torn-line",
    ],
)
def test_a_bad_cache_file_is_a_miss(
    store: GitStore, key: SigningKey, content: bytes
) -> None:
    audit = AuditLog(store, key)
    fill(audit, 3)
    oid = store.blob_ids(str(store.head()), "entries/0")[0][1]
    path = shard_file(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.replace(b"%(oid)s", oid.encode()))

    entries = list(audit.entries())

    assert entries == truth(store)
    assert list(audit.entries()) == entries


@pytest.mark.parametrize("kind", ["directory", "fifo", "symlink"])
def test_a_cache_path_that_is_no_file_is_a_miss(
    store: GitStore, key: SigningKey, tmp_path: Path, kind: str
) -> None:
    audit = AuditLog(store, key)
    fill(audit, 2)
    path = shard_file(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    target = tmp_path / "elsewhere"
    target.write_bytes(b"untouched")
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(target)

    assert list(audit.entries()) == truth(store)
    assert list(audit.entries()) == truth(store)
    assert target.read_bytes() == b"untouched"


def test_a_cache_directory_that_cannot_be_made_is_no_cache(
    store: GitStore, key: SigningKey
) -> None:
    audit = AuditLog(store, key)
    fill(audit, 2)
    directory = store.cache_dir()
    assert directory is not None
    directory.parent.mkdir(parents=True, exist_ok=True)
    directory.write_bytes(b"a file where the directory would be")

    assert list(audit.entries()) == truth(store)


def test_an_entry_that_does_not_decode_still_fails(
    store: GitStore, key: SigningKey
) -> None:
    audit = AuditLog(store, key)
    fill(audit, 3)
    list(audit.entries())
    head = str(store.head())
    broken = {layout.entry_path(2): b"not an envelope"}
    assert store.advance(head, store.write(head, broken, "break entry 2"))

    read = audit.entries()

    assert [next(read)["index"], next(read)["index"]] == [0, 1]
    with pytest.raises(AuditError, match="not a DSSE envelope"):
        next(read)


def envelope_of(payload: str, *signatures: dict[str, Any]) -> dict[str, Any]:
    return {"payloadType": PAYLOAD_TYPE, "payload": payload, "signatures": signatures}


@pytest.mark.parametrize(
    "stored",
    [
        {**envelope_of("e30="), "payloadType": "text/plain"},
        envelope_of("e30=", {"sig": 1}),
        envelope_of("e30=", {"keyid": "k", "sig": "!"}),
        envelope_of("WzFd"),
        envelope_of("e30"),
    ],
    ids=["payload type", "signature", "signature base64", "not an object", "base64"],
)
def test_a_file_that_is_no_entry_fails_as_without_a_cache(
    store: GitStore, key: SigningKey, stored: dict[str, Any]
) -> None:
    audit = AuditLog(store, key)
    fill(audit, 2)
    head = str(store.head())
    broken = {layout.entry_path(1): json.dumps(stored).encode()}
    assert store.advance(head, store.write(head, broken, "break entry 1"))
    with pytest.raises(AuditError) as plain:
        truth(store)

    with pytest.raises(AuditError) as cached:
        list(audit.entries())

    assert str(cached.value) == str(plain.value)


def test_a_long_cache_file_is_rewritten_with_the_lines_still_wanted(
    store: GitStore, key: SigningKey
) -> None:
    audit = AuditLog(store, key)
    fill(audit, 2)
    list(audit.entries())
    path = shard_file(store)
    stale = b"".join(b"%040x {}\n" % n for n in range(2 * layout.SHARD_SIZE + 1))
    with path.open("ab") as file:
        file.write(stale)

    entries = list(audit.entries())

    assert entries == truth(store)
    assert len(path.read_bytes().split(b"\n")) == 1 + 2 + 1


def test_a_kept_entry_reads_as_json_reads_it_however_odd(
    counting: CountingStore, key: SigningKey
) -> None:
    audit = AuditLog(counting, key)
    fill(audit, 2)
    head = str(counting.head())
    odd = b'{"index":1,"big":123456789012345678901234567890,"x":1,"x":"\\ud800"}'
    edit = {layout.entry_path(1): seal(odd, [key]).encode()}
    assert counting.advance(head, counting.write(head, edit, "odd entry 1"))

    cold = list(audit.entries())
    read_then = counting.read_count
    warm = list(audit.entries())

    assert counting.read_count == read_then
    assert warm == cold == truth(counting)
    assert warm[1] == {"index": 1, "big": 123456789012345678901234567890, "x": "\ud800"}
    assert isinstance(warm[1]["big"], int)
