"""The `compact-range` file: what the next append needs to know of the tree.

It holds the size of the log, the leaf hash of the last entry (the next
entry's `prev`) and the compact range of the tree, so that an append reads
one small file instead of the log. It is derived from the entries, and the
verifier reports any difference as a finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from changebot.audit.canonical import canonical_json
from changebot.audit.merkle import CompactRange
from changebot.errors import AuditError


@dataclass
class TreeState:
    """The size, last leaf hash and compact range of the log."""

    compact: CompactRange = field(default_factory=CompactRange)
    last_leaf: bytes | None = None

    @property
    def size(self) -> int:
        """Return the number of entries."""
        return self.compact.size

    def add(self, leaf: bytes) -> None:
        """Account for the next entry's leaf hash."""
        self.compact.append(leaf)
        self.last_leaf = leaf

    def copy(self) -> TreeState:
        """Return an independent copy."""
        return TreeState(self.compact.copy(), self.last_leaf)

    def encode(self) -> bytes:
        """Return the file's bytes (canonical JSON and a newline)."""
        return (
            canonical_json(
                {
                    "format": 1,
                    "size": self.size,
                    "last_leaf": self.last_leaf.hex() if self.last_leaf else None,
                    "hashes": [h.hex() for h in self.compact.hashes],
                }
            )
            + b"\n"
        )


def decode_state(data: bytes) -> TreeState:
    """Parse a `compact-range` file; raise AuditError when it is malformed."""
    try:
        obj = json.loads(data)
        hashes = [bytes.fromhex(h) for h in obj["hashes"]]
        last = obj["last_leaf"]
        compact = CompactRange(int(obj["size"]), hashes)
        return TreeState(compact, bytes.fromhex(last) if last else None)
    except (ValueError, KeyError, TypeError) as err:
        raise AuditError(
            f"the compact-range file of the audit branch is malformed: {err}",
            hint="run `changebot audit verify` to see what else was changed",
        ) from err
