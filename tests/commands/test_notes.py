"""Rationales and overrides given by command, kept in the queue's ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from changebot.adapters.queue import SqliteLedger
from changebot.flows.notes import GivenRationale, GrantedOverride, Notes
from changebot.policy.facts import PullFacts


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger(tmp_path / "queue.sqlite3")


def facts(head: str = "a" * 40) -> PullFacts:
    return PullFacts(
        repo="Acme/Infra",
        number=3,
        title="t",
        body="",
        author="dev",
        base_ref="main",
        base_sha="b" * 40,
        head_ref="topic",
        head_sha=head,
    )


def test_a_given_rationale_is_seen_by_every_reader_of_the_ledger(
    ledger: SqliteLedger, tmp_path: Path
) -> None:
    Notes(ledger).give_rationale("acme/infra", 3, GivenRationale("dev", "why", 11))

    other_process = Notes(SqliteLedger(tmp_path / "queue.sqlite3"))

    assert other_process.annotate(facts()).extra_rationale == "why"


def test_a_later_rationale_replaces_the_earlier_one(ledger: SqliteLedger) -> None:
    notes = Notes(ledger)
    notes.give_rationale("acme/infra", 3, GivenRationale("dev", "first", 11))
    notes.give_rationale("acme/infra", 3, GivenRationale("pat", "second", 12))

    assert notes.annotate(facts()).extra_rationale == "second"


def test_an_override_holds_only_for_the_head_it_was_granted_on(
    ledger: SqliteLedger,
) -> None:
    notes = Notes(ledger)
    granted = GrantedOverride("lee", "prod is down", "a" * 40, 12, index=4)
    notes.grant_override("acme/infra", 3, granted)

    assert notes.annotate(facts()).override == ("lee", "prod is down")
    assert notes.override_index(facts()) == 4
    pushed = facts(head="c" * 40)
    assert notes.annotate(pushed).override is None
    assert notes.override_index(pushed) is None


def test_other_pull_requests_see_nothing(ledger: SqliteLedger) -> None:
    notes = Notes(ledger)
    notes.give_rationale("acme/infra", 4, GivenRationale("dev", "why", 11))

    annotated = notes.annotate(facts())

    assert annotated.extra_rationale is None
    assert annotated.override is None
