"""Refreshing the index from a branch: what it reads, what it checks, rotations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path

from browser_logs import change, signed_log

from changebot.adapters.git import GitStore
from changebot.audit.log import AuditLog
from changebot.audit.signing import SigningKey
from changebot.index import Filter, Indexer, Search
from changebot.index.check import tail_findings
from changebot.index.refresh import refresh

DAILY = timedelta(hours=24)


class Counted:
    """A real store that counts the calls made to it."""

    def __init__(self, store: GitStore) -> None:
        self.store = store
        self.origin = store.origin
        self.calls: Counter[str] = Counter()

    def head(self) -> str | None:
        self.calls["head"] += 1
        return self.store.head()

    def read(self, commit: str, path: str) -> bytes | None:
        self.calls["read"] += 1
        return self.store.read(commit, path)

    def list(self, commit: str, path: str) -> list[str]:
        self.calls["list"] += 1
        return self.store.list(commit, path)

    def walk(self, commit: str, path: str) -> Iterator[tuple[str, bytes]]:
        self.calls["walk"] += 1
        return self.store.walk(commit, path)

    def write(
        self, parent: str | None, changes: Mapping[str, bytes], message: str
    ) -> str:
        return self.store.write(parent, changes, message)

    def advance(self, old: str | None, new: str) -> bool:
        return self.store.advance(old, new)


def test_an_unmoved_branch_costs_one_ref_read(tmp_path: Path) -> None:
    store, log = signed_log(tmp_path / "audit")
    change(log, "acme/app", 1)
    indexer = Indexer(tmp_path / "index.sqlite3")
    counted = Counted(store)
    first = refresh(
        indexer, "acme/audit", counted, [log.signer.public], full_every=DAILY
    )
    counted.calls.clear()

    again = refresh(
        indexer, "acme/audit", counted, [log.signer.public], full_every=DAILY
    )

    assert dict(counted.calls) == {"head": 1}
    assert again == first


def test_new_entries_are_checked_without_reading_the_whole_branch(
    tmp_path: Path,
) -> None:
    store, log = signed_log(tmp_path / "audit")
    for number in range(1, 4):
        change(log, "acme/app", number)
    indexer = Indexer(tmp_path / "index.sqlite3")
    counted = Counted(store)
    first = refresh(
        indexer, "acme/audit", counted, [log.signer.public], full_every=DAILY
    )
    change(log, "acme/app", 4)
    counted.calls.clear()

    second = refresh(
        indexer, "acme/audit", counted, [log.signer.public], full_every=DAILY
    )

    assert second.ok and second.size == 4
    assert second.full_at == first.full_at
    assert counted.calls["walk"] == 0


def test_a_new_entry_signed_by_an_unknown_key_fails(tmp_path: Path) -> None:
    store, log = signed_log(tmp_path / "audit")
    change(log, "acme/app", 1)
    trusted = [log.signer.public]
    indexer = Indexer(tmp_path / "index.sqlite3")
    refresh(indexer, "acme/audit", store, trusted, full_every=DAILY)

    intruder = AuditLog(store, SigningKey.generate())
    change(intruder, "acme/app", 2)
    result = refresh(indexer, "acme/audit", store, trusted, full_every=DAILY)

    assert not result.ok
    assert any(f.index == 1 and "trusted" in f.message for f in result.findings)


def test_rotations_are_followed_and_shown_to_readers_of_the_log(
    tmp_path: Path,
) -> None:
    store, log = signed_log(tmp_path / "audit")
    first_key = log.signer.public
    change(log, "acme/app", 1)
    change(log, "acme/secret", 2)
    indexer = Indexer(tmp_path / "index.sqlite3")
    refresh(indexer, "acme/audit", store, [first_key], full_every=DAILY)

    rotation = log.rotate(SigningKey.generate()).index
    change(log, "acme/app", 3)
    result = refresh(indexer, "acme/audit", store, [first_key], full_every=DAILY)
    assert result.ok, result.findings
    assert result.size == 4

    search = Search(indexer.path)
    reader = frozenset({"acme/app"})
    keys = search.page(reader, Filter(kind="key")).records
    assert [r.index for r in keys] == [rotation]
    assert search.entry(reader, "acme/audit", rotation) is not None
    assert "key" in search.choices(reader)["kind"]
    assert rotation in [r.index for r in search.page(reader, Filter()).records]

    outsider = frozenset({"other/repo"})
    assert search.page(outsider, Filter(kind="key")).records == []
    assert search.entry(outsider, "acme/audit", rotation) is None
    assert "key" not in search.choices(outsider)["kind"]


def test_an_append_that_breaks_the_derived_files_fails(tmp_path: Path) -> None:
    store, log = signed_log(tmp_path / "audit")
    change(log, "acme/app", 1)
    trusted = [log.signer.public]
    indexer = Indexer(tmp_path / "index.sqlite3")
    refresh(indexer, "acme/audit", store, trusted, full_every=DAILY)
    before = store.head()
    assert before is not None
    stale = store.read(before, "compact-range")
    assert stale is not None
    change(log, "acme/app", 2)
    head = store.head()
    assert head is not None
    broken = store.write(head, {"compact-range": stale}, "keep the old range")
    assert store.advance(head, broken)
    indexer.update("acme/audit", store)
    found = tail_findings(indexer.path, "acme/audit", trusted, 1, store)
    assert [f.message for f in found] == ["compact-range: does not match the entries"]

    result = refresh(indexer, "acme/audit", store, trusted, full_every=DAILY)

    assert not result.ok
    assert any("compact-range" in f.message for f in result.findings)


def test_a_checked_append_reads_few_files(tmp_path: Path) -> None:
    store, log = signed_log(tmp_path / "audit")
    for number in range(1, 6):
        change(log, "acme/app", number)
    indexer = Indexer(tmp_path / "index.sqlite3")
    counted = Counted(store)
    refresh(indexer, "acme/audit", counted, [log.signer.public], full_every=DAILY)
    change(log, "acme/app", 6)
    counted.calls.clear()

    result = refresh(
        indexer, "acme/audit", counted, [log.signer.public], full_every=DAILY
    )

    assert result.ok and result.size == 6
    # NOTE: the new entry, the checkpoint, compact-range, the new entry's
    # idempotency file, and the last indexed entry to see it is unchanged.
    assert counted.calls["read"] == 5
