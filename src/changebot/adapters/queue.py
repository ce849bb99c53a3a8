"""The job queue, through huey (the only huey and redis import).

A SQLite file under the data directory by default; Redis when a URL is
given, so that any number of web and worker processes share the work. Next
to huey's own tables or keys lives a small *ledger*: claims that expire
(delivery ids already accepted, per-subject locks), the dead letters of
jobs that failed every retry, and the *journal* of the jobs workers took
and have not finished.

NOTE: huey's dequeue is destructive: a worker killed mid-job (SIGKILL, OOM,
a power cut) takes its job with it. The journal keeps a copy of each job a
worker holds until it succeeds or becomes a dead letter: on SQLite written
by the transaction that takes the job off the queue (every job), on Redis
next to the delivery's claim (delivery jobs). `recover` queues again every
job a worker took longer ago than the grace period (or whose retry was due
that long ago) and never gave back. Jobs are idempotent, so a job that was
only slow runs twice at worst.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

import redis
from huey import RedisHuey, SqliteHuey
from huey import signals as huey_signals
from huey.exceptions import RetryTask
from huey.serializer import Serializer
from huey.storage import SqliteStorage

from changebot.errors import QueueError

log = logging.getLogger(__name__)

#: Raised by a job that must wait for another; huey retries it shortly.
Busy = RetryTask

#: How long an accepted delivery id is remembered (GitHub keeps 3 days).
DELIVERY_TTL = 8 * 24 * 3600

#: How long a job a worker took may go unheard of before it is queued again:
#: longer than a job's lock (`LOCK_TTL`), so a lost job's rerun never waits.
JOB_GRACE = 600.0

#: How long a job holds its subject's lock unless it releases it.
LOCK_TTL = 300.0


@dataclass(frozen=True)
class DeadLetter:
    """A job that failed every retry, kept until someone retries or drops it."""

    id: int
    task: str
    args: list[Any]
    error: str
    failed_at: datetime
    summary: str


class Ledger(Protocol):
    """Expiring claims and dead letters, shared by every process of a queue."""

    def claim(self, key: str, ttl: float) -> bool:
        """Take ``key`` for ``ttl`` seconds; False if someone else holds it."""
        ...

    def release(self, key: str) -> None:
        """Give ``key`` back."""
        ...

    def prune(self) -> int:
        """Forget expired claims; return how many."""
        ...

    def bury(self, task: str, args: list[Any], error: str, summary: str) -> int:
        """Record a dead letter and return its id."""
        ...

    def buried(self) -> list[DeadLetter]:
        """Return every dead letter, oldest first."""
        ...

    def exhume(self, letter_id: int) -> DeadLetter | None:
        """Remove a dead letter and return it, or None if it is gone."""
        ...

    def note(self, key: str, value: str) -> None:
        """Remember ``value`` under ``key`` (a watermark, a setting)."""
        ...

    def noted(self, key: str) -> str | None:
        """Return what was noted under ``key``, or None."""
        ...

    def add(self, group: str, member: str) -> None:
        """Put ``member`` into the set ``group``."""
        ...

    def members(self, group: str) -> list[str]:
        """Return the members of the set ``group``, sorted."""
        ...

    def ping(self) -> None:
        """Raise QueueError unless the storage answers."""
        ...

    def take(self, job_id: str, at: float | None) -> None:
        """Note that a worker holds journaled job ``job_id``, due back at ``at``.

        None says the job is back in the queue, where no worker holds it.
        """
        ...

    def close(self, job_id: str) -> None:
        """Remove journaled job ``job_id``: it succeeded or became a dead letter."""
        ...

    def stale(self, before: float) -> list[str]:
        """Return the journaled jobs taken and not given back by ``before``."""
        ...


#: Commits survive a crash of any changebot process, and are written to disk
#: at checkpoints rather than one fsync each (Redis's `appendfsync everysec`
#: makes the same trade). See: https://www.sqlite.org/pragma.html#pragma_synchronous
SQLITE_SYNCHRONOUS = "normal"


#: Pages the write-ahead log grows to before it is copied back (40 MB).
WAL_CHECKPOINT_PAGES = 10_000


class _Storage(SqliteStorage):  # type: ignore[misc]
    """Huey's SQLite storage, committing in WAL mode without an fsync each."""

    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        conn.execute(f"pragma synchronous={SQLITE_SYNCHRONOUS}")
        # NOTE: fewer, larger checkpoints: each one costs an fsync.
        conn.execute(f"pragma wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        return conn


class _SqliteHuey(SqliteHuey):  # type: ignore[misc]
    storage_class = _Storage

    def dequeue(self) -> Any:
        """Take the next task, moving it into the journal in the same transaction."""
        storage = self.storage
        if not storage.sql(_ANY_TASK, (storage.name,), results=True):
            return None
        with storage.db(commit=True) as cursor:
            row = cursor.execute(_NEXT_TASK, (storage.name,)).fetchone()
            if row is None:
                return None
            cursor.execute("delete from task where id = ?", (row[0],))
            task = self.deserialize_task(row[1])
            now = time.time()
            cursor.execute(_JOURNAL, (str(task.id), row[1], now, now))
        return task


_ANY_TASK = "select 1 from task where queue = ? limit 1"
_NEXT_TASK = (
    "select id, data from task where queue = ? order by priority desc, id limit 1"
)
#: Keep a taken job's copy: (id, message, queued, taken).
_JOURNAL = (
    "insert or replace into changebot_journal (id, message, queued, taken)"
    " values (?, ?, ?, ?)"
)


#: Take a claim unless someone holds it unexpired: (key, expires, now).
_CLAIM = (
    "insert into changebot_claim (key, expires) values (?, ?)"
    " on conflict (key) do update set expires = excluded.expires"
    " where changebot_claim.expires < ?"
)


class SqliteLedger:
    """The ledger as two tables in the queue's SQLite file."""

    _schema = (
        "create table if not exists changebot_claim ("
        " key text primary key, expires real not null)",
        "create index if not exists changebot_claim_expires"
        " on changebot_claim (expires)",
        "create table if not exists changebot_dead ("
        " id integer primary key autoincrement, task text not null,"
        " args text not null, error text not null, failed_at real not null,"
        " summary text not null)",
        "create table if not exists changebot_note ("
        " key text primary key, value text not null)",
        "create table if not exists changebot_set ("
        " name text not null, member text not null, primary key (name, member))",
        "create table if not exists changebot_journal ("
        " id text primary key, message blob not null, queued real not null,"
        " taken real)",
    )

    def __init__(self, filename: Path) -> None:
        self._filename = filename
        self._local = threading.local()
        with self._db() as db:
            for statement in self._schema:
                db.execute(statement)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self._filename, timeout=10, isolation_level=None)
            conn.execute("pragma journal_mode=wal")
            conn.execute(f"pragma synchronous={SQLITE_SYNCHRONOUS}")
            self._local.conn = conn
        try:
            yield conn
        except sqlite3.Error as err:
            raise QueueError(
                f"the queue database {self._filename} failed: {err}"
            ) from err

    def claim(self, key: str, ttl: float) -> bool:
        """Take ``key`` for ``ttl`` seconds; False if someone else holds it."""
        now = time.time()
        with self._db() as db:
            cursor = db.execute(_CLAIM, (key, now + ttl, now))
            return cursor.rowcount == 1

    def release(self, key: str) -> None:
        """Give ``key`` back."""
        with self._db() as db:
            db.execute("delete from changebot_claim where key = ?", (key,))

    def prune(self) -> int:
        """Forget expired claims; return how many."""
        with self._db() as db:
            cursor = db.execute(
                "delete from changebot_claim where expires < ?", (time.time(),)
            )
            return cursor.rowcount

    def bury(self, task: str, args: list[Any], error: str, summary: str) -> int:
        """Record a dead letter and return its id."""
        with self._db() as db:
            cursor = db.execute(
                "insert into changebot_dead (task, args, error, failed_at, summary)"
                " values (?, ?, ?, ?, ?)",
                (task, json.dumps(args), error, time.time(), summary),
            )
            return int(cursor.lastrowid or 0)

    def buried(self) -> list[DeadLetter]:
        """Return every dead letter, oldest first."""
        with self._db() as db:
            rows = db.execute(
                "select id, task, args, error, failed_at, summary"
                " from changebot_dead order by id"
            ).fetchall()
        return [_letter(*row) for row in rows]

    def exhume(self, letter_id: int) -> DeadLetter | None:
        """Remove a dead letter and return it, or None if it is gone."""
        with self._db() as db:
            row = db.execute(
                "delete from changebot_dead where id = ?"
                " returning id, task, args, error, failed_at, summary",
                (letter_id,),
            ).fetchone()
        return _letter(*row) if row else None

    def note(self, key: str, value: str) -> None:
        """Remember ``value`` under ``key`` (a watermark, a setting)."""
        with self._db() as db:
            db.execute(
                "insert or replace into changebot_note (key, value) values (?, ?)",
                (key, value),
            )

    def noted(self, key: str) -> str | None:
        """Return what was noted under ``key``, or None."""
        with self._db() as db:
            row = db.execute(
                "select value from changebot_note where key = ?", (key,)
            ).fetchone()
        return str(row[0]) if row else None

    def add(self, group: str, member: str) -> None:
        """Put ``member`` into the set ``group``."""
        with self._db() as db:
            db.execute(
                "insert or ignore into changebot_set (name, member) values (?, ?)",
                (group, member),
            )

    def members(self, group: str) -> list[str]:
        """Return the members of the set ``group``, sorted."""
        with self._db() as db:
            rows = db.execute(
                "select member from changebot_set where name = ? order by member",
                (group,),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def ping(self) -> None:
        """Raise QueueError unless the storage answers."""
        with self._db() as db:
            db.execute("select count(*) from changebot_dead").fetchone()

    def take(self, job_id: str, at: float | None) -> None:
        """Note that a worker holds journaled job ``job_id``, due back at ``at``.

        None says the job is back in the queue, where no worker holds it.
        """
        with self._db() as db:
            db.execute(
                "update changebot_journal set taken = ? where id = ?", (at, job_id)
            )

    def close(self, job_id: str) -> None:
        """Remove journaled job ``job_id``: it succeeded or became a dead letter."""
        with self._db() as db:
            db.execute("delete from changebot_journal where id = ?", (job_id,))

    def stale(self, before: float) -> list[str]:
        """Return the journaled jobs taken and not given back by ``before``."""
        with self._db() as db:
            rows = db.execute(
                "select id from changebot_journal where taken < ? order by queued",
                (before,),
            ).fetchall()
        return [str(row[0]) for row in rows]


class RedisLedger:
    """The ledger as keys next to huey's in Redis."""

    def __init__(self, client: redis.Redis, name: str) -> None:
        self._redis = client
        self._prefix = f"changebot.{name}"

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except redis.RedisError as err:
            raise QueueError(f"redis failed: {err}") from err

    def claim(self, key: str, ttl: float) -> bool:
        """Take ``key`` for ``ttl`` seconds; False if someone else holds it."""
        with self._errors():
            taken = self._redis.set(
                f"{self._prefix}.claim.{key}", b"1", nx=True, px=max(1, int(ttl * 1000))
            )
        return bool(taken)

    def release(self, key: str) -> None:
        """Give ``key`` back."""
        with self._errors():
            self._redis.delete(f"{self._prefix}.claim.{key}")

    def prune(self) -> int:
        """Forget expired claims: Redis does it by itself."""
        return 0

    def bury(self, task: str, args: list[Any], error: str, summary: str) -> int:
        """Record a dead letter and return its id."""
        with self._errors():
            letter_id = int(self._redis.incr(f"{self._prefix}.dead.seq"))
            record = [letter_id, task, json.dumps(args), error, time.time(), summary]
            self._redis.hset(f"{self._prefix}.dead", str(letter_id), json.dumps(record))
        return letter_id

    def buried(self) -> list[DeadLetter]:
        """Return every dead letter, oldest first."""
        with self._errors():
            raw: dict[Any, Any] = self._redis.hgetall(f"{self._prefix}.dead")
        letters = [_letter(*json.loads(value)) for value in raw.values()]
        return sorted(letters, key=lambda letter: letter.id)

    def exhume(self, letter_id: int) -> DeadLetter | None:
        """Remove a dead letter and return it, or None if it is gone."""
        key = f"{self._prefix}.dead"
        with self._errors():
            pipe = self._redis.pipeline()
            pipe.hget(key, str(letter_id))
            pipe.hdel(key, str(letter_id))
            raw, deleted = pipe.execute()
        # NOTE: only the caller whose HDEL removed the field gets the letter,
        # so two concurrent retries of one letter enqueue it once.
        return _letter(*json.loads(raw)) if raw and deleted else None

    def note(self, key: str, value: str) -> None:
        """Remember ``value`` under ``key`` (a watermark, a setting)."""
        with self._errors():
            self._redis.set(f"{self._prefix}.note.{key}", value.encode())

    def noted(self, key: str) -> str | None:
        """Return what was noted under ``key``, or None."""
        with self._errors():
            raw = self._redis.get(f"{self._prefix}.note.{key}")
        return raw.decode() if isinstance(raw, bytes) else None

    def add(self, group: str, member: str) -> None:
        """Put ``member`` into the set ``group``."""
        with self._errors():
            self._redis.sadd(f"{self._prefix}.set.{group}", member.encode())

    def members(self, group: str) -> list[str]:
        """Return the members of the set ``group``, sorted."""
        with self._errors():
            raw: set[Any] = self._redis.smembers(f"{self._prefix}.set.{group}")
        return sorted(_text(item) for item in raw)

    def ping(self) -> None:
        """Raise QueueError unless the storage answers."""
        with self._errors():
            self._redis.ping()

    def journal(self, job_id: str, message: bytes) -> None:
        """Keep a copy of a queued job until it is closed."""
        with self._errors():
            pipe = self._redis.pipeline()
            pipe.hset(f"{self._prefix}.journal.message", job_id, message)
            pipe.hset(f"{self._prefix}.journal", job_id, _stamp(None))
            pipe.execute()

    def take(self, job_id: str, at: float | None) -> None:
        """Note that a worker holds journaled job ``job_id``, due back at ``at``.

        None says the job is back in the queue, where no worker holds it.
        """
        with self._errors():
            # NOTE: a job closed meanwhile (a copy finished) stays closed.
            if self._redis.hexists(f"{self._prefix}.journal", job_id):
                self._redis.hset(f"{self._prefix}.journal", job_id, _stamp(at))

    def close(self, job_id: str) -> None:
        """Remove journaled job ``job_id``: it succeeded or became a dead letter."""
        with self._errors():
            pipe = self._redis.pipeline()
            pipe.hdel(f"{self._prefix}.journal", job_id)
            pipe.hdel(f"{self._prefix}.journal.message", job_id)
            pipe.execute()

    def stale(self, before: float) -> list[str]:
        """Return the journaled jobs taken and not given back by ``before``."""
        with self._errors():
            raw: dict[Any, Any] = self._redis.hgetall(f"{self._prefix}.journal")
        taken = {_text(key): json.loads(value) for key, value in raw.items()}
        return sorted(
            key for key, at in taken.items() if at is not None and at < before
        )

    def message(self, job_id: str) -> bytes | None:
        """Return journaled job ``job_id`` as the queue stores it, or None."""
        with self._errors():
            message = self._redis.hget(f"{self._prefix}.journal.message", job_id)
        return message if isinstance(message, bytes) else None


def _stamp(at: float | None) -> str:
    return json.dumps(at)


def _text(item: bytes | str) -> str:
    return item.decode() if isinstance(item, bytes) else item


def _letter(
    letter_id: int, task: str, args: str, error: str, failed_at: float, summary: str
) -> DeadLetter:
    return DeadLetter(
        id=int(letter_id),
        task=task,
        args=json.loads(args),
        error=error,
        failed_at=datetime.fromtimestamp(failed_at, UTC),
        summary=summary,
    )


class Job:
    """A kind of job: a function the workers run with JSON-able arguments."""

    def __init__(self, queue: JobQueue, wrapper: Any, summarize: Summarize) -> None:
        self._queue = queue
        self._wrapper = wrapper
        self.name: str = wrapper.name
        self.summarize = summarize

    def enqueue(self, *args: Any) -> None:
        """Persist one run of the job with ``args``; raise QueueError if it fails."""
        try:
            self._wrapper(*args)
        except (redis.RedisError, sqlite3.Error) as err:
            raise QueueError(f"could not queue {self.name}: {err}") from err

    def message(self, *args: Any) -> tuple[str, bytes]:
        """Return one run of the job with ``args``: its id and stored form."""
        task = self._wrapper.s(*args)
        data: bytes = self._queue.huey.serialize_task(task)
        return str(task.id), data

    def run_now(self, *args: Any) -> Any:
        """Run the job in this process, without the queue."""
        return self._wrapper.call_local(*args)


#: Turns a job's arguments into one line for `changebot jobs`.
Summarize = Callable[[list[Any]], str]


class JobQueue:
    """Huey plus its ledger: where webhook jobs wait for a worker."""

    def __init__(
        self,
        data_dir: Path,
        redis_url: str | None = None,
        *,
        name: str = "changebot",
        retries: int = 5,
        retry_delay: float = 2.0,
        job_grace: float = JOB_GRACE,
    ) -> None:
        self.retries = retries
        self.retry_delay = retry_delay
        self.job_grace = job_grace
        self._jobs: dict[str, Job] = {}
        self.data_dir = data_dir
        self.huey, self.ledger = _open(data_dir, redis_url, name)
        self._writer_mutex = threading.Lock()
        self._writer_file: IO[str] | None = None
        self.huey.signal(huey_signals.SIGNAL_ERROR)(self._on_error)
        self.huey.signal(huey_signals.SIGNAL_EXECUTING)(self._on_taken)
        self.huey.signal(huey_signals.SIGNAL_SCHEDULED)(self._on_scheduled)
        self.huey.post_execute("changebot-journal")(self._on_ran)
        self.backend = "redis" if redis_url else "sqlite"

    def job(
        self, name: str, summarize: Summarize | None = None
    ) -> Callable[[Callable[..., Any]], Job]:
        """Register a function as a job kind, retried with exponential backoff."""

        def register(func: Callable[..., Any]) -> Job:
            wrapper = self.huey.task(
                retries=self.retries,
                retry_delay=self.retry_delay,
                retry_backoff=2.0,
                name=name,
            )(func)
            job = Job(self, wrapper, summarize or _default_summary)
            self._jobs[name] = job
            return job

        return register

    def every(self, minutes: int, name: str) -> Callable[[Callable[[], Any]], None]:
        """Register a function the workers' scheduler runs every ``minutes``.

        0 registers nothing: the function runs only when asked.
        """

        def register(func: Callable[[], Any]) -> None:
            if minutes <= 0:
                return

            def once_per_slot() -> None:
                # NOTE: every consumer's scheduler enqueues periodic tasks;
                # the claim lets one run per slot however many there are.
                slot = int(time.time() // 60)
                if self.ledger.claim(f"periodic.{name}.{slot}", 120):
                    func()

            self.huey.periodic_task(every_minutes(minutes), name=name)(once_per_slot)

        return register

    def claim_delivery(self, guid: str) -> bool:
        """Return True the first time a delivery id is seen, False after."""
        return self.ledger.claim(f"delivery.{guid}", DELIVERY_TTL)

    def enqueue_delivery(self, guid: str, job: Job, *args: Any) -> bool:
        """Queue ``job`` for a delivery seen for the first time; False for a repeat.

        Either the delivery id is claimed and the job stored, or neither.
        """
        if isinstance(self.ledger, SqliteLedger):
            return self._enqueue_delivery_sqlite(guid, job, args)
        if not self.claim_delivery(guid):
            return False
        try:
            self._enqueue_journaled(self.ledger, job, args)
        except QueueError:
            # NOTE: give the id back, so GitHub's redelivery is accepted.
            self.forget_delivery(guid)
            raise
        return True

    def _enqueue_journaled(self, ledger: Ledger, job: Job, args: Any) -> None:
        """Queue ``job`` on Redis, its journal copy written first."""
        job_id, message = job.message(*args)
        if isinstance(ledger, RedisLedger):
            ledger.journal(job_id, message)
        try:
            self.huey.storage.enqueue(message)
        except redis.RedisError as err:
            ledger.close(job_id)
            raise QueueError(f"could not queue {job.name}: {err}") from err

    def _enqueue_delivery_sqlite(self, guid: str, job: Job, args: Any) -> bool:
        # NOTE: one transaction for the claim and the job: half the writes of
        # two, which is most of what an acknowledgement costs. The journal
        # copy is written when a worker takes the job, not here.
        storage = self.huey.storage
        _, message = job.message(*args)
        data = storage.to_blob(message)
        now = time.time()
        try:
            with self._writer(), storage.db(commit=True) as cursor:
                cursor.execute(_CLAIM, (f"delivery.{guid}", now + DELIVERY_TTL, now))
                if cursor.rowcount != 1:
                    return False
                cursor.execute(
                    "insert into task (queue, data, priority) values (?, ?, 0)",
                    (storage.name, data),
                )
        except sqlite3.Error as err:
            raise QueueError(f"could not queue {job.name}: {err}") from err
        return True

    def recover(self) -> list[str]:
        """Queue again every journaled job a worker took and lost; return their ids.

        A job counts as lost once the grace period has passed since a worker
        took it (or since its retry was due) without news of it.
        """
        lost = self.ledger.stale(time.time() - self.job_grace)
        for job_id in lost:
            log.warning("lost job queued again", extra={"job_id": job_id})
            self._requeue(job_id)
        return lost

    def _requeue(self, job_id: str) -> None:
        storage = self.huey.storage
        try:
            if isinstance(self.ledger, RedisLedger):
                message = self.ledger.message(job_id)
                if message is None:
                    # NOTE: closed while it was being taken: nothing to run.
                    self.ledger.close(job_id)
                    return
                storage.enqueue(message)
                self.ledger.take(job_id, None)
                return
            with self._writer(), storage.db(commit=True) as cursor:
                # NOTE: back in the queue, the job is journaled when next taken.
                cursor.execute(
                    "delete from changebot_journal where id = ? returning message",
                    (job_id,),
                )
                row = cursor.fetchone()
                if row is not None:
                    cursor.execute(
                        "insert into task (queue, data, priority) values (?, ?, 0)",
                        (storage.name, row[0]),
                    )
        except (redis.RedisError, sqlite3.Error) as err:
            raise QueueError(f"could not queue lost job {job_id} again: {err}") from err

    @contextlib.contextmanager
    def _writer(self) -> Iterator[None]:
        """Be the one process of this host writing a delivery to the SQLite file.

        NOTE: SQLite makes a writer that finds the file locked sleep 1, 2, 5,
        10 ms and more before it tries again; waiting on a lock of our own
        wakes up as soon as the other writer is done.
        """
        with self._writer_mutex:
            if self._writer_file is None:
                path = self.data_dir / "queue.lock"
                self._writer_file = path.open("a")
            fcntl.flock(self._writer_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._writer_file, fcntl.LOCK_UN)

    def forget_delivery(self, guid: str) -> None:
        """Forget a delivery id, so a redelivery of it is accepted again."""
        self.ledger.release(f"delivery.{guid}")

    @contextlib.contextmanager
    def exclusive(self, subject: str, *, wait: float = 5.0) -> Iterator[None]:
        """Hold ``subject`` for the block, or have the job retried shortly.

        Jobs about one pull request run one at a time across every worker, so
        two of them never both create the one PR comment.
        """
        key = f"lock.{subject}"
        deadline = time.monotonic() + wait
        while not self.ledger.claim(key, ttl=LOCK_TTL):
            if time.monotonic() >= deadline:
                # NOTE: RetryTask does not use up one of the job's retries.
                raise Busy(delay=1)
            time.sleep(0.05)
        try:
            yield
        finally:
            self.ledger.release(key)

    def depth(self) -> int:
        """Return how many jobs are waiting, now or later (retries)."""
        try:
            return int(self.huey.pending_count()) + int(self.huey.scheduled_count())
        except (redis.RedisError, sqlite3.Error) as err:
            raise QueueError(f"could not count the queue: {err}") from err

    def ping(self) -> None:
        """Raise QueueError unless the queue's storage answers."""
        self.ledger.ping()
        self.depth()

    def dead_letters(self) -> list[DeadLetter]:
        """Return the jobs that failed every retry."""
        return self.ledger.buried()

    def retry(self, letter_id: int) -> DeadLetter:
        """Queue a dead letter's job again and remove the letter."""
        letter = self.ledger.exhume(letter_id)
        if letter is None:
            raise QueueError(
                f"there is no dead letter {letter_id}",
                hint="`changebot jobs` lists the dead letters and their ids",
            )
        job = self._jobs.get(letter.task)
        if job is None:
            self.ledger.bury(letter.task, letter.args, letter.error, letter.summary)
            raise QueueError(f"this version of changebot has no job {letter.task}")
        job.enqueue(*letter.args)
        return letter

    def drain(self, limit: int = 1000) -> int:
        """Run ready jobs in this process until none is left; return how many."""
        done = 0
        while done < limit:
            for task in self.huey.read_schedule():
                self.huey.enqueue(task)
            task = self.huey.dequeue()
            if task is None:
                return done
            self.huey.execute(task)
            done += 1
        return done

    def consume(self, workers: int = 2) -> None:
        """Run a consumer with ``workers`` threads until a signal stops it."""
        consumer = self.huey.create_consumer(
            workers=workers, worker_type="thread", periodic=True
        )
        log.info("consumer starting", extra={"workers": workers})
        consumer.run()

    def _on_taken(self, signal: str, task: Any) -> None:
        # NOTE: on SQLite the dequeue itself journaled the job as taken.
        if isinstance(self.ledger, RedisLedger):
            self.ledger.take(str(task.id), time.time())

    def _on_scheduled(self, signal: str, task: Any) -> None:
        # NOTE: a taken job put back in the schedule is due back at its eta.
        if task.eta is not None:
            self.ledger.take(str(task.id), _epoch(task.eta))

    def _on_ran(self, task: Any, value: Any, exc: BaseException | None) -> None:
        """Close a finished job's journal record, or note when its retry is due."""
        if exc is None or not task.retries:
            self.ledger.close(str(task.id))
            return
        self.ledger.take(str(task.id), time.time() + _retry_delay(task, exc))

    def _on_error(self, signal: str, task: Any, exc: BaseException) -> None:
        if task.retries:
            return
        job = self._jobs.get(task.name)
        args = list(task.args)
        summary = job.summarize(args) if job else task.name
        error = f"{type(exc).__name__}: {exc}"[:2000]
        letter_id = self.ledger.bury(task.name, args, error, summary)
        log.error(
            "job failed every retry",
            extra={"job": task.name, "dead_letter": letter_id, "summary": summary},
        )


def _retry_delay(task: Any, exc: BaseException) -> float:
    """Return how long huey waits before it runs ``task`` again after ``exc``."""
    if isinstance(exc, RetryTask) and exc.delay is not None:
        return float(exc.delay)
    if isinstance(exc, RetryTask) and exc.eta is not None:
        return max(0.0, _epoch(exc.eta) - time.time())
    return float(task.retry_delay or 0)


def _epoch(moment: datetime) -> float:
    """Return a huey eta (naive means UTC) as seconds since the epoch."""
    return moment.replace(tzinfo=moment.tzinfo or UTC).timestamp()


def every_minutes(minutes: int) -> Callable[[datetime], bool]:
    """Return the schedule of a task run every ``minutes``: which minutes are due.

    Counted in minutes since the epoch, so that every interval holds: a cron
    step (``*/45``, ``*/90``) restarts each hour, and would run at :00 and
    :45, or only hourly.
    """

    def due(moment: datetime) -> bool:
        # NOTE: huey hands its scheduler's clock over as a naive UTC time.
        since = moment.replace(tzinfo=UTC) - _EPOCH
        return int(since.total_seconds() // 60) % minutes == 0

    return due


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _default_summary(args: list[Any]) -> str:
    return ", ".join(str(arg) for arg in args if not isinstance(arg, dict))


def _packed() -> Serializer:
    """Return huey's serializer, compressing: payloads are large and repetitive.

    NOTE: webhook payloads are mostly URLs that repeat the repository's; at
    the fastest level they shrink about fivefold, and a smaller row is most
    of a cheaper commit. Jobs queued uncompressed are still read.
    """
    return Serializer(compression=True, compression_level=1, use_zlib=True)


def _open(data_dir: Path, redis_url: str | None, name: str) -> tuple[Any, Ledger]:
    if redis_url:
        return _open_redis(redis_url, name)
    return _open_sqlite(data_dir, name)


def _open_sqlite(data_dir: Path, name: str) -> tuple[Any, Ledger]:
    filename = data_dir / "queue.sqlite3"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        huey = _SqliteHuey(
            name, filename=str(filename), results=False, utc=True, serializer=_packed()
        )
        return huey, SqliteLedger(filename)
    except (OSError, sqlite3.Error) as err:
        raise QueueError(f"cannot open the queue file {filename}: {err}") from err


def _open_redis(url: str, name: str) -> tuple[Any, Ledger]:
    try:
        pool = redis.ConnectionPool.from_url(url)
    except ValueError as err:
        raise QueueError(
            "CHANGEBOT_REDIS_URL is not a Redis URL",
            hint="use the form redis://host:6379/0",
        ) from err
    huey = RedisHuey(
        name, connection_pool=pool, results=False, utc=True, serializer=_packed()
    )
    return huey, RedisLedger(redis.Redis(connection_pool=pool), name)
