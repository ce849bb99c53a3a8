"""RFC 6962 Merkle tree hashes over the leaves the index stores.

The index keeps every perfect subtree (``level``, ``position``): a node at
level L covers leaves ``position * 2**L`` up to ``(position + 1) * 2**L``. Any
tree head and any inclusion proof is then a few lookups, not a pass over the
whole log.

See: https://www.rfc-editor.org/rfc/rfc6962#section-2.1
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

#: Look up a stored perfect subtree by (level, position).
NodeLookup = Callable[[int, int], bytes]


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def parents(
    index: int, leaf: bytes, lookup: NodeLookup
) -> Iterator[tuple[int, int, bytes]]:
    """Yield the perfect subtrees that appending leaf ``index`` completes."""
    level, position, digest = 0, index, leaf
    while position % 2 == 1:
        digest = node_hash(lookup(level, position - 1), digest)
        level, position = level + 1, position // 2
        yield level, position, digest


def subtree_root(start: int, end: int, lookup: NodeLookup) -> bytes:
    """Return MTH(D[start:end]) where ``start`` is aligned to the split."""
    size = end - start
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return lookup(level, start >> level)
    split = _split(size)
    return node_hash(
        subtree_root(start, start + split, lookup),
        subtree_root(start + split, end, lookup),
    )


def inclusion_proof(index: int, size: int, lookup: NodeLookup) -> list[bytes]:
    """Return the audit path of leaf ``index`` in the tree of the first ``size``."""
    path: list[bytes] = []
    start, end, m = 0, size, index
    while end - start > 1:
        split = _split(end - start)
        if m < split:
            path.append(subtree_root(start + split, end, lookup))
            end = start + split
        else:
            path.append(subtree_root(start, start + split, lookup))
            start, m = start + split, m - split
    path.reverse()
    return path


def root_from_proof(
    index: int, size: int, leaf: bytes, proof: list[bytes]
) -> bytes | None:
    """Return the root an inclusion proof leads to, or None if it is malformed.

    See: https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2
    """
    if index >= size:
        return None
    fn, sn, digest = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            digest = node_hash(sibling, digest)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            digest = node_hash(digest, sibling)
        fn, sn = fn >> 1, sn >> 1
    return digest if sn == 0 else None


def _split(size: int) -> int:
    """Return the largest power of two smaller than ``size``."""
    return 1 << ((size - 1).bit_length() - 1)
