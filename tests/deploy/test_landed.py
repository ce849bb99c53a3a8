"""Deployments attribute every commit a change landed (`change.commits`)."""

from __future__ import annotations

from histories import REPO, change_fields

from changebot.adapters.git import LocalRepo
from changebot.flows.deploy import DeploymentRequest, record_deployment


class NoParents:
    """A real `LocalRepo` that, like the forge, knows no parents; counts rev_lists."""

    def __init__(self, repo: LocalRepo) -> None:
        self.repo = repo
        self.rev_lists: list[tuple[str | None, str]] = []

    def is_ancestor(self, ancestor, descendant):
        return self.repo.is_ancestor(ancestor, descendant)

    def rev_list(self, base, head):
        self.rev_lists.append((base, head))
        return self.repo.rev_list(base, head)

    def parents(self, base, head):
        return {}


def deploy(history, audit, notifier, sha, ancestry=None):
    request = DeploymentRequest(REPO, "production", sha, deployer="ana")
    ancestry = ancestry or LocalRepo(history.path)
    return record_deployment(
        request, audit=audit, ancestry=ancestry, notifier=notifier
    ).summary


def rebased(history, audit, number, count, listed=True):
    """Land ``count`` commits of PR ``number`` as a rebase merge does."""
    commits = [history.commit(f"pr-{number}-{c}") for c in range(count)]
    fields = {"merge_method": "rebase"}
    if listed:
        fields["commits"] = commits
    audit.append(
        "change",
        REPO,
        change_fields(number, commits[-1], **fields),
        f"change:{number}",
    )
    return commits


def test_a_rebased_pr_covers_every_commit_it_landed(history, audit, notifier):
    live = history.commit("live")
    deploy(history, audit, notifier, live)
    commits = rebased(history, audit, 7, 3)

    summary = deploy(history, audit, notifier, commits[-1])

    assert [p.number for p in summary.added.pulls] == [7]
    assert summary.unrecorded == ()


def test_an_entry_without_commits_leaves_the_earlier_rebased_ones_unrecorded(
    history, audit, notifier
):
    live = history.commit("live")
    deploy(history, audit, notifier, live)
    commits = rebased(history, audit, 7, 3, listed=False)

    summary = deploy(history, audit, notifier, commits[-1])

    assert [p.number for p in summary.added.pulls] == [7]
    assert set(summary.unrecorded) == set(commits[:2])


def test_a_merge_commit_pr_listing_its_commits_needs_no_listing_of_its_own(
    history, audit, notifier
):
    live = history.commit("live")
    deploy(history, audit, notifier, live)
    history.git("checkout", "-q", "-b", "feature")
    branch = [history.commit(f"feature-{c}") for c in range(3)]
    history.git("checkout", "-q", "main")
    history.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
    merge = history.git("rev-parse", "HEAD")
    shas = {"base": live, "head": branch[-1]}
    fields = change_fields(
        8, merge, shas=shas, merge_method="merge", commits=[merge, *branch]
    )
    audit.append("change", REPO, fields, "change:8")
    ancestry = NoParents(LocalRepo(history.path))

    summary = deploy(history, audit, notifier, merge, ancestry)

    assert [p.number for p in summary.added.pulls] == [8]
    assert summary.unrecorded == ()
    assert (live, branch[-1]) not in ancestry.rev_lists
