"""ForgeAncestry answers from the compare API: calls do not grow with commits."""

from __future__ import annotations

from changebot.adapters.git import LocalRepo
from changebot.deploy.ancestry import ForgeAncestry
from changebot.deploy.classify import classify
from changebot.ports import Comparison


class CompareOnly:
    """Answer `Forge.compare` from a real local clone, counting the calls."""

    def __init__(self, repo: LocalRepo) -> None:
        self.repo = repo
        self.calls: list[tuple[str, str]] = []

    def compare(self, repo: str, base: str, head: str) -> Comparison:
        self.calls.append((base, head))
        ahead = self.repo.rev_list(base, head)
        behind = self.repo.rev_list(head, base)
        status = (
            "identical" if not ahead and not behind
            else "ahead" if not behind
            else "behind" if not ahead
            else "diverged"
        )  # fmt: skip
        # GitHub lists compare commits oldest first.
        return Comparison(status, len(ahead), len(behind), tuple(reversed(ahead)))


def test_a_deploy_costs_one_compare_however_many_commits(history):
    first = history.commit("first")
    for n in range(30):
        head = history.commit(f"c{n}")
    forge = CompareOnly(LocalRepo(history.path))

    movement = classify(first, head, [first], ForgeAncestry(forge, "acme/infra"))

    assert movement.classification == "deploy"
    assert len(movement.added) == 30
    assert movement.added[0] == head
    assert forge.calls == [(first, head)]


def test_a_rollback_costs_two_compares_and_lists_the_removed(history):
    first = history.commit("first")
    second = history.commit("second")
    forge = CompareOnly(LocalRepo(history.path))

    movement = classify(second, first, [first], ForgeAncestry(forge, "acme/infra"))

    assert movement.classification == "rollback"
    assert movement.removed == (second,)
    assert len(forge.calls) == 2


def test_a_hotfix_is_told_from_diverged_histories(history):
    base = history.commit("base")
    main = history.commit("main-change")
    history.git("checkout", "-q", "-b", "hotfix", base)
    fix = history.commit("fix")
    forge = CompareOnly(LocalRepo(history.path))

    movement = classify(main, fix, [main], ForgeAncestry(forge, "acme/infra"))

    assert movement.classification == "hotfix"
    assert (movement.added, movement.removed) == ((fix,), (main,))
