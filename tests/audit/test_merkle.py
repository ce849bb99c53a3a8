"""The tree, proofs and compact range agree with RFC 6962's definitions."""

from __future__ import annotations

import hashlib

import pytest

from changebot.audit import merkle


def mth(leaves: list[bytes]) -> bytes:
    """Compute RFC 6962's MTH by its recursive definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """Compute RFC 6962's PATH by its recursive definition."""
    if len(leaves) <= 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """Compute RFC 6962's SUBPROOF by its recursive definition."""
    if m == len(leaves):
        return [] if whole else [mth(leaves)]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m <= k:
        return subproof(m, leaves[:k], whole) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def leaves_of(n: int) -> list[bytes]:
    return [merkle.leaf_hash(b"entry %d" % i) for i in range(n)]


def test_leaf_and_node_hashes_use_rfc_6962_prefixes() -> None:
    assert merkle.leaf_hash(b"") == bytes.fromhex(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 8, 13, 31, 64, 100])
def test_compact_range_root_matches_the_definition(n: int) -> None:
    leaves = leaves_of(n)
    compact = merkle.CompactRange()

    for leaf in leaves:
        compact.append(leaf)

    assert compact.root() == mth(leaves)
    assert len(compact.hashes) == bin(n).count("1")


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 33])
def test_inclusion_proofs_match_and_verify(n: int) -> None:
    leaves = leaves_of(n)
    root = mth(leaves)

    for m in range(n):
        proof = merkle.inclusion_proof(m, n, leaves)
        assert proof == path(m, leaves)
        assert merkle.verify_inclusion(m, n, leaves[m], proof, root)
        assert not merkle.verify_inclusion(m, n, merkle.leaf_hash(b"x"), proof, root)
        if n > 1:
            assert not merkle.verify_inclusion((m + 1) % n, n, leaves[m], proof, root)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 9, 33])
def test_consistency_proofs_match_and_verify(n: int) -> None:
    leaves = leaves_of(n)

    for m in range(1, n + 1):
        proof = merkle.consistency_proof(m, n, leaves)
        assert proof == subproof(m, leaves, True)
        assert merkle.verify_consistency(m, n, mth(leaves[:m]), mth(leaves), proof)
        forked = leaves[: m - 1] + [merkle.leaf_hash(b"forged")] + leaves[m:]
        assert not merkle.verify_consistency(m, n, mth(forked[:m]), mth(leaves), proof)
