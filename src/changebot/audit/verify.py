"""Verify an audit branch: every leaf, link, signature, root and file.

The verifier streams the entries one shard at a time and keeps only the
compact range of the tree, so its memory does not grow with the log.
Derived files (`idempotency/`, `compact-range`) are checked against the
entries; a disagreement is a finding like any other. With ``jobs > 1`` the
shards are cut into runs that worker processes read and check alongside
(`changebot.audit.segments`), and the verifier joins them in order.
"""

from __future__ import annotations

import base64
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from changebot.audit import layout
from changebot.audit.checkpoint import SignedCheckpoint, open_note
from changebot.audit.entry import KINDS
from changebot.audit.envelope import PAYLOAD_TYPE, Envelope, pae
from changebot.audit.findings import Finding, VerifyReport, report_json
from changebot.audit.merkle import leaf_hash
from changebot.audit.reader import (
    StoredFile,
    decode_entry,
    decode_run,
    shard_files,
    shards,
)
from changebot.audit.segments import (
    ClaimTask,
    LeafSink,
    Outcome,
    Shard,
    Task,
    Workers,
    can_fork_reads,
    split,
)
from changebot.audit.signatures import SignatureChecker
from changebot.audit.signing import PublicKey
from changebot.audit.spill import IdempotencySpill
from changebot.audit.state import TreeState, decode_state
from changebot.errors import AuditError, ChangebotError
from changebot.ports import AuditStore

__all__ = [
    "Finding",
    "VerifyReport",
    "report_json",
    "verify",
    "verify_run",
    "claim_run",
]

log = logging.getLogger(__name__)

#: How many entry files are decoded and checked together (see `_Run.run`),
#: and how many signature checks wait to run together (about a kilobyte each).
# NOTE: Ed25519 and the checks of the entries each evict the other's tables
# and data from the CPU's caches. Taking turns every 32 entries costs less
# than entry by entry, and than every 64, whose objects outgrow the cache.
_RUN = _UNCHECKED = 32

Progress = Callable[[int, int], None]
#: A signature check: entry index, key, signed message, signature.
_Check = tuple[int, PublicKey, bytes, bytes]
#: An entry that passed every check but its signatures: index, leaf, key,
#: checks, payload.
_Plain = tuple[int, bytes, str, list[_Check], bytes]


def verify(
    store: AuditStore,
    trusted_keys: Iterable[PublicKey],
    *,
    since: str | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
) -> VerifyReport:
    """Verify the audit branch of ``store`` against keys trusted out of band."""
    run = _Run(store, list(trusted_keys), jobs, progress)
    try:
        run.verify(since)
    except ChangebotError as err:
        log.warning("audit verification could not finish", extra={"error": str(err)})
        run.report.error = str(err)
    finally:
        run.close()
    # NOTE: in index order, and by message within an entry: a run checked in
    # a worker finds its first entry's link to the run before last.
    run.report.findings.sort(key=lambda f: (f.index is None, f.index or 0, f.message))
    return run.report


class _Run:
    """One verification: the running state of the tree, the keys and the findings."""

    def __init__(
        self,
        store: AuditStore,
        trusted: list[PublicKey],
        jobs: int,
        progress: Progress | None,
        spill_fd: int | None = None,
    ) -> None:
        self.store = store
        self.report = VerifyReport()
        self.active = {key.keyid: key for key in trusted}
        self.known = dict(self.active)
        self.state = TreeState()
        #: The index the next entry file should have (None: take the first as is).
        self.expected: int | None = 0
        self.last_index: int | None = None
        self.progress = progress
        self.since: SignedCheckpoint | None = None
        self.since_root: bytes | None = None
        self.spill = IdempotencySpill(spill_fd)
        #: Where a worker puts its leaf hashes (None: into the tree state only).
        self.leaves: LeafSink | None = None
        self.first: tuple[int, bool, Any] | None = None
        # NOTE: with workers that read for themselves, each process checks its
        # own signatures; otherwise a pool checks them while this one reads.
        forks = jobs > 1 and can_fork_reads(store)
        self.workers = Workers(jobs - 1) if forks else None
        self.signatures = SignatureChecker(1 if forks else jobs)
        #: Signature checks not yet handed to ``signatures`` (see `_check_unchecked`).
        self.unchecked: list[_Check] = []
        #: The payloads file of the shard being checked, if it has one.
        self.lines: _PayloadLines | None = None
        #: Reads the next shard's payloads file while one is checked.
        self.reads = ThreadPoolExecutor(1, thread_name_prefix="changebot-payloads")

    def close(self) -> None:
        """Release the worker processes, the reading thread and the spill file."""
        self.reads.shutdown(cancel_futures=True)
        self.signatures.close()
        if self.workers is not None:
            self.workers.close()
        self.spill.close()

    def find(self, index: int | None, message: str, path: str | None = None) -> None:
        """Record a finding."""
        self.report.findings.append(Finding(index, message, path))

    def verify(self, since_text: str | None) -> None:
        """Run every check in turn."""
        # 1. The head, the checkpoint and the saved checkpoint, if any.
        head = self._head()
        note = self._checkpoint(head)
        if since_text is not None:
            self.since = self._open_since(since_text)

        # 2. The entries, shard by shard: names, fields, chain, leaves, keys.
        self._entries(head, note.checkpoint.size if note else 0)
        self.signature_findings()

        # 3. The derived files and everything else on the branch.
        self._idempotency(head)
        self._compact_range(head)
        self._keys(head)
        self._payload_files(head)
        self._top_level(head)

        # 4. The checkpoint on the branch, and the one saved earlier.
        self._against_checkpoint(note)
        self._against_since()
        self.report.size = self.state.size
        self.report.root = self.state.compact.root().hex()
        self.report.keys = sorted(self.active)

    # --- 1. what to verify ----------------------------------------------

    def _head(self) -> str:
        head = self.store.head()
        if head is None:
            raise AuditError(f"the audit branch {self.store.origin} does not exist")
        self.report.head = head
        self.report.origin = self.store.origin
        return head

    def _checkpoint(self, head: str) -> SignedCheckpoint | None:
        data = self.store.read(head, layout.CHECKPOINT)
        if data is None:
            self.find(None, "the checkpoint file is missing", layout.CHECKPOINT)
            return None
        try:
            note = open_note(data.decode("utf-8", errors="replace"), [])
        except AuditError as err:
            self.find(None, f"the checkpoint is malformed: {err}", layout.CHECKPOINT)
            return None
        self.report.origin = note.checkpoint.origin
        self.report.checkpoint_size = note.checkpoint.size
        return note

    def _open_since(self, text: str) -> SignedCheckpoint:
        try:
            since = open_note(text, [])
        except AuditError as err:
            raise AuditError(f"the checkpoint given with --since: {err}") from err
        self.report.since_size = since.checkpoint.size
        if since.checkpoint.size == 0:
            self.since_root = self.state.compact.root()
        return since

    # --- 2. entries -----------------------------------------------------

    def signature_findings(self) -> None:
        """Wait for the signature checks and record the ones that failed."""
        self._check_unchecked()
        for index, keyid in self.signatures.finish():
            self.find(index, f"signature of key {keyid[:16]} does not match the entry")

    def _entries(self, head: str, total: int) -> None:
        listed = shards(self.store, head)
        if self.workers is None:
            self.shards(head, listed, total)
            return
        workers = self.workers
        runs = split(listed, len(workers.leaf_files) + 1)
        pending = [
            (run, workers.submit(verify_run, self._task(head, run, workers, i)))
            for i, run in enumerate(runs[1:])
        ]
        self.shards(head, runs[0], total)
        for i, (run, future) in enumerate(pending):
            if not self._join(future.result(), workers, i):
                self.shards(head, run, total)
            if self.progress is not None and self.expected is not None:
                self.progress(self.expected, max(total, self.expected))

    def shards(self, head: str, listed: list[Shard], total: int = 0) -> None:
        """Check the entry files of ``listed`` shards, in order."""
        # NOTE: one `git cat-file` a shard: a stream across shards would read
        # ahead into the next shard, and memory must stay flat.
        # NOTE: each shard's payloads file is read while the shard before it
        # is checked: git takes a millisecond or two to inflate one.
        ahead: Future[_PayloadLines | None] | None = None
        for position, (shard, name) in enumerate(listed):
            self.lines = (
                ahead.result() if ahead else _PayloadLines.of(self.store, head, shard)
            )
            following = listed[position + 1][0] if position + 1 < len(listed) else None
            ahead = self.reads.submit(_PayloadLines.of, self.store, head, following)
            run: list[StoredFile] = []
            for stored in shard_files(self.store, head, shard, name):
                run.append(stored)
                if len(run) == _RUN:
                    self.run(run)
                    run = []
            self.run(run)
            if self.lines is not None:
                self._lines_end(self.lines)
                self.lines = None
            if self.progress is not None and self.expected is not None:
                self.progress(self.expected, max(total, self.expected))

    def _task(self, head: str, run: list[Shard], workers: Workers, worker: int) -> Task:
        return Task(
            self.store,
            head,
            run,
            {k: key.raw for k, key in self.active.items()},
            self.spill.fd,
            workers.leaf_files[worker].fd,
        )

    def _join(self, outcome: Outcome, workers: Workers, worker: int) -> bool:
        """Take a worker's run as if this process had checked it.

        Return False, taking nothing, when the worker started from other keys
        than the run before it ended with: a key rotated in an earlier run,
        so the run must be checked again.
        """
        if outcome.assumed != {k: key.raw for k, key in self.active.items()}:
            return False
        self.report.findings += outcome.findings
        if outcome.first is not None:
            self._link(*outcome.first)
        for leaf in workers.leaf_files[worker].read(outcome.leaves):
            self._grow(leaf)
        self.expected = outcome.expected if outcome.first else self.expected
        self.last_index = outcome.last_index if outcome.first else self.last_index
        self.active = {k: PublicKey(raw) for k, raw in outcome.active.items()}
        self.known.update((k, PublicKey(raw)) for k, raw in outcome.known.items())
        self.spill.cover(outcome.spilled)
        return True

    def _link(self, index: int, decoded: bool, prev: Any) -> None:
        """Check the first entry of a worker's run against the entry before it."""
        self._gap(index)
        if decoded:
            self._prev(index, prev)

    def _gap(self, index: int) -> None:
        expected = self.expected
        if expected is not None and index != expected:
            gap = f"{expected}..{index - 1}" if index - 1 > expected else ""
            self.find(expected, f"missing{' (entries ' + gap + ')' if gap else ''}")

    def run(self, files: list[StoredFile]) -> None:
        """Check a run of entry files: together when they are plainly intact."""
        # NOTE: most logs are intact, and checking a run of entries in one
        # loop costs far less than taking each through every step below. The
        # first thing out of the ordinary sends the whole run the long way,
        # which says what is wrong.
        plain = self._plain(files)
        if plain is None:
            for stored in files:
                self._stored(stored)
            return
        last = self.state.last_leaf
        self._first(plain[0][0], True, last.hex() if last is not None else None)
        for index, leaf, key, checks, _ in plain:
            self.unchecked += checks
            self._add_leaf(index, leaf, key)
        payloads = [payload for _, _, _, _, payload in plain]
        if self.lines is not None and not self.lines.follow_run(plain[0][0], payloads):
            for (index, *_), payload in zip(plain, payloads, strict=True):
                self._line(index, payload)
        if len(self.unchecked) >= _UNCHECKED:
            self._check_unchecked()

    def _plain(self, files: list[StoredFile]) -> list[_Plain] | None:
        """Decode a run whose every check would pass; None if one might not.

        Each entry must be the next in order, name its index and the leaf
        hash before it, be well formed, not rotate a key, and be signed by
        a trusted key: only its signatures are left to check.
        """
        index, last = self.expected, self.state.last_leaf
        follows = self.last_index == (index or 0) - 1 or (index == 0 and not last)
        decoded = decode_run(files) if files and follows else None
        if decoded is None or index is None:
            return None
        plain = []
        active = self.active
        for stored, (payload, entry, signatures) in zip(files, decoded, strict=True):
            prev = last.hex() if last is not None else None
            if index != stored.index or index != entry.get("index"):
                return None
            if entry.get("prev") != prev or entry.get("kind") == "key":
                return None
            if _malformed(entry):
                return None
            message = pae(PAYLOAD_TYPE, payload)
            checks = [
                (index, active[k], message, sig) for k, sig in signatures if k in active
            ]
            if not checks:
                return None
            last = leaf_hash(payload)
            plain.append((index, last, entry["idempotency_key"], checks, payload))
            index += 1
        return plain

    def _stored(self, stored: StoredFile) -> None:
        index = stored.index
        if index is None:
            self.find(None, "stray file under entries/", stored.path)
            return
        self._gap(index)
        self.expected = index
        try:
            sealed, entry = decode_entry(stored.data)
        except AuditError as err:
            self.find(index, f"unreadable: {err}")
            self._first(index, False, None)
            self._add_leaf(index, leaf_hash(stored.data), None)
            self._line(index, None)
            return
        self._first(index, True, entry.get("prev"))
        self._fields(index, entry)
        self._signed(index, sealed, entry)
        key = entry.get("idempotency_key")
        self._add_leaf(
            index, leaf_hash(sealed.payload), key if isinstance(key, str) else None
        )
        self._line(index, sealed.payload)

    def _line(self, index: int, payload: bytes | None) -> None:
        """Match entry ``index`` with its line of the shard's payloads file, if any."""
        lines = self.lines
        if lines is not None and not lines.follows(index, payload):
            self.find(index, "does not match its line of the payloads file", lines.path)

    def _lines_end(self, lines: _PayloadLines) -> None:
        if not lines.whole():
            self.find(
                None,
                "does not hold the shard's payloads, one a line, and nothing else",
                lines.path,
            )

    def _first(self, index: int, decoded: bool, prev: Any) -> None:
        if self.first is None:
            self.first = (index, decoded, prev)

    def _fields(self, index: int, entry: dict[str, Any]) -> None:
        if entry.get("index") != index:
            self.find(
                index,
                f"the entry says it is entry {entry.get('index')!r} "
                "(moved, swapped or copied)",
            )
        self._prev(index, entry.get("prev"))
        problems = _malformed(entry)
        if problems:
            self.find(index, f"malformed: {problems}")

    def _prev(self, index: int, stated: Any) -> None:
        prev = self.state.last_leaf.hex() if self.state.last_leaf else None
        follows = self.last_index == index - 1 or (index == 0 and prev is None)
        if stated != prev and follows:
            self.find(
                index,
                f"prev does not match the leaf hash of entry {index - 1} "
                "(an entry before it was changed, removed or reordered)",
            )

    def _signed(self, index: int, sealed: Envelope, entry: dict[str, Any]) -> None:
        if entry.get("kind") == "key":
            self._rotation(index, sealed, entry)
            return
        active = self.active
        trusted = [s for s in sealed.signatures if s.keyid in active]
        if not trusted:
            ids = ", ".join(s.keyid[:16] for s in sealed.signatures) or "none"
            self.find(index, f"not signed by a trusted key (signed by: {ids})")
            return
        message = sealed.pae()
        for sig in trusted:
            self.unchecked.append((index, active[sig.keyid], message, sig.sig))
        if len(self.unchecked) >= _UNCHECKED:
            self._check_unchecked()

    def _check_unchecked(self) -> None:
        """Hand the signature checks kept back to ``signatures``, in one go."""
        check = self.signatures.check
        for index, key, message, sig in self.unchecked:
            check(index, key, message, sig)
        self.unchecked.clear()

    def _rotation(self, index: int, sealed: Envelope, entry: dict[str, Any]) -> None:
        try:
            new = PublicKey.from_pem(str(entry.get("public_key")).encode())
        except AuditError:
            self.find(index, "key rotation carries no valid public key")
            return
        old = self.active.get(str(entry.get("previous_keyid")))
        message = sealed.pae()
        signed = {
            s.keyid
            for s in sealed.signatures
            if _verifies(s.keyid, s.sig, message, [old, new])
        }
        if (
            new.keyid != entry.get("keyid")
            or old is None
            or not {old.keyid, new.keyid} <= signed
        ):
            self.find(
                index,
                f"key rotation to {new.keyid[:16]} is not signed by both "
                "a trusted key and the new key",
            )
            return
        del self.active[old.keyid]
        self.active[new.keyid] = self.known[new.keyid] = new

    def _add_leaf(self, index: int, leaf: bytes, key: str | None) -> None:
        if self.leaves is not None:
            self.leaves.add(leaf)
        self._grow(leaf)
        self.expected = index + 1
        self.last_index = index
        if key is not None:
            self.spill.record(index, key)

    def _grow(self, leaf: bytes) -> None:
        self.state.add(leaf)
        if self.since is not None and self.state.size == self.since.checkpoint.size:
            self.since_root = self.state.compact.root()

    # --- 3. derived and other files ---------------------------------------

    def _idempotency(self, head: str) -> None:
        if self.workers is None:
            self._claim(head, [layout.IDEMPOTENCY])
        else:
            self._claim_in_runs(head, self.workers)
        for index, path in self.spill.unclaimed():
            self.find(
                index,
                f"its idempotency file {path} is missing or names another "
                "entry (a repeated key?)",
            )

    def _claim(self, head: str, paths: list[str]) -> None:
        """Match the idempotency files under ``paths`` with the entries."""
        for path, data in walk_each(self.store, head, paths):
            problem = self.spill.claim(path, data, self.state.size)
            if problem is not None:
                self.find(problem[0], problem[1], path)

    def _claim_in_runs(self, head: str, workers: Workers) -> None:
        names = self.store.list(head, layout.IDEMPOTENCY)
        paths = [f"{layout.IDEMPOTENCY}/{name}" for name in names]
        runs = split(paths, len(workers.leaf_files) + 1)
        self.spill.flush()
        pending = [
            workers.submit(
                claim_run,
                ClaimTask(
                    self.store,
                    head,
                    run,
                    self.spill.fd,
                    self.state.size,
                    self.spill.count,
                ),
            )
            for run in runs[1:]
        ]
        self._claim(head, runs[0] if runs else [])
        for future in pending:
            self.report.findings += future.result()

    def _compact_range(self, head: str) -> None:
        data = self.store.read(head, layout.COMPACT_RANGE)
        try:
            stored = decode_state(data) if data is not None else None
        except AuditError:
            stored = None
        if stored is None or stored.encode() != self.state.encode():
            self.find(None, "does not match the entries", layout.COMPACT_RANGE)

    def _keys(self, head: str) -> None:
        for path, data in self.store.walk(head, layout.KEYS):
            if path == layout.KEYS:
                continue  # a file where the directory should be: `_top_level`
            match = layout.KEY_NAME.fullmatch(path.split("/", 1)[1])
            try:
                keyid = PublicKey.from_pem(data).keyid
            except AuditError:
                keyid = None
            if match is None or keyid != match[1]:
                self.find(None, "stray or mislabelled key file", path)

    def _payload_files(self, head: str) -> None:
        """Report files under `payloads/` that stand for no shard of entries."""
        shard_names = set(self.store.list(head, layout.ENTRIES))
        for name in self.store.list(head, layout.PAYLOADS):
            match = layout.PAYLOADS_NAME.fullmatch(name)
            if match is None or match[1] not in shard_names:
                self.find(None, "stray file", f"{layout.PAYLOADS}/{name}")

    def _top_level(self, head: str) -> None:
        for name in self.store.list(head, ""):
            if name not in layout.TOP_LEVEL:
                self.find(None, "stray file", name)
            elif name in layout.DIRECTORIES and self.store.read(head, name) is not None:
                self.find(None, "a file where the log keeps a directory", name)

    # --- 4. checkpoints ---------------------------------------------------

    def _against_checkpoint(self, note: SignedCheckpoint | None) -> None:
        if note is None:
            return
        signed = open_note(note.text, self.active.values()).signed_by
        last = self.state.size - 1
        if not signed:
            self.find(
                None,
                f"the checkpoint (size {note.checkpoint.size}) is not signed "
                "by a trusted key",
                layout.CHECKPOINT,
            )
        if note.checkpoint.size != self.state.size:
            self.find(
                last if last >= 0 else None,
                f"the checkpoint says the log has {note.checkpoint.size} "
                f"entries, the branch has {self.state.size}",
            )
        elif note.checkpoint.root != self.state.compact.root():
            self.find(
                last if last >= 0 else None,
                "the checkpoint's root does not match entries 0.." + str(last),
            )

    def _against_since(self) -> None:
        if self.since is None:
            return
        old = self.since.checkpoint
        if not open_note(self.since.text, self.known.values()).signed_by:
            raise AuditError(
                "the checkpoint given with --since is not signed by a trusted key"
            )
        if old.origin != self.report.origin:
            self.find(
                None,
                f"the checkpoint given with --since is of another log ({old.origin})",
            )
        if old.size > self.state.size:
            self.find(
                self.state.size,
                f"truncated: the log has {self.state.size} entries, the "
                f"checkpoint given with --since had {old.size}",
            )
        elif self.since_root != old.root:
            root = base64.b64encode(old.root).decode()
            self.find(
                old.size - 1,
                f"entries 0..{old.size - 1} no longer hash to the root {root} "
                "of the checkpoint given with --since: the history was rewritten",
            )


class _PayloadLines:
    """A full shard's payloads file, matched line by line with its entries.

    Line ``k`` is the payload of the shard's entry ``k``, and a newline.
    """

    def __init__(self, path: str, data: bytes, first: int) -> None:
        self.path = path
        self.data = data
        self.next = first
        self.end = first + layout.SHARD_SIZE
        self.offset = 0
        self.intact = True

    @classmethod
    def of(
        cls, store: AuditStore, head: str, shard: int | None
    ) -> _PayloadLines | None:
        """Return the payloads file of ``shard``, or None if it has none."""
        if shard is None:
            return None
        path = layout.payloads_path(shard)
        data = store.read(head, path)
        return None if data is None else cls(path, data, shard * layout.SHARD_SIZE)

    def follow_run(self, first: int, payloads: list[bytes]) -> bool:
        """Take the payloads of entries from ``first`` on if their lines all match.

        Return False, taking none, when one might not: the caller then
        takes them one by one (`follows`), which finds the first that does not.
        """
        if not self.intact or first != self.next:
            return False
        lines = b"\n".join(payloads) + b"\n"
        if not self.data.startswith(lines, self.offset):
            return False
        self.offset += len(lines)
        self.next += len(payloads)
        return True

    def follows(self, index: int, payload: bytes | None) -> bool:
        """Take the entry ``index``; tell whether the next line is its payload.

        After the first line that does not match, none is looked at again.
        """
        if not self.intact:
            return True
        end = self.offset + len(payload or b"")
        self.intact = (
            payload is not None
            and index == self.next
            and self.data.startswith(payload, self.offset)
            and self.data[end : end + 1] == b"\n"
        )
        self.offset, self.next = end + 1, index + 1
        return self.intact

    def whole(self) -> bool:
        """Tell whether the file held the shard and nothing else, once it ended.

        True as well after a line that did not match: that was reported.
        """
        if not self.intact:
            return True
        return self.offset == len(self.data) and self.next == self.end


def verify_run(task: Task) -> Outcome:
    """Check one run of shards in a worker process (see `changebot.audit.segments`).

    The run's first entry is taken as it comes: the verifier checks its index
    and its ``prev`` against the run before.
    """
    keys = [PublicKey(raw) for raw in task.active.values()]
    run = _Run(task.store, keys, 1, None, task.spill_fd)
    try:
        run.expected = None
        run.leaves = LeafSink(task.leaf_fd)
        run.shards(task.head, task.shards)
        run.signature_findings()
        run.leaves.flush()
        run.spill.flush()
        return Outcome(
            active={k: key.raw for k, key in run.active.items()},
            assumed=dict(task.active),
            known={k: key.raw for k, key in run.known.items()},
            findings=run.report.findings,
            first=run.first,
            last_index=run.last_index,
            expected=run.expected,
            leaves=run.leaves.count,
            spilled=run.spill.count,
        )
    finally:
        run.close()


def claim_run(task: ClaimTask) -> list[Finding]:
    """Match a run of idempotency directories with the entries, in a worker."""
    spill = IdempotencySpill(task.spill_fd)
    spill.cover(task.recorded)
    findings = []
    try:
        for path, data in walk_each(task.store, task.head, task.paths):
            problem = spill.claim(path, data, task.size)
            if problem is not None:
                findings.append(Finding(problem[0], problem[1], path))
    finally:
        spill.close()
    return findings


def walk_each(
    store: AuditStore, head: str, paths: list[str]
) -> Iterator[tuple[str, bytes]]:
    """Walk several directories: in one stream when the store can, else each."""
    each = getattr(store, "walk_each", None)
    if each is not None:
        walked: Iterator[tuple[str, bytes]] = each(head, paths)
        return walked
    return itertools.chain.from_iterable(store.walk(head, path) for path in paths)


def _known_kind(kind: Any) -> bool:
    # NOTE: a kind that is a list or an object cannot be looked up in a set;
    # it is as unknown as any other.
    return isinstance(kind, str) and kind in KINDS


def _malformed(entry: dict[str, Any]) -> str:
    problems = []
    if entry.get("format") != 1:
        problems.append("format is not 1")
    if not _known_kind(entry.get("kind")):
        problems.append(f"unknown kind {entry.get('kind')!r}")
    for name in ("time", "repo", "idempotency_key"):
        if not isinstance(entry.get(name), str):
            problems.append(f"{name} is missing")
    return "; ".join(problems)


def _verifies(
    keyid: str, sig: bytes, message: bytes, keys: list[PublicKey | None]
) -> bool:
    return any(
        k is not None and k.keyid == keyid and k.verify(sig, message) for k in keys
    )
