"""Benchmark the audit log: verification, append cost, and verifier memory.

1. Build a 20,000-entry log through `AuditLog.append_many` (the same code that
   signs, hashes and writes every append, 1,000 entries a commit), keep a
   branch at 2,000 entries, and pack the repository as a fetched clone is.
2. Verify it with one job and with two, and time the bare Ed25519
   verifications of the log's 20,000 signatures (each entry's signed
   message, decoded ahead) with the same library in the same run, best of
   five rounds (targets: at most 1.3 with one job, below 1.0 with two).
   One message verified 20,000 times is printed too: it runs 3% faster,
   its signature and message staying in the CPU's caches.
3. Time appends at entry 100 and at entry 20,000 (target ratio at most 1.5),
   and the git plumbing floor of one commit: hash-object, mktree,
   commit-tree, update-ref (target ratio at most 2).
4. Measure the verifier's peak Python memory at 2,000 and 20,000 entries
   (target: flat).

Run: `python -m benchmarks.bench_audit` (or through `python -m benchmarks`).
Set BENCH_AUDIT_ENTRIES to change the size of the big log.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path

from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, Request, SigningKey, layout, verify
from changebot.audit.reader import decode_entry
from changebot.audit.signing import PublicKey

ENTRIES = int(os.environ.get("BENCH_AUDIT_ENTRIES", "20000"))
SMALL = ENTRIES // 10
BATCH = min(1000, SMALL)
APPENDS = 30
ROUNDS = int(os.environ.get("BENCH_AUDIT_ROUNDS", "5"))
ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.test",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.test",
}


def fields(i: int) -> dict[str, object]:
    """Return a change entry of realistic size."""
    return {
        "pr": {
            "number": i,
            "title": f"Raise the web tier to {i} replicas",
            "url": f"https://github.com/acme/infra/pull/{i}",
            "base_ref": "main",
            "head_ref": f"scale-{i}",
        },
        "shas": {
            "base": "a" * 40,
            "head": "b" * 40,
            "merge": "c" * 40,
            "tree": "d" * 40,
        },
        "merge_method": "squash",
        "areas": ["terraform"],
        "paths": [f"infra/web/{i % 7}.tf"],
        "author": "ana",
        "approvers": [{"login": "bo", "commit": "b" * 40}],
        "merger": "bo",
        "rationale": "Why: traffic doubled. Risk: low. Rollback plan: revert. OPS-1",
        "tickets": ["OPS-1"],
        "verdict": {"conclusion": "success", "failed": []},
        "bypassed": False,
        "override": None,
    }


def git_init(path: Path) -> Path:
    """Make an empty repository."""
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=ENV)
    return path


def build(repo: Path, key: SigningKey, count: int, keep: int | None = None) -> None:
    """Append ``count`` entries in batches; branch `bench/small` at ``keep``."""
    store = GitStore(repo)
    log = AuditLog(store, key)
    for start in range(0, count, BATCH):
        end = min(start + BATCH, count)
        batch = [
            Request("change", "acme/infra", fields(i), f"pr-{i}")
            for i in range(start, end)
        ]
        log.append_many(batch)
        if keep is not None and end == keep:
            head = store.head()
            assert head is not None
            GitStore(repo, "bench/small").advance(None, head)


def timed(action: object) -> float:
    """Return the seconds ``action()`` took."""
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def log_signatures(repo: Path) -> list[tuple[bytes, bytes]]:
    """Return (signature, signed message) of every entry of the log in ``repo``."""
    store = GitStore(repo)
    head = store.head()
    assert head is not None
    pairs = []
    for _, data in store.walk(head, layout.ENTRIES):
        sealed, _ = decode_entry(data)
        pairs += [(s.sig, sealed.pae()) for s in sealed.signatures]
    return pairs


def bare_verifications(key: SigningKey, pairs: list[tuple[bytes, bytes]]) -> float:
    """Time the Ed25519 verifications of ``pairs``, and nothing else."""
    public = PublicKey(key.public.raw)
    return timed(lambda: [public.verify(sig, message) for sig, message in pairs])


def one_message(key: SigningKey, count: int) -> float:
    """Time ``count`` verifications of one entry-sized message, for reference."""
    message = b"DSSEv1 36 application/vnd.changebot.entry+json 900 " + b"x" * 900
    return bare_verifications(key, [(key.sign(message), message)] * count)


def verification_rounds(
    repo: Path, key: SigningKey, keys: list[PublicKey]
) -> tuple[float, float, float, float]:
    """Return the best seconds of bare verifications, verify -j1 and verify -j2.

    The last figure is one message verified as many times, for reference.
    """
    pairs = log_signatures(repo)
    assert len(pairs) == ENTRIES
    rounds = [
        (
            bare_verifications(key, pairs),
            timed(lambda: verify(GitStore(repo), keys, jobs=1)),
            timed(lambda: verify(GitStore(repo), keys, jobs=2)),
            one_message(key, ENTRIES),
        )
        for _ in range(ROUNDS)
    ]
    bare, one, two, same = (min(column) for column in zip(*rounds, strict=True))
    return bare, one, two, same


def append_cost(repo: Path, key: SigningKey, tag: str) -> float:
    """Return the mean seconds of one append on the log in ``repo``."""
    log = AuditLog(GitStore(repo), key)
    log.append("change", "acme/infra", fields(0), f"warm-{tag}")
    total = timed(
        lambda: [
            log.append("change", "acme/infra", fields(i), f"{tag}-{i}")
            for i in range(APPENDS)
        ]
    )
    return total / APPENDS


def plumbing_floor(repo: Path) -> float:
    """Return the mean seconds of one commit made with git plumbing."""

    def git(*args: str, data: bytes | None = None) -> str:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            input=data,
            capture_output=True,
            check=True,
            env=ENV,
        )
        return done.stdout.decode().strip()

    def one(i: int) -> None:
        blob = git("hash-object", "-w", "--stdin", data=b"entry %d\n" % i)
        tree = git("mktree", data=f"100644 blob {blob}\tentry.json\n".encode())
        commit = git("commit-tree", tree, "-m", "floor")
        git("update-ref", "refs/heads/bench/floor", commit)

    return timed(lambda: [one(i) for i in range(APPENDS)]) / APPENDS


def peak_memory(store: GitStore, keys: list[PublicKey]) -> int:
    """Return the verifier's peak traced memory in bytes."""
    tracemalloc.start()
    report = verify(store, keys)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert report.ok, (report.error, report.findings[:3])
    return peak


def main() -> None:
    """Print the audit log's figures and ratios."""
    key = SigningKey.generate("bench")
    keys = [key.public]
    with tempfile.TemporaryDirectory() as tmp:
        big = git_init(Path(tmp) / "big")
        small = git_init(Path(tmp) / "small")
        built = timed(lambda: build(big, key, ENTRIES, keep=SMALL))
        build(small, key, 100)
        # NOTE: packed, as a clone fetched from GitHub (or a repository that
        # has run `git gc`) is; appends write loose objects.
        for repo in (big, small):
            subprocess.run(
                ["git", "-C", str(repo), "repack", "-adq"], check=True, env=ENV
            )
        print(f"audit: built {ENTRIES} entries in {built:.1f} s (then packed)")

        # 2. Verification against bare Ed25519, best of ROUNDS rounds that
        #    take turns, so that a burst of load elsewhere hits all three.
        bare, one, two, same = verification_rounds(big, key, keys)
        print(
            f"  bare Ed25519, the log's {ENTRIES} signatures: {bare:.2f} s"
            f" (one message {ENTRIES} times: {same:.2f} s)"
        )
        print(f"  verify, 1 job:  {one:.2f} s  ratio {one / bare:.2f} (target <= 1.3)")
        print(f"  verify, 2 jobs: {two:.2f} s  ratio {two / bare:.2f} (target < 1.0)")

        # 3. Append cost, small and big log, and the plumbing floor.
        at_100 = append_cost(small, key, "small")
        at_big = append_cost(big, key, "big")
        floor = plumbing_floor(small)
        print(
            f"  append at 100: {at_100 * 1000:.1f} ms,"
            f" at {ENTRIES}: {at_big * 1000:.1f} ms"
            f"  ratio {at_big / at_100:.2f} (target <= 1.5)"
        )
        print(
            f"  git plumbing floor: {floor * 1000:.1f} ms  append/floor"
            f" {at_big / floor:.2f} (target <= 2)"
        )

        # 4. Verifier memory.
        small_peak = peak_memory(GitStore(big, "bench/small"), keys)
        big_peak = peak_memory(GitStore(big), keys)
        print(
            f"  verify peak memory: {SMALL} entries {small_peak / 1e6:.2f} MB,"
            f" {ENTRIES} entries {big_peak / 1e6:.2f} MB"
            f"  ratio {big_peak / small_peak:.2f} (target: flat)"
        )


if __name__ == "__main__":
    main()
