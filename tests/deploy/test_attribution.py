"""Attribution of merge-commit PRs from one listing of the range and its parents."""

from __future__ import annotations

from changebot.adapters.git import LocalRepo
from changebot.deploy.attribution import attribute
from changebot.deploy.classify import classify
from changebot.deploy.ledger import Ledger


class Counting:
    """A real `LocalRepo` that counts the git questions asked of it."""

    def __init__(self, repo: LocalRepo) -> None:
        self.repo = repo
        self.rev_lists: list[tuple[str | None, str]] = []

    def rev_list(self, base, head):
        self.rev_lists.append((base, head))
        return self.repo.rev_list(base, head)

    def is_ancestor(self, ancestor, descendant):
        return self.repo.is_ancestor(ancestor, descendant)

    def parents(self, base, head):
        return self.repo.parents(base, head)


def merged_branch(history, name, commits):
    """Commit ``commits`` files on branch ``name`` off main; merge it; return SHAs."""
    base = history.git("rev-parse", "HEAD")
    history.git("checkout", "-q", "-b", name)
    branch = [history.commit(f"{name}-{c}") for c in commits]
    history.git("checkout", "-q", "main")
    merge = history.merge(name, f"Merge {name}")
    return base, branch, merge


def summarize(history, log, previous, sha, ancestry=None):
    ancestry = ancestry or LocalRepo(history.path)
    movement = classify(previous, sha, [previous], ancestry)
    ledger = Ledger.build(log.entries, "acme/infra")
    return attribute(movement.added, ledger, ancestry, movement.parents)


def test_merge_commit_prs_cost_no_git_call_each(history, log):
    live = history.commit("live")
    for n in range(1, 6):
        base, branch, merge = merged_branch(history, f"pr{n}", "abc")
        shas = {"base": base, "head": branch[-1]}
        log.change(n, merge, merge_method="merge", shas=shas)
    tip = history.git("rev-parse", "HEAD")
    counting = Counting(LocalRepo(history.path))

    found = summarize(history, log, live, tip, counting)

    assert [c["pr"]["number"] for c in found.changes] == [1, 2, 3, 4, 5]
    assert found.unrecorded == ()
    assert counting.rev_lists == [(live, tip)]


class Shouting(Counting):
    """An ancestry that names every commit in upper case."""

    def rev_list(self, base, head):
        return [sha.upper() for sha in super().rev_list(base, head)]

    def parents(self, base, head):
        listed = self.repo.parents(base, head)
        return {s.upper(): tuple(p.upper() for p in ps) for s, ps in listed.items()}


def test_shas_in_upper_case_are_placed_as_lower_case_ones(history, log):
    live = history.commit("live")
    for n in (1, 2):
        base, branch, merge = merged_branch(history, f"pr{n}", "ab")
        log.change(
            n, merge, merge_method="merge", shas={"base": base, "head": branch[-1]}
        )
    tip = history.git("rev-parse", "HEAD")
    shouting = Shouting(LocalRepo(history.path))

    found = summarize(history, log, live, tip.upper(), shouting)

    assert [c["pr"]["number"] for c in found.changes] == [1, 2]
    assert found.unrecorded == ()
    assert len(shouting.rev_lists) == 1


def test_a_merge_that_merged_another_head_does_not_cover_its_branch(history, log):
    live = history.commit("live")
    base, branch, merge = merged_branch(history, "pr1", "ab")
    log.change(1, merge, merge_method="merge", shas={"base": base, "head": live})

    found = summarize(history, log, live, merge)

    assert [c["pr"]["number"] for c in found.changes] == [1]
    assert set(found.unrecorded) == set(branch)


def test_an_unrecorded_commit_a_branch_merged_from_main_stays_unrecorded(history, log):
    live = history.commit("live")
    history.git("checkout", "-q", "-b", "pr1")
    first = history.commit("pr1-a")
    history.git("checkout", "-q", "main")
    direct = history.commit("direct")
    history.git("checkout", "-q", "pr1")
    history.git("merge", "-q", "--no-ff", "-m", "sync", "main")
    sync = history.git("rev-parse", "HEAD")
    history.git("checkout", "-q", "main")
    merge = history.merge("pr1", "Merge pr1")
    log.change(1, merge, merge_method="merge", shas={"base": live, "head": sync})

    found = summarize(history, log, live, merge)

    assert found.unrecorded == (direct,)
    assert first not in found.unrecorded


def test_a_pr_merged_into_another_branch_is_listed_from_its_entry(history, log):
    live = history.commit("live")
    history.git("checkout", "-q", "-b", "release")
    release_base = history.git("rev-parse", "HEAD")
    base, branch, inner = merged_branch_into(history, "pr1", "release", "ab")
    history.git("checkout", "-q", "main")
    outer = history.merge("release", "Merge release")
    log.change(1, inner, merge_method="merge", shas={"base": base, "head": branch[-1]})
    log.change(2, outer, merge_method="merge", shas={"base": live, "head": inner})
    counting = Counting(LocalRepo(history.path))

    found = summarize(history, log, live, outer, counting)

    assert [c["pr"]["number"] for c in found.changes] == [1, 2]
    assert found.unrecorded == ()
    assert release_base == live
    assert (base, branch[-1]) in counting.rev_lists


def merged_branch_into(history, name, target, commits):
    """Like `merged_branch`, into ``target`` instead of main."""
    base = history.git("rev-parse", "HEAD")
    history.git("checkout", "-q", "-b", name)
    branch = [history.commit(f"{name}-{c}") for c in commits]
    history.git("checkout", "-q", target)
    merge = history.merge(name, f"Merge {name}")
    return base, branch, merge


def test_the_forge_lists_each_merge_commit_pr(history, log):
    live = history.commit("live")
    base, branch, merge = merged_branch(history, "pr1", "ab")
    log.change(1, merge, merge_method="merge", shas={"base": base, "head": branch[-1]})
    repo = Counting(LocalRepo(history.path))
    ledger = Ledger.build(log.entries, "acme/infra")

    found = attribute(repo.repo.rev_list(live, merge), ledger, repo, parents=None)

    assert found.unrecorded == ()
    assert repo.rev_lists == [(base, branch[-1])]
