"""The contents API on a repository that has no commit on its default branch yet."""

from __future__ import annotations

import base64
from typing import Any

import requests

from ghsim import Simulator


def upload(session: requests.Session, repo: str, path: str, **body: Any) -> Any:
    content = base64.b64encode(f"# {path}\n".encode()).decode()
    return session.put(
        f"/repos/{repo}/contents/{path}",
        json={"message": f"Add {path}", "content": content, **body},
    )


def empty_repo(simulator: Simulator, name: str) -> requests.Session:
    admin = simulator.client("admin")
    created = admin.post("/orgs/acme/repos", json={"name": name})
    assert created.status_code == 201
    return admin


def test_the_first_upload_to_an_empty_repo_makes_the_default_branch(
    simulator: Simulator,
) -> None:
    admin = empty_repo(simulator, "fresh")

    answer = upload(admin, "acme/fresh", "README.md")

    assert answer.status_code == 201, answer.text
    assert answer.json()["commit"]["parents"] == []
    read = admin.get("/repos/acme/fresh/contents/README.md", params={"ref": "main"})
    assert base64.b64decode(read.json()["content"]) == b"# README.md\n"


def test_an_upload_makes_the_default_branch_beside_an_orphan_branch(
    simulator: Simulator,
) -> None:
    admin = empty_repo(simulator, "logs")
    tree = admin.post(
        "/repos/acme/logs/git/trees",
        json={
            "tree": [{"path": "x", "mode": "100644", "type": "blob", "content": "x"}]
        },
    ).json()["sha"]
    commit = admin.post(
        "/repos/acme/logs/git/commits",
        json={"message": "audit", "tree": tree, "parents": []},
    ).json()["sha"]
    ref = {"ref": "refs/heads/changebot/audit", "sha": commit}
    assert admin.post("/repos/acme/logs/git/refs", json=ref).status_code == 201

    answer = upload(admin, "acme/logs", "README.md", branch="main")

    assert answer.status_code == 201, answer.text
    main = admin.get("/repos/acme/logs/git/ref/heads/main").json()["object"]["sha"]
    assert main == answer.json()["commit"]["sha"] != commit


def test_an_upload_to_a_missing_branch_of_a_repo_with_commits_is_not_found(
    simulator: Simulator,
) -> None:
    admin = empty_repo(simulator, "used")
    assert upload(admin, "acme/used", "README.md").status_code == 201

    answer = upload(admin, "acme/used", "other.md", branch="nope")

    assert answer.status_code == 404
    assert answer.json()["message"] == "Branch nope not found"
