"""Pull requests: files, commits, reviews, comments, listing and merging."""

from __future__ import annotations

import subprocess

import pytest
from seeding import SeededRepo


def _git(repo: SeededRepo, *args: str) -> str:
    git_dir = str(repo.simulator.git_dir(repo.full_name))
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_files_page_with_links_and_show_renames(seeded_repo: SeededRepo) -> None:
    files: dict[str, str | None] = {f"infra/m{n}.tf": f"# {n}\n" for n in range(5)}
    files |= {
        "infra/main.tf": None,
        "infra/root.tf": 'resource "null_resource" "demo" {}\n',
    }
    number = seeded_repo.open_pull("many", files)
    admin = seeded_repo.client()

    url, pages, listed = seeded_repo.api(f"pulls/{number}/files?per_page=2"), 0, []
    while url:
        answer = admin.get(url)
        listed += answer.json()
        url, pages = answer.links.get("next", {}).get("url"), pages + 1

    renamed = {f["filename"]: f for f in listed if f["status"] == "renamed"}
    assert pages == 3
    assert len(listed) == 6
    assert renamed["infra/root.tf"]["previous_filename"] == "infra/main.tf"
    assert [f["status"] for f in listed].count("added") == 5


def test_files_listing_stops_at_3000(seeded_repo: SeededRepo) -> None:
    files: dict[str, str | None] = {f"gen/{n:04}.txt": str(n) for n in range(3005)}
    number = seeded_repo.open_pull("huge", files)
    admin = seeded_repo.client()

    pull = admin.get(seeded_repo.api(f"pulls/{number}")).json()
    last = admin.get(seeded_repo.api(f"pulls/{number}/files?per_page=100&page=30"))
    beyond = admin.get(seeded_repo.api(f"pulls/{number}/files?per_page=100&page=31"))

    assert pull["changed_files"] == 3005
    assert len(last.json()) == 100
    assert beyond.json() == []
    assert "next" not in last.links


def test_commits_list_with_their_trees(seeded_repo: SeededRepo) -> None:
    number = seeded_repo.open_pull("two", {"a": "1"})
    second = seeded_repo.commit("two", {"b": "2"}, login="dev")

    commits = seeded_repo.call(None, "GET", f"pulls/{number}/commits")

    assert [c["sha"] for c in commits][-1] == second
    assert commits[-1]["commit"]["tree"]["sha"] == _git(
        seeded_repo, "rev-parse", f"{second}^{{tree}}"
    )
    assert commits[-1]["author"]["login"] == "dev"


def test_review_records_the_head_it_saw(seeded_repo: SeededRepo) -> None:
    number = seeded_repo.open_pull("r", {"infra/x.tf": "1"})
    seen = seeded_repo.head("r")
    first = seeded_repo.review(number, "pat")
    seeded_repo.commit("r", {"infra/x.tf": "2"}, login="dev")
    second = seeded_repo.review(number, "paula", "REQUEST_CHANGES", body="no")
    seeded_repo.call(
        None,
        "PUT",
        f"pulls/{number}/reviews/{second['id']}/dismissals",
        json={"message": "stale"},
    )

    reviews = seeded_repo.call(None, "GET", f"pulls/{number}/reviews")

    assert first["commit_id"] == seen
    assert reviews[1]["commit_id"] == seeded_repo.head("r")
    assert [r["state"] for r in reviews] == ["APPROVED", "DISMISSED"]


def test_authors_cannot_approve_their_own_pull(seeded_repo: SeededRepo) -> None:
    number = seeded_repo.open_pull("own", {"a": "1"})

    answer = seeded_repo.client("dev").post(
        seeded_repo.api(f"pulls/{number}/reviews"), json={"event": "APPROVE"}
    )

    assert answer.status_code == 422


def test_comments_page_and_update_in_place(seeded_repo: SeededRepo) -> None:
    number = seeded_repo.open_pull("c", {"a": "1"})
    for n in range(3):
        seeded_repo.call(
            "pat", "POST", f"issues/{number}/comments", json={"body": str(n)}
        )
    first = seeded_repo.client().get(
        seeded_repo.api(f"issues/{number}/comments?per_page=2")
    )
    target = first.json()[0]["id"]

    seeded_repo.call(
        "pat", "PATCH", f"issues/comments/{target}", json={"body": "edited"}
    )

    assert first.links["next"]["url"].endswith("page=2")
    assert [c.body for c in seeded_repo.simulator.comments("acme/infra", number)] == [
        "edited",
        "1",
        "2",
    ]


def test_list_closed_pulls_by_most_recently_updated(seeded_repo: SeededRepo) -> None:
    numbers = [seeded_repo.open_pull(f"p{n}", {f"f{n}": "x"}) for n in range(3)]
    for number in (numbers[1], numbers[0]):
        seeded_repo.call("dev", "PATCH", f"pulls/{number}", json={"state": "closed"})
    seeded_repo.simulator.pull(
        "acme/infra", numbers[1]
    ).updated_at = seeded_repo.simulator.pull(
        "acme/infra", numbers[0]
    ).updated_at.replace(year=2030)

    closed = seeded_repo.call(
        None, "GET", "pulls?state=closed&sort=updated&direction=desc"
    )

    assert [p["number"] for p in closed] == [numbers[1], numbers[0]]


@pytest.mark.parametrize("method", ["merge", "squash", "rebase"])
def test_merge_methods_write_real_git(seeded_repo: SeededRepo, method: str) -> None:
    seeded_repo.commit("main", {"README.md": "moved on\n"})
    base = seeded_repo.head()
    number = seeded_repo.open_pull("m", {"infra/a.tf": "a"})
    seeded_repo.commit("m", {"infra/b.tf": "b"}, login="dev")
    head = seeded_repo.head("m")
    seeded_repo.review(number, "pat")

    sha = seeded_repo.merge(number, method, login="pat")

    pull = seeded_repo.call(None, "GET", f"pulls/{number}")
    parents = _git(seeded_repo, "rev-list", "--parents", "-n1", sha).split()[1:]
    assert (pull["merged"], pull["merge_commit_sha"], pull["merged_by"]["login"]) == (
        True,
        sha,
        "pat",
    )
    assert seeded_repo.head() == sha
    assert _git(seeded_repo, "show", f"{sha}:infra/b.tf") == "b"
    expected = {"merge": [base, head], "squash": [base]}.get(method)
    if expected:
        assert parents == expected
    else:
        assert _git(seeded_repo, "rev-list", "--count", f"{base}..{sha}") == "2"
    closed = seeded_repo.simulator.deliveries("pull_request")[-1].payload
    assert (closed["action"], closed["pull_request"]["merged"]) == ("closed", True)


def test_merge_refuses_when_the_head_moved(seeded_repo: SeededRepo) -> None:
    number = seeded_repo.open_pull("race", {"a": "1"})
    seen = seeded_repo.head("race")
    seeded_repo.commit("race", {"a": "2"}, login="dev")

    answer = seeded_repo.client().put(
        seeded_repo.api(f"pulls/{number}/merge"), json={"sha": seen}
    )

    assert answer.status_code == 409
    assert seeded_repo.simulator.pull("acme/infra", number).state == "open"


def test_pulls_for_a_merged_commit(seeded_repo: SeededRepo) -> None:
    number = seeded_repo.open_pull("pc", {"a": "1"})
    sha = seeded_repo.merge(number, "squash")

    found = seeded_repo.call(None, "GET", f"commits/{sha}/pulls")

    assert [p["number"] for p in found] == [number]
