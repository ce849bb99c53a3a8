"""Verify a log in contiguous segments, each read and checked by its own process.

With ``jobs > 1`` and a store that another process can open for itself (a
`GitStore` pickles as its path), the shards of `entries/` are cut into
``jobs`` runs. The verifier checks the first run itself while worker
processes read and check the others, each with its own `git cat-file`. A
worker hands back its findings, where its run starts and ends (so that the
verifier checks the links across the cut), the keys it ended with, and its
leaf hashes in a temporary file (so that memory stays flat); the worker
writes its entries' idempotency records straight into the verifier's spill.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from changebot.ports import AuditStore

Shard = tuple[int | None, str]
T = TypeVar("T")
R = TypeVar("R")
_LEAF = 32
_CHUNK = 1024


def can_fork_reads(store: AuditStore) -> bool:
    """Tell whether another process can read ``store`` for itself."""
    return bool(getattr(store, "parallel_reads", False))


def split(listed: Sequence[T], parts: int) -> list[list[T]]:
    """Cut ``listed`` into at most ``parts`` contiguous runs of near-equal length."""
    parts = max(1, min(parts, len(listed)))
    size, extra = divmod(len(listed), parts)
    runs, start = [], 0
    for part in range(parts):
        end = start + size + (1 if part < extra else 0)
        runs.append(list(listed[start:end]))
        start = end
    return [run for run in runs if run]


class LeafFile:
    """Leaf hashes in order, in a temporary file a forked worker can write."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()  # closed by close()
        self.fd = self._file.fileno()

    def close(self) -> None:
        """Remove the file."""
        self._file.close()

    def read(self, count: int) -> Iterator[bytes]:
        """Yield the first ``count`` leaf hashes."""
        for start in range(0, count, _CHUNK):
            want = min(_CHUNK, count - start)
            chunk = os.pread(self.fd, want * _LEAF, start * _LEAF)
            for offset in range(0, len(chunk), _LEAF):
                yield chunk[offset : offset + _LEAF]


class LeafSink:
    """Write leaf hashes to a `LeafFile` by its descriptor, a chunk at a time."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.count = 0
        self._buffer = bytearray()

    def add(self, leaf: bytes) -> None:
        """Append one leaf hash."""
        self._buffer += leaf
        if len(self._buffer) >= _CHUNK * _LEAF:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered."""
        if self._buffer:
            os.pwrite(self.fd, bytes(self._buffer), self.count * _LEAF)
            self.count += len(self._buffer) // _LEAF
            self._buffer.clear()


@dataclass(frozen=True)
class Task:
    """One run of shards for a worker to verify."""

    store: AuditStore
    head: str
    shards: list[Shard]
    #: The raw keys active where the run starts, as the verifier assumes them.
    active: dict[str, bytes]
    spill_fd: int
    leaf_fd: int


@dataclass(frozen=True)
class ClaimTask:
    """Idempotency directories for a worker to match with the entries."""

    store: AuditStore
    head: str
    paths: list[str]
    spill_fd: int
    #: The number of entries in the log.
    size: int
    #: One more than the highest index of an entry file.
    recorded: int


@dataclass
class Outcome:
    """What a worker found in its run, and what the verifier needs to join it."""

    active: dict[str, bytes]
    assumed: dict[str, bytes]
    known: dict[str, bytes]
    findings: list[Any] = field(default_factory=list)
    #: The first entry file of the run: its index, whether it decoded, its prev.
    first: tuple[int, bool, Any] | None = None
    last_index: int | None = None
    expected: int | None = None
    leaves: int = 0
    spilled: int = 0


class Workers:
    """Worker processes, forked before the verifier opens any pipe."""

    def __init__(self, count: int) -> None:
        # NOTE: fork now: a worker forked later would hold the write end of a
        # `git cat-file` pipe open, and that git would never see its input end.
        self.leaf_files = [LeafFile() for _ in range(count)]
        context = multiprocessing.get_context("fork")
        self._pool = ProcessPoolExecutor(count, mp_context=context)
        self._pool.submit(_ready).result()

    def submit(self, worker: Callable[[Any], R], task: Any) -> Future[R]:
        """Start ``worker(task)`` in a worker process."""
        return self._pool.submit(worker, task)

    def close(self) -> None:
        """Stop the workers and remove the leaf files."""
        self._pool.shutdown(cancel_futures=True)
        for leaf_file in self.leaf_files:
            leaf_file.close()


def _ready() -> None:
    """Do nothing: forces the pool to start its processes."""
