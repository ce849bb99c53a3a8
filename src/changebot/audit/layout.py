"""Where things live on the audit branch (docs/audit-format.md, "Tree")."""

from __future__ import annotations

import hashlib
import re

DEFAULT_BRANCH = "changebot/audit"
SHARD_SIZE = 1000

README = "README.md"
CHECKPOINT = "checkpoint"
COMPACT_RANGE = "compact-range"
ENTRIES = "entries"
IDEMPOTENCY = "idempotency"
KEYS = "keys"
PAYLOADS = "payloads"

#: The names at the root of the branch that are directories.
DIRECTORIES = frozenset({ENTRIES, IDEMPOTENCY, KEYS, PAYLOADS})
#: The names allowed at the root of the branch; anything else is a stray file.
TOP_LEVEL = frozenset(
    {README, CHECKPOINT, COMPACT_RANGE, ENTRIES, IDEMPOTENCY, KEYS, PAYLOADS}
)

ENTRY_NAME = re.compile(r"(0|[1-9][0-9]*)\.json")
SHARD_NAME = re.compile(r"0|[1-9][0-9]*")
PAYLOADS_NAME = re.compile(r"(0|[1-9][0-9]*)\.jsonl")
KEY_NAME = re.compile(r"([0-9a-f]{64})\.pub")
HEX2 = re.compile(r"[0-9a-f]{2}")
HEX64 = re.compile(r"[0-9a-f]{64}")


def shard_of(index: int) -> int:
    """Return the shard directory number of entry ``index``."""
    return index // SHARD_SIZE


def entry_path(index: int) -> str:
    """Return the path of entry ``index``."""
    return f"{ENTRIES}/{shard_of(index)}/{index}.json"


def payloads_name(shard: int) -> str:
    """Return the name, under `payloads/`, of a full shard's payloads file."""
    return f"{shard}.jsonl"


def payloads_path(shard: int) -> str:
    """Return the path of the file that holds a full shard's payloads, a line each."""
    return f"{PAYLOADS}/{payloads_name(shard)}"


def idempotency_hash(key: str) -> str:
    """Return the hex SHA-256 that names an idempotency key's file."""
    return hashlib.sha256(key.encode()).hexdigest()


def idempotency_path(key: str) -> str:
    """Return the path of the file that records which entry carries ``key``."""
    digest = idempotency_hash(key)
    return f"{IDEMPOTENCY}/{digest[:2]}/{digest}"


def key_path(keyid: str) -> str:
    """Return the path of a public key's PEM file."""
    return f"{KEYS}/{keyid}.pub"
