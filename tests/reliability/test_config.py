"""Hostile `.changebot.yml`: bombs, deep nesting, catastrophic expressions.

Proposed in a PR or already on the base branch, each ends as a clear error in
the check run, in bounded time. The bound is a hang detector (a thread that
has not finished after a minute), not a speed assertion.
"""

from __future__ import annotations

import threading

import pytest

from changebot.policy.rationale import tickets
from reliability.host import RATIONALE, REPO, AppHost

pytestmark = pytest.mark.e2e

#: A job that has not finished after this long is hung, whatever the machine.
HUNG = 60.0

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
HOSTILE = {
    "billion-laughs": (LAUGHS, "aliases expand"),
    "deep-nesting": ("areas: " + "[" * 5000 + "]" * 5000 + "\n", "nesting"),
    "deep-mapping": (
        "areas:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 60)),
        "nesting",
    ),
    "nested-regex": ('rationale:\n  ticket: "(a+)+$"\n', "exponential"),
    "overlapping-regex": ('rationale:\n  ticket: "a*a*a*a*a*a*b"\n', "repetitions"),
    "huge": ("areas: {}\n# " + "x" * 400_000 + "\n", "bytes"),
    "python-tag": ("areas: !!python/object/apply:os.system [id]\n", "constructor"),
}


def _bounded(work) -> None:
    done = threading.Event()

    def run() -> None:
        work()
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert done.wait(HUNG), "the job hung on a hostile policy file"


@pytest.fixture
def app_host(simulator, tmp_path):
    return AppHost(simulator, tmp_path / "app")


@pytest.fixture
def infra(app_host, seeded_repo):
    app_host.listen()
    return seeded_repo


def _text_of(run) -> str:
    return f"{run.output['title']}\n{run.output['summary']}\n{run.output.get('text')}"


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_policy_in_a_pr_fails_its_check_with_the_reason(
    app_host, infra, name
):
    document, reason = HOSTILE[name]
    number = infra.open_pull(
        "policy", {".changebot.yml": document}, title="Policy", body=RATIONALE
    )

    _bounded(app_host.work)

    run = app_host.check(REPO, number)
    assert run.conclusion == "failure"
    assert ".changebot.yml" in run.output["title"]
    assert reason in _text_of(run)


@pytest.mark.parametrize("name", ["billion-laughs", "nested-regex", "deep-nesting"])
def test_a_hostile_policy_on_the_base_branch_fails_every_check(app_host, infra, name):
    document, reason = HOSTILE[name]
    infra.commit("main", {".changebot.yml": document}, login="admin")
    app_host.work()

    number = infra.open_pull("tf", {"infra/main.tf": "# x\n"}, body=RATIONALE)
    infra.review(number, "pat")
    _bounded(app_host.work)

    run = app_host.check(REPO, number)
    assert run.conclusion == "failure"
    assert reason in _text_of(run)


def test_the_worst_allowed_ticket_expression_on_a_hostile_body_ends():
    body = ("a" * 200 + " ") * 25_000

    for expression in ["a*a*b", r"\w+\d+", "[a-z]*[a-z0-9]*X"]:
        _bounded(lambda e=expression: tickets(body, e))
