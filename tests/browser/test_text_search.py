"""Text search in rationales: every page holds exactly the entries that match."""

from __future__ import annotations

import base64
import json

import pytest

from changebot.index import Filter, Indexer, Search, schema
from changebot.index.search import _text_plan

REPOS = ("acme/app", "acme/secret")


def envelope(index: int) -> bytes:
    """Return an entry whose rationale holds `ops` mostly and `zebra` rarely."""
    words = ["ops" if index % 10 else "quiet", "zebra" if index % 97 == 5 else "cat"]
    entry = {
        "format": 1,
        "index": index,
        "prev": None,
        # NOTE: times repeat in pairs, so that the keyset cursor needs the id.
        "time": f"2024-01-01T{index // 120:02d}:{(index // 2) % 60:02d}:00Z",
        "kind": "change",
        "repo": REPOS[index % 2],
        "idempotency_key": f"k-{index}",
        "rationale": f"Why: {' '.join(words)} work for entry {index}",
    }
    payload = base64.b64encode(json.dumps(entry).encode()).decode()
    return json.dumps(
        {"payloadType": "x", "payload": payload, "signatures": []}
    ).encode()


@pytest.fixture(scope="module")
def search(tmp_path_factory: pytest.TempPathFactory) -> Search:
    path = tmp_path_factory.mktemp("text") / "index.sqlite3"
    Indexer(path).add("acme/audit", (envelope(i) for i in range(600)))
    return Search(path)


def every_page(search: Search, visible: frozenset[str], text: str) -> list[int]:
    found, after = [], ""
    while True:
        page = search.page(visible, Filter(text=text), after=after, limit=7)
        found += [r.index for r in page.records]
        if page.next_cursor is None:
            return found
        after = page.next_cursor


def expected(visible: frozenset[str], word: str) -> list[int]:
    matches = [
        i
        for i in range(600)
        if REPOS[i % 2] in visible
        and word
        in json.loads(base64.b64decode(json.loads(envelope(i))["payload"]))[
            "rationale"
        ].split()
    ]
    return sorted(matches, key=lambda i: (i // 2, i), reverse=True)


@pytest.mark.parametrize("word", ["ops", "zebra", "quiet"])
@pytest.mark.parametrize("visible", [frozenset(REPOS), frozenset({"acme/secret"})])
def test_every_page_of_a_text_search_holds_exactly_the_matches(
    search: Search, word: str, visible: frozenset[str]
) -> None:
    assert every_page(search, visible, word) == expected(visible, word)


def test_a_common_word_walks_and_a_rare_one_fetches_its_matches(
    search: Search,
) -> None:
    db = schema.connect(search.path)
    try:
        assert _text_plan(db, "OPS", 50) == "walk"
        assert _text_plan(db, "ops zebra", 50) == "set"
        assert _text_plan(db, "unheard", 50) == "set"
    finally:
        db.close()


def test_words_are_never_fts_syntax(search: Search) -> None:
    page = search.page(frozenset(REPOS), Filter(text='ops" OR "cat NEAR(x'))
    assert page.records == []
