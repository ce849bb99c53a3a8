"""Each merge method's landed commits, recorded by the App and deployed.

A PR of three commits is merged on the simulated GitHub; its `change` entry
must list the commits that reached `main`, and a deployment of `main` must
attribute every one of them to the PR (a rebase used to leave all but the
last unrecorded).
"""

from __future__ import annotations

import subprocess

import pytest
from flows.apphost import RATIONALE

pytestmark = pytest.mark.e2e

REPO = "acme/infra"


def _first_parents(infra, since: str) -> list[str]:
    """Return main's first-parent commits after ``since``, oldest first."""
    found, sha = [], infra.head()
    while sha != since:
        found.append(sha)
        sha = infra.call(None, "GET", f"git/commits/{sha}")["parents"][0]["sha"]
    return found[::-1]


def _deploy(infra, sha: str) -> None:
    deployment = infra.call(
        "admin", "POST", "deployments", json={"ref": sha, "environment": "production"}
    )
    infra.call(
        "admin",
        "POST",
        f"deployments/{deployment['id']}/statuses",
        json={"state": "success"},
    )


@pytest.mark.parametrize("method", ["merge", "squash", "rebase"])
def test_every_landed_commit_is_listed_and_deployed_as_the_prs(
    app_host, seeded_repo, method
):
    infra = seeded_repo
    live = infra.head()
    _deploy(infra, live)
    app_host.listen()
    number = infra.open_pull("notes", {"docs/a.md": "a\n"}, body=RATIONALE)
    pulled = [infra.simulator.pull(REPO, number).head_sha]
    for name in ("b", "c"):
        pulled.append(infra.commit("notes", {f"docs/{name}.md": "x\n"}, login="dev"))
    infra.merge(number, method=method, login="paula")
    app_host.work()

    [change] = app_host.entries(REPO, "change")
    on_main = _first_parents(infra, live)
    expected = {
        "merge": [*pulled, infra.head()],
        "squash": [infra.head()],
        "rebase": on_main,
    }[method]
    assert change["commits"] == expected
    assert len(change["commits"]) == {"merge": 4, "squash": 1, "rebase": 3}[method]

    _deploy(infra, infra.head())
    app_host.work()

    [deployment] = app_host.entries(REPO, "deployment")
    assert deployment["pulls"] == [number]
    assert deployment["unrecorded"] == []


def _branch_of(git_dir, name: str, parent: str, count: int) -> None:
    """Write ``count`` commits on a new branch straight into the git directory."""
    script = []
    for n in range(count):
        script += [
            f"commit refs/heads/{name}\nmark :{n + 1}",
            "committer dev <dev@example.com> 1700000000 +0000",
            f"data 2\nc{n % 10}",
            f"from {parent}" if n == 0 else f"from :{n}",
            f"M 100644 inline docs/{n}.md\ndata 2\n{n % 10}\n",
        ]
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=git_dir,
        input="\n".join([*script, "done\n"]).encode(),
        check=True,
    )


def test_a_merge_of_more_commits_than_github_lists_for_a_pr_lists_them_all(
    app_host, seeded_repo, simulator
):
    infra = seeded_repo
    _branch_of(simulator.git_dir(REPO), "big", infra.head(), 260)
    app_host.listen()
    number = infra.call(
        "dev",
        "POST",
        "pulls",
        json={"title": "Big", "body": RATIONALE, "head": "big", "base": "main"},
    )["number"]
    infra.merge(number, method="merge", login="paula")
    app_host.work()

    [change] = app_host.entries(REPO, "change")
    assert len(change["commits"]) == 261
    assert change["commits"][-1] == infra.head()
