"""The AuditStore contract: what every store of the audit branch must do.

Each test takes a ``store_factory`` fixture: calling it returns a pair
``(store, reopen)`` where ``store`` is a fresh, empty branch and ``reopen()``
returns a second, independent handle on the same branch (as another process
or machine would have). A test package runs the contract against its store
by defining that fixture and importing these tests:

    from contract.store_contract import *  # noqa: F403
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from changebot.audit import AuditLog, SigningKey, verify
from changebot.ports import AuditStore

StoreFactory = Callable[[], tuple[AuditStore, Callable[[], AuditStore]]]

__all__ = [
    "test_store_head_is_none_until_the_first_advance",
    "test_store_write_moves_no_ref",
    "test_store_read_returns_bytes_or_none",
    "test_store_list_names_children",
    "test_store_walk_yields_files_in_path_order",
    "test_store_write_keeps_the_parents_files",
    "test_store_advance_loses_when_the_branch_moved",
    "test_store_advance_refuses_a_commit_that_does_not_descend",
    "test_store_second_handle_sees_the_first_ones_appends",
    "test_store_idempotent_appends_racing_from_threads_add_one_entry",
    "test_store_racing_appends_lose_and_duplicate_nothing",
]


def test_store_head_is_none_until_the_first_advance(
    store_factory: StoreFactory,
) -> None:
    store, _ = store_factory()
    assert store.head() is None

    commit = store.write(None, {"a": b"1"}, "first")
    assert store.head() is None

    assert store.advance(None, commit) is True
    assert store.head() == commit


def test_store_write_moves_no_ref(store_factory: StoreFactory) -> None:
    store, _ = store_factory()
    first = store.write(None, {"a": b"1"}, "first")
    store.advance(None, first)

    store.write(first, {"b": b"2"}, "second")

    assert store.head() == first


def test_store_read_returns_bytes_or_none(store_factory: StoreFactory) -> None:
    store, _ = store_factory()
    commit = store.write(None, {"dir/file.json": b"{}\n", "top": b"\x00\xff"}, "m")

    assert store.read(commit, "dir/file.json") == b"{}\n"
    assert store.read(commit, "top") == b"\x00\xff"
    assert store.read(commit, "dir/absent") is None
    assert store.read(commit, "absent/deeper") is None


def test_store_list_names_children(store_factory: StoreFactory) -> None:
    store, _ = store_factory()
    commit = store.write(
        None, {"e/1/10.json": b"a", "e/1/2.json": b"b", "e/3": b"c"}, "m"
    )

    assert sorted(store.list(commit, "e")) == ["1", "3"]
    assert sorted(store.list(commit, "e/1")) == ["10.json", "2.json"]
    assert sorted(store.list(commit, "")) == ["e"]
    assert store.list(commit, "nowhere") == []


def test_store_walk_yields_files_in_path_order(store_factory: StoreFactory) -> None:
    store, _ = store_factory()
    files = {f"k/{i:02x}/{i}": str(i).encode() for i in range(40)}
    commit = store.write(None, {**files, "other": b"x"}, "m")

    walked = list(store.walk(commit, "k"))

    assert walked == sorted(files.items())
    assert list(store.walk(commit, "nowhere")) == []


def test_store_write_keeps_the_parents_files(store_factory: StoreFactory) -> None:
    store, _ = store_factory()
    first = store.write(None, {"a/1": b"1", "b": b"2"}, "first")

    second = store.write(first, {"a/2": b"3", "b": b"changed"}, "second")

    assert dict(store.walk(second, "")) == {"a/1": b"1", "a/2": b"3", "b": b"changed"}
    assert dict(store.walk(first, "")) == {"a/1": b"1", "b": b"2"}


def test_store_advance_loses_when_the_branch_moved(store_factory: StoreFactory) -> None:
    store, reopen = store_factory()
    base = store.write(None, {"a": b"1"}, "base")
    store.advance(None, base)
    other = reopen()
    mine = store.write(base, {"b": b"mine"}, "mine")
    theirs = other.write(base, {"b": b"theirs"}, "theirs")

    assert other.advance(base, theirs) is True
    assert store.advance(base, mine) is False
    assert store.head() == theirs
    assert store.advance(None, mine) is False


def test_store_advance_refuses_a_commit_that_does_not_descend(
    store_factory: StoreFactory,
) -> None:
    store, _ = store_factory()
    base = store.write(None, {"a": b"1"}, "base")
    store.advance(None, base)
    orphan = store.write(None, {"a": b"rewritten"}, "orphan")

    try:
        moved = store.advance(base, orphan)
    except Exception:  # noqa: BLE001 -- refusing by raising is allowed too
        moved = False

    assert moved is False
    assert store.head() == base


def test_store_second_handle_sees_the_first_ones_appends(
    store_factory: StoreFactory,
) -> None:
    store, reopen = store_factory()
    key = SigningKey.generate("contract")
    AuditLog(store, key).append("access", "o/r", {}, "one")

    other = AuditLog(reopen(), key)

    assert other.find("one") == 0
    assert other.append("access", "o/r", {}, "two").index == 1


def test_store_idempotent_appends_racing_from_threads_add_one_entry(
    store_factory: StoreFactory,
) -> None:
    store, reopen = store_factory()
    key = SigningKey.generate("contract")
    AuditLog(store, key).append("access", "o/r", {}, "seed")
    results: list[Any] = []
    start = threading.Barrier(4)

    def racer() -> None:
        log = AuditLog(reopen(), key)
        start.wait()
        results.append(log.append("access", "o/r", {"details": {}}, "same-key"))

    _run_threads(racer, 4)

    assert sorted(r.index for r in results) == [1, 1, 1, 1]
    assert sum(r.created for r in results) == 1
    assert AuditLog(store, key).size() == 2


def test_store_racing_appends_lose_and_duplicate_nothing(
    store_factory: StoreFactory,
) -> None:
    store, reopen = store_factory()
    key = SigningKey.generate("contract")

    def writer(name: str) -> None:
        log = AuditLog(reopen(), key)
        for i in range(10):
            log.append("access", "o/r", {"actor": name}, f"{name}-{i}")

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    log = AuditLog(store, key)
    keys = [entry["idempotency_key"] for entry in log.entries()]
    assert [entry["index"] for entry in log.entries()] == list(range(30))
    assert sorted(keys) == sorted(f"w{n}-{i}" for n in range(3) for i in range(10))
    assert verify(store, [key.public]).ok


def _run_threads(target: Callable[[], None], count: int) -> None:
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
