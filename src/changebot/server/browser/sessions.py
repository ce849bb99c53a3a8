"""Server-side sessions of signed-in readers, kept in a SQLite file.

The cookie holds only a random session id; the reader's GitHub token stays
on the server. The file stores a hash of each id, so a copy of it cannot be
replayed as a cookie.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    token TEXT NOT NULL,
    csrf TEXT NOT NULL,
    expires REAL NOT NULL,
    readable TEXT,
    readable_at REAL NOT NULL DEFAULT 0
)
"""


@dataclass(frozen=True)
class Session:
    """A signed-in reader."""

    id: str
    login: str
    token: str
    csrf: str
    readable: frozenset[str] | None
    readable_at: float


class Sessions:
    """Creates, finds and ends sessions in the SQLite file at ``path``."""

    def __init__(self, path: Path, ttl: float) -> None:
        self.path = path
        self.ttl = ttl
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute(_SCHEMA)
        os.chmod(path, 0o600)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    def start(self, login: str, token: str) -> Session:
        """Begin a session for ``login``; return it with its new id."""
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE expires < ?", (time.time(),))
            db.execute(
                "INSERT INTO sessions (id_hash, login, token, csrf, expires) "
                "VALUES (?, ?, ?, ?, ?)",
                (_hash(session_id), login, token, csrf, time.time() + self.ttl),
            )
        return Session(session_id, login, token, csrf, None, 0.0)

    def find(self, session_id: str) -> Session | None:
        """Return the live session with this id, or None."""
        if not session_id or len(session_id) > 100:
            return None
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM sessions WHERE id_hash = ? AND expires >= ?",
                (_hash(session_id), time.time()),
            ).fetchone()
        if row is None:
            return None
        readable = json.loads(row["readable"]) if row["readable"] else None
        return Session(
            session_id,
            row["login"],
            row["token"],
            row["csrf"],
            frozenset(readable) if readable is not None else None,
            row["readable_at"],
        )

    def remember_readable(self, session: Session, repos: set[str]) -> None:
        """Cache which repositories the reader may read, as of now."""
        with self._db() as db:
            db.execute(
                "UPDATE sessions SET readable = ?, readable_at = ? WHERE id_hash = ?",
                (json.dumps(sorted(repos)), time.time(), _hash(session.id)),
            )

    def end(self, session_id: str) -> None:
        """Forget a session."""
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE id_hash = ?", (_hash(session_id),))


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
