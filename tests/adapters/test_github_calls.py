"""What judging a PR costs on GitHub, counted at the simulator.

Each worker is a fresh `build` of the App's services on one data directory:
its own adapter (empty caches, like a new process) and the shared ledger.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flows.apphost import RATIONALE, AppHost
from seeding import SeededRepo

from changebot import tasks
from changebot.compose import build
from changebot.flows.context import Context
from changebot.flows.pull import evaluate_pull
from ghsim import Simulator

REPO = "acme/infra"


@pytest.fixture
def host(simulator: Simulator, seeded_repo: SeededRepo, tmp_path: Path) -> AppHost:
    return AppHost(simulator, tmp_path / "app")


def worker(host: AppHost) -> Context:
    """Return the flows' context of a new worker process of the same App."""
    return tasks.context(build(host.settings))


def open_pull(repo: SeededRepo) -> int:
    changes = {f"infra/f{i}.tf": f"# {i}\n" for i in range(50)}
    return repo.open_pull("budget", changes, title="Budget", body=RATIONALE)


def calls_of(simulator: Simulator, evaluate: object) -> list[str]:
    """Return "METHOD path" of every request made while ``evaluate`` runs."""
    before = len(simulator.exchanges())
    assert callable(evaluate)
    evaluate()
    return [
        f"{ex.method} {ex.path.split('?')[0]}" for ex in simulator.exchanges()[before:]
    ]


def check_run_calls(calls: list[str]) -> list[str]:
    return [c for c in calls if "check-runs" in c]


def test_first_evaluation_creates_the_check_run_without_a_lookup(
    host: AppHost, simulator: Simulator, seeded_repo: SeededRepo
) -> None:
    number = open_pull(seeded_repo)
    ctx = worker(host)

    calls = calls_of(simulator, lambda: evaluate_pull(ctx, REPO, number))

    assert check_run_calls(calls) == [f"POST /repos/{REPO}/check-runs"]
    assert host.check(REPO, number).head_sha == seeded_repo.head("budget")


def test_judging_a_pull_of_50_files_and_5_reviews_takes_at_most_8_calls(
    host: AppHost, simulator: Simulator, seeded_repo: SeededRepo
) -> None:
    number = open_pull(seeded_repo)
    for login in ("pat", "paula", "sam", "admin", "pat"):
        seeded_repo.review(number, login, "APPROVE")
    ctx = worker(host)
    ctx.forge.default_branch(REPO)  # the token, as a running worker has it

    first = calls_of(simulator, lambda: evaluate_pull(ctx, REPO, number))
    seeded_repo.review(number, "sam", "COMMENT", body="noted")
    again = calls_of(simulator, lambda: evaluate_pull(ctx, REPO, number))

    assert host.check(REPO, number).conclusion == "success"
    assert len(first) <= 8, "\n".join(first)
    assert len(again) <= 8, "\n".join(again)


def test_another_worker_updates_the_same_run_without_a_lookup(
    host: AppHost, simulator: Simulator, seeded_repo: SeededRepo
) -> None:
    number = open_pull(seeded_repo)
    evaluate_pull(worker(host), REPO, number)
    first = host.check(REPO, number)
    seeded_repo.review(number, "pat", "APPROVE")
    seeded_repo.review(number, "paula", "APPROVE")

    ctx = worker(host)
    calls = calls_of(simulator, lambda: evaluate_pull(ctx, REPO, number))

    assert check_run_calls(calls) == [f"PATCH /repos/{REPO}/check-runs/{first.id}"]
    run = host.check(REPO, number)
    assert (run.id, run.conclusion) == (first.id, "success")


def test_a_new_head_gets_its_own_run_without_a_lookup(
    host: AppHost, simulator: Simulator, seeded_repo: SeededRepo
) -> None:
    number = open_pull(seeded_repo)
    evaluate_pull(worker(host), REPO, number)
    seeded_repo.commit("budget", {"infra/g.tf": "# g\n"}, login="dev")

    ctx = worker(host)
    calls = calls_of(simulator, lambda: evaluate_pull(ctx, REPO, number))

    assert check_run_calls(calls) == [f"POST /repos/{REPO}/check-runs"]
    assert len(simulator.check_runs(REPO, "changebot")) == 2
    assert host.check(REPO, number).head_sha == seeded_repo.head("budget")


def test_a_worker_that_died_before_noting_the_run_looks_it_up(
    host: AppHost, simulator: Simulator, seeded_repo: SeededRepo
) -> None:
    number = open_pull(seeded_repo)
    ctx = worker(host)
    evaluate_pull(ctx, REPO, number)
    head = seeded_repo.head("budget")
    assert ctx.ledger is not None
    # As if the worker died between creating the run and noting its id:
    ctx.ledger.note(f"checkrun.{REPO}@{head}", "pending")
    ctx.ledger.note(f"check.{REPO}#{number}", "stale")

    again = worker(host)
    calls = calls_of(simulator, lambda: evaluate_pull(again, REPO, number))

    lookup = f"GET /repos/{REPO}/commits/{head}/check-runs"
    assert check_run_calls(calls)[0] == lookup
    assert "POST" not in " ".join(check_run_calls(calls))
    host.check(REPO, number)  # exactly one run on the head


def test_without_a_ledger_the_run_is_looked_up_not_doubled(
    host: AppHost, simulator: Simulator, seeded_repo: SeededRepo
) -> None:
    number = open_pull(seeded_repo)
    evaluate_pull(worker(host), REPO, number)
    head = seeded_repo.head("budget")
    action = Context(
        forge=worker(host).forge,
        notifier=host.notices,
        open_store=host.services.audit_store,
        open_log=host.services.audit_log,
    )

    calls = calls_of(simulator, lambda: evaluate_pull(action, REPO, number))

    assert check_run_calls(calls)[0] == f"GET /repos/{REPO}/commits/{head}/check-runs"
    host.check(REPO, number)
