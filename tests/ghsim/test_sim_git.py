"""The git data API, refs and compare behave like GitHub's, on real git."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from seeding import SeededRepo


def _tree(repo: SeededRepo, parent: str, files: dict[str, str | None]) -> str:
    base = repo.call(None, "GET", f"git/commits/{parent}")["tree"]["sha"]
    entries = [
        {"path": p, "mode": "100644", "type": "blob", "content": c}
        if c is not None
        else {"path": p, "mode": "100644", "type": "blob", "sha": None}
        for p, c in files.items()
    ]
    tree = repo.call(
        None, "POST", "git/trees", json={"base_tree": base, "tree": entries}
    )
    return str(tree["sha"])


def _commit(repo: SeededRepo, parent: str, files: dict[str, str | None]) -> str:
    body = {"message": "m", "tree": _tree(repo, parent, files), "parents": [parent]}
    return str(repo.call(None, "POST", "git/commits", json=body)["sha"])


def test_tree_with_base_tree_keeps_adds_and_deletes(seeded_repo: SeededRepo) -> None:
    main = seeded_repo.head()
    sha = _commit(seeded_repo, main, {"audit/a.json": "{}", "CODEOWNERS": None})

    listed = seeded_repo.call(None, "GET", f"git/trees/{sha}?recursive=1")["tree"]
    paths = {entry["path"] for entry in listed if entry["type"] == "blob"}

    assert "audit/a.json" in paths
    assert "infra/main.tf" in paths
    assert "CODEOWNERS" not in paths


def test_ref_update_refuses_a_non_fast_forward_without_force(
    seeded_repo: SeededRepo,
) -> None:
    main = seeded_repo.head()
    first = _commit(seeded_repo, main, {"a": "1"})
    sideways = _commit(seeded_repo, main, {"b": "2"})
    admin = seeded_repo.client()
    admin.patch(seeded_repo.api("git/refs/heads/main"), json={"sha": first})

    refused = admin.patch(
        seeded_repo.api("git/refs/heads/main"), json={"sha": sideways}
    )
    forced = admin.patch(
        seeded_repo.api("git/refs/heads/main"), json={"sha": sideways, "force": True}
    )

    assert refused.status_code == 422
    assert refused.json()["message"] == "Update is not a fast forward"
    assert forced.status_code == 200
    assert seeded_repo.head() == sideways
    push = seeded_repo.simulator.deliveries("push")[-1].payload
    assert (push["forced"], push["before"], push["after"]) == (True, first, sideways)


def test_multi_segment_refs_answer_encoded_or_not(seeded_repo: SeededRepo) -> None:
    sha = seeded_repo.commit("changebot/audit", {"entries/0/0.json": "{}"})

    for path in ("heads/changebot%2Faudit", "heads/changebot/audit"):
        ref = seeded_repo.call(None, "GET", f"git/ref/{path}")
        assert ref["ref"] == "refs/heads/changebot/audit"
        assert ref["object"]["sha"] == sha
    moved = _commit(seeded_repo, sha, {"entries/0/1.json": "{}"})
    seeded_repo.call(
        None, "PATCH", "git/refs/heads/changebot%2Faudit", json={"sha": moved}
    )
    assert seeded_repo.head("changebot/audit") == moved


def test_concurrent_appends_lose_nothing(seeded_repo: SeededRepo) -> None:
    """Writers race on one ref; each retries on 422 until its commit lands."""
    start = seeded_repo.commit("changebot/audit", {"log": ""})
    admin = seeded_repo.client()

    def append(n: int) -> int:
        attempts = 0
        while True:
            attempts += 1
            tip = seeded_repo.head("changebot/audit")
            sha = _commit(seeded_repo, tip, {f"entries/{n}": str(n)})
            answer = admin.patch(
                seeded_repo.api("git/refs/heads/changebot/audit"), json={"sha": sha}
            )
            if answer.status_code == 200:
                return attempts
            assert answer.status_code == 422

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(append, range(8)))

    tip = seeded_repo.head("changebot/audit")
    tree = seeded_repo.call(None, "GET", f"git/trees/{tip}?recursive=1")["tree"]
    entries = sorted(e["path"] for e in tree if e["path"].startswith("entries/"))
    history = subprocess.run(
        [
            "git",
            "--git-dir",
            str(seeded_repo.simulator.git_dir("acme/infra")),
            "rev-list",
            "--count",
            f"{start}..{tip}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert entries == [f"entries/{n}" for n in range(8)]
    assert int(history) == 8


def test_create_ref_twice_is_refused(seeded_repo: SeededRepo) -> None:
    body = {"ref": "refs/heads/x", "sha": seeded_repo.head()}
    admin = seeded_repo.client()

    assert admin.post(seeded_repo.api("git/refs"), json=body).status_code == 201
    again = admin.post(seeded_repo.api("git/refs"), json=body)
    assert again.status_code == 422
    assert again.json()["message"] == "Reference already exists"


@pytest.mark.parametrize(
    ("base", "head", "status", "ahead", "behind"),
    [
        ("main", "feature", "ahead", 2, 0),
        ("feature", "main", "behind", 0, 2),
        ("main", "main", "identical", 0, 0),
        ("hotfix", "feature", "diverged", 2, 1),
    ],
)
def test_compare_reports_how_two_commits_relate(
    seeded_repo: SeededRepo, base: str, head: str, status: str, ahead: int, behind: int
) -> None:
    seeded_repo.commit("feature", {"f1": "1"})
    seeded_repo.commit("feature", {"f2": "2"})
    seeded_repo.commit("hotfix", {"h1": "1"})

    answer = seeded_repo.call(None, "GET", f"compare/{base}...{head}")

    assert (answer["status"], answer["ahead_by"], answer["behind_by"]) == (
        status,
        ahead,
        behind,
    )
    assert len(answer["commits"]) == ahead


def test_compare_pages_its_commits(seeded_repo: SeededRepo) -> None:
    shas = [seeded_repo.commit("feature", {f"f{n}": str(n)}) for n in range(3)]
    admin = seeded_repo.client()

    first = admin.get(seeded_repo.api("compare/main...feature"), params={"per_page": 2})
    second = admin.get(first.links["next"]["url"])

    assert [c["sha"] for c in first.json()["commits"]] == shas[:2]
    assert [c["sha"] for c in second.json()["commits"]] == shas[2:]
    assert first.json()["total_commits"] == 3
    assert "next" not in second.links


def test_an_unpaged_compare_answers_its_latest_250_commits_at_once(
    seeded_repo: SeededRepo,
) -> None:
    main = seeded_repo.head()
    tree = seeded_repo.call(None, "GET", f"git/commits/{main}")["tree"]["sha"]
    parent = main
    for n in range(255):
        body = {"message": f"step {n}", "tree": tree, "parents": [parent]}
        parent = seeded_repo.call("dev", "POST", "git/commits", json=body)["sha"]
    seeded_repo.call(
        "dev", "POST", "git/refs", json={"ref": "refs/heads/long", "sha": parent}
    )

    answer = seeded_repo.client().get(seeded_repo.api("compare/main...long"))
    paged = seeded_repo.client().get(
        seeded_repo.api("compare/main...long"), params={"per_page": 250}
    )

    commits = answer.json()["commits"]
    assert (len(commits), commits[-1]["sha"]) == (250, parent)
    assert answer.json()["total_commits"] == 255
    assert "next" not in answer.links
    assert len(paged.json()["commits"]) == 100
