"""Check many Ed25519 signatures, in this process or in a pool of processes.

Verification is the bulk of the verifier's work; with ``jobs > 1`` it runs in
worker processes while the verifier reads on, with a bounded number of
batches in flight so that memory stays flat.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor

from changebot.audit.signing import PublicKey

BATCH = 512

#: (entry index, key id, raw public key, signed message, signature)
Check = tuple[int, str, bytes, bytes, bytes]

_worker_keys: dict[bytes, PublicKey] = {}


class SignatureChecker:
    """Collect signature checks and report the ones that fail."""

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = max(1, jobs)
        self._batch: list[Check] = []
        self._pending: deque[Future[list[tuple[int, str]]]] = deque()
        self._failed: list[tuple[int, str]] = []
        self._pool: ProcessPoolExecutor | None = None
        if self.jobs > 1:
            # NOTE: fork, and start the workers now, before the store opens any
            # pipe that a forked worker would otherwise hold open.
            context = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=context)
            self._pool.submit(_verify_batch, []).result()

    def check(self, index: int, key: PublicKey, message: bytes, sig: bytes) -> None:
        """Queue (or run) the check of one signature of entry ``index``."""
        if self._pool is None:
            if not key.verify(sig, message):
                self._failed.append((index, key.keyid))
            return
        self._batch.append((index, key.keyid, key.raw, message, sig))
        if len(self._batch) >= BATCH:
            self._submit()

    def finish(self) -> list[tuple[int, str]]:
        """Return (index, keyid) of every signature that did not verify."""
        if self._pool is not None:
            self._submit()
            while self._pending:
                self._failed.extend(self._pending.popleft().result())
            self._pool.shutdown()
        return sorted(self._failed)

    def close(self) -> None:
        """Stop the workers (after an error)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def _submit(self) -> None:
        if not self._batch or self._pool is None:
            return
        self._pending.append(self._pool.submit(_verify_batch, self._batch))
        self._batch = []
        while len(self._pending) > 2 * self.jobs:
            self._failed.extend(self._pending.popleft().result())


def _verify_batch(batch: list[Check]) -> list[tuple[int, str]]:
    failed = []
    for index, keyid, raw, message, sig in batch:
        key = _worker_keys.get(raw)
        if key is None:
            key = _worker_keys[raw] = PublicKey(raw)
        if not key.verify(sig, message):
            failed.append((index, keyid))
    return failed
