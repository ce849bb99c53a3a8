"""Sustained webhook load on `changebot serve` and its worker, on loopback.

1. A GitHub simulator (in this process) gets an org, a repository and a few
   PRs; its real `push` and `pull_request` deliveries are kept as templates.
2. `changebot serve` (gunicorn and the embedded job worker, SQLite queue)
   starts for the simulator's App, on 127.0.0.1 only.
3. For BENCH_LOAD_SECONDS (60) the templates are replayed at BENCH_LOAD_RATE
   (200) deliveries per second, each with a fresh delivery id and its real
   signature: mostly pushes to feature branches, one in BENCH_LOAD_PULL_EVERY
   (20) a PR event that makes the worker judge the PR against the simulator.
4. Once the load stops, the worker drains the queue (bounded by
   BENCH_LOAD_DRAIN seconds), and the App's /metrics must show every queued
   job finished.

Reports: answers by status (no 5xx allowed), achieved rate, p50/p99/max
acknowledgement latency, drain time, jobs queued and finished, and the
resident memory (RSS) of the App's processes before and after the load.

Run: `python -m benchmarks load` (or `python -m benchmarks.bench_load`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import os
import queue
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RATE = int(os.environ.get("BENCH_LOAD_RATE", "200"))
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "60"))
PULL_EVERY = int(os.environ.get("BENCH_LOAD_PULL_EVERY", "20"))
DRAIN = float(os.environ.get("BENCH_LOAD_DRAIN", "600"))
SENDERS = int(os.environ.get("BENCH_LOAD_SENDERS", "16"))
PULLS = 5
HOST = "127.0.0.1"
ENTRY = "from changebot.cli import main; main(prog_name='changebot')"
POLICY = (
    "areas:\n"
    "  terraform:\n"
    '    paths: ["infra/**"]\n'
    "    reviewers: {count: 1}\n"
    "rationale:\n"
    "  sections: [Why]\n"
)


@dataclass(frozen=True)
class Template:
    """A real delivery of the simulator's, to be sent again and again."""

    event: str
    body: bytes
    signature: str


@dataclass
class Tally:
    """What the load generator saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, seconds: float) -> None:
        """Count one answer."""
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)

    def fail(self, reason: str) -> None:
        """Count one request that got no answer."""
        with self.lock:
            self.errors[reason] += 1


# --- 1. the simulated GitHub -------------------------------------------------


def seed(simulator: Any) -> list[Template]:
    """Make acme/infra with PRs; return its push and PR deliveries as templates."""
    admin = simulator.client("admin")
    _ok(admin.post("/orgs/acme/repos", json={"name": "infra", "auto_init": True}))
    _put(admin, ".changebot.yml", POLICY, "main")
    for n in range(PULLS):
        branch = f"change-{n}"
        main_sha = _ok(admin.get("/repos/acme/infra/git/ref/heads/main"))
        _ok(
            admin.post(
                "/repos/acme/infra/git/refs",
                json={"ref": f"refs/heads/{branch}", "sha": main_sha["object"]["sha"]},
            )
        )
        _put(admin, f"infra/{n}.tf", f"# change {n}\n", branch)
        _ok(
            admin.post(
                "/repos/acme/infra/pulls",
                json={
                    "title": f"Change {n}",
                    "body": "## Why\nLoad.",
                    "head": branch,
                    "base": "main",
                },
            )
        )
    return _templates(simulator)


def _templates(simulator: Any) -> list[Template]:
    secret = simulator.webhook_secret.encode()
    chosen = []
    for delivery in simulator.deliveries():
        wanted = delivery.event == "pull_request" or (
            delivery.event == "push" and delivery.payload["ref"] != "refs/heads/main"
        )
        if wanted:
            digest = hmac.new(secret, delivery.body, hashlib.sha256).hexdigest()
            chosen.append(Template(delivery.event, delivery.body, f"sha256={digest}"))
    return chosen


def _put(session: Any, path: str, text: str, branch: str) -> None:
    current = session.get(f"/repos/acme/infra/contents/{path}", params={"ref": branch})
    body = {
        "message": f"Update {path}",
        "content": base64.b64encode(text.encode()).decode(),
        "branch": branch,
        **({"sha": current.json()["sha"]} if current.ok else {}),
    }
    _ok(session.put(f"/repos/acme/infra/contents/{path}", json=body))


def _ok(answer: Any) -> Any:
    if answer.status_code >= 400:
        raise RuntimeError(f"{answer.request.method} {answer.url}: {answer.text}")
    return answer.json() if answer.content else None


# --- 2. the App --------------------------------------------------------------


def start_app(simulator: Any, root: Path, port: int) -> subprocess.Popen[bytes]:
    """Start `changebot serve` for the simulator's App; return its process."""
    from changebot.audit import SigningKey

    key_path, _, _ = SigningKey.generate("bench-load").save(root / "signing")
    app = simulator.app
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHANGEBOT_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env |= {
        "CHANGEBOT_APP_ID": str(app["id"]),
        "CHANGEBOT_PRIVATE_KEY": app["private_key"],
        "CHANGEBOT_WEBHOOK_SECRET": simulator.webhook_secret,
        "CHANGEBOT_SIGNING_KEY_PATH": str(key_path),
        "CHANGEBOT_DATA_DIR": str(root / "app"),
        "CHANGEBOT_GITHUB_URL": simulator.base_url,
        # NOTE: no reconcile in the middle of the measurement.
        "CHANGEBOT_RECONCILE_MINUTES": "60",
    }
    with (root / "app.log").open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", ENTRY, "serve", "--host", HOST, "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until the App answers /healthz (60 s at most)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"changebot serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:  # noqa: S310 - loopback URL built here
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("changebot serve never became healthy")


def stop_app(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn, its workers and the job worker (one process group)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def rss_mib(group: int) -> tuple[float, int]:
    """Return the summed RSS (MiB) and count of the processes in ``group``."""
    total, count = 0, 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != group:
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        if found:
            total += int(found.group(1))
            count += 1
    return total / 1024, count


def settled_rss(group: int, bound: float = 15.0) -> tuple[float, int]:
    """Return `rss_mib` once the App's processes (the job worker too) are up."""
    deadline = time.monotonic() + bound
    last = rss_mib(group)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = rss_mib(group)
        if now[1] == last[1] and now[1] >= 4:
            return now
        last = now
    return last


def metric(url: str, name: str, **labels: str) -> float:
    """Sum a metric of the App's /metrics over the series matching ``labels``."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as answer:  # noqa: S310 - loopback URL built here
        text = answer.read().decode()
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


# --- 3. the load ---------------------------------------------------------------


def load(port: int, templates: list[Template]) -> tuple[Tally, float]:
    """Send RATE deliveries a second for SECONDS; return the tally and the time."""
    pushes = [t for t in templates if t.event == "push"]
    pulls = [t for t in templates if t.event == "pull_request"]
    total = RATE * SECONDS
    work: queue.Queue[tuple[float, Template] | None] = queue.Queue(maxsize=SENDERS * 4)
    tally = Tally()
    senders = [
        threading.Thread(target=_sender, args=(port, work, tally), daemon=True)
        for _ in range(SENDERS)
    ]
    for sender in senders:
        sender.start()
    started = time.monotonic()
    for n in range(total):
        template = (
            pulls[n % len(pulls)] if n % PULL_EVERY == 0 else pushes[n % len(pushes)]
        )
        work.put((started + n / RATE, template))
    for _ in senders:
        work.put(None)
    for sender in senders:
        sender.join()
    return tally, time.monotonic() - started


def _sender(port: int, work: queue.Queue[Any], tally: Tally) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    while (item := work.get()) is not None:
        due, template = item
        time.sleep(max(0.0, due - time.monotonic()))
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": template.event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": template.signature,
        }
        began = time.monotonic()
        try:
            connection.request("POST", "/webhook", body=template.body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            tally.add(answer.status, time.monotonic() - began)
        except (OSError, http.client.HTTPException) as err:
            tally.fail(type(err).__name__)
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.close()


def drain(url: str) -> tuple[float, float, float, float]:
    """Wait until every queued job finished; return (seconds, queued, ok, failed)."""
    started = time.monotonic()
    queued = metric(url, "changebot_webhooks_total", outcome="queued")
    finished = 0.0
    while time.monotonic() - started < DRAIN:
        finished = metric(url, "changebot_job_seconds_count", job="delivery")
        if finished >= queued:
            break
        time.sleep(1.0)
    ok = metric(url, "changebot_job_seconds_count", job="delivery", outcome="ok")
    return time.monotonic() - started, queued, ok, finished - ok


# --- the report ------------------------------------------------------------------


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(
    tally: Tally,
    took: float,
    drained: tuple[float, float, float, float],
    memory: list[tuple[float, int]],
) -> None:
    """Print the figures."""
    sent = sum(tally.statuses.values()) + sum(tally.errors.values())
    server_errors = sum(n for status, n in tally.statuses.items() if status >= 500)
    ms = [s * 1000 for s in tally.latencies]
    seconds, queued, done, failed = drained
    (before, n_before), (after, n_after) = memory
    lines = [
        f"load: {sent} deliveries in {took:.1f} s = {sent / took:.0f}/s"
        f" (asked {RATE}/s for {SECONDS} s)",
        f"answers: {dict(sorted(tally.statuses.items()))};"
        f" no answer: {dict(tally.errors)}",
        f"acknowledgement latency ms: p50 {statistics.median(ms):.1f},"
        f" p99 {_percentile(ms, 0.99):.1f}, max {max(ms):.1f}",
        f"jobs: {queued:.0f} queued, {done:.0f} done, {failed:.0f} failed,"
        f" drained {seconds:.1f} s after the load",
        f"server RSS: {before:.0f} MiB before ({n_before} processes),"
        f" {after:.0f} MiB after ({n_after})",
    ]
    ok = server_errors == 0 and not tally.errors and done >= queued and not failed
    lines.append(f"result: {'ok' if ok else 'FAILED'} (5xx: {server_errors})")
    print("\n".join(lines))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def main() -> None:
    """Run the load and print its figures."""
    from ghsim import Simulator

    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        root = Path(tmp)
        with Simulator(
            root / "github", host=HOST, synchronous_webhooks=False
        ) as simulator:
            templates = seed(simulator)
            port = _free_port()
            url = f"http://{HOST}:{port}"
            process = start_app(simulator, root, port)
            try:
                wait_healthy(url, process)
                memory = [settled_rss(process.pid)]
                tally, took = load(port, templates)
                drained = drain(url)
                memory.append(rss_mib(process.pid))
            finally:
                stop_app(process)
        report(tally, took, drained, memory)


if __name__ == "__main__":
    main()
