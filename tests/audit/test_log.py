"""Appending, reading, rotating keys and proving entries, on real git repositories."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from changebot.adapters.git import GitStore
from changebot.audit import (
    AuditLog,
    PublicKey,
    Request,
    SigningKey,
    verify,
    verify_receipt,
)
from changebot.audit.envelope import pae
from changebot.audit.merkle import leaf_hash

FIXED = datetime(2024, 5, 1, 12, 30, 45, tzinfo=UTC)


def change(number: int) -> dict[str, object]:
    return {"pr": {"number": number}, "author": "ana", "areas": ["terraform"]}


def test_an_entry_is_canonical_signed_and_chained(
    store: GitStore, key: SigningKey
) -> None:
    log = AuditLog(store, key, clock=lambda: FIXED)

    first = log.append("change", "acme/infra", change(1), "pr-1")
    second = log.append("change", "acme/infra", change(2), "pr-2")

    envelope = json.loads(log.envelope(1))
    payload = base64.b64decode(envelope["payload"])
    entry = log.entry(1)
    assert (first.index, second.index) == (0, 1)
    assert entry["prev"] == first.leaf_hash
    assert entry["time"] == "2024-05-01T12:30:45Z"
    assert entry["merger"] is None and entry["verdict"] is None
    assert payload == json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
    assert second.leaf_hash == leaf_hash(payload).hex()
    signature = base64.b64decode(envelope["signatures"][0]["sig"])
    assert key.public.verify(signature, pae(envelope["payloadType"], payload))


def test_the_caller_may_pass_the_time(store: GitStore, key: SigningKey) -> None:
    log = AuditLog(store, key, clock=lambda: FIXED)

    log.append("access", "acme/infra", {"time": "2023-01-02T03:04:05+00:00"}, "a")

    assert log.entry(0)["time"] == "2023-01-02T03:04:05Z"


def test_a_second_append_with_the_same_key_is_a_no_op(
    store: GitStore, key: SigningKey
) -> None:
    log = AuditLog(store, key)
    first = log.append("change", "acme/infra", change(1), "pr-1")
    head = store.head()

    again = log.append("change", "acme/infra", change(1), "pr-1")

    assert again.index == first.index
    assert again.leaf_hash == first.leaf_hash
    assert again.created is False
    assert store.head() == head
    assert log.size() == 1


def test_a_planted_idempotency_file_cannot_swallow_an_entry(
    store: GitStore, key: SigningKey
) -> None:
    log = AuditLog(store, key)
    log.append("access", "acme/infra", {}, "real")
    head = store.head()
    assert head is not None
    from changebot.audit.layout import idempotency_path

    planted = store.write(head, {idempotency_path("victim"): b"0\n"}, "plant")
    store.advance(head, planted)

    appended = log.append("access", "acme/infra", {}, "victim")

    assert appended.created is True
    assert appended.index == 1
    assert log.find("victim") == 1


def test_append_many_writes_one_commit(store: GitStore, key: SigningKey) -> None:
    log = AuditLog(store, key)
    requests = [Request("access", "acme/infra", {}, f"k{i}") for i in range(5)]

    results = log.append_many([*requests, requests[0]])
    commits = subprocess.run(
        ["git", "-C", str(store.path), "rev-list", "--count", store.ref],
        capture_output=True,
        check=True,
    ).stdout

    assert [r.index for r in results] == [0, 1, 2, 3, 4, 0]
    assert int(commits) == 1
    assert [e["idempotency_key"] for e in log.entries()] == [f"k{i}" for i in range(5)]
    assert [e["index"] for e in log.entries(start=3)] == [3, 4]


def test_the_first_append_writes_readme_and_key(
    store: GitStore, key: SigningKey
) -> None:
    log = AuditLog(store, key)

    log.append("access", "acme/infra", {}, "a")
    head = store.head()
    assert head is not None

    readme = store.read(head, "README.md") or b""
    assert b"changebot audit verify" in readme
    assert b"example.test/acme/infra@changebot/audit" in readme
    assert store.read(head, f"keys/{key.keyid}.pub") == key.public.pem()


def test_bootstrap_starts_an_empty_log_that_verifies(
    store: GitStore, key: SigningKey
) -> None:
    log = AuditLog(store, key)

    assert log.bootstrap([key.public]) is True
    assert log.bootstrap([key.public]) is False

    report = verify(store, [key.public])
    assert report.ok, report.findings
    assert report.size == 0
    assert log.checkpoint() is not None


def test_entries_after_a_rotation_verify_with_only_the_first_key(
    store: GitStore, key: SigningKey
) -> None:
    log = AuditLog(store, key)
    log.append("access", "acme/infra", {}, "before")
    new = SigningKey.generate("audit-test-2")

    rotation = log.rotate(new)
    log.append("access", "acme/infra", {}, "after")

    entry = log.entry(rotation.index)
    report = verify(store, [key.public])
    assert entry["kind"] == "key"
    assert entry["previous_keyid"] == key.keyid
    assert report.ok, report.findings
    assert report.keys == [new.keyid]
    assert verify_receipt(log.receipt(2), [key.public]) == []


def test_a_rotation_signed_only_by_an_unknown_key_is_a_finding(
    store: GitStore, key: SigningKey
) -> None:
    AuditLog(store, key).append("access", "acme/infra", {}, "before")
    intruder = SigningKey.generate("intruder")
    hijacked = AuditLog(store, intruder)

    hijacked.rotate(SigningKey.generate("intruder-2"))

    report = verify(store, [key.public])
    assert report.exit_code == 1
    assert any(f.index == 1 and "key rotation" in f.message for f in report.findings)


def test_the_retired_key_may_not_sign_after_a_rotation(
    store: GitStore, key: SigningKey
) -> None:
    log = AuditLog(store, key)
    log.rotate(SigningKey.generate("audit-test-2"))

    AuditLog(store, key).append("access", "acme/infra", {}, "late")

    report = verify(store, [key.public])
    entry_findings = [f for f in report.findings if f.index is not None]
    assert [f.index for f in entry_findings] == [1]
    assert "not signed by a trusted key" in entry_findings[0].message


def test_a_receipt_proves_its_entry_offline(
    store: GitStore, key: SigningKey, tmp_path: Path
) -> None:
    log = AuditLog(store, key)
    for i in range(9):
        log.append("access", "acme/infra", {}, f"k{i}")

    receipt = json.loads(json.dumps(log.receipt(4)))

    assert verify_receipt(receipt, [key.public]) == []
    assert verify_receipt(receipt, [SigningKey.generate().public]) != []
    receipt["index"] = 5
    assert verify_receipt(receipt, [key.public]) != []


def test_a_receipt_with_an_edited_entry_fails(store: GitStore, key: SigningKey) -> None:
    log = AuditLog(store, key)
    for i in range(3):
        log.append("access", "acme/infra", {"actor": "ana"}, f"k{i}")
    receipt = log.receipt(1)
    entry = log.entry(1) | {"actor": "eve"}
    payload = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()

    receipt["envelope"]["payload"] = base64.b64encode(payload).decode()

    problems = verify_receipt(receipt, [PublicKey(key.public.raw)])
    assert "the entry is not signed by a trusted key" in problems
    assert "entry 1 is not in the tree of the checkpoint" in problems
