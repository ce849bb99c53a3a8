"""What the App shares with others: a Redis that restarts, an audit branch
that two servers append to at once.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from changebot.tasks import run_reconcile
from reliability.host import RATIONALE, REPO, AppHost, promises_kept, rebuild
from reliability.processes import free_port, stop, wait_for

pytestmark = pytest.mark.e2e


class RedisServer:
    """A redis-server of the test's own on loopback, persisting to an AOF file."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (again), reloading what the AOF file holds."""
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--dir", str(self.workdir), "--save", ""]
        argv += ["--appendonly", "yes", "--appendfsync", "always"]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
        wait_for(self._answers, "redis answering")

    def stop(self) -> None:
        """Stop the server the way a restart or a crash of its host would."""
        if self.process is not None:
            stop(self.process)

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url).ping())
        except redis.RedisError:
            return False


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.mark.redis
def test_a_redis_restart_loses_no_job_and_no_merge(simulator, tmp_path, redis_server):
    from seeding import seed

    app_host = rebuild(AppHost(simulator, tmp_path / "app"), redis_url=redis_server.url)
    infra = seed(simulator)
    app_host.listen()
    queued = infra.open_pull("queued", {"infra/main.tf": "# q\n"}, body=RATIONALE)
    infra.review(queued, "pat")

    redis_server.stop()
    merged = infra.open_pull("merged", {"infra/b.tf": "# m\n"}, body=RATIONALE)
    infra.review(merged, "pat")
    infra.merge(merged, login="paula")
    refused = [code for event, code in app_host.answers[-8:] if code >= 500]
    redis_server.start()

    app_host.work()
    run_reconcile(app_host.services)
    app_host.work()

    assert refused and set(refused) == {503}
    assert app_host.check(REPO, queued).conclusion == "success"
    promises_kept(app_host)


def _fan_out(hosts: list[AppHost]):
    """Deliver each webhook to every host, as two servers after a bad failover."""

    def deliver(headers: dict[str, str], body: bytes) -> int:
        return max(host.receive(headers, body) for host in hosts)

    return deliver


def test_two_servers_appending_to_one_branch_record_each_merge_once(
    simulator, seeded_repo, tmp_path
):
    hosts = [AppHost(simulator, tmp_path / f"app{n}") for n in range(2)]
    hosts[1].key = hosts[0].key
    for host in hosts[1:]:
        rebuild(host, signing_key_path=hosts[0].settings.signing_key_path)
    simulator.set_webhook_sink(_fan_out(hosts))
    numbers = []
    for n in range(4):
        number = seeded_repo.open_pull(
            f"pr{n}", {f"infra/pr{n}.tf": f"# {n}\n"}, body=RATIONALE
        )
        seeded_repo.review(number, "pat")
        seeded_repo.merge(number, login="paula")
        numbers.append(number)

    workers = [threading.Thread(target=host.work) for host in hosts]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    entries = promises_kept(hosts[0])
    changes = [e["pr"]["number"] for e in entries if e["kind"] == "change"]
    assert sorted(changes) == numbers
