"""RFC 6962 Merkle trees: leaf and node hashes, compact ranges and proofs.

Proofs are computed by streaming the leaf hashes once, so they need memory
for the proof only, never for the tree.

See: https://www.rfc-editor.org/rfc/rfc9162#section-2.1
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

EMPTY_ROOT = hashlib.sha256(b"").digest()

Range = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 hash of a leaf."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class CompactRange:
    """The roots of the perfect subtrees that make up the first ``size`` leaves.

    Appending a leaf and computing the root both cost O(log size), which is
    what keeps an append's cost flat as the log grows.
    """

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if len(self.hashes) != bin(size).count("1"):
            raise ValueError(f"a compact range of size {size} has one hash per 1 bit")

    def copy(self) -> CompactRange:
        """Return an independent copy."""
        return CompactRange(self.size, self.hashes)

    def append(self, leaf: bytes) -> None:
        """Add the next leaf hash."""
        node = leaf
        size = self.size
        while size & 1:
            node = node_hash(self.hashes.pop(), node)
            size >>= 1
        self.hashes.append(node)
        self.size += 1

    def root(self) -> bytes:
        """Return the Merkle tree hash of the leaves so far."""
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for node in reversed(self.hashes[:-1]):
            root = node_hash(node, root)
        return root


def root_of(leaves: Iterable[bytes]) -> bytes:
    """Return the tree hash of a sequence of leaf hashes."""
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    return compact.root()


def inclusion_proof(index: int, size: int, leaves: Iterable[bytes]) -> list[bytes]:
    """Return the audit path of leaf ``index`` in the tree of the first ``size``."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    return _range_hashes(_path_ranges(index, 0, size), leaves)


def consistency_proof(old: int, new: int, leaves: Iterable[bytes]) -> list[bytes]:
    """Return the proof that the tree of size ``old`` is a prefix of ``new``."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from size {old} to {new}")
    return _range_hashes(_subproof_ranges(old, 0, new, True), leaves)


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes
) -> bool:
    """Check an inclusion proof (RFC 9162, 2.1.3.2)."""
    if not 0 <= index < size:
        return False
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and node == root


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> bool:
    """Check a consistency proof (RFC 9162, 2.1.4.2)."""
    if old == new:
        return not proof and old_root == new_root
    if not 0 < old < new or not proof:
        return False
    if old & (old - 1) == 0:
        proof = [old_root, *proof]
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for node in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def _split(n: int) -> int:
    """Return the largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _path_ranges(m: int, lo: int, hi: int) -> list[Range]:
    ranges: list[Range] = []
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo += k
    return ranges[::-1]


def _subproof_ranges(m: int, lo: int, hi: int, whole: bool) -> list[Range]:
    ranges: list[Range] = []
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            m, lo, whole = m - k, lo + k, False
    if not whole:
        ranges.append((lo, hi))
    return ranges[::-1]


def _range_hashes(ranges: list[Range], leaves: Iterable[bytes]) -> list[bytes]:
    """Hash disjoint leaf ranges in one pass over the leaves."""
    order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    hashes: list[bytes] = [b""] * len(ranges)
    pending = iter(order)
    current = next(pending, None)
    compact = CompactRange()
    for position, leaf in enumerate(leaves):
        if current is None:
            break
        start, end = ranges[current]
        if position < start:
            continue
        compact.append(leaf)
        if position == end - 1:
            hashes[current] = compact.root()
            compact, current = CompactRange(), next(pending, None)
    if current is not None:
        raise ValueError("the leaves ended before the proof was complete")
    return hashes
