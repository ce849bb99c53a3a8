"""Scale out on Redis: two web processes, two workers, 50 PRs merged at once.

Each process is a real `changebot serve --no-worker` or `changebot worker`
with a data directory of its own, as on separate machines; only Redis and
the (simulated) GitHub are shared. The simulator spreads its 500 signed
deliveries over the two web processes like a load balancer would.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
from flows.apphost import RATIONALE

from changebot.adapters.git import GitStore
from changebot.adapters.queue import JobQueue
from changebot.audit import AuditLog, SigningKey, verify
from changebot.server.webhook import MAX_BODY

pytestmark = [pytest.mark.redis, pytest.mark.e2e]

REPO = "acme/infra"
PULLS = 50
#: Deliveries per PR: 4 branch pushes, opened, push + synchronize, review,
#: push + closed of the merge.
DELIVERIES = 10
DEADLINE = 100.0
ENTRY = "from changebot.cli import main; main(prog_name='changebot')"


class Balancer:
    """Deliver each webhook to the next web process, round robin."""

    def __init__(self, urls: list[str]) -> None:
        self._urls = itertools.cycle(urls)
        self._lock = threading.Lock()
        self.statuses: list[int] = []

    def __call__(self, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            url = next(self._urls)
        assert len(body) < MAX_BODY
        request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 - loopback
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            status = int(answer.status)
        with self._lock:
            self.statuses.append(status)
        return status


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(400):
        assert process.poll() is None, f"{url} exited with {process.returncode}"
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} never became healthy")


@pytest.fixture
def fleet(
    simulator: Any, redis_url: str, tmp_path: Path
) -> Iterator[tuple[list[str], SigningKey]]:
    """Start two web processes and two workers on one Redis; stop them after."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    key = SigningKey.generate("changebot-scale")
    key_path, _, _ = key.save(tmp_path / "signing")
    app = simulator.app
    base = {
        **os.environ,
        "CHANGEBOT_APP_ID": str(app["id"]),
        "CHANGEBOT_PRIVATE_KEY": app["private_key"],
        "CHANGEBOT_WEBHOOK_SECRET": simulator.webhook_secret,
        "CHANGEBOT_SIGNING_KEY_PATH": str(key_path),
        "CHANGEBOT_GITHUB_URL": simulator.base_url,
        "CHANGEBOT_REDIS_URL": redis_url,
        "CHANGEBOT_JOB_RETRY_DELAY": "0.5",
        "CHANGEBOT_PUSH_SETTLE_SECONDS": "2",
    }
    base.pop("PROMETHEUS_MULTIPROC_DIR", None)
    processes: list[subprocess.Popen[bytes]] = []
    urls = []
    logs = tmp_path / "logs"
    logs.mkdir()
    try:
        for n in range(2):
            port = _free_port()
            env = {**base, "CHANGEBOT_DATA_DIR": str(tmp_path / f"web{n}")}
            argv = ["serve", "--no-worker", "--workers", "1", "--port", str(port)]
            processes.append(_start(argv, env, logs / f"web{n}.log"))
            urls.append(f"http://127.0.0.1:{port}")
        for n in range(2):
            env = {**base, "CHANGEBOT_DATA_DIR": str(tmp_path / f"worker{n}")}
            argv = ["-v", "worker", "--threads", "3"]
            processes.append(_start(argv, env, logs / f"worker{n}.log"))
        for url, process in zip(urls, processes, strict=False):
            _wait_healthy(url, process)
        yield [f"{url}/webhook" for url in urls], key
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        client.flushdb()


def _start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", ENTRY, *argv],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _one_pull(repo: Any, i: int) -> int:
    branch = f"pr-{i}"
    for step in range(4):
        repo.commit(branch, {f"infra/pr{i}.tf": f"# step {step}\n"}, login="dev")
    number = repo.call(
        "dev",
        "POST",
        "pulls",
        json={
            "title": f"Change {i}",
            "body": RATIONALE,
            "head": branch,
            "base": "main",
        },
    )["number"]
    repo.commit(branch, {f"infra/pr{i}.tf": "# final\n"}, login="dev")
    repo.review(number, "pat")
    repo.merge(number, method=("merge", "squash", "rebase")[i % 3], login="paula")
    return int(number)


def _caused(delivery: Any) -> bool:
    # NOTE: each audit append is a push to the audit branch, and each comment
    # of changebot's an issue_comment: GitHub tells the App about its own work.
    if delivery.event == "push":
        return bool(delivery.payload["ref"] != "refs/heads/changebot/audit")
    return delivery.event in ("pull_request", "pull_request_review")


def _settled(store: GitStore, key: SigningKey) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if store.head() is not None:
            log = AuditLog(store, key)
            changes = [e for e in log.entries() if e["kind"] == "change"]
            if len(changes) >= PULLS:
                return changes
        time.sleep(0.5)
    raise AssertionError(f"only {len(changes)} change entries after {DEADLINE} s")


def test_two_webs_and_two_workers_record_50_concurrent_merges(
    simulator, seeded_repo, fleet, redis_url, tmp_path
):
    webhook_urls, key = fleet
    balancer = Balancer(webhook_urls)
    simulator.set_webhook_sink(balancer)
    sent_before = len(simulator.deliveries())

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(lambda i: _one_pull(seeded_repo, i), range(PULLS)))

    ours = [d for d in simulator.deliveries()[sent_before:] if _caused(d)]
    assert len(ours) == PULLS * DELIVERIES, Counter(d.event for d in ours)
    assert set(balancer.statuses) == {202}
    store = GitStore(simulator.git_dir(REPO), "changebot/audit")
    changes = _settled(store, key)
    time.sleep(1.0)  # NOTE: a late duplicate would show up here

    log = AuditLog(store, key)
    entries = list(log.entries())
    assert [e["index"] for e in entries] == list(range(len(entries)))
    changes = [e for e in entries if e["kind"] == "change"]
    assert sorted(e["pr"]["number"] for e in changes) == sorted(numbers)
    assert all(e["bypassed"] is False for e in changes), [
        (e["pr"]["number"], e["verdict"]) for e in changes if e["bypassed"]
    ]
    assert [e for e in entries if e["kind"] == "direct-push"] == []
    report = verify(store, [key.public])
    assert report.ok, [f.line() for f in report.findings] or report.error
    assert JobQueue(tmp_path / "inspect", redis_url).dead_letters() == []
    heads = {run.head_sha for run in simulator.check_runs(REPO, "changebot")}
    for number in numbers:
        assert simulator.pull(REPO, number).head_sha in heads, number
