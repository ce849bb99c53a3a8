"""LocalRepo lists a range once, with parents, and answers ancestry from it."""

from __future__ import annotations

import subprocess

import pytest

from changebot.adapters.git import LocalRepo
from changebot.errors import ChangebotError


def branch_and_merge(history):
    base = history.commit("base")
    history.git("checkout", "-q", "-b", "feature")
    side = [history.commit("f1"), history.commit("f2")]
    history.git("checkout", "-q", "main")
    main = history.commit("m1")
    merge = history.merge("feature", "Merge feature")
    return base, side, main, merge


def test_first_parent_lists_the_branch_itself(history):
    base, side, main, merge = branch_and_merge(history)
    repo = LocalRepo(history.path)

    assert repo.rev_list(base, merge, first_parent=True) == [merge, main]
    assert set(repo.rev_list(base, merge)) == {merge, main, *side}


def test_lineage_lists_parents_in_order(history):
    base, side, main, merge = branch_and_merge(history)
    repo = LocalRepo(history.path)

    parents = repo.parents(base, merge)

    assert parents[merge] == (main, side[-1])
    assert parents[side[0]] == (base,)
    assert [sha for sha, _ in repo.lineage(base, merge)][0] == merge


def test_ancestry_from_a_listed_range_matches_git(history):
    base, side, main, merge = branch_and_merge(history)
    pairs = [
        (base, merge),
        (merge, base),
        (main, side[-1]),
        (side[-1], main),
        (side[0], merge),
        (merge, merge),
    ]
    fresh = LocalRepo(history.path)
    expected = [fresh.is_ancestor(a, d) for a, d in pairs]

    listed = LocalRepo(history.path)
    for a, d in pairs:
        listed.rev_list(a, d)
    # NOTE: with the branch gone from the listing, an answer not taken from it
    # would come from git and still be right; break git to prove it is not.
    listed._git = None  # type: ignore[assignment]
    listed._repo = None  # type: ignore[assignment]

    assert [listed.is_ancestor(a, d) for a, d in pairs] == expected
    assert expected == [True, False, False, False, True, True]


def test_a_ref_name_is_not_remembered(history):
    history.commit("one")
    repo = LocalRepo(history.path)
    assert len(repo.rev_list(None, "main")) == 1

    history.commit("two")

    assert len(repo.rev_list(None, "main")) == 2


def test_a_range_longer_than_a_pipe_is_listed_whole(history):
    # 2,000 commits and their parents are 160 KB of listing, more than a
    # pipe holds at once: nothing is lost while git waits to be read.
    base = history.commit("base")
    stream = []
    for n in range(2000):
        stream.append("commit refs/heads/main\n")
        stream.append(f"committer dev <dev@example.com> {1_800_000_000 + n} +0000\n")
        stream.append(f"data {len(str(n))}\n{n}\n")
        stream.append(f"from {base}\n" if n == 0 else "")
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=history.path,
        input="".join(stream),
        text=True,
        check=True,
    )
    tip = history.git("rev-parse", "main")

    listed = LocalRepo(history.path).lineage(base, tip)

    assert [sha for sha, _ in listed] == history.git(
        "rev-list", tip, f"^{base}"
    ).split()
    assert listed[-1][1] == (base,)


def test_a_range_git_cannot_list_says_what_to_do(history):
    history.commit("base")
    missing = "f" * 40

    with pytest.raises(ChangebotError) as raised:
        LocalRepo(history.path).lineage(missing, "HEAD")

    assert "rev-list" in str(raised.value) and missing in str(raised.value)
    assert "git fetch" in (raised.value.hint or "")
