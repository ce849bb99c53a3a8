"""Benchmark a deployment summary against `git rev-list` of the same range.

1. Build a repository with git fast-import: one deployed commit, then a range
   of 10,000 commits. Two shapes of history:
   - "squash": 2,000 squash-merged PRs and 8,000 commits of 2,000 recorded
     direct pushes (every commit sits on the branch itself);
   - "merge": 2,000 PRs merged with merge commits, 4 branch commits each.
2. Record the audit log for it (change and direct-push entries, signed, with
   the commits each change landed as changebot records them), then pack the
   repository as a fetched clone is (appends write loose objects).
   `BENCH_DEPLOY_LANDED=0` records change entries without the commits they
   landed, as entries written before that field existed are: attribution
   then walks the range's graph for merge-commit PRs.
   `BENCH_DEPLOY_PAYLOADS=0` records the log without `payloads/` files, as
   logs whose shards filled before those files existed are: every entry is
   then read from its own file.
3. Time `git rev-list` of the range, then the summary (read the log, classify,
   attribute, build) and its outputs (Slack blocks, job summary), in the same
   run, and print both with their ratio (target: at most 3). The summary is
   timed cold (no entry cache, as on a fresh machine: full shards are read
   from their payloads files, other entries decoded from git) and warm (the
   cache that an earlier summary left in the git directory), each with its
   ratio.

Run: `python -m benchmarks.bench_deploy` (or through `python -m benchmarks`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from changebot.adapters.git import GitStore, LocalRepo
from changebot.adapters.slack import LogNotifier
from changebot.audit.log import AuditLog, Request
from changebot.audit.signing import SigningKey
from changebot.deploy import outputs
from changebot.flows.deploy import DeploymentRequest, record_deployment, summarize

REPO = "acme/infra"
COMMITS = int(os.environ.get("BENCH_DEPLOY_COMMITS", "10000"))
PULLS = int(os.environ.get("BENCH_DEPLOY_PULLS", "2000"))
LANDED = os.environ.get("BENCH_DEPLOY_LANDED", "1") != "0"
PAYLOADS = os.environ.get("BENCH_DEPLOY_PAYLOADS", "1") != "0"
ROUNDS = 5
ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def git(path: Path, *args: str, data: bytes | None = None) -> str:
    """Run git in ``path`` and return its output."""
    done = subprocess.run(
        ["git", *args], cwd=path, env=ENV, input=data, check=True, capture_output=True
    )
    return done.stdout.decode().strip()


# --- 1. the history -----------------------------------------------------------


class Stream:
    """Write a git fast-import stream, one commit at a time."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.mark = 0
        self.clock = 1_700_000_000

    def commit(self, ref: str, parents: list[int], name: str) -> int:
        """Add a commit changing file ``name``; return its mark."""
        self.mark += 1
        self.clock += 1
        message = name.encode()
        content = f"{name}\n".encode()
        head = [
            f"commit {ref}",
            f"mark :{self.mark}",
            f"committer bench <bench@example.com> {self.clock} +0000",
            f"data {len(message)}",
        ]
        self.parts.append("\n".join(head).encode() + b"\n" + message + b"\n")
        for i, parent in enumerate(parents):
            self.parts.append(f"{'from' if i == 0 else 'merge'} :{parent}\n".encode())
        self.parts.append(f"M 100644 inline f/{name}\ndata {len(content)}\n".encode())
        self.parts.append(content + b"\n")
        return self.mark


def squash_history(stream: Stream) -> dict[str, Any]:
    """Lay out PRs and direct pushes, every commit on the branch itself."""
    base = stream.commit("refs/heads/main", [], "base")
    tip, pulls, pushes = base, [], []
    per_pull = COMMITS // PULLS
    for n in range(PULLS):
        tip = stream.commit("refs/heads/main", [tip], f"pr-{n}")
        pulls.append({"number": n + 1, "merge": tip, "method": "squash"})
        pushed = []
        for k in range(per_pull - 1):
            tip = stream.commit("refs/heads/main", [tip], f"push-{n}-{k}")
            pushed.append(tip)
        if pushed:
            pushes.append(pushed)
    return {"base": base, "tip": tip, "pulls": pulls, "pushes": pushes}


def merge_history(stream: Stream) -> dict[str, Any]:
    """Lay out PRs merged with merge commits, each with its branch commits."""
    base = stream.commit("refs/heads/main", [], "base")
    tip, pulls = base, []
    per_pull = COMMITS // PULLS
    for n in range(PULLS):
        head, branch = tip, []
        for k in range(per_pull - 1):
            head = stream.commit(f"refs/heads/pr-{n}", [head], f"pr-{n}-{k}")
            branch.append(head)
        merged = stream.commit("refs/heads/main", [tip, head], f"merge-{n}")
        pulls.append(
            {
                "number": n + 1,
                "merge": merged,
                "method": "merge",
                "base": tip,
                "head": head,
                "commits": [*branch, merged],
            }
        )
        tip = merged
    return {"base": base, "tip": tip, "pulls": pulls, "pushes": []}


def build_repository(
    path: Path, layout: Callable[[Stream], dict[str, Any]]
) -> dict[str, Any]:
    """Create the repository at ``path`` with fast-import; return its layout in SHAs."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    stream = Stream()
    plan = layout(stream)
    marks = path / "marks"
    git(
        path,
        "fast-import",
        "--quiet",
        f"--export-marks={marks}",
        data=b"".join(stream.parts),
    )
    sha = dict(line.split() for line in marks.read_text().splitlines())

    def resolve(mark: int) -> str:
        return sha[f":{mark}"]

    for pull in plan["pulls"]:
        for name in ("merge", "base", "head"):
            if name in pull:
                pull[name] = resolve(pull[name])
        pull["commits"] = [resolve(m) for m in pull.get("commits", [])]
    plan["pushes"] = [[resolve(m) for m in push] for push in plan["pushes"]]
    plan["base"], plan["tip"] = resolve(plan["base"]), resolve(plan["tip"])
    return plan


# --- 2. the audit log ---------------------------------------------------------


def record_log(path: Path, plan: dict[str, Any]) -> AuditLog:
    """Append the change and direct-push entries of ``plan``, signed."""
    writer = AuditLog if PAYLOADS else _WithoutPayloads
    audit = writer(GitStore(path), SigningKey.generate())
    requests = [_change(p) for p in plan["pulls"]] + [
        _push(n, commits) for n, commits in enumerate(plan["pushes"])
    ]
    for start in range(0, len(requests), 1000):
        audit.append_many(requests[start : start + 1000])
    return audit


class _WithoutPayloads(AuditLog):
    """A log written as before shards had `payloads/` files."""

    def _payload_lines(self, draft: object, shard: int) -> None:
        return None


def _change(pull: dict[str, Any]) -> Request:
    number = pull["number"]
    fields = {
        "pr": {"number": number, "title": f"Change {number}", "url": None,
               "base_ref": "main", "head_ref": f"pr-{number}"},
        "shas": {"base": pull.get("base"), "head": pull.get("head"),
                 "merge": pull["merge"], "tree": None},
        "merge_method": pull["method"], "areas": ["terraform"], "paths": [],
        "author": f"dev{number % 50}", "approvers": [{"login": "rev", "commit": None}],
        "merger": "rev", "rationale": f"## Why\nBecause {number}.\n## Risk\nLow.",
        "tickets": [], "verdict": {"conclusion": "success", "failed": []},
        "bypassed": number % 97 == 0, "override": None,
    }  # fmt: skip
    if LANDED:
        fields["commits"] = pull["commits"] or [pull["merge"]]
    return Request("change", REPO, fields, f"change:{REPO}#{number}")


def _push(n: int, commits: list[str]) -> Request:
    fields = {
        "ref": "refs/heads/main", "before": None, "after": commits[-1],
        "forced": False, "pusher": "ops", "commits": commits, "areas": [], "paths": [],
    }  # fmt: skip
    return Request("direct-push", REPO, fields, f"push:{REPO}:{n}")


# --- 3. the measurements ------------------------------------------------------


def best(
    run: Callable[[], object], before: Callable[[], object] = lambda: None
) -> float:
    """Return the best of ROUNDS timings of ``run``, in seconds.

    ``before`` runs ahead of each round, untimed.
    """
    times = []
    for _ in range(ROUNDS):
        before()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def forget(audit: AuditLog) -> Callable[[], None]:
    """Return what empties the entry cache of ``audit``'s store (a cold start)."""
    store = audit.store
    directory = store.cache_dir() if isinstance(store, GitStore) else None

    def empty() -> None:
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    return empty


def measure(shape: str, layout: Callable[[Stream], dict[str, Any]], root: Path) -> None:
    """Build one shape of history and print its figures."""
    path = root / shape
    started = time.perf_counter()
    plan = build_repository(path, layout)
    audit = record_log(path, plan)
    request = DeploymentRequest(REPO, "production", plan["base"], deployer="bench")
    record_deployment(
        request, audit=audit, ancestry=LocalRepo(path), notifier=LogNotifier()
    )
    git(path, "repack", "-adq")
    built = time.perf_counter() - started

    target = DeploymentRequest(REPO, "production", plan["tip"], deployer="bench")
    base, tip = plan["base"], plan["tip"]
    rev_list = best(lambda: git(path, "rev-list", tip, f"^{base}"))

    def summary() -> None:
        # NOTE: a fresh LocalRepo each round, as each deployment job has: it
        # keeps the ranges it listed, which would spare later rounds git work.
        found, _, _ = summarize(target, audit=audit, ancestry=LocalRepo(path))
        outputs.slack_message(found)
        outputs.job_summary(found)

    cold = best(summary, before=forget(audit))
    summary()
    warm = best(summary)
    found, _, _ = summarize(target, audit=audit, ancestry=LocalRepo(path))
    size = len(git(path, "rev-list", tip, f"^{base}").split())
    print(f"[{shape}] fixture: {size} commits in the range, built in {built:.1f}s")
    print(
        f"[{shape}] found {len(found.added.pulls)} PRs, "
        f"{len(found.added.pushes)} direct pushes, "
        f"{len(found.added.unrecorded)} unrecorded commits"
    )
    print(f"[{shape}] git rev-list of the range: {rev_list * 1000:.1f} ms")
    for name, took in (("cold", cold), ("warm", warm)):
        print(
            f"[{shape}] summary with Slack and job summary, {name} cache: "
            f"{took * 1000:.1f} ms, ratio to rev-list {took / rev_list:.1f} (target 3)"
        )
    _breakdown(shape, audit, path, target, found)


def _breakdown(
    shape: str, audit: AuditLog, path: Path, target: DeploymentRequest, found: Any
) -> None:
    """Print where the summary's time goes (each part timed on its own)."""
    read_cold = best(lambda: list(audit.entries()), before=forget(audit))
    read = best(lambda: list(audit.entries()))
    base, tip = found.previous_sha, found.sha
    # NOTE: a fresh LocalRepo each round: it keeps the ranges it listed.
    ancestry = best(lambda: LocalRepo(path).lineage(base, tip))
    alone = best(lambda: summarize(target, audit=audit, ancestry=LocalRepo(path)))
    slack = best(lambda: outputs.slack_message(found))
    job = best(lambda: outputs.job_summary(found))
    print(
        f"[{shape}]   of which reading the log: {read_cold * 1000:.1f} ms cold, "
        f"{read * 1000:.1f} ms warm; "
        f"LocalRepo.lineage (rev-list --parents): {ancestry * 1000:.1f} ms"
    )
    print(
        f"[{shape}]   summary alone (warm) {alone * 1000:.1f} ms, Slack blocks "
        f"{slack * 1000:.1f} ms, job summary {job * 1000:.1f} ms"
    )


def main() -> None:
    """Print the deployment summary figures and ratios."""
    print(
        f"deployment summary: {COMMITS} commits, {PULLS} PRs, best of {ROUNDS}"
        + ("" if PAYLOADS else ", a log without payloads files")
    )
    with tempfile.TemporaryDirectory() as tmp:
        measure("squash", squash_history, Path(tmp))
        measure("merge", merge_history, Path(tmp))


if __name__ == "__main__":
    main()
