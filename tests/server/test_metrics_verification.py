"""`changebot_verification_failures_total`: every verification the App runs counts.

The App verifies a log when someone asks with `/changebot verify`, and when
it refreshes the audit browser's index. Each verification that does not come
out intact adds one; one that passes, or a refresh that verifies nothing new,
adds none.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser.browser_logs import change, signed_log
from flows.apphost import RATIONALE, AppHost
from prometheus_client.parser import text_string_to_metric_families
from seeding import SeededRepo

from changebot.ports import AuditStore
from ghsim import Simulator

FAILURES = "changebot_verification_failures_total"
REPO = "acme/infra"


def failures(host: AppHost) -> float:
    """Return the counter as `GET /metrics` shows it (0 when absent)."""
    text = host.web.get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == FAILURES:
                return float(sample.value)
    return 0.0


def tamper(store: AuditStore, path: str = "entries/0/0.json") -> None:
    """Rewrite one entry of the branch, as someone with push access could."""
    head = store.head()
    assert head is not None
    envelope = json.loads(store.read(head, path) or b"{}")
    envelope["signatures"] = [{"keyid": "forged", "sig": "AAAA"}]
    forged = store.write(head, {path: json.dumps(envelope).encode()}, "tamper")
    assert store.advance(head, forged)


@pytest.fixture
def host(simulator: Simulator, seeded_repo: SeededRepo, tmp_path: Path) -> AppHost:
    return AppHost(simulator, tmp_path / "app").listen()


def merged_pull(host: AppHost, repo: SeededRepo) -> int:
    """Merge an approved PR and let the App record it; return its number."""
    number = repo.open_pull("tf", {"infra/main.tf": "# one\n"}, body=RATIONALE)
    repo.review(number, "pat")
    repo.merge(number, login="paula")
    host.work()
    assert host.entries(REPO, "change")
    return number


def ask_to_verify(host: AppHost, repo: SeededRepo, number: int) -> str:
    """Comment `/changebot verify`, let the App answer; return its reply."""
    repo.call(
        "dev", "POST", f"issues/{number}/comments", json={"body": "/changebot verify"}
    )
    host.work()
    replies = [c.body for c in host.simulator.comments(REPO, number)]
    return replies[-1]


def test_a_verify_command_on_a_tampered_log_counts_a_failure(
    host: AppHost, seeded_repo: SeededRepo
) -> None:
    number = merged_pull(host, seeded_repo)
    before = failures(host)

    ask_to_verify(host, seeded_repo, number)
    intact = failures(host)
    tamper(host.store(REPO))
    reply = ask_to_verify(host, seeded_repo, number)

    assert "intact" not in reply.splitlines()[0]
    assert (intact - before, failures(host) - before) == (0, 1)


def test_a_refresh_counts_a_failure_once_per_verification(
    host: AppHost, tmp_path: Path
) -> None:
    from changebot.index import Indexer
    from changebot.index.refresh import refresh

    store, log = signed_log(tmp_path / "audit")
    change(log, "acme/app", 1)
    indexer = Indexer(tmp_path / "index.sqlite3")
    keys = [log.signer.public]
    before = failures(host)

    passed = refresh(indexer, "acme/app", store, keys)
    tamper(store, "entries/0/1.json")
    failed = refresh(indexer, "acme/app", store, keys)
    unmoved = refresh(indexer, "acme/app", store, keys)

    assert (passed.ok, failed.ok, unmoved.ok) == (True, False, False)
    assert failures(host) - before == 1
