"""Benchmark the audit browser: index build at 100,000 entries, page latency.

1. Build an index of 100,000 entries through the indexer's own insert path
   (envelopes made directly, their signatures random bytes), then index a
   small, really signed log from a git branch for realism.
2. Time a filtered list page and an entry page through the Flask app (with
   a session whose repository access is already cached) and report p95.
3. Refresh the index after one append to a signed log, as the App's worker
   does, and count the files it reads: the new entries only, against a full
   verification that reads every entry (one API call each over GitHub).

Run: `python -m benchmarks.bench_browser` (or through `python -m benchmarks`).
"""

from __future__ import annotations

import base64
import json
import os
import random
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

from changebot.adapters.git import GitStore
from changebot.audit.log import AuditLog, Request
from changebot.audit.signing import SigningKey
from changebot.index import Indexer
from changebot.index.refresh import refresh
from changebot.server.browser import BrowserConfig, register_browser
from changebot.server.browser.guard import COOKIE, browser

ENTRIES = int(os.environ.get("BENCH_BROWSER_ENTRIES", "100000"))
SIGNED = 200
REFRESHED = int(os.environ.get("BENCH_BROWSER_REFRESHED", "1000"))
SAMPLES = 200
REPOS = [f"acme/service-{n}" for n in range(20)]
AREAS = ["terraform", "k8s", "workflows", "secrets", "helm"]
PEOPLE = [f"dev{n}" for n in range(50)]


def main() -> None:
    """Run the benchmark and print its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        index = root / "index.sqlite3"
        built = _timed(lambda: Indexer(index).add("acme/audit", _envelopes(ENTRIES)))
        signed = _timed(lambda: _signed_log(root, index))
        client = _client(root, index)
        paths = _list_paths()
        listing, cpu = _latencies(client, [path for _, path in paths])
        entry, _ = _latencies(client, _entry_paths())
    print(f"index build, {ENTRIES} entries: {built:.2f} s ({ENTRIES / built:,.0f}/s)")
    print(f"index update, {SIGNED} signed entries from git: {signed:.2f} s")
    print(f"filtered list page: p50 {_ms(listing, 50)} ms, p95 {_ms(listing, 95)} ms")
    # NOTE: CPU time as well, because on a shared machine the wall clock
    # also measures the other processes.
    for label in sorted({label for label, _ in paths}):
        wall = [t for (lb, _), t in zip(paths, listing, strict=True) if lb == label]
        used = [t for (lb, _), t in zip(paths, cpu, strict=True) if lb == label]
        print(
            f"  {label}: p50 {_ms(wall, 50)} ms, p95 {_ms(wall, 95)} ms "
            f"(cpu p50 {_ms(used, 50)} ms, p95 {_ms(used, 95)} ms)"
        )
    print(f"entry page: p50 {_ms(entry, 50)} ms, p95 {_ms(entry, 95)} ms")
    with tempfile.TemporaryDirectory() as tmp:
        for how, seconds, files in _append_refreshes(Path(tmp)):
            print(
                f"refresh after one append to {REFRESHED} signed entries, {how}: "
                f"{seconds * 1000:.0f} ms, {files} files read"
            )


def _append_refreshes(root: Path) -> list[tuple[str, float, int]]:
    """Return (how, seconds, files read) of a checked and a full refresh."""
    subprocess.run(["git", "init", "-q", str(root / "audit")], check=True)
    store = GitStore(root / "audit", origin="bench.test/audit@changebot/audit")
    log = AuditLog(store, SigningKey.generate())
    log.bootstrap([log.signer.public])
    requests = [
        Request("change", "acme/signed", {"rationale": f"Why: {n}"}, f"r-{n}")
        for n in range(REFRESHED)
    ]
    for start in range(0, REFRESHED, 100):
        log.append_many(requests[start : start + 100])
    figures = []
    for how, every in (("new entries checked", timedelta(days=1)), ("full", None)):
        index = Indexer(root / f"{how}.sqlite3")
        refresh(index, "acme/audit", store, [log.signer.public], full_every=every)
        log.append("change", "acme/signed", {"rationale": "one more"}, f"{how}-more")
        counted = _Counted(store)
        began = time.perf_counter()
        refresh(index, "acme/audit", counted, [log.signer.public], full_every=every)
        figures.append((how, time.perf_counter() - began, counted.files))
    return figures


class _Counted:
    """A store that counts the files read from it (API calls over GitHub)."""

    def __init__(self, store: GitStore) -> None:
        self.store, self.origin, self.files = store, store.origin, 0

    def head(self) -> str | None:
        return self.store.head()

    def read(self, commit: str, path: str) -> bytes | None:
        self.files += 1
        return self.store.read(commit, path)

    def list(self, commit: str, path: str) -> list[str]:
        return self.store.list(commit, path)

    def walk(self, commit: str, path: str) -> Iterator[tuple[str, bytes]]:
        for found in self.store.walk(commit, path):
            self.files += 1
            yield found

    def write(self, parent: str | None, changes: Any, message: str) -> str:
        return self.store.write(parent, changes, message)

    def advance(self, old: str | None, new: str) -> bool:
        return self.store.advance(old, new)


def _envelopes(count: int) -> Iterator[bytes]:
    rng = random.Random(7)
    start = 1_700_000_000
    for index in range(count):
        entry = _entry(rng, index, start + index * 60)
        payload = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
        envelope = {
            "payloadType": "application/vnd.changebot.entry+json",
            "payload": base64.b64encode(payload).decode(),
            "signatures": [
                {"keyid": "0" * 64, "sig": base64.b64encode(rng.randbytes(64)).decode()}
            ],
        }
        yield json.dumps(envelope).encode()


def _entry(rng: random.Random, index: int, when: int) -> dict[str, object]:
    kind = rng.choices(
        ["change", "deployment", "override", "direct-push"], [80, 12, 4, 4]
    )[0]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
    entry: dict[str, object] = {
        "format": 1,
        "index": index,
        "prev": None,
        "time": stamp,
        "kind": kind,
        "repo": rng.choice(REPOS),
        "idempotency_key": f"bench-{index}",
    }
    number = rng.randint(1, 5000)
    if kind == "change":
        entry |= {
            "pr": {"number": number, "title": f"Change {number}"},
            "areas": rng.sample(AREAS, 2),
            "author": rng.choice(PEOPLE),
            "approvers": [{"login": rng.choice(PEOPLE), "commit": "b" * 40}],
            "merger": rng.choice(PEOPLE),
            "bypassed": rng.random() < 0.02,
            "rationale": f"Why: {rng.choice(['scale', 'patch', 'rotate', 'upgrade'])} "
            f"the {rng.choice(AREAS)} setup for ticket OPS-{number}",
        }
    elif kind == "deployment":
        entry |= {
            "environment": rng.choice(["staging", "production"]),
            "pulls": [number, number + 1],
            "deployer": rng.choice(PEOPLE),
        }
    elif kind == "override":
        entry |= {
            "pr": {"number": number},
            "actor": rng.choice(PEOPLE),
            "reason": "incident hotfix",
            "granted": True,
        }
    else:
        entry |= {
            "ref": "refs/heads/main",
            "pusher": rng.choice(PEOPLE),
            "areas": ["k8s"],
        }
    return entry


def _signed_log(root: Path, index: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root / "audit")], check=True)
    store = GitStore(root / "audit", origin="bench.test/audit@changebot/audit")
    log = AuditLog(store, SigningKey.generate())
    log.bootstrap([log.signer.public])
    for n in range(SIGNED):
        fields = {
            "pr": {"number": n},
            "areas": ["terraform"],
            "author": "dev1",
            "rationale": "Why: a signed entry for the benchmark",
        }
        log.append("change", "acme/signed", fields, f"signed-{n}")
    Indexer(index).update("acme/signed-audit", store)


def _client(root: Path, index: Path):  # type: ignore[no-untyped-def]
    app = Flask("bench")
    config = BrowserConfig(
        index_path=index,
        sessions_path=root / "sessions.sqlite3",
        client_id="bench",
        client_secret="bench",  # noqa: S106 -- no GitHub is asked in the benchmark
        secure_cookies=False,
        access_ttl=3600.0,
    )
    register_browser(app, config)
    with app.app_context():
        sessions = browser().sessions
        session = sessions.start("bench", "unused-token")
        sessions.remember_readable(session, set(REPOS[:10]) | {"acme/signed"})
    client = app.test_client()
    client.set_cookie(COOKIE, session.id, path="/audit")
    return client


def _list_paths() -> list[tuple[str, str]]:
    """Return (filter, path) of list pages; the common word is in 80% of entries."""
    rng = random.Random(3)
    filters = {
        "repo": lambda: f"repo={rng.choice(REPOS[:10])}",
        "kind": lambda: "kind=override",
        "area+kind": lambda: f"area={rng.choice(AREAS)}&kind=change",
        "actor": lambda: f"actor={rng.choice(PEOPLE)}",
        "environment": lambda: "environment=production",
        "text, rarer words": lambda: f"q={rng.choice(['rotate', 'upgrade secrets'])}",
        "text, common word": lambda: "q=OPS",
        "text, next page": lambda: "q=OPS&after=2023-12-20T00:00:00Z~50000",
        "time window": lambda: "since=2023-12-01&until=2023-12-20",
    }
    labels = sorted(filters)
    chosen = [rng.choice(labels) for _ in range(SAMPLES)]
    return [(label, f"/audit/?{filters[label]()}") for label in chosen]


def _entry_paths() -> list[str]:
    rng = random.Random(5)
    return [
        f"/audit/entries/acme/audit/{rng.randrange(ENTRIES)}" for _ in range(SAMPLES)
    ]


def _latencies(client, paths: list[str]) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """Return the wall-clock and CPU seconds of each page."""
    wall, cpu = [], []
    for path in paths:
        began, used = time.perf_counter(), time.process_time()
        answer = client.get(path)
        wall.append(time.perf_counter() - began)
        cpu.append(time.process_time() - used)
        if answer.status_code not in (200, 404):
            raise SystemExit(f"{path} answered {answer.status_code}")
    return wall, cpu


def _timed(step) -> float:  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    step()
    return time.perf_counter() - began


def _ms(samples: list[float], percentile: int) -> str:
    cut = statistics.quantiles(samples, n=100)[percentile - 1]
    return f"{cut * 1000:.1f}"


if __name__ == "__main__":
    main()
