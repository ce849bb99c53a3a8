"""Read the entries of an audit branch in index order, one shard at a time.

Memory holds one shard (at most 1,000 envelopes), however long the log is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from changebot import jsondoc
from changebot.audit import envelope, layout
from changebot.audit.envelope import Envelope
from changebot.errors import AuditError
from changebot.ports import AuditStore


# NOTE: not frozen: a frozen dataclass costs three times as much to make, and
# the verifier makes one for every entry.
@dataclass(slots=True)
class StoredFile:
    """A file found under `entries/`: its path, the index its name gives, its bytes.

    ``index`` is None when the name is not one an entry may have.
    """

    path: str
    index: int | None
    data: bytes


def shards(store: AuditStore, commit: str) -> list[tuple[int | None, str]]:
    """Return the shard directories of `entries/` in numeric order."""
    names = store.list(commit, layout.ENTRIES)
    numbered = [(int(n) if layout.SHARD_NAME.fullmatch(n) else None, n) for n in names]
    return sorted(numbered, key=lambda pair: (pair[0] is None, pair[0] or 0))


def shard_files(
    store: AuditStore,
    commit: str,
    shard: int | None,
    name: str,
    named: dict[str, int] | None = None,
) -> Iterator[StoredFile]:
    """Yield the files of one shard, entries first in index order.

    ``named`` is `entries_named` of the shard, when the caller has it.

    Entries come as they are read whenever the order they are stored in
    allows it (in every shard but the first), so checking an entry overlaps
    with reading the next; memory holds one shard at most.
    """
    directory = f"{layout.ENTRIES}/{name}"
    if named is None:
        named = entries_named(store.list(commit, directory), directory, shard)
    order = sorted(named.values(), reverse=True)
    waiting: dict[int, StoredFile] = {}
    strays = []
    for path, data in store.walk(commit, directory):
        stored = StoredFile(path, named.get(path), data)
        if stored.index is None:
            strays.append(stored)
        elif order and stored.index == order[-1] and not waiting:
            # NOTE: the usual case, the next entry read in its turn.
            order.pop()
            yield stored
        else:
            waiting[stored.index] = stored
            while order and order[-1] in waiting:
                yield waiting.pop(order.pop())
    yield from (waiting[index] for index in sorted(waiting))
    yield from sorted(strays, key=lambda f: f.path)


def entries_named(
    names: list[str], directory: str, shard: int | None
) -> dict[str, int]:
    """Map the path of each name an entry of ``shard`` may have to its index."""
    if shard is None:
        return {}
    # NOTE: the names `layout.ENTRY_NAME` allows in a shard are the decimal
    # indices of its range, without leading zeros: one lookup names each.
    first = shard * layout.SHARD_SIZE
    allowed = {f"{i}.json": i for i in range(first, first + layout.SHARD_SIZE)}
    return {f"{directory}/{name}": allowed[name] for name in names if name in allowed}


def stored_files(
    store: AuditStore, commit: str, start: int = 0
) -> Iterator[StoredFile]:
    """Yield every file under `entries/`, shard by shard, from entry ``start``."""
    first = layout.shard_of(start)
    for shard, name in shards(store, commit):
        if shard is not None and shard < first:
            continue
        for stored in shard_files(store, commit, shard, name):
            if stored.index is None or stored.index >= start:
                yield stored


def entries_of(
    store: AuditStore, commit: str, start: int = 0
) -> Iterator[dict[str, Any]]:
    """Yield the decoded entries from ``start`` on, in index order.

    A full shard whose payloads file gives every entry is read from that
    file alone; any other shard is read entry file by entry file.
    """
    first = layout.shard_of(start)
    for shard, name in shards(store, commit):
        if shard is None or shard < first:
            continue
        directory = f"{layout.ENTRIES}/{name}"
        named = entries_named(store.list(commit, directory), directory, shard)
        kept = payload_entries(store, commit, shard, list(named.values()))
        if kept and len(kept) == len(named):
            yield from (kept[i] for i in sorted(kept) if i >= start)
            continue
        for stored in shard_files(store, commit, shard, name, named):
            if stored.index is not None and stored.index >= start:
                yield decode_entry(stored.data)[1]


def payload_entries(
    store: AuditStore, commit: str, shard: int, indices: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """Return the entries that a full shard's payloads file gives, by index.

    ``indices`` are the entries the shard lists; only a full shard has the
    file, so for any other none is read. Line ``k`` of the file stands for
    entry ``k`` of the shard, and counts only where it is an entry that
    names that index; the caller reads the others from their files. The
    file is on the branch, and `changebot audit verify` matches it with the
    entries as it checks them: readers take it as they take the entries, on
    the verifier's word.
    """
    if len(indices) != layout.SHARD_SIZE:
        return {}
    data = store.read(commit, layout.payloads_path(shard))
    if data is None:
        return {}
    lines = data.split(b"\n")
    first = shard * layout.SHARD_SIZE
    kept = {}
    for index in indices:
        position = index - first
        if 0 <= position < len(lines):
            entry = parsed_payload(lines[position])
            if entry is not None and entry.get("index") == index:
                kept[index] = entry
    return kept


def parsed_payload(payload: bytes) -> dict[str, Any] | None:
    """Parse a payload as `decode_entry` does; None if it is not an entry."""
    # NOTE: one payload at a time: a shard's payloads joined in one array
    # would hold a run of 19 digits in some SHA, and go to the slow parser.
    try:
        entry = jsondoc.loads(payload)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def decode_entry(data: bytes) -> tuple[Envelope, dict[str, Any]]:
    """Return an entry file's envelope and the entry it carries."""
    sealed = envelope.decode(data)
    if sealed.payload_type != envelope.PAYLOAD_TYPE:
        raise AuditError(f"unexpected payload type {sealed.payload_type!r}")
    try:
        entry = jsondoc.loads(sealed.payload)
    except ValueError as err:
        raise AuditError(f"the payload is not JSON: {err}") from err
    if not isinstance(entry, dict):
        raise AuditError("the payload is not a JSON object")
    return sealed, entry


#: An entry decoded by `decode_run`: its payload, the entry, its signatures.
Decoded = tuple[bytes, dict[str, Any], list[tuple[str, bytes]]]


def decode_run(files: Sequence[StoredFile]) -> list[Decoded] | None:
    """Decode entry files as `decode_entry` would, or return None.

    None unless every file is an envelope of the entry type whose fields are
    all strings and whose payload is a JSON object: the caller then decodes
    them one by one with `decode_entry`, which says what is wrong. An integer
    past 64 bits reads as a float (see `jsondoc.loads_loose`), which suits a
    caller that checks an entry's strings and its small integers only.
    """
    decoded = []
    try:
        for stored in files:
            fields = envelope.plain_fields(jsondoc.loads_loose(stored.data))
            if fields is None or fields[0] != envelope.PAYLOAD_TYPE:
                return None
            entry = jsondoc.loads_loose(fields[1])
            if not isinstance(entry, dict):
                return None
            decoded.append((fields[1], entry, fields[2]))
    except ValueError:
        return None
    return decoded
