"""Decoded audit entries kept on disk, keyed by the git object id of each file.

Reading the log decodes every entry file (a DSSE envelope, base64, the JSON
payload). A store that names its files by object id (`IdentifiedStore`)
lets `cached_entries` decode each entry file at most once per machine: the
payload of an entry is kept under the id of the blob it came from, and that
id is a hash of the blob itself, so a changed entry has a new id and can
never be answered with the old content.

The cache is a directory of text files, one a shard, each line
``<blob id> <payload>``. It is an index, never a source of truth: a file that
is missing, foreign, torn or hostile only costs a read from git. Nothing in
it is executed or unpickled; a payload is parsed as JSON like the one in the
entry file, and must name the index its file name gives.

A full shard's entries come from its payloads file on the branch instead,
when it has one (docs/audit-format.md, "Derived files"): one read for a
thousand entries, on any machine. The cache serves the open shard, and full
shards written without that file.

NOTE: the cache lives inside the repository's git directory, so whoever can
write it can rewrite the branch's objects and refs as well. Readers such as
deployment summaries take the branch as `changebot audit verify` vouches for
it; the verifier reads every entry from git and never this cache.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from changebot import jsondoc
from changebot.audit import envelope, layout
from changebot.audit.reader import (
    decode_entry,
    entries_named,
    parsed_payload,
    payload_entries,
    shards,
)
from changebot.errors import AuditError
from changebot.ports import AuditStore

log = logging.getLogger(__name__)

#: The first line of every cache file; a file without it is ignored.
HEADER = b"changebot entry cache 1"
#: A cache file past this size is not read (a shard holds 1,000 entries).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: A file with more lines than this is rewritten with the lines still wanted.
MAX_LINES = 2 * layout.SHARD_SIZE

Entry = dict[str, Any]


# NOTE: an alias, because the method `list` hides the builtin in the classes.
BlobIds = list[tuple[str, str]]


@runtime_checkable
class IdentifiedStore(AuditStore, Protocol):
    """An `AuditStore` that names its files by git object id and has a cache."""

    def cache_dir(self) -> Path | None:
        """Return the directory the entry cache may use, or None for none."""
        ...

    def blob_ids(self, commit: str, path: str) -> BlobIds:
        """Return (name, object id) of the files directly under ``path``."""
        ...

    def read_blobs(self, files: Iterable[tuple[str, str]]) -> Iterator[bytes]:
        """Yield the bytes of each (path, object id) of ``files``, in order."""
        ...


class EntryCache:
    """Entry payloads by blob id, one append-only text file a shard."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def payloads(self, shard: str, wanted: Collection[str]) -> dict[str, bytes]:
        """Return the payloads kept for the blob ids in ``wanted``."""
        lines = self._lines(shard)
        if lines is None:
            return {}
        found: dict[str, bytes] = {}
        for line in lines:
            oid, _, payload = line.partition(b" ")
            name = oid.decode("ascii", errors="replace")
            if name in wanted and payload:
                found[name] = payload
        if len(lines) > MAX_LINES:
            self._rewrite(shard, found)
        return found

    def add(self, shard: str, payloads: Mapping[str, bytes]) -> None:
        """Keep ``payloads`` (blob id -> payload) for the next reader."""
        kept = {oid: p for oid, p in payloads.items() if _storable(oid, p)}
        if not kept:
            return
        path = self._path(shard)
        try:
            if _read_regular(path, len(HEADER) + 1) == HEADER + b"\n":
                _append(path, _encode(kept))
            else:
                self._rewrite(shard, kept)
        except OSError as err:
            _not_written(path, err)

    def _path(self, shard: str) -> Path:
        return self.directory / f"{shard}.lines"

    def _lines(self, shard: str) -> list[bytes] | None:
        """Return the complete lines after the header, or None for no usable file."""
        data = _read_regular(self._path(shard))
        if data is None:
            return None
        lines = data.split(b"\n")
        if lines[0] != HEADER:
            return None
        # NOTE: the last piece is empty, or a line a writer did not finish.
        return lines[1:-1]

    def _rewrite(self, shard: str, payloads: Mapping[str, bytes]) -> None:
        """Replace the shard's file at once, so a reader sees the old or the new."""
        path = self._path(shard)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".")
        except OSError as err:
            _not_written(path, err)
            return
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(HEADER + b"\n" + _encode(payloads))
            os.replace(temporary, path)
        except OSError as err:
            _not_written(path, err)
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _not_written(path: Path, err: OSError) -> None:
    log.debug("entry cache not written", extra={"path": str(path), "error": err})


def _storable(oid: str, payload: bytes) -> bool:
    # NOTE: a payload that spans lines (not canonical JSON) is read from git
    # each time rather than kept.
    return oid.isalnum() and oid.isascii() and b"\n" not in payload


def _encode(payloads: Mapping[str, bytes]) -> bytes:
    return b"".join(b"%s %s\n" % (oid.encode(), p) for oid, p in payloads.items())


def _read_regular(path: Path, limit: int = MAX_FILE_BYTES) -> bytes | None:
    """Return a regular file's first ``limit`` bytes; None for anything else.

    None as well for a file past `MAX_FILE_BYTES`: no cache is that big.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as file:
            return file.read(limit)
    except OSError:
        return None
    finally:
        os.close(fd)


def _append(path: Path, data: bytes) -> None:
    """Append ``data`` with one write, so concurrent readers see whole lines."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


# --- reading the log through the cache ----------------------------------------


@dataclass
class _Shard:
    """The entry files of one shard: (index, path, blob id) in index order."""

    commit: str
    number: int
    name: str
    files: list[tuple[int, str, str]]


def cached_entries(
    store: IdentifiedStore, cache: EntryCache, commit: str, start: int = 0
) -> Iterator[Entry]:
    """Yield the decoded entries from ``start`` on, in index order, as git holds them.

    Entries come as `AuditLog.entries` reads them from git: shard by shard in
    numeric order, and within a shard the files named as its entries, in
    index order; other files are not entries and are skipped.
    """
    first = layout.shard_of(start)
    for number, name in shards(store, commit):
        if number is None or number < first:
            continue
        shard = _listed(store, commit, number, name, start)
        yield from _shard_entries(store, cache, shard)


def _listed(
    store: IdentifiedStore, commit: str, number: int, name: str, start: int
) -> _Shard:
    directory = f"{layout.ENTRIES}/{name}"
    ids = dict(store.blob_ids(commit, directory))
    named = entries_named(list(ids), directory, number)
    cut = len(directory) + 1
    files = sorted(
        (index, path, ids[path[cut:]])
        for path, index in named.items()
        if index >= start
    )
    return _Shard(commit, number, name, files)


def _shard_entries(
    store: IdentifiedStore, cache: EntryCache, shard: _Shard
) -> Iterator[Entry]:
    """Yield a shard's entries: from its payloads file or the cache, else git."""
    indices = [index for index, _, _ in shard.files]
    kept = payload_entries(store, shard.commit, shard.number, indices)
    if len(kept) < len(shard.files):
        kept = _from_cache(cache, shard) | kept
    missing = [file for file in shard.files if file[0] not in kept]
    read, payloads = _from_git(store, missing)
    cache.add(shard.name, payloads)
    for index, _, _ in shard.files:
        found = kept[index] if index in kept else read[index]
        if isinstance(found, AuditError):
            raise found
        yield found


def _from_cache(cache: EntryCache, shard: _Shard) -> dict[int, Entry]:
    """Return the entries the cache holds for ``shard``, by index, checked."""
    payloads = cache.payloads(shard.name, {oid for _, _, oid in shard.files})
    kept = {}
    for index, _, oid in shard.files:
        payload = payloads.get(oid)
        entry = parsed_payload(payload) if payload is not None else None
        # NOTE: an entry names its own index; a line that disagrees with the
        # file it stands for is not trusted, and git is asked instead.
        if entry is not None and entry.get("index") == index:
            kept[index] = entry
    return kept


def _from_git(
    store: IdentifiedStore, files: list[tuple[int, str, str]]
) -> tuple[dict[int, Entry | AuditError], dict[str, bytes]]:
    """Read and decode ``files`` from git; return them by index, and what to keep.

    A file that does not decode keeps its error, raised when its turn comes.
    Only the payload of an entry that names the index of its file is kept.
    """
    read: dict[int, Entry | AuditError] = {}
    payloads: dict[str, bytes] = {}
    if not files:
        return read, payloads
    listed = [(path, oid) for _, path, oid in files]
    for (index, _, oid), data in zip(files, store.read_blobs(listed), strict=True):
        try:
            payload, entry = _decoded(data)
        except AuditError as err:
            read[index] = err
            continue
        read[index] = entry
        if entry.get("index") == index:
            payloads[oid] = payload
    return read, payloads


def _decoded(data: bytes) -> tuple[bytes, Entry]:
    """Return an entry file's payload and entry, as `decode_entry` reads them.

    Raise AuditError when the file is not an entry.
    """
    # NOTE: a reader keeps the payload alone, so an envelope whose fields are
    # all strings (`envelope.plain_fields`, every envelope changebot writes)
    # is read without building its signatures. Any other file goes through
    # `decode_entry`, which says what is wrong with it.
    try:
        fields = envelope.plain_fields(jsondoc.loads_loose(data))
        if fields is not None and fields[0] == envelope.PAYLOAD_TYPE:
            entry = jsondoc.loads(fields[1])
            if isinstance(entry, dict):
                return fields[1], entry
    except ValueError:
        pass
    sealed, entry = decode_entry(data)
    return sealed.payload, entry
