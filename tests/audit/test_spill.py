"""The idempotency spill matches each idempotency file with its entry on disk."""

from __future__ import annotations

import pytest

from changebot.audit.layout import idempotency_path
from changebot.audit.spill import IdempotencySpill


def recorded(keys: dict[int, str]) -> IdempotencySpill:
    """Return a spill holding ``keys`` by entry index."""
    spill = IdempotencySpill()
    for index, key in sorted(keys.items()):
        spill.record(index, key)
    return spill


def test_every_entry_claimed_by_its_file_leaves_none_unclaimed() -> None:
    spill = recorded({0: "a", 1: "b", 2: "c"})

    problems = [
        spill.claim(idempotency_path(key), b"%d\n" % index, 3)
        for index, key in [(2, "c"), (0, "a"), (1, "b")]
    ]

    assert problems == [None, None, None]
    assert list(spill.unclaimed()) == []
    spill.close()


def test_a_file_naming_an_entry_of_another_key_is_a_problem() -> None:
    spill = recorded({0: "a", 1: "b"})
    path = idempotency_path("forged")

    problem = spill.claim(path, b"1\n", 2)

    assert problem == (1, f"{path} names this entry, whose idempotency key is another")
    assert [index for index, _ in spill.unclaimed()] == [0, 1]
    spill.close()


def test_a_file_naming_an_entry_past_the_log_is_a_problem() -> None:
    spill = recorded({0: "a"})

    problem = spill.claim(idempotency_path("a"), b"7\n", 1)

    assert problem == (None, "names entry '7', which is not in the log")
    spill.close()


def test_an_entry_past_the_last_recorded_one_has_no_key_to_match() -> None:
    spill = recorded({0: "a"})
    path = idempotency_path("b")

    problem = spill.claim(path, b"1\n", 2)

    assert problem == (1, f"{path} names this entry, whose idempotency key is another")
    spill.close()


def test_an_empty_spill_matches_no_file() -> None:
    spill = IdempotencySpill()
    path = idempotency_path("a")

    assert spill.claim(path, b"0\n", 1) == (
        0,
        f"{path} names this entry, whose idempotency key is another",
    )
    assert list(spill.unclaimed()) == []
    spill.close()


def test_records_after_a_claim_are_seen_by_the_next_claim() -> None:
    spill = recorded({0: "a"})
    assert spill.claim(idempotency_path("a"), b"0\n", 1) is None

    spill.record(1, "b")

    assert spill.claim(idempotency_path("b"), b"1\n", 2) is None
    assert list(spill.unclaimed()) == []
    spill.close()


def test_claims_through_the_same_file_count_for_its_owner() -> None:
    owner = recorded({0: "a", 1: "b", 2: "c"})
    owner.flush()
    other = IdempotencySpill(owner.fd)
    other.cover(owner.count)

    assert other.claim(idempotency_path("b"), b"1\n", 3) is None
    other.close()

    assert [index for index, _ in owner.unclaimed()] == [0, 2]
    owner.close()


@pytest.mark.parametrize(
    "path",
    [
        "idempotency/notes.txt",
        "idempotency/zz/more.txt",
        "idempotency/ab/" + "cd" * 32,
        "idempotency/AB/" + "AB" * 32,
        "idempotency/ab/" + "ab" * 31,
        "idempotency/ab/" + "ab" * 32 + "/deeper",
    ],
    ids=["top", "not hex", "other directory", "upper case", "short", "deeper"],
)
def test_a_file_not_named_by_a_key_hash_is_stray(path: str) -> None:
    spill = recorded({0: "a"})

    assert spill.claim(path, b"0\n", 1) == (None, "stray file under idempotency/")
    spill.close()
