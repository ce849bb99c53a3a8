"""The SQLite schema of the audit index, and opening a database with it.

The index is derived data: when its schema version changes it is dropped and
rebuilt from the audit branches, never migrated.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

VERSION = 2

_TABLES = """
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    origin TEXT NOT NULL DEFAULT '',
    head TEXT,
    size INTEGER NOT NULL DEFAULT 0,
    checkpoint TEXT
);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    log_id INTEGER NOT NULL REFERENCES logs(id),
    idx INTEGER NOT NULL,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    repo TEXT NOT NULL,
    environment TEXT,
    pr INTEGER,
    actor TEXT,
    rationale TEXT NOT NULL DEFAULT '',
    bypassed INTEGER NOT NULL DEFAULT 0,
    overridden INTEGER NOT NULL DEFAULT 0,
    leaf TEXT NOT NULL,
    keyids TEXT NOT NULL DEFAULT '',
    envelope TEXT NOT NULL,
    UNIQUE (log_id, idx)
);
CREATE INDEX IF NOT EXISTS entries_time ON entries (time DESC, id DESC);
CREATE INDEX IF NOT EXISTS entries_repo ON entries (repo, time DESC, id DESC);
CREATE INDEX IF NOT EXISTS entries_kind ON entries (kind, time DESC, id DESC);
CREATE INDEX IF NOT EXISTS entries_env
    ON entries (environment, time DESC, id DESC) WHERE environment IS NOT NULL;
CREATE TABLE IF NOT EXISTS terms (
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    entry_id INTEGER NOT NULL REFERENCES entries(id),
    PRIMARY KEY (facet, value, entry_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS terms_entry ON terms (entry_id);
CREATE TABLE IF NOT EXISTS facets (
    log_id INTEGER NOT NULL,
    repo TEXT NOT NULL,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (log_id, repo, facet, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS nodes (
    log_id INTEGER NOT NULL,
    level INTEGER NOT NULL,
    position INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (log_id, level, position)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS verifications (
    log_id INTEGER PRIMARY KEY REFERENCES logs(id),
    checked_at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    size INTEGER NOT NULL,
    findings TEXT NOT NULL,
    head TEXT,
    full_at TEXT
);
"""

_FTS = """
CREATE VIRTUAL TABLE IF NOT EXISTS rationale_fts
    USING fts5(rationale, content='entries', content_rowid='id');
CREATE VIRTUAL TABLE IF NOT EXISTS rationale_terms
    USING fts5vocab(rationale_fts, 'row');
"""


def connect(path: Path) -> sqlite3.Connection:
    """Open the index at ``path``, creating or rebuilding its schema as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    if db.execute("PRAGMA user_version").fetchone()[0] != VERSION:
        _create(db)
    return db


def has_fts(db: sqlite3.Connection) -> bool:
    """Tell whether this index has the full-text table for rationales."""
    found = db.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'rationale_fts'"
    ).fetchone()
    return found is not None


def _create(db: sqlite3.Connection) -> None:
    log.info("creating audit index schema", extra={"version": VERSION})
    for table in (
        "rationale_terms",
        "rationale_fts",
        "verifications",
        "nodes",
        "facets",
        "terms",
        "entries",
        "logs",
    ):
        db.execute(f"DROP TABLE IF EXISTS {table}")  # noqa: S608 -- fixed names
    db.executescript(_TABLES)
    try:
        db.executescript(_FTS)
    except sqlite3.OperationalError:
        # NOTE: SQLite built without FTS5; rationale search falls back to LIKE.
        log.warning("sqlite has no fts5; rationale search will scan")
    db.execute(f"PRAGMA user_version = {VERSION}")
