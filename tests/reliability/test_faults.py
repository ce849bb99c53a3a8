"""GitHub and Slack failing while the App works: retried, nothing lost or doubled.

GitHub's faults come from the simulator (500s, slow 504s, secondary rate
limits with Retry-After), Slack's from a loopback stand-in (429, 500). The
App's retry waits are shortened, not removed: each test still goes through
the transport's retries and, past them, the queue's.
"""

from __future__ import annotations

import threading
import time

import pytest

from changebot.adapters.githubretry import RetryPolicy
from changebot.adapters.slack import SentNotices, SlackNotifier
from reliability.host import RATIONALE, REPO, AppHost, promises_kept, rebuild
from reliability.slackroom import slack_room

pytestmark = pytest.mark.e2e

#: Tries per GitHub call in these tests (production: 5, from 1 s doubling).
ATTEMPTS = 3


class FaultHost(AppHost):
    """The App with queue retries on, and short transport backoffs."""

    def __init__(self, simulator, data_dir, retries: int = 3) -> None:
        super().__init__(simulator, data_dir)
        rebuild(self, job_retries=retries)
        self.services.forge.transport.policy = RetryPolicy(
            attempts=ATTEMPTS, base_delay=0.05, max_delay=0.2, max_wait=2.0
        )
        self.waits: list[float] = []

    def settle(self, bound: float = 30.0) -> None:
        """Work until no job waits, retries included (a hang bound, not a timing)."""
        deadline = time.monotonic() + bound
        while self.work() or self.services.queue.depth():
            assert time.monotonic() < deadline, "jobs still waiting"
            time.sleep(0.1)

    def slack(self, url: str, data_dir) -> None:
        """Send notices to a Slack webhook at ``url``, recording each wait."""
        self.services.notifier = SlackNotifier(  # type: ignore[misc]
            url, sent=SentNotices(data_dir / "notices.sqlite3"), sleep=self.waits.append
        )


@pytest.fixture
def app_host(simulator, tmp_path):
    return FaultHost(simulator, tmp_path / "app")


@pytest.fixture
def infra(app_host, seeded_repo):
    app_host.listen()
    return seeded_repo


def _approved(infra, branch: str = "tf") -> int:
    number = infra.open_pull(branch, {"infra/main.tf": f"# {branch}\n"}, body=RATIONALE)
    infra.review(number, "pat")
    return number


PULL = f"/repos/{REPO}/pulls/*"
GIT = f"/repos/{REPO}/git/*"


def test_github_failing_during_evaluation_still_ends_in_one_check_run(app_host, infra):
    simulator = infra.simulator
    simulator.fail(f"{PULL}/files", "500", times=2)
    simulator.fail(f"{PULL}/reviews", "timeout", delay=0.5, method="GET")
    simulator.fail(f"/repos/{REPO}/check-runs*", "secondary", retry_after=1)
    simulator.fail(f"/repos/{REPO}/issues/*/comments", "502", times=2)

    number = _approved(infra)
    app_host.work()

    run = app_host.check(REPO, number)
    assert run.conclusion == "success"
    assert app_host.services.queue.depth() == 0


def test_github_failing_during_the_audit_append_still_records_once(app_host, infra):
    number = _approved(infra)
    app_host.work()
    simulator = infra.simulator
    for path, kind in [
        (f"{GIT}/blobs", "500"),
        (f"{GIT}/trees", "timeout"),
        (f"{GIT}/commits", "503"),
        (f"{GIT}/refs/heads/changebot/audit", "secondary"),
    ]:
        simulator.fail(path, kind, times=2, delay=0.5, method="POST")
    simulator.fail(f"{GIT}/refs/heads/changebot/audit", "500", times=2, method="PATCH")

    infra.merge(number, login="paula")
    app_host.work()

    promises_kept(app_host)
    [comment] = app_host.summary_comments(REPO, number)
    assert "#" in comment


def test_github_failing_past_every_retry_is_retried_by_the_queue(app_host, infra):
    number = _approved(infra)
    app_host.work()
    # NOTE: one more failure than the transport tries: the job itself fails.
    infra.simulator.fail(
        f"{GIT}/refs/heads/changebot/audit", "500", times=ATTEMPTS + 1, method="PATCH"
    )

    infra.merge(number, login="paula")
    app_host.work()

    entries = promises_kept(app_host)
    assert [e["kind"] for e in entries].count("change") == 1
    assert len(app_host.summary_comments(REPO, number)) == 1


def test_a_rate_limit_longer_than_a_job_should_block_waits_for_its_reset(
    app_host, infra
):
    number = _approved(infra)
    app_host.work()
    simulator = infra.simulator
    # NOTE: GitHub keeps refusing until the limit resets, whatever the count.
    simulator.fail(f"{GIT}/*", "secondary", times=10_000, retry_after=3)
    reset = threading.Timer(3.0, simulator.hub.faults.clear)
    reset.start()

    infra.merge(number, login="paula")
    app_host.work()
    reset.join()
    app_host.settle()

    promises_kept(app_host)
    assert app_host.entries(REPO, "change")


@pytest.fixture
def room():
    with slack_room() as slack:
        yield slack


def _bypassed_merge(app_host, infra) -> int:
    number = infra.open_pull("tf", {"infra/main.tf": "# yolo\n"}, title="No review")
    app_host.work()
    infra.merge(number, login="admin")
    app_host.work()
    return number


def test_slack_rate_limits_are_waited_out_and_the_notice_posted_once(
    app_host, infra, room, tmp_path
):
    app_host.slack(room.url, tmp_path)
    room.fail(429, times=2, Retry_After="2")

    number = _bypassed_merge(app_host, infra)

    assert room.refused == [429, 429]
    assert app_host.waits[:2] == [2.0, 2.0]
    [message] = room.messages
    assert f"/pull/{number}" in message["text"]
    promises_kept(app_host)


def test_slack_down_past_every_retry_still_gets_the_notice_once(
    app_host, infra, room, tmp_path
):
    app_host.slack(room.url, tmp_path)
    room.fail(500, times=4)

    number = _bypassed_merge(app_host, infra)

    assert room.refused == [500] * 4
    [message] = room.messages
    assert f"/pull/{number}" in message["text"]
    promises_kept(app_host)
