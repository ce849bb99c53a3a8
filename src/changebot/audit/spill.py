"""Check `idempotency/` against the entries without holding every key in memory.

The verifier writes each entry's key hash to a temporary file at a place
computed from its index; each idempotency file then names an index, and one
look there tells whether the two agree. Memory stays flat; the spill file
grows by 33 bytes an entry.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import re
import tempfile
from collections.abc import Iterator

from changebot.audit import layout

_RECORD = 33
_BATCH = 1024
_EMPTY = bytes(32)
#: `idempotency/<2 hex>/<64 hex that start with those 2>`: one match, not four steps.
_FILE_PATH = re.compile(r"[^/]*/([0-9a-f]{2})/(\1[0-9a-f]{62})")


class IdempotencySpill:
    """The key hash of every entry, by index, on disk."""

    def __init__(self, fd: int | None = None) -> None:
        """Open a new spill file, or use the open one ``fd`` (in a forked worker)."""
        self._file = tempfile.TemporaryFile() if fd is None else None
        self._fd = self._file.fileno() if self._file is not None else int(fd or 0)
        self._count = 0
        #: Records not yet written, for the indices from ``_pending_from`` on.
        self._pending = bytearray()
        self._pending_from = 0
        #: The file mapped for claims (None: not yet, or records were written since).
        self._map: mmap.mmap | None = None

    @property
    def fd(self) -> int:
        """Return the spill file's descriptor, which a forked worker can write."""
        return self._fd

    @property
    def count(self) -> int:
        """Return one more than the highest index recorded."""
        return self._count

    def cover(self, count: int) -> None:
        """Account for indices below ``count`` that another process recorded."""
        self._count = max(self._count, count)

    def close(self) -> None:
        """Unmap the spill file, and remove it when this object opened it."""
        self._unmap()
        if self._file is not None:
            self._file.close()

    def record(self, index: int, key: str) -> None:
        """Remember the idempotency key of entry ``index``."""
        digest = hashlib.sha256(key.encode()).digest()
        # NOTE: entries come in index order; consecutive records go out in
        # one write (a shard's worth at most), not one system call each.
        if index != self._pending_from + len(self._pending) // _RECORD:
            self.flush()
            self._pending_from = index
        self._pending += digest
        self._pending.append(0)
        if len(self._pending) >= _RECORD * _BATCH:
            self.flush()
        if index >= self._count:
            self._count = index + 1

    def flush(self) -> None:
        """Write the records kept back; call before reading the file."""
        if self._pending:
            self._unmap()
            os.pwrite(self._fd, bytes(self._pending), self._pending_from * _RECORD)
            self._pending_from += len(self._pending) // _RECORD
            self._pending.clear()

    def claim(self, path: str, data: bytes, size: int) -> tuple[int | None, str] | None:
        """Match one idempotency file with its entry; return a problem, if any."""
        named = _FILE_PATH.fullmatch(path)
        if named is None:
            return None, "stray file under idempotency/"
        text = data.decode("ascii", errors="replace").strip()
        if not text.isdigit() or int(text) >= max(size, self._count):
            return None, f"names entry {text!r}, which is not in the log"
        index = int(text)
        start = index * _RECORD
        records = self._mapped()
        if records is None or records[start : start + 32] != bytes.fromhex(named[2]):
            return index, f"{path} names this entry, whose idempotency key is another"
        records[start + 32] = 1
        return None

    def _mapped(self) -> mmap.mmap | None:
        """Return the spill file mapped, its records written; None when empty."""
        # NOTE: a claim reads and marks its record through the map, not by two
        # system calls. The mapped pages are the page cache's, as a read's
        # would be: the process's own memory does not grow with the log.
        self.flush()
        if self._map is None:
            size = os.fstat(self._fd).st_size
            if size:
                self._map = mmap.mmap(self._fd, size)
        return self._map

    def _unmap(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None

    def unclaimed(self) -> Iterator[tuple[int, str]]:
        """Yield (index, expected path) of entries no idempotency file names."""
        self.flush()
        self._unmap()
        os.lseek(self._fd, 0, os.SEEK_SET)
        index = 0
        while chunk := os.read(self._fd, _RECORD * 4096):
            for start in range(0, len(chunk), _RECORD):
                record = chunk[start : start + _RECORD]
                if record[:32] != _EMPTY and record[32:] == b"\x00":
                    digest = record[:32].hex()
                    yield index, f"{layout.IDEMPOTENCY}/{digest[:2]}/{digest}"
                index += 1
