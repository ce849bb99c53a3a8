"""Read the audit index: filtered, keyset-paginated lists, entries, proofs.

Every query takes the repositories the reader may see and returns nothing of
any other: not a row, not a count, not a filter choice.

Entries of kind `key` (rotations, repo `-`) concern a whole log: whoever may
see any repository of a log sees its rotations, which a receipt needs to
lead from the first key to the one that signed the checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import sqlite3
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from changebot.index import schema, tree
from changebot.index.build import Finding, Verification

#: How a page looks for text: walk by time, sort the matches, or LIKE.
TextPlan = Literal["walk", "set", "scan"]

_CURSOR = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)~(\d{1,18})$")
_DAY = re.compile(r"^\d{4}-\d\d-\d\d$")
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?Z?$")
_COLUMNS = (
    "e.id, l.name AS log, e.idx, e.time, e.kind, e.repo, e.environment, e.pr, "
    "e.actor, e.rationale, e.bypassed, e.overridden, e.leaf, e.keyids, e.envelope"
)


@dataclass(frozen=True)
class Filter:
    """What the reader asked to see; empty fields do not filter."""

    repo: str = ""
    kind: str = ""
    area: str = ""
    actor: str = ""
    environment: str = ""
    since: str = ""
    until: str = ""
    text: str = ""

    def is_empty(self) -> bool:
        """Tell whether no field filters anything."""
        return not any(vars(self).values())


@dataclass(frozen=True)
class Record:
    """One indexed entry with its decoded fields."""

    id: int
    log: str
    index: int
    time: str
    kind: str
    repo: str
    environment: str | None
    pr: int | None
    actor: str | None
    rationale: str
    bypassed: bool
    overridden: bool
    leaf: str
    keyids: tuple[str, ...]
    envelope: dict[str, Any]
    entry: dict[str, Any]

    @property
    def cursor(self) -> str:
        """Return the keyset cursor that continues a list after this record."""
        return f"{self.time}~{self.id}"


@dataclass(frozen=True)
class Page:
    """One page of a list, and the cursor of the next page if there is one."""

    records: list[Record]
    next_cursor: str | None


@dataclass(frozen=True)
class Proof:
    """An inclusion proof of one entry in the tree its log's checkpoint signs."""

    index: int
    size: int
    leaf: str
    root: str
    path: tuple[str, ...]
    checkpoint: str


@dataclass(frozen=True)
class LogState:
    """What the index knows about one audit log."""

    name: str
    origin: str
    head: str | None
    size: int
    checkpoint: str | None
    verification: Verification | None = None
    repos: tuple[str, ...] = field(default=())


class Search:
    """Answers the browser's questions from the index at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = schema.connect(self.path)
        try:
            yield db
        finally:
            db.close()

    def repos(self) -> list[str]:
        """Return every repository with an indexed entry."""
        with self._db() as db:
            rows = db.execute("SELECT DISTINCT repo FROM facets ORDER BY repo")
            return [r[0] for r in rows]

    def page(
        self,
        visible: Collection[str],
        wanted: Filter,
        *,
        after: str = "",
        limit: int = 50,
    ) -> Page:
        """Return entries matching ``wanted``, newest first, after a cursor."""
        if not visible:
            return Page([], None)
        with self._db() as db:
            plan = _text_plan(db, wanted.text, limit)
            where, args = _where(visible, wanted, after, plan)
            sql = (
                f"SELECT {_COLUMNS} FROM entries e JOIN logs l ON l.id = e.log_id "  # noqa: S608 -- placeholders only
                f"WHERE {' AND '.join(where)} ORDER BY e.time DESC, e.id DESC LIMIT ?"
            )
            rows = db.execute(sql, [*args, limit + 1]).fetchall()
        records = [_record(r) for r in rows[:limit]]
        more = len(rows) > limit and records
        return Page(records, records[-1].cursor if more else None)

    def every(self, visible: Collection[str], wanted: Filter) -> Iterator[Record]:
        """Yield every matching entry, newest first, a page at a time."""
        after = ""
        while True:
            page = self.page(visible, wanted, after=after, limit=500)
            yield from page.records
            if page.next_cursor is None:
                return
            after = page.next_cursor

    def entry(self, visible: Collection[str], log: str, index: int) -> Record | None:
        """Return one entry, or None when it is absent or not visible."""
        with self._db() as db:
            row = db.execute(
                f"SELECT {_COLUMNS}, e.log_id FROM entries e "  # noqa: S608 -- fixed columns
                "JOIN logs l ON l.id = e.log_id WHERE l.name = ? AND e.idx = ?",
                (log, index),
            ).fetchone()
            if row is None or not _row_visible(db, row, visible):
                return None
        return _record(row)

    def related(self, visible: Collection[str], record: Record) -> list[Record]:
        """Return entries about the same PRs: overrides, deployments, the change."""
        numbers = [str(n) for n in _pulls_of(record)]
        if not numbers or record.repo not in visible:
            return []
        marks = ", ".join("?" * len(numbers))
        sql = (
            f"SELECT DISTINCT {_COLUMNS} FROM terms t "  # noqa: S608 -- placeholders only
            "JOIN entries e ON e.id = t.entry_id JOIN logs l ON l.id = e.log_id "
            f"WHERE t.facet = 'pr' AND t.value IN ({marks}) "
            "AND e.repo = ? AND e.id != ? ORDER BY e.time, e.id LIMIT 100"
        )
        with self._db() as db:
            rows = db.execute(sql, [*numbers, record.repo, record.id]).fetchall()
        return [_record(r) for r in rows]

    def timeline(
        self, visible: Collection[str], environment: str, since: str, until: str
    ) -> list[Record]:
        """Return what happened around an environment in a window, oldest first."""
        with self._db() as db:
            repos = [
                r[0]
                for r in db.execute(
                    "SELECT DISTINCT repo FROM facets WHERE facet = 'environment' "
                    "AND value = ?",
                    (environment,),
                )
                if r[0] in visible
            ]
        if not repos:
            return []
        window = Filter(since=since, until=until)
        where, args = _where(repos, window, "", "scan")
        where.append(
            "(e.environment = ? OR (e.environment IS NULL AND e.kind IN "
            "('change', 'override', 'direct-push')))"
        )
        sql = (
            f"SELECT {_COLUMNS} FROM entries e JOIN logs l ON l.id = e.log_id "  # noqa: S608 -- placeholders only
            f"WHERE {' AND '.join(where)} ORDER BY e.time, e.id LIMIT 1000"
        )
        with self._db() as db:
            rows = db.execute(sql, [*args, environment]).fetchall()
        return [_record(r) for r in rows]

    def choices(self, visible: Collection[str]) -> dict[str, list[str]]:
        """Return the filter choices (repo, kind, area, environment) one may see."""
        found: dict[str, set[str]] = {
            "repo": set(),
            "kind": set(),
            "area": set(),
            "environment": set(),
        }
        with self._db() as db:
            logs = _visible_logs(db, visible)
            for log_id, repo, facet, value in db.execute(
                "SELECT log_id, repo, facet, value FROM facets"
            ):
                if repo in visible:
                    found["repo"].add(repo)
                    found[facet].add(value)
                elif facet == "kind" and value == "key" and log_id in logs:
                    found["kind"].add(value)
        return {name: sorted(values) for name, values in found.items()}

    def logs(self, visible: Collection[str]) -> list[LogState]:
        """Return the logs that hold an entry the reader may see."""
        with self._db() as db:
            holders: dict[int, set[str]] = {}
            for log_id, repo in db.execute("SELECT DISTINCT log_id, repo FROM facets"):
                if repo in visible:
                    holders.setdefault(log_id, set()).add(repo)
            states = []
            for row in db.execute("SELECT * FROM logs ORDER BY name"):
                if row["id"] in holders:
                    states.append(_log_state(db, row, holders[row["id"]], visible))
        return states

    def proof(self, record: Record, checkpoint: str | None) -> Proof | None:
        """Return the inclusion proof of ``record`` against ``checkpoint``."""
        signed = parse_checkpoint(checkpoint) if checkpoint else None
        if signed is None or record.index >= signed[1]:
            return None
        with self._db() as db:
            log_id = db.execute(
                "SELECT id FROM logs WHERE name = ?", (record.log,)
            ).fetchone()[0]
            try:
                path = tree.inclusion_proof(
                    record.index, signed[1], _lookup(db, log_id)
                )
            except KeyError:
                return None
        return Proof(
            index=record.index,
            size=signed[1],
            leaf=record.leaf,
            root=signed[2].hex(),
            path=tuple(p.hex() for p in path),
            checkpoint=checkpoint or "",
        )


def proof_holds(proof: Proof) -> bool:
    """Tell whether ``proof`` leads from the entry's leaf to the signed root."""
    root = tree.root_from_proof(
        proof.index,
        proof.size,
        bytes.fromhex(proof.leaf),
        [bytes.fromhex(p) for p in proof.path],
    )
    return root is not None and root.hex() == proof.root


def parse_checkpoint(text: str) -> tuple[str, int, bytes] | None:
    """Return (origin, size, root) of a C2SP checkpoint note, or None.

    See: https://c2sp.org/tlog-checkpoint
    """
    lines = text.split("\n")
    if len(lines) < 3 or not lines[1].isdigit():
        return None
    try:
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error):
        return None
    return (lines[0], int(lines[1]), root) if len(root) == 32 else None


def day_start(value: str) -> str:
    """Return an RFC 3339 lower bound for a date or time the reader typed."""
    return _stamp(value, "T00:00:00Z")


def day_end(value: str) -> str:
    """Return an RFC 3339 upper bound for a date or time the reader typed."""
    return _stamp(value, "T23:59:59Z")


def _stamp(value: str, day_suffix: str) -> str:
    value = value.strip()
    if _DAY.match(value):
        return value + day_suffix
    if _STAMP.match(value):
        value = value.rstrip("Z")
        return (value if value.count(":") == 2 else value + ":00") + "Z"
    return ""


def _where(
    visible: Collection[str], wanted: Filter, after: str, plan: TextPlan
) -> tuple[list[str], list[Any]]:
    repos = sorted(visible)
    marks = ", ".join("?" * len(repos))
    # NOTE: unary + keeps SQLite from using the repo index for the visibility
    # check, so that it walks entries newest first and stops after one page.
    visibility = (
        f"(+e.repo IN ({marks}) OR (e.kind = 'key' AND e.log_id IN "  # noqa: S608 -- placeholders only
        f"(SELECT log_id FROM facets WHERE repo IN ({marks}))))"
    )
    where = [visibility]
    args: list[Any] = [*repos, *repos]
    for column in ("repo", "kind", "environment"):
        value = getattr(wanted, column)
        if value:
            where.append(f"e.{column} = ?")
            args.append(value)
    for facet, value in (("area", wanted.area), ("actor", wanted.actor.lower())):
        if value:
            where.append(
                "e.id IN (SELECT entry_id FROM terms WHERE facet = ? AND value = ?)"
            )
            args += [facet, value]
    if wanted.since and day_start(wanted.since):
        where.append("e.time >= ?")
        args.append(day_start(wanted.since))
    if wanted.until and day_end(wanted.until):
        where.append("e.time <= ?")
        args.append(day_end(wanted.until))
    if wanted.text.strip() and plan != "scan":
        # NOTE: unary + makes the matches a set to test entries against while
        # walking newest first, instead of the rows to start from and sort.
        column = "+e.id" if plan == "walk" else "e.id"
        matches = "SELECT rowid FROM rationale_fts WHERE rationale_fts MATCH ?"
        where.append(f"{column} IN ({matches})")
        args.append(_fts_query(wanted.text))
    elif wanted.text.strip():
        where.append("e.rationale LIKE ? ESCAPE '\\'")
        args.append("%" + re.sub(r"([%_\\])", r"\\\1", wanted.text.strip()) + "%")
    cursor = _CURSOR.match(after)
    if cursor:
        # NOTE: the bound on time alone lets SQLite start the walk at the
        # cursor instead of skipping every newer entry.
        where.append("e.time <= ? AND (e.time < ? OR e.id < ?)")
        args += [cursor[1], cursor[1], int(cursor[2])]
    return where, args


def _text_plan(db: sqlite3.Connection, text: str, limit: int) -> TextPlan:
    """Choose how to find entries whose rationale holds every word of ``text``.

    When every word is common, the page walks entries newest first and
    stops after ``limit`` matches, which come soon ("walk"); when one word is
    rare, the few entries holding it are fetched and sorted ("set"). Sorting
    every match of a common word, or walking the whole log for a rare one, is
    what makes a page slow. The estimate only picks the plan: both give the
    same entries, and neither counts the matches.
    """
    if not schema.has_fts(db):
        return "scan"
    words = [w.lower() for w in re.findall(r"\w+", text)]
    if not words:
        return "set"
    marks = ", ".join("?" * len(words))
    counts = dict(
        db.execute(
            f"SELECT term, doc FROM rationale_terms WHERE term IN ({marks})",  # noqa: S608 -- placeholders only
            words,
        ).fetchall()
    )
    rarest = min(counts.get(w, 0) for w in words)
    entries = db.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()[0]
    # NOTE: a walk meets about limit * entries / matches entries, a set sorts
    # about matches rows: walk once matches² outgrow limit * entries.
    return "walk" if rarest * rarest > (limit + 1) * entries else "set"


def _fts_query(text: str) -> str:
    """Quote every word so that the reader's text is never FTS5 syntax."""
    words = re.findall(r"\w+", text)
    return " ".join('"' + w.replace('"', '""') + '"' for w in words) or '""'


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


def _record(row: sqlite3.Row) -> Record:
    envelope = json.loads(row["envelope"])
    entry = json.loads(base64.b64decode(envelope["payload"]))
    return Record(
        id=row["id"],
        log=row["log"],
        index=row["idx"],
        time=row["time"],
        kind=row["kind"],
        repo=row["repo"],
        environment=row["environment"],
        pr=row["pr"],
        actor=row["actor"],
        rationale=row["rationale"],
        bypassed=bool(row["bypassed"]),
        overridden=bool(row["overridden"]),
        leaf=row["leaf"],
        keyids=tuple(row["keyids"].split()),
        envelope=envelope,
        entry=entry,
    )


def _pulls_of(record: Record) -> list[int]:
    numbers = [record.pr] if record.pr is not None else []
    pulls = record.entry.get("pulls") or []
    return numbers + [n for n in pulls if isinstance(n, int)]


def _log_state(
    db: sqlite3.Connection,
    row: sqlite3.Row,
    repos: set[str],
    visible: Collection[str],
) -> LogState:
    found = db.execute(
        "SELECT * FROM verifications WHERE log_id = ?", (row["id"],)
    ).fetchone()
    verification = None
    if found is not None:
        findings = tuple(
            Finding(f["message"], f.get("index"))
            for f in json.loads(found["findings"])
            if _finding_visible(db, row["id"], f.get("index"), visible)
        )
        verification = Verification(
            found["checked_at"], bool(found["ok"]), found["size"], findings
        )
    return LogState(
        name=row["name"],
        origin=row["origin"],
        head=row["head"],
        size=row["size"],
        checkpoint=row["checkpoint"],
        verification=verification,
        repos=tuple(sorted(repos)),
    )


def _finding_visible(
    db: sqlite3.Connection, log_id: int, index: int | None, visible: Collection[str]
) -> bool:
    """Tell whether a finding is about the log itself or a visible entry.

    NOTE: a finding about an entry the reader may not see is left out, but the
    log still shows as failing: its integrity concerns every reader. A missing
    entry belongs to no known repository, so its finding is shown.
    """
    if index is None:
        return True
    row = db.execute(
        "SELECT repo, kind FROM entries WHERE log_id = ? AND idx = ?", (log_id, index)
    ).fetchone()
    return row is None or row[0] in visible or row[1] == "key"


def _visible_logs(db: sqlite3.Connection, visible: Collection[str]) -> set[int]:
    """Return the ids of the logs that hold an entry of a visible repository."""
    return {
        log_id
        for log_id, repo in db.execute("SELECT DISTINCT log_id, repo FROM facets")
        if repo in visible
    }


def _row_visible(
    db: sqlite3.Connection, row: sqlite3.Row, visible: Collection[str]
) -> bool:
    """Tell whether the reader may see an entry: its repository, or its log's key."""
    if row["repo"] in visible:
        return True
    return row["kind"] == "key" and row["log_id"] in _visible_logs(db, visible)
