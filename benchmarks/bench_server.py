"""Benchmark the App's web side and the cost of judging a PR on GitHub.

1. Webhook intake: changebot's `POST /webhook` (signature check, dedup,
   SQLite queue) and a bare Flask endpoint that only answers 202, each served
   by gunicorn exactly as `changebot serve --no-worker` serves (2 workers,
   4 threads), on loopback, under the same concurrent load in the same run.
   The two are loaded in turn, three rounds each, so that both see the same
   machine. Reports throughput and p50/p99 acknowledgement latency (target:
   changebot at least 50% of the bare endpoint's throughput).
2. GitHub API calls per evaluation of a PR with 50 files and 5 reviews,
   counted at the GitHub simulator: the first evaluation (cold caches) and a
   re-evaluation in the same worker (target: at most 8).

Run: `python -m benchmarks.bench_server` (or through `python -m benchmarks`).
BENCH_SERVER_REQUESTS and BENCH_SERVER_CLIENTS change the load,
BENCH_SERVER_WORKERS and BENCH_SERVER_THREADS the servers (both alike).
With BENCH_SERVER_REDIS_URL, changebot's intake on that Redis is measured too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

REQUESTS = int(os.environ.get("BENCH_SERVER_REQUESTS", "1600"))
CLIENTS = int(os.environ.get("BENCH_SERVER_CLIENTS", "16"))
#: As `changebot serve` runs by default: 2 gunicorn workers of 4 threads.
WORKERS = int(os.environ.get("BENCH_SERVER_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_SERVER_THREADS", "4"))
WARMUP = 200
ROUNDS = int(os.environ.get("BENCH_SERVER_ROUNDS", "3"))
#: A Redis (a database of its own: it fills up) to measure the intake on too.
REDIS_URL = os.environ.get("BENCH_SERVER_REDIS_URL")
KINDS = {"bare": "bare Flask", "changebot": "changebot"} | (
    {"redis": "on Redis"} if REDIS_URL else {}
)
SECRET = "bench-secret"  # noqa: S105 - a throwaway secret for loopback
ROOT = Path(__file__).resolve().parent.parent
FILES = 50
REVIEWERS = ("pat", "paula", "sam", "sid", "sue")


# --- 1. intake ----------------------------------------------------------------


def serve(kind: str, port: int) -> None:
    """Serve changebot's app or the bare endpoint under gunicorn (a subprocess)."""
    from changebot.server.wsgi import serve as run_gunicorn

    factory = _bare_app if kind == "bare" else _changebot_app
    run_gunicorn(factory, host="127.0.0.1", port=port, workers=WORKERS, threads=THREADS)


def _changebot_app() -> Any:
    from changebot.server import create_app

    return create_app()


def _bare_app() -> Any:
    from flask import Flask, jsonify, request

    app = Flask("bare")

    @app.post("/webhook")
    def webhook() -> Any:
        request.get_data()
        return jsonify({"status": "queued"}), 202

    return app


def _payload() -> bytes:
    """Return a real `pull_request` delivery, as the GitHub simulator sends it."""
    from ghsim import Simulator

    with tempfile.TemporaryDirectory() as tmp, Simulator(Path(tmp)) as sim:
        _seed(sim)
        [opened] = [d for d in sim.deliveries("pull_request") if d.action == "opened"]
        return opened.body


def _load(port: int, count: int, body: bytes) -> tuple[float, list[float]]:
    """Post ``count`` signed deliveries from CLIENTS threads; return time, latencies."""
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = count // CLIENTS

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        for _ in range(per_client):
            headers = {
                "Content-Type": "application/json",
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": f"sha256={digest}",
            }
            start = time.perf_counter()
            conn.request("POST", "/webhook", body=body, headers=headers)
            answer = conn.getresponse()
            answer.read()
            mine.append(time.perf_counter() - start)
            assert answer.status == 202, answer.status
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies


def _start(kind: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {
        **os.environ,
        "CHANGEBOT_WEBHOOK_SECRET": SECRET,
        "CHANGEBOT_DATA_DIR": str(data_dir),
        **({"CHANGEBOT_REDIS_URL": REDIS_URL} if kind == "redis" and REDIS_URL else {}),
        "PYTHONPATH": str(ROOT),
    }
    code = f"from benchmarks.bench_server import serve; serve({kind!r}, {port})"
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait(port, process)
    return process, port


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)  # noqa: S310 - loopback
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def _rounds(ports: dict[str, int], body: bytes) -> dict[str, list[Any]]:
    """Load each server in turn, ROUNDS times, so both see the same machine."""
    runs: dict[str, list[Any]] = {kind: [] for kind in ports}
    for port in ports.values():
        _load(port, WARMUP, body)
    for _ in range(ROUNDS):
        for kind, port in ports.items():
            runs[kind].append(_load(port, REQUESTS, body))
    return runs


def _row(runs: list[tuple[float, list[float]]]) -> dict[str, float]:
    latencies = sorted(x for _, batch in runs for x in batch)
    return {
        "rps": statistics.median(len(batch) / spent for spent, batch in runs),
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def intake() -> None:
    """Compare changebot's intake with a bare endpoint served the same way."""
    body = _payload()
    with tempfile.TemporaryDirectory() as tmp:
        servers = {kind: _start(kind, Path(tmp) / kind) for kind in KINDS}
        try:
            runs = _rounds({kind: port for kind, (_, port) in servers.items()}, body)
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(timeout=30)
    print(
        f"webhook intake, {ROUNDS} x {REQUESTS} pull_request deliveries of"
        f" {len(body):,} bytes from {CLIENTS} clients on loopback,"
        f" {WORKERS} workers x {THREADS} threads each:"
    )
    rows = {kind: _row(runs[kind]) for kind in KINDS}
    for kind, row in rows.items():
        print(
            f"  {KINDS[kind]:<11} {row['rps']:8.0f} req/s   p50 {row['p50_ms']:6.1f} ms"
            f"   p99 {row['p99_ms']:6.1f} ms"
        )
    ratios = [
        (len(ours) / ours_s) / (len(bare) / bare_s)
        for (bare_s, bare), (ours_s, ours) in zip(
            runs["bare"], runs["changebot"], strict=True
        )
    ]
    ratio = statistics.median(ratios)
    verdict = "meets" if ratio >= 0.5 else "MISSES"
    shown = ", ".join(f"{r:.0%}" for r in ratios)
    print(
        f"  changebot / bare throughput: {ratio:.0%} median of rounds ({shown});"
        f" {verdict} the 50% target"
    )


# --- 2. API calls per evaluation ------------------------------------------------


def _seed(sim: Any) -> int:
    """Make acme/infra with teams, a policy, and a PR of 50 files and 5 reviews."""
    admin = sim.client("admin")
    _ok(admin.post("/orgs/acme/repos", json={"name": "infra", "auto_init": True}))
    policy = (
        "areas:\n  terraform:\n    paths: ['infra/**']\n"
        "    reviewers: {count: 2, teams: [platform]}\n"
        "rationale:\n  sections: [Why, Risk, Rollback plan]\n"
    )
    _put(admin, ".changebot.yml", policy, "main")
    _put(admin, "CODEOWNERS", "/infra/ @acme/platform\n", "main")
    _ok(admin.post("/orgs/acme/teams", json={"name": "platform"}))
    for login in REVIEWERS:
        _ok(admin.put(f"/orgs/acme/teams/platform/memberships/{login}", json={}))
    _ok(
        admin.put(
            "/orgs/acme/teams/platform/repos/acme/infra", json={"permission": "push"}
        )
    )
    _ok(admin.put("/repos/acme/infra/collaborators/dev", json={"permission": "push"}))
    return _pull(sim)


def _pull(sim: Any) -> int:
    dev = sim.client("dev")
    main = _ok(dev.get("/repos/acme/infra/git/ref/heads/main"))["object"]["sha"]
    base_tree = _ok(dev.get(f"/repos/acme/infra/git/commits/{main}"))["tree"]["sha"]
    entries = [
        {
            "path": f"infra/m{i}.tf",
            "mode": "100644",
            "type": "blob",
            "content": f"# {i}\n",
        }
        for i in range(FILES)
    ]
    tree = _ok(
        dev.post(
            "/repos/acme/infra/git/trees",
            json={"base_tree": base_tree, "tree": entries},
        )
    )["sha"]
    commit = _ok(
        dev.post(
            "/repos/acme/infra/git/commits",
            json={"message": "Fifty", "tree": tree, "parents": [main]},
        )
    )["sha"]
    _ok(
        dev.post(
            "/repos/acme/infra/git/refs", json={"ref": "refs/heads/tf", "sha": commit}
        )
    )
    body = "## Why\nMore capacity.\n## Risk\nLow.\n## Rollback plan\nRevert."
    number = _ok(
        dev.post(
            "/repos/acme/infra/pulls",
            json={"title": "Fifty files", "body": body, "head": "tf", "base": "main"},
        )
    )["number"]
    for login in REVIEWERS:
        _ok(
            sim.client(login).post(
                f"/repos/acme/infra/pulls/{number}/reviews", json={"event": "APPROVE"}
            )
        )
    return int(number)


def _put(session: Any, path: str, text: str, branch: str) -> None:
    content = base64.b64encode(text.encode()).decode()
    _ok(
        session.put(
            f"/repos/acme/infra/contents/{path}",
            json={"message": f"Add {path}", "content": content, "branch": branch},
        )
    )


def _ok(answer: Any) -> Any:
    if answer.status_code >= 400:
        raise RuntimeError(f"{answer.request.method} {answer.url}: {answer.text}")
    return answer.json() if answer.content else None


def api_calls() -> None:
    """Count the simulator's requests for one evaluation, cold and warm."""
    from changebot import tasks
    from changebot.audit import SigningKey
    from changebot.compose import build
    from changebot.flows.pull import evaluate_pull
    from changebot.settings import Settings
    from ghsim import Simulator

    with tempfile.TemporaryDirectory() as tmp, Simulator(Path(tmp) / "github") as sim:
        number = _seed(sim)
        key_path, _, _ = SigningKey.generate().save(Path(tmp) / "signing")
        app = sim.app
        settings = Settings(
            app_id=str(app["id"]),
            private_key=app["private_key"],
            webhook_secret=SECRET,
            signing_key_path=key_path,
            data_dir=Path(tmp) / "data",
            github_url=sim.base_url,
        )
        ctx = tasks.context(build(settings))
        ctx.forge.default_branch("acme/infra")  # the token, as a running worker has
        counts = []
        for _ in range(2):
            before = len(sim.exchanges())
            judgement = evaluate_pull(ctx, "acme/infra", number)
            calls = sim.exchanges()[before:]
            counts.append((judgement.report.conclusion, calls))
    print(f"GitHub API calls per evaluation ({FILES} files, {len(REVIEWERS)} reviews):")
    for label, (conclusion, calls) in zip(("first", "again"), counts, strict=True):
        routes = ", ".join(f"{c.method} {c.path.split('?')[0]}" for c in calls)
        verdict = "meets" if len(calls) <= 8 else "MISSES"
        print(f"  {label}: {len(calls)} calls ({verdict} the 8 target), {conclusion}")
        print(f"    {routes}")


def main() -> None:
    """Run both benchmarks and print their figures."""
    intake()
    api_calls()


if __name__ == "__main__":
    main()
