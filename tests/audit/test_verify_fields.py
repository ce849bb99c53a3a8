"""An entry's fields are checked whatever JSON an attacker puts in them."""

from __future__ import annotations

import json

import pytest

from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, SigningKey, verify
from changebot.audit.envelope import seal
from changebot.audit.layout import entry_path


@pytest.mark.parametrize("kind", [["access"], {"access": 1}, 7, None])
def test_an_entry_whose_kind_is_not_a_known_name_is_malformed(
    store: GitStore, key: SigningKey, kind: object
) -> None:
    log = AuditLog(store, key)
    for i in range(3):
        log.append("access", "acme/infra", {"n": i}, f"k{i}")
    entry = log.entry(1) | {"kind": kind}
    payload = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
    head = store.head()
    forged = store.write(head, {entry_path(1): seal(payload, [key]).encode()}, "edit")
    assert store.advance(head, forged)

    report = verify(store, [key.public])

    assert report.error is None
    assert f"entry 1: malformed: unknown kind {kind!r}" in [
        f.line() for f in report.findings
    ]
