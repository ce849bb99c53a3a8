"""The audit log: append signed entries to a store, read them back, prove them.

An append reads a handful of small files (the idempotency file of its key,
`compact-range`, `checkpoint`), writes one commit on the head it read and
moves the branch by compare-and-swap. A writer that loses the race re-reads
and tries again with the next index.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from changebot.audit import checkpoint, envelope, layout
from changebot.audit.cache import EntryCache, IdentifiedStore, cached_entries
from changebot.audit.canonical import canonical_json
from changebot.audit.entry import build_entry, utc_now
from changebot.audit.merkle import leaf_hash
from changebot.audit.reader import decode_entry, entries_of, shard_files, shards
from changebot.audit.receipt import make_receipt
from changebot.audit.signing import PublicKey, SigningKey
from changebot.audit.state import TreeState, decode_state
from changebot.errors import AuditConflict, AuditError, ChangebotError
from changebot.ports import AuditStore

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Appended:
    """The outcome of an append: where the entry is, and the checkpoint after it."""

    index: int
    leaf_hash: str
    checkpoint: str
    created: bool


@dataclass(frozen=True)
class Request:
    """One entry to append."""

    kind: str
    repo: str
    fields: Mapping[str, Any]
    idempotency_key: str
    cosigners: tuple[SigningKey, ...] = field(default=())


@dataclass
class _Draft:
    """The commit an attempt is building on top of ``head``."""

    head: str | None
    state: TreeState
    origin: str
    note: str = ""
    changes: dict[str, bytes] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)
    signers: list[SigningKey] = field(default_factory=list)
    #: The payload of each entry the draft adds, by index.
    payloads: dict[int, bytes] = field(default_factory=dict)


class AuditLog:
    """A signed, hash-chained, Merkle-checkpointed log over an `AuditStore`."""

    def __init__(
        self,
        store: AuditStore,
        signer: SigningKey,
        *,
        clock: Clock = utc_now,
        max_attempts: int = 100,
    ) -> None:
        self.store = store
        self.signer = signer
        self.clock = clock
        self.max_attempts = max_attempts

    # --- writing --------------------------------------------------------

    def append(
        self,
        kind: str,
        repo: str,
        fields: Mapping[str, Any],
        idempotency_key: str,
    ) -> Appended:
        """Append one entry, or return the entry that already has its key."""
        return self.append_many([Request(kind, repo, fields, idempotency_key)])[0]

    def append_many(self, requests: Sequence[Request]) -> list[Appended]:
        """Append several entries in one commit (keys already present are skipped)."""
        for attempt in range(self.max_attempts):
            head = self.store.head()
            outcome = self._attempt(head, requests)
            if outcome is not None:
                return outcome
            log.info("audit append lost a race", extra={"attempt": attempt})
            time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 20)))  # noqa: S311 -- jitter, not a secret
        raise AuditConflict(
            f"the audit branch kept moving: gave up after {self.max_attempts} attempts",
            hint="other writers are very busy; retry the job later",
        )

    def rotate(self, new: SigningKey) -> Appended:
        """Append a `key` entry signed by the current and the new key, then use it."""
        fields = {
            "keyid": new.keyid,
            "public_key": new.public.pem().decode(),
            "previous_keyid": self.signer.keyid,
        }
        request = Request("key", "-", fields, f"key:{new.keyid}", (new,))
        appended = self.append_many([request])[0]
        self.signer = new
        return appended

    def bootstrap(self, public_keys: Iterable[PublicKey] = ()) -> bool:
        """Create the branch with its README, keys and an empty checkpoint."""
        if self.store.head() is not None:
            return False
        draft = self._draft(None)
        for key in public_keys:
            draft.changes[layout.key_path(key.keyid)] = key.pem()
        commit = self._commit(draft, "audit: start the log")
        return self.store.advance(None, commit)

    def _attempt(
        self, head: str | None, requests: Sequence[Request]
    ) -> list[Appended] | None:
        draft = self._draft(head)
        indices = [self._place(draft, request) for request in requests]
        if not draft.changes and head is not None:
            return self._results(draft, indices, draft.note)
        commit = self._commit(draft, _message(draft, requests))
        if not self.store.advance(head, commit):
            return None
        return self._results(draft, indices, draft.changes[layout.CHECKPOINT].decode())

    def _draft(self, head: str | None) -> _Draft:
        if head is None:
            return _Draft(None, TreeState(), self.store.origin)
        state = self.store.read(head, layout.COMPACT_RANGE)
        note = self.store.read(head, layout.CHECKPOINT)
        if state is None or note is None:
            raise AuditError(
                f"the audit branch {self.store.origin} has no compact-range "
                "or checkpoint",
                hint="run `changebot audit verify`; the branch may have been damaged",
            )
        text = note.decode("utf-8", errors="replace")
        return _Draft(head, decode_state(state), text.split("\n", 1)[0], text)

    def _place(self, draft: _Draft, request: Request) -> int:
        """Return the index that carries the request's key, adding an entry if new."""
        known = draft.keys.get(request.idempotency_key)
        if known is None and draft.head is not None:
            known = self._find_at(draft.head, request.idempotency_key)
        if known is not None:
            return known
        index = draft.state.size
        entry = build_entry(
            index=index,
            prev=draft.state.last_leaf.hex() if draft.state.last_leaf else None,
            kind=request.kind,
            repo=request.repo,
            idempotency_key=request.idempotency_key,
            fields=request.fields,
            now=self.clock(),
        )
        payload = canonical_json(entry)
        signers = [self.signer, *request.cosigners]
        draft.changes[layout.entry_path(index)] = envelope.seal(
            payload, signers
        ).encode()
        draft.payloads[index] = payload
        draft.changes[layout.idempotency_path(request.idempotency_key)] = (
            b"%d\n" % index
        )
        for key in request.cosigners:
            draft.changes[layout.key_path(key.keyid)] = key.public.pem()
        draft.signers += [k for k in signers if k not in draft.signers]
        draft.state.add(leaf_hash(payload))
        draft.keys[request.idempotency_key] = index
        return index

    def _commit(self, draft: _Draft, message: str) -> str:
        signers = draft.signers or [self.signer]
        if draft.head is None:
            draft.changes[layout.README] = _readme(draft.origin)
        if (
            draft.head is None
            or self.store.read(draft.head, layout.key_path(self.signer.keyid)) is None
        ):
            draft.changes[layout.key_path(self.signer.keyid)] = self.signer.public.pem()
        for shard in self._unfiled(draft, _filled(draft)):
            lines = self._payload_lines(draft, shard)
            if lines is not None:
                draft.changes[layout.payloads_path(shard)] = lines
        point = checkpoint.Checkpoint(
            draft.origin, draft.state.size, draft.state.compact.root()
        )
        draft.changes[layout.CHECKPOINT] = checkpoint.sign(point, signers).encode()
        draft.changes[layout.COMPACT_RANGE] = draft.state.encode()
        return self.store.write(draft.head, draft.changes, message)

    def _unfiled(self, draft: _Draft, filled: list[int]) -> list[int]:
        """Return ``filled``, and earlier full shards that have no payloads file.

        A shard filled before payloads files existed gets one with a later
        append that fills a shard: every such shard from a clone, the
        oldest one through the API (a call an entry to read it back).
        """
        if not filled or draft.head is None:
            return filled
        full = [
            number
            for number, _ in shards(self.store, draft.head)
            if number is not None and number < min(filled)
        ]
        have = set(self.store.list(draft.head, layout.PAYLOADS))
        missing = [n for n in full if layout.payloads_name(n) not in have]
        if not isinstance(self.store, IdentifiedStore):
            missing = missing[:1]
        return missing + filled

    def _payload_lines(self, draft: _Draft, shard: int) -> bytes | None:
        """Return the payloads file of a shard the draft fills, or None for none.

        The shard's earlier entries are read back from the branch: one
        `git cat-file` stream in a clone, a call an entry through the API
        (once a thousand appends, and retries find them cached). A read that
        fails leaves the file out rather than the entry: readers of a shard
        without it read its entry files.
        """
        first = shard * layout.SHARD_SIZE
        wanted = range(first, first + layout.SHARD_SIZE)
        payloads = {i: draft.payloads[i] for i in wanted if i in draft.payloads}
        if len(payloads) < len(wanted) and draft.head is not None:
            try:
                for stored in shard_files(self.store, draft.head, shard, str(shard)):
                    if stored.index is not None and stored.index not in payloads:
                        payloads[stored.index] = decode_entry(stored.data)[0].payload
            except ChangebotError as err:
                log.warning(
                    "no payloads file: the shard could not be read back",
                    extra={"shard": shard, "error": str(err)},
                )
                return None
        if any(b"\n" in payloads.get(i, b"\n") for i in wanted):
            log.warning(
                "no payloads file: an entry of the shard is missing or spans lines",
                extra={"shard": shard},
            )
            return None
        return b"".join(payloads[i] + b"\n" for i in wanted)

    def _results(self, draft: _Draft, indices: list[int], note: str) -> list[Appended]:
        fresh = {index: leaf for index, leaf in _new_leaves(draft)}
        results = []
        for index in indices:
            leaf = fresh.get(index)
            if leaf is None:
                leaf = leaf_hash(
                    decode_entry(self._entry_bytes(draft.head, index))[0].payload
                )
            results.append(Appended(index, leaf.hex(), note, index in fresh))
        return results

    # --- reading --------------------------------------------------------

    def size(self) -> int:
        """Return the number of entries in the log."""
        head = self.store.head()
        if head is None:
            return 0
        state = self.store.read(head, layout.COMPACT_RANGE)
        return decode_state(state).size if state else 0

    def checkpoint(self) -> str | None:
        """Return the latest signed checkpoint, or None for an empty branch."""
        head = self.store.head()
        note = self.store.read(head, layout.CHECKPOINT) if head else None
        return note.decode() if note else None

    def find(self, idempotency_key: str) -> int | None:
        """Return the index of the entry that carries ``idempotency_key``."""
        head = self.store.head()
        return self._find_at(head, idempotency_key) if head else None

    def entry(self, index: int) -> dict[str, Any]:
        """Return entry ``index``, decoded."""
        return decode_entry(self._entry_bytes(self.store.head(), index))[1]

    def envelope(self, index: int) -> bytes:
        """Return entry ``index`` as stored: its DSSE envelope's bytes."""
        return self._entry_bytes(self.store.head(), index)

    def entries(self, start: int = 0) -> Iterator[dict[str, Any]]:
        """Yield the decoded entries from ``start`` on, in index order."""
        # NOTE: one bulk walk (a `git cat-file` stream a shard) that checks no
        # signature: readers such as deployment summaries are not the verifier
        # and take the branch as `changebot audit verify` vouches for it. A
        # store with an entry cache decodes each entry file once per machine.
        head = self.store.head()
        if head is None:
            return
        store = self.store
        if isinstance(store, IdentifiedStore) and (where := store.cache_dir()):
            yield from cached_entries(store, EntryCache(where), head, start)
            return
        yield from entries_of(self.store, head, start)

    def receipt(self, index: int) -> dict[str, Any]:
        """Return a receipt that proves entry ``index`` offline."""
        return make_receipt(self.store, index)

    def _find_at(self, head: str, key: str) -> int | None:
        found = self.store.read(head, layout.idempotency_path(key))
        if found is None:
            return None
        try:
            index = int(found)
            entry = decode_entry(self._entry_bytes(head, index))[1]
        except (ValueError, AuditError):
            entry = {}
        if entry.get("idempotency_key") != key:
            # NOTE: the file is only an index; the entry itself decides, so a
            # planted file cannot make a real append vanish.
            log.warning(
                "idempotency file disagrees with its entry",
                extra={"path": layout.idempotency_path(key)},
            )
            return None
        return index

    def _entry_bytes(self, head: str | None, index: int) -> bytes:
        data = self.store.read(head, layout.entry_path(index)) if head else None
        if data is None:
            raise AuditError(f"entry {index} is not in the audit log")
        return data


def _filled(draft: _Draft) -> list[int]:
    """Return the shards whose last entry the draft adds."""
    last = layout.SHARD_SIZE - 1
    return [layout.shard_of(i) for i in draft.payloads if i % layout.SHARD_SIZE == last]


def _new_leaves(draft: _Draft) -> Iterator[tuple[int, bytes]]:
    for path, data in draft.changes.items():
        if path.startswith(layout.ENTRIES + "/"):
            sealed = envelope.decode(data)
            yield int(path.rsplit("/", 1)[1].split(".")[0]), leaf_hash(sealed.payload)


def _message(draft: _Draft, requests: Sequence[Request]) -> str:
    from changebot.render import render

    new = sorted(draft.keys.values())
    return render("audit/commit.txt", entries=new, requests=requests).strip()


def _readme(origin: str) -> bytes:
    from changebot.render import render

    return render("audit/README.md", origin=origin, layout=layout).encode()
