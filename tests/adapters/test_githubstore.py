"""The git-data audit store passes the AuditStore contract on the simulator.

Each handle gets an adapter of its own (its own caches and token), as a
second process or machine would have.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from contract.store_contract import *  # noqa: F403

from changebot.adapters.github import GitHubForge
from changebot.adapters.githubcache import ShaCache
from changebot.adapters.githubstore import GitDataStore
from changebot.audit import AuditLog, SigningKey, layout, verify

REPO = "acme/audit"


@pytest.fixture
def store_factory(simulator: Any) -> Callable[[], tuple[Any, Any]]:
    created = simulator.client("admin").post(
        "/orgs/acme/repos", json={"name": "audit", "auto_init": True}
    )
    assert created.status_code == 201, created.text
    app = simulator.app
    branches = itertools.count()

    def handle(branch: str) -> GitDataStore:
        forge = GitHubForge.for_app(
            app_id=app["id"],
            private_key=app["private_key"],
            base_url=simulator.base_url,
        )
        return GitDataStore(forge, REPO, branch)

    def make() -> tuple[GitDataStore, Callable[[], GitDataStore]]:
        branch = f"changebot/audit-{next(branches)}"
        return handle(branch), lambda: handle(branch)

    return make


def test_origin_names_host_repository_and_branch(store_factory):
    store, _ = store_factory()

    host = store.origin.split("/", 1)[0]
    assert store.origin == f"{host}/{REPO}@changebot/audit-0"
    assert host.startswith("127.0.0.1:")


def counted_forge(simulator: Any) -> tuple[GitHubForge, list[tuple[Any, ...]]]:
    """An App's forge on a fresh repository, and the calls it makes."""
    calls: list[tuple[Any, ...]] = []
    simulator.client("admin").post("/orgs/acme/repos", json={"name": "audit"})
    app = simulator.app
    forge = GitHubForge.for_app(
        app_id=app["id"],
        private_key=app["private_key"],
        base_url=simulator.base_url,
        on_response=lambda *call: calls.append(call),
    )
    return forge, calls


def test_an_append_costs_the_same_calls_however_long_the_log(simulator):
    forge, calls = counted_forge(simulator)
    store = GitDataStore(forge, REPO)
    head = None
    costs = []
    for index in range(12):
        calls.clear()
        shard = f"entries/{index // 5}/{index}.json"
        commit = store.write(
            head, {shard: b"{}", "checkpoint": str(index).encode()}, "m"
        )
        assert store.advance(head, commit)
        head = commit
        costs.append(len(calls))

    # two blobs, one tree, one commit, one ref move
    assert set(costs[1:]) == {5}


def test_full_shards_are_written_and_read_through_their_payloads_files(
    simulator, monkeypatch
):
    monkeypatch.setattr(layout, "SHARD_SIZE", 4)
    forge, calls = counted_forge(simulator)
    key = SigningKey.generate("api")
    log = AuditLog(GitDataStore(forge, REPO), key)
    for i in range(9):
        log.append("access", REPO, {"actor": f"dev{i}"}, f"k{i}")

    # A reader with caches of its own, as another worker would be.
    store = GitDataStore(forge, REPO)
    head = store.head()
    assert store.list(head, layout.PAYLOADS) == ["0.jsonl", "1.jsonl"]
    assert verify(store, [key.public]).ok
    calls.clear()
    entries = list(AuditLog(GitDataStore(forge, REPO), key).entries())

    assert [e["actor"] for e in entries] == [f"dev{i}" for i in range(9)]
    blobs = [c for c in calls if "/git/blobs/" in str(c)]
    assert len(blobs) == 1, "only the open shard's one entry is read on its own"


def test_stores_that_share_a_blob_cache_read_each_entry_from_github_once(simulator):
    forge, calls = counted_forge(simulator)
    key = SigningKey.generate("api")
    writer = AuditLog(GitDataStore(forge, REPO), key)
    for i in range(5):
        writer.append("access", REPO, {"actor": f"dev{i}"}, f"k{i}")
    shared: ShaCache[bytes] = ShaCache()

    def read() -> tuple[int, int]:
        """One job of a worker: a store of its own, the process's cache."""
        calls.clear()
        store = GitDataStore(forge, REPO, blobs=shared)
        entries = list(AuditLog(store, key).entries())
        return len(entries), len([c for c in calls if "/git/blobs/" in str(c)])

    assert read() == (5, 5)
    assert read() == (5, 0)
    writer.append("access", REPO, {"actor": "dev5"}, "k5")
    assert read() == (6, 1)
