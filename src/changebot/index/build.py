"""Build the audit index from audit branches, and keep it up to date.

The branch is the source of truth: `Indexer.update` reads only the entries a
branch gained since the last update, and `Indexer.rebuild` starts over.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from changebot.errors import AuditError
from changebot.index import schema, tree
from changebot.index.rows import Row, row_of
from changebot.ports import AuditStore

log = logging.getLogger(__name__)

_ROOT = "entries"
_CHUNK = 2000


@dataclass(frozen=True)
class Finding:
    """One problem a verification found, with the entry it concerns if any."""

    message: str
    index: int | None = None


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying one audit log, as the browser shows it."""

    checked_at: str
    ok: bool
    size: int
    findings: tuple[Finding, ...] = ()
    #: The branch head this verification saw.
    head: str | None = None
    #: When the whole branch was last read and verified (not only what it gained).
    full_at: str | None = None


class Indexer:
    """Writes the SQLite index at ``path`` from audit branches."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def update(self, name: str, store: AuditStore, head: str | None = None) -> int:
        """Index what the branch gained since the last update; return how many.

        ``head`` is the branch head the caller read already (read when None).
        """
        db = schema.connect(self.path)
        try:
            return self._update(db, name, store, head)
        finally:
            db.close()

    def rebuild(self, name: str, store: AuditStore) -> int:
        """Forget everything indexed for ``name`` and index the branch again."""
        db = schema.connect(self.path)
        try:
            _forget(db, name)
            return self._update(db, name, store, None)
        finally:
            db.close()

    def add(self, name: str, envelopes: Iterable[bytes], *, origin: str = "") -> int:
        """Index envelope files that follow the last indexed entry of ``name``."""
        db = schema.connect(self.path)
        try:
            log_id = _log_id(db, name, origin)
            return _insert(db, log_id, (row_of(e) for e in envelopes))
        finally:
            db.close()

    def record(self, name: str, result: Verification) -> None:
        """Store the latest verification result of a log."""
        findings = [{"message": f.message, "index": f.index} for f in result.findings]
        db = schema.connect(self.path)
        try:
            log_id = _log_id(db, name, "")
            db.execute(
                "INSERT OR REPLACE INTO verifications VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    log_id,
                    result.checked_at,
                    int(result.ok),
                    result.size,
                    json.dumps(findings),
                    result.head,
                    result.full_at,
                ),
            )
        finally:
            db.close()

    def known(self, name: str) -> tuple[str | None, int]:
        """Return the head and size of a log as indexed ((None, 0) if unknown)."""
        db = schema.connect(self.path)
        try:
            row = db.execute(
                "SELECT head, size FROM logs WHERE name = ?", (name,)
            ).fetchone()
        finally:
            db.close()
        return (None, 0) if row is None else (row[0], int(row[1]))

    def verified(self, name: str) -> Verification | None:
        """Return the latest verification stored for a log, if any."""
        db = schema.connect(self.path)
        try:
            row = db.execute(
                "SELECT v.* FROM verifications v JOIN logs l ON l.id = v.log_id "
                "WHERE l.name = ?",
                (name,),
            ).fetchone()
        finally:
            db.close()
        return None if row is None else verification_of_row(row)

    def _update(
        self, db: sqlite3.Connection, name: str, store: AuditStore, head: str | None
    ) -> int:
        head = head or store.head()
        log_id = _log_id(db, name, store.origin)
        known_head, size = db.execute(
            "SELECT head, size FROM logs WHERE id = ?", (log_id,)
        ).fetchone()
        if head is None or head == known_head:
            return 0
        if size and not _still_there(db, log_id, store, head, size - 1):
            log.warning("audit branch was rewritten; reindexing", extra={"log": name})
            _forget(db, name)
            log_id, size = _log_id(db, name, store.origin), 0

        files = _new_files(store, head, size)
        added = _insert(db, log_id, _readable_rows(name, files))
        checkpoint = store.read(head, "checkpoint")
        db.execute(
            "UPDATE logs SET head = ?, checkpoint = ? WHERE id = ?",
            (head, checkpoint.decode() if checkpoint else None, log_id),
        )
        log.info("audit index updated", extra={"log": name, "added": added})
        return added


def verification_of_row(row: sqlite3.Row) -> Verification:
    """Return the verification a row of the `verifications` table holds."""
    findings = tuple(
        Finding(f["message"], f.get("index")) for f in json.loads(row["findings"])
    )
    return Verification(
        checked_at=row["checked_at"],
        ok=bool(row["ok"]),
        size=row["size"],
        findings=findings,
        head=row["head"],
        full_at=row["full_at"],
    )


def _readable_rows(name: str, files: Iterable[tuple[str, bytes]]) -> Iterator[Row]:
    """Yield the rows of entry files, skipping (and logging) unreadable ones.

    NOTE: an unreadable file is the verifier's to report; the index keeps
    showing every entry it can read.
    """
    for path, data in files:
        try:
            yield row_of(data, _index_of(path))
        except (AuditError, KeyError, ValueError, TypeError) as err:
            log.warning(
                "unreadable audit entry",
                extra={"log": name, "path": path, "error": str(err)},
            )


def _log_id(db: sqlite3.Connection, name: str, origin: str) -> int:
    db.execute(
        "INSERT INTO logs (name, origin) VALUES (?, ?) ON CONFLICT (name) DO "
        "UPDATE SET origin = CASE WHEN excluded.origin = '' THEN origin "
        "ELSE excluded.origin END",
        (name, origin),
    )
    row = db.execute("SELECT id FROM logs WHERE name = ?", (name,)).fetchone()
    return int(row[0])


def _forget(db: sqlite3.Connection, name: str) -> None:
    row = db.execute("SELECT id FROM logs WHERE name = ?", (name,)).fetchone()
    if row is None:
        return
    log_id = row[0]
    db.execute("BEGIN")
    if schema.has_fts(db):
        db.execute(
            "INSERT INTO rationale_fts (rationale_fts, rowid, rationale) "
            "SELECT 'delete', id, rationale FROM entries WHERE log_id = ?",
            (log_id,),
        )
    where = "entry_id IN (SELECT id FROM entries WHERE log_id = ?)"
    db.execute(f"DELETE FROM terms WHERE {where}", (log_id,))  # noqa: S608 -- fixed
    for table in ("entries", "nodes", "facets", "verifications"):
        db.execute(f"DELETE FROM {table} WHERE log_id = ?", (log_id,))  # noqa: S608 -- fixed names
    db.execute("DELETE FROM logs WHERE id = ?", (log_id,))
    db.execute("COMMIT")


def _still_there(
    db: sqlite3.Connection, log_id: int, store: AuditStore, head: str, index: int
) -> bool:
    """Tell whether the last indexed entry is unchanged at the new head."""
    row = db.execute(
        "SELECT leaf FROM entries WHERE log_id = ? AND idx = ?", (log_id, index)
    ).fetchone()
    for number, path in _entry_paths(store, head, index):
        data = store.read(head, path) if number == index else None
        if row is None or data is None:
            return False
        try:
            return row_of(data, index).leaf == str(row[0])
        except AuditError:
            return False
    return False


def _new_files(store: AuditStore, head: str, start: int) -> Iterator[tuple[str, bytes]]:
    """Yield (path, bytes) of entry files with an index of ``start`` or more."""
    if start == 0:
        yield from sorted(store.walk(head, _ROOT), key=lambda f: _index_of(f[0]))
        return
    for _, path in _entry_paths(store, head, start):
        data = store.read(head, path)
        if data is not None:
            yield path, data


def _entry_paths(store: AuditStore, head: str, start: int) -> Iterator[tuple[int, str]]:
    """Yield (index, path) of entry files from ``start`` on, in index order."""
    shards = sorted((_number(s), s) for s in store.list(head, _ROOT))
    for shard, shard_name in shards:
        if shard < start // 1000:
            continue
        folder = f"{_ROOT}/{shard_name}"
        for number, file in sorted((_number(f), f) for f in store.list(head, folder)):
            if number >= start:
                yield number, f"{folder}/{file}"


def _insert(db: sqlite3.Connection, log_id: int, rows: Iterable[Row]) -> int:
    """Insert rows in chunks, each chunk one transaction; return how many."""
    fts = schema.has_fts(db)
    added = 0
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == _CHUNK:
            added += _insert_batch(db, log_id, batch, fts)
            batch = []
    return added + _insert_batch(db, log_id, batch, fts)


def _insert_batch(
    db: sqlite3.Connection, log_id: int, rows: list[Row], fts: bool
) -> int:
    db.execute("BEGIN")
    try:
        for row in rows:
            _insert_row(db, log_id, row, fts)
        if rows:
            db.execute(
                "UPDATE logs SET size = (SELECT COALESCE(MAX(idx) + 1, 0) "
                "FROM entries WHERE log_id = ?) WHERE id = ?",
                (log_id, log_id),
            )
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return len(rows)


def _insert_row(db: sqlite3.Connection, log_id: int, row: Row, fts: bool) -> None:
    cursor = db.execute(
        "INSERT OR IGNORE INTO entries (log_id, idx, time, kind, repo, environment, "
        "pr, actor, rationale, bypassed, overridden, leaf, keyids, envelope) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            log_id,
            row.index,
            row.time,
            row.kind,
            row.repo,
            row.environment,
            row.pr,
            row.actor,
            row.rationale,
            int(row.bypassed),
            int(row.overridden),
            row.leaf,
            " ".join(row.keyids),
            row.envelope,
        ),
    )
    if cursor.rowcount == 0:
        return
    entry_id = cursor.lastrowid
    db.executemany(
        "INSERT OR IGNORE INTO terms VALUES (?, ?, ?)",
        [(facet, value, entry_id) for facet, value in row.terms],
    )
    db.executemany(
        "INSERT OR IGNORE INTO facets VALUES (?, ?, ?, ?)",
        [(log_id, row.repo, facet, value) for facet, value in _facets(row)],
    )
    if fts and row.rationale:
        db.execute(
            "INSERT INTO rationale_fts (rowid, rationale) VALUES (?, ?)",
            (entry_id, row.rationale),
        )
    _insert_nodes(db, log_id, row)


def _insert_nodes(db: sqlite3.Connection, log_id: int, row: Row) -> None:
    def lookup(level: int, position: int) -> bytes:
        found = db.execute(
            "SELECT hash FROM nodes WHERE log_id = ? AND level = ? AND position = ?",
            (log_id, level, position),
        ).fetchone()
        if found is None:
            raise KeyError((level, position))
        return bytes(found[0])

    leaf = bytes.fromhex(row.leaf)
    nodes = [(log_id, 0, row.index, leaf)]
    try:
        nodes += [
            (log_id, lv, pos, h) for lv, pos, h in tree.parents(row.index, leaf, lookup)
        ]
    except KeyError:
        # NOTE: a missing leaf (a deleted entry) leaves its subtrees unknown;
        # proofs through them are reported as unavailable, not guessed.
        pass
    db.executemany("INSERT OR REPLACE INTO nodes VALUES (?, ?, ?, ?)", nodes)


def _facets(row: Row) -> list[tuple[str, str]]:
    """Return the values the browser offers as filter choices for this row."""
    facets = [("kind", row.kind)]
    if row.environment:
        facets.append(("environment", row.environment))
    return facets + [(f, v) for f, v in row.terms if f == "area"]


def _index_of(path: str) -> int:
    return _number(path.rsplit("/", 1)[-1])


def _number(name: str) -> int:
    stem = name.split(".", 1)[0]
    return int(stem) if stem.isdigit() else -1
