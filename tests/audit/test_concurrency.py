"""Four processes appending to one repository lose, duplicate and reorder nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, SigningKey, verify

WRITER = """
import sys
from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, SigningKey

repo, key_path, name, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
log = AuditLog(GitStore(repo), SigningKey.load(key_path))
for i in range(count):
    log.append("access", "acme/infra", {"actor": name}, f"{name}-{i}")
for i in range(0, count, 10):
    again = log.append("access", "acme/infra", {"actor": name}, f"{name}-{i}")
    assert not again.created
"""

WRITERS = 4
APPENDS = 100


def test_four_processes_append_400_dense_entries(repo: Path, key: SigningKey) -> None:
    key_path = key.save(repo.parent / "signer")[0]
    AuditLog(GitStore(repo), key).bootstrap([key.public])

    writers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                str(repo),
                str(key_path),
                f"w{n}",
                str(APPENDS),
            ]
        )
        for n in range(WRITERS)
    ]
    codes = [writer.wait(timeout=300) for writer in writers]

    log = AuditLog(GitStore(repo), key)
    keys = [entry["idempotency_key"] for entry in log.entries()]
    report = verify(GitStore(repo), [key.public])
    assert codes == [0] * WRITERS
    assert log.size() == WRITERS * APPENDS
    assert sorted(keys) == sorted(
        f"w{n}-{i}" for n in range(WRITERS) for i in range(APPENDS)
    )
    assert report.ok, report.findings
    assert report.size == WRITERS * APPENDS
