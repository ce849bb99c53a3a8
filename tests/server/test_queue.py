"""The job queue: retries with backoff, dead letters, claims, on SQLite and Redis."""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from changebot.adapters.queue import Busy, JobQueue, every_minutes
from changebot.errors import QueueError


@pytest.fixture(params=["sqlite", "redis"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> JobQueue:
    redis_url = (
        request.getfixturevalue("redis_url") if request.param == "redis" else None
    )
    # A fresh name per test keeps tests apart on a shared Redis.
    name = f"test-{uuid.uuid4().hex[:12]}"
    return JobQueue(tmp_path, redis_url, name=name, retries=2, retry_delay=0)


def failing_job(
    queue: JobQueue, attempts: list[str], github: dict[str, bool] | None = None
):
    """Register a job that fails while ``github["up"]`` is false."""
    github = {"up": False} if github is None else github

    @queue.job("flaky", summarize=lambda args: f"repo {args[0]}")
    def flaky(repo: str) -> None:
        attempts.append(repo)
        if not github["up"]:
            raise RuntimeError(f"github is down for {repo}")

    return flaky


def test_job_that_keeps_failing_becomes_a_dead_letter(queue):
    attempts: list[str] = []
    failing_job(queue, attempts).enqueue("octo/infra")

    queue.drain()

    assert attempts == ["octo/infra"] * 3
    (letter,) = queue.dead_letters()
    assert letter.task == "flaky"
    assert letter.args == ["octo/infra"]
    assert letter.summary == "repo octo/infra"
    assert "github is down for octo/infra" in letter.error
    assert queue.depth() == 0


def test_dead_letter_can_be_retried_once_the_cause_is_fixed(queue):
    attempts: list[str] = []
    github = {"up": False}
    failing_job(queue, attempts, github).enqueue("octo/infra")
    queue.drain()
    (letter,) = queue.dead_letters()
    github["up"] = True

    queue.retry(letter.id)
    queue.drain()

    assert queue.dead_letters() == []
    assert len(attempts) == 4


def test_retrying_a_missing_dead_letter_says_so(queue):
    with pytest.raises(QueueError, match="no dead letter 41"):
        queue.retry(41)


def test_retries_back_off_exponentially(tmp_path):
    queue = JobQueue(tmp_path, retries=3, retry_delay=10)
    failing_job(queue, []).enqueue("octo/infra")

    queue.drain()
    (waiting,) = queue.huey.scheduled()

    assert waiting.retries == 2
    assert waiting.retry_delay == 20
    assert queue.depth() == 1
    assert queue.dead_letters() == []


def test_a_claim_is_held_until_released_or_expired(queue):
    assert queue.ledger.claim("pr", ttl=60)
    assert not queue.ledger.claim("pr", ttl=60)

    queue.ledger.release("pr")
    assert queue.ledger.claim("pr", ttl=0.01)
    time.sleep(0.05)
    assert queue.ledger.claim("pr", ttl=60), "an expired claim can be taken"


def test_delivery_ids_are_claimed_once(queue):
    assert queue.claim_delivery("guid-1")
    assert not queue.claim_delivery("guid-1")

    queue.forget_delivery("guid-1")
    assert queue.claim_delivery("guid-1")


def test_one_subject_is_held_by_one_job_at_a_time(queue):
    with queue.exclusive("octo/infra#7"):
        with pytest.raises(Busy):
            with queue.exclusive("octo/infra#7", wait=0):
                pass
        with queue.exclusive("octo/infra#8", wait=0):
            pass

    with queue.exclusive("octo/infra#7", wait=0):
        pass


def test_a_busy_job_waits_without_using_up_its_retries(tmp_path):
    queue = JobQueue(tmp_path, retries=0, retry_delay=0)
    ran: list[int] = []

    @queue.job("polite")
    def polite(number: int) -> None:
        with queue.exclusive("octo/infra#7", wait=0):
            ran.append(number)

    with queue.exclusive("octo/infra#7"):
        polite.enqueue(1)
        queue.drain()
    queue.huey.storage.flush_schedule()
    polite.enqueue(2)
    queue.drain()

    assert ran == [2]
    assert queue.dead_letters() == []


def test_notes_and_sets_are_shared_through_the_storage(queue, tmp_path):
    queue.ledger.note("reconciled-at", "2024-05-01T00:00:00+00:00")
    queue.ledger.add("repos", "octo/infra")
    queue.ledger.add("repos", "octo/app")
    queue.ledger.add("repos", "octo/infra")

    assert queue.ledger.noted("reconciled-at") == "2024-05-01T00:00:00+00:00"
    assert queue.ledger.noted("never") is None
    assert queue.ledger.members("repos") == ["octo/app", "octo/infra"]


def interrupted_job(queue: JobQueue, runs: list[str]):
    """Register a job whose first run dies with its worker, as SIGKILL would."""

    @queue.job("interrupted")
    def interrupted(guid: str) -> None:
        runs.append(guid)
        if len(runs) == 1:
            # NOTE: huey drops a task its worker is interrupted in, unfinished.
            raise KeyboardInterrupt

    return interrupted


def test_a_delivery_job_lost_with_its_worker_is_queued_again(queue):
    runs: list[str] = []
    job = interrupted_job(queue, runs)
    assert queue.enqueue_delivery("guid-1", job, "guid-1")
    queue.drain()
    assert runs == ["guid-1"] and queue.depth() == 0

    assert queue.recover() == [], "not before the grace period"
    queue.job_grace = 0.0
    assert len(queue.recover()) == 1
    queue.drain()

    assert runs == ["guid-1", "guid-1"]
    assert queue.recover() == [], "a finished job is out of the journal"


def test_a_delivery_job_waiting_in_the_queue_is_not_queued_twice(queue):
    runs: list[str] = []
    job = interrupted_job(queue, runs)
    queue.enqueue_delivery("guid-1", job, "guid-1")
    queue.job_grace = 0.0

    assert queue.recover() == []
    assert queue.depth() == 1


def test_a_dead_letter_is_not_queued_again_by_recovery(queue):
    attempts: list[str] = []
    job = failing_job(queue, attempts)
    queue.enqueue_delivery("guid-1", job, "octo/infra")
    queue.drain()
    queue.job_grace = 0.0

    assert queue.recover() == []
    assert len(queue.dead_letters()) == 1
    assert attempts == ["octo/infra"] * 3


def test_a_job_waiting_for_its_retry_is_not_queued_again_early(queue):
    @queue.job("patient")
    def patient(guid: str) -> None:
        raise Busy(delay=3600)

    queue.enqueue_delivery("guid-1", patient, "guid-1")
    queue.drain()
    queue.job_grace = 0.0

    assert queue.recover() == []
    assert queue.depth() == 1


@pytest.mark.parametrize("minutes", [1, 15, 45, 90, 240])
def test_a_periodic_task_runs_every_interval_across_hours_and_days(minutes):
    due = every_minutes(minutes)
    start = datetime(2026, 12, 3, 22, 0)  # naive UTC, as huey's scheduler has it
    runs = [
        moment
        for n in range(3 * 24 * 60)
        if due(moment := start + timedelta(minutes=n))
    ]

    gaps = {later - earlier for earlier, later in itertools.pairwise(runs)}
    assert gaps == {timedelta(minutes=minutes)}


def test_a_periodic_task_of_zero_minutes_is_not_scheduled(tmp_path):
    queue = JobQueue(tmp_path, None, name="periodic", retries=0, retry_delay=0)
    ran: list[str] = []

    queue.every(0, "never")(lambda: ran.append("never"))
    queue.every(5, "often")(lambda: ran.append("often"))

    names = {task.name for task in queue.huey._registry.periodic_tasks}
    assert "often" in names
    assert "never" not in names
