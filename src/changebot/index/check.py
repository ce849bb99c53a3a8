"""Check what an audit log gained since its last passing verification.

A full verification reads the whole branch, which over GitHub's API costs a
call per entry. After an append only a few entries are new, and the index
still holds every entry as it was when the log last passed. Checking the new
ones is then enough to trust the new head:

1. the active keys are the trusted ones, carried through the key rotations
   the index holds before the new entries;
2. each new entry names its own index, links to the leaf before it, and is
   signed by an active key (a rotation by the old and the new key);
3. the branch's checkpoint is signed by an active key, and its size and root
   are those of every leaf the index holds.

4. the derived files agree: `compact-range` with the indexed tree, and the
   idempotency file of each new entry names it.

The root check ties the new checkpoint to the leaves verified before, so a
history rewritten under the old entries does not pass. The idempotency files
of old entries, key files and stray files are left to the periodic full
verification.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from changebot.audit import layout
from changebot.audit.checkpoint import open_note
from changebot.audit.envelope import Envelope
from changebot.audit.reader import decode_entry
from changebot.audit.signing import PublicKey
from changebot.audit.state import decode_state
from changebot.errors import AuditError
from changebot.index import schema, tree
from changebot.index.build import Finding
from changebot.ports import AuditStore

Keys = dict[str, PublicKey]


def tail_findings(
    path: Path,
    name: str,
    trusted: Iterable[PublicKey],
    start: int,
    store: AuditStore,
) -> list[Finding]:
    """Return what is wrong with entries ``start`` on and the checkpoint of ``name``.

    ``store`` is read for the derived files only, at the indexed head.
    """
    db = schema.connect(path)
    try:
        log = db.execute("SELECT * FROM logs WHERE name = ?", (name,)).fetchone()
        if log is None or log["head"] is None:
            return [Finding("the log is not in the index")]
        keys = _keys_before(db, log["id"], {k.keyid: k for k in trusted}, start)
        findings = _entries(db, log["id"], keys, start)
        findings += _checkpoint(db, log, keys)
        findings += _compact_range(db, log, store)
        return findings + _idempotency(db, log, store, start)
    finally:
        db.close()


def _keys_before(db: sqlite3.Connection, log_id: int, keys: Keys, start: int) -> Keys:
    """Return the keys active after the rotations among entries before ``start``."""
    rotations = db.execute(
        "SELECT envelope FROM entries WHERE log_id = ? AND kind = 'key' AND idx < ? "
        "ORDER BY idx",
        (log_id, start),
    )
    for (text,) in rotations:
        try:
            sealed, entry = decode_entry(text.encode())
        except AuditError:
            continue
        _rotate(keys, sealed, entry)
    return keys


def _entries(
    db: sqlite3.Connection, log_id: int, keys: Keys, start: int
) -> list[Finding]:
    found: list[Finding] = []
    before = db.execute(
        "SELECT leaf FROM entries WHERE log_id = ? AND idx = ?", (log_id, start - 1)
    ).fetchone()
    prev = before[0] if before else None
    expected = start
    rows = db.execute(
        "SELECT idx, leaf, envelope FROM entries WHERE log_id = ? AND idx >= ? "
        "ORDER BY idx",
        (log_id, start),
    )
    for index, leaf, text in rows:
        if index != expected:
            found.append(Finding("missing", expected))
        found += [Finding(m, index) for m in _entry_problems(index, prev, text, keys)]
        prev, expected = leaf, index + 1
    return found


def _entry_problems(index: int, prev: str | None, text: str, keys: Keys) -> list[str]:
    try:
        sealed, entry = decode_entry(text.encode())
    except AuditError as err:
        return [f"unreadable: {err}"]
    problems = []
    if entry.get("index") != index:
        problems.append(f"the entry says it is entry {entry.get('index')!r}")
    if entry.get("prev") != prev:
        problems.append(f"prev does not match the leaf hash of entry {index - 1}")
    if entry.get("kind") == "key":
        if not _rotate(keys, sealed, entry):
            problems.append("key rotation is not signed by an active and the new key")
    elif not _signed(keys, sealed):
        problems.append("not signed by a trusted key")
    return problems


def _signed(keys: Keys, sealed: Envelope) -> bool:
    message = sealed.pae()
    return any(
        s.keyid in keys and keys[s.keyid].verify(s.sig, message)
        for s in sealed.signatures
    )


def _rotate(keys: Keys, sealed: Envelope, entry: dict[str, object]) -> bool:
    """Apply a rotation signed by an active key and the new one; tell if it was."""
    try:
        new = PublicKey.from_pem(str(entry.get("public_key")).encode())
    except AuditError:
        return False
    old = keys.get(str(entry.get("previous_keyid")))
    if old is None or new.keyid != entry.get("keyid"):
        return False
    message = sealed.pae()
    signers = {old.keyid: old, new.keyid: new}
    signed = {
        s.keyid
        for s in sealed.signatures
        if s.keyid in signers and signers[s.keyid].verify(s.sig, message)
    }
    if not {old.keyid, new.keyid} <= signed:
        return False
    del keys[old.keyid]
    keys[new.keyid] = new
    return True


def _checkpoint(db: sqlite3.Connection, log: sqlite3.Row, keys: Keys) -> list[Finding]:
    text, size = log["checkpoint"], log["size"]
    if not text:
        return [Finding("the checkpoint file is missing")]
    try:
        note = open_note(text, keys.values())
    except AuditError as err:
        return [Finding(f"the checkpoint is malformed: {err}")]
    found = []
    if not note.signed_by:
        found.append(Finding("the checkpoint is not signed by a trusted key"))
    if note.checkpoint.size != size:
        found.append(
            Finding(
                f"the checkpoint says the log has {note.checkpoint.size} entries, "
                f"the branch has {size}",
                size - 1 if size else None,
            )
        )
    elif size and note.checkpoint.root != _root(db, log["id"], size):
        root = base64.b64encode(note.checkpoint.root).decode()
        found.append(
            Finding(
                f"the checkpoint's root {root} does not match entries 0..{size - 1}",
                size - 1,
            )
        )
    return found


def _compact_range(
    db: sqlite3.Connection, log: sqlite3.Row, store: AuditStore
) -> list[Finding]:
    """Compare `compact-range` with the perfect subtrees the index holds."""
    data = store.read(log["head"], layout.COMPACT_RANGE)
    try:
        stored = decode_state(data) if data is not None else None
    except AuditError:
        stored = None
    size, lookup = log["size"], _lookup(db, log["id"])
    try:
        expected = [lookup(level, position) for level, position in _peaks(size)]
        last = lookup(0, size - 1) if size else None
    except KeyError:
        return [Finding("the index lacks leaves of the tree")]
    if stored is None or (stored.size, stored.compact.hashes, stored.last_leaf) != (
        size,
        expected,
        last,
    ):
        return [Finding(f"{layout.COMPACT_RANGE}: does not match the entries")]
    return []


def _idempotency(
    db: sqlite3.Connection, log: sqlite3.Row, store: AuditStore, start: int
) -> list[Finding]:
    """Check that the idempotency file of each new entry names it."""
    found = []
    rows = db.execute(
        "SELECT idx, envelope FROM entries WHERE log_id = ? AND idx >= ? ORDER BY idx",
        (log["id"], start),
    )
    for index, text in rows:
        try:
            key = decode_entry(text.encode())[1].get("idempotency_key")
        except AuditError:
            continue
        if not isinstance(key, str):
            continue
        named = store.read(log["head"], layout.idempotency_path(key))
        if named is None or named.strip() != str(index).encode():
            found.append(
                Finding("its idempotency file is missing or names another entry", index)
            )
    return found


def _peaks(size: int) -> list[tuple[int, int]]:
    """Return (level, position) of the perfect subtrees of a tree, largest first."""
    peaks, start = [], 0
    for level in reversed(range(size.bit_length())):
        if size & (1 << level):
            peaks.append((level, start >> level))
            start += 1 << level
    return peaks


def _root(db: sqlite3.Connection, log_id: int, size: int) -> bytes | None:
    try:
        return tree.subtree_root(0, size, _lookup(db, log_id))
    except KeyError:
        return None


def _lookup(db: sqlite3.Connection, log_id: int) -> tree.NodeLookup:
    def lookup(level: int, position: int) -> bytes:
        row = db.execute(
            "SELECT hash FROM nodes WHERE log_id = ? AND level = ? AND position = ?",
            (log_id, level, position),
        ).fetchone()
        if row is None:
            raise KeyError((level, position))
        return bytes(row[0])

    return lookup
