"""The audit index: built from real signed logs, filtered, paged, proven."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from browser_logs import change, deployment, override, signed_log

from changebot.audit import checkpoint, merkle
from changebot.index import Filter, Indexer, Search
from changebot.index.search import proof_holds

APP, SECRET = "acme/app", "acme/secret"
BOTH = frozenset({APP, SECRET})


@pytest.fixture()
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    store, log = signed_log(tmp_path / "audit")
    change(log, APP, 1, areas=["terraform", "k8s"])
    change(log, SECRET, 2, rationale="Why: rotate the <b>vault</b> tokens")
    override(log, APP, 3, "Hotfix for the outage INC-9, reviewers asleep")
    change(log, APP, 3, bypassed=True, override=2)
    deployment(log, APP, "production", [1, 3])
    index = tmp_path / "index.sqlite3"
    Indexer(index).update("acme/audit", store)
    return store, log, index


def test_update_indexes_every_entry_newest_first(world) -> None:
    _, log, index = world
    page = Search(index).page(BOTH, Filter())
    assert [r.index for r in page.records] == [4, 3, 2, 1, 0]
    assert page.records[-1].entry == log.entry(0)


def test_update_reads_only_what_the_branch_gained(world) -> None:
    store, log, index = world
    assert Indexer(index).update("acme/audit", store) == 0
    change(log, APP, 9)
    assert Indexer(index).update("acme/audit", store) == 1
    assert Search(index).page(BOTH, Filter()).records[0].index == 5


def test_rewritten_branch_is_reindexed_from_scratch(world, tmp_path: Path) -> None:
    _, _, index = world
    other, log = signed_log(tmp_path / "other")
    change(log, APP, 42)
    Indexer(index).update("acme/audit", other)
    records = Search(index).page(BOTH, Filter()).records
    assert [(r.index, r.pr) for r in records] == [(0, 42)]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (Filter(repo=SECRET), [1]),
        (Filter(kind="override"), [2]),
        (Filter(area="k8s"), [0]),
        (Filter(actor="Carol"), [2]),
        (Filter(actor="bob"), [3, 1, 0]),
        (Filter(environment="production"), [4]),
        (Filter(text="outage"), [2]),
        (Filter(text="vault tokens"), [1]),
        (Filter(text='"unbalanced AND ('), []),
        (Filter(since="2024-05-01T09:25:00Z", until="2024-05-01T09:45Z"), [3, 2]),
        (Filter(until="2024-04-30"), []),
    ],
)
def test_filters(world, wanted: Filter, expected: list[int]) -> None:
    _, _, index = world
    records = Search(index).page(BOTH, wanted).records
    assert [r.index for r in records] == expected


def test_nothing_of_a_hidden_repository_shows(world) -> None:
    _, _, index = world
    search = Search(index)
    visible = frozenset({APP})
    assert SECRET not in {r.repo for r in search.every(visible, Filter())}
    assert search.page(visible, Filter(repo=SECRET)).records == []
    assert search.page(visible, Filter(text="vault")).records == []
    assert search.entry(visible, "acme/audit", 1) is None
    assert search.choices(visible)["repo"] == [APP]
    assert search.page(frozenset(), Filter()).records == []


def test_keyset_pages_cover_everything_once(world) -> None:
    store, log, index = world
    for number in range(10, 30):
        change(log, APP, number)
    Indexer(index).update("acme/audit", store)
    search, seen, after = Search(index), [], ""
    while True:
        page = search.page(BOTH, Filter(), after=after, limit=4)
        seen += [r.index for r in page.records]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert seen == list(range(24, -1, -1))


def test_related_entries_link_change_override_and_deployment(world) -> None:
    _, _, index = world
    search = Search(index)
    merged = search.entry(BOTH, "acme/audit", 3)
    assert merged is not None
    related = [(r.kind, r.index) for r in search.related(BOTH, merged)]
    assert related == [("override", 2), ("deployment", 4)]


def test_timeline_orders_an_environment_window(world) -> None:
    _, _, index = world
    events = Search(index).timeline(
        frozenset({APP}), "production", "2024-05-01", "2024-05-01"
    )
    assert [(e.kind, e.index) for e in events] == [
        ("change", 0),
        ("override", 2),
        ("change", 3),
        ("deployment", 4),
    ]


def test_inclusion_proof_matches_the_signed_checkpoint(world) -> None:
    store, log, index = world
    search = Search(index)
    state = search.logs(BOTH)[0]
    signed = checkpoint.open_note(state.checkpoint, [log.signer.public])
    assert signed.signed_by == (log.signer.keyid,)
    for i in range(5):
        record = search.entry(BOTH, "acme/audit", i)
        proof = search.proof(record, state.checkpoint)
        assert proof is not None and proof_holds(proof)
        path = [bytes.fromhex(h) for h in proof.path]
        assert merkle.verify_inclusion(
            i, proof.size, bytes.fromhex(record.leaf), path, signed.checkpoint.root
        )


def test_a_changed_entry_no_longer_proves(world, tmp_path: Path) -> None:
    store, log, index = world
    path = "entries/0/1.json"
    envelope = json.loads(store.read(store.head(), path))
    entry = json.loads(base64.b64decode(envelope["payload"]))
    entry["rationale"] = "nothing to see here"
    envelope["payload"] = base64.b64encode(json.dumps(entry).encode()).decode()
    tampered = store.write(store.head(), {path: json.dumps(envelope).encode()}, "x")
    store.advance(store.head(), tampered)

    Indexer(index).rebuild("acme/audit", store)
    search = Search(index)
    record = search.entry(BOTH, "acme/audit", 1)
    proof = search.proof(record, search.logs(BOTH)[0].checkpoint)
    assert record.rationale == "nothing to see here"
    assert proof is not None and not proof_holds(proof)
