"""Seed a simulated GitHub through its own endpoints, as people and bots would.

`seed(simulator)` makes ``acme/infra`` with teams, collaborators and the files
of an infrastructure repository; `SeededRepo` has the verbs tests use to
change it (commit, open a PR, review, merge). The ``seeded_repo`` fixture of
``tests/conftest.py`` returns one; import from here (``from seeding import
SeededRepo``) rather than from a conftest, whose module name is ambiguous.
"""

from __future__ import annotations

import base64
from typing import Any

import requests

from ghsim import Simulator

SEED_FILES = {
    "README.md": "# infra\n\nInfrastructure of acme.\n",
    "infra/main.tf": 'resource "null_resource" "demo" {}\n',
    "k8s/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
    ".github/workflows/ci.yml": "name: ci\non: [push]\njobs: {}\n",
    ".changebot.yml": (
        "areas:\n"
        "  terraform:\n"
        '    paths: ["infra/**/*.tf"]\n'
        "    reviewers: {count: 1, teams: [platform]}\n"
        "  kubernetes:\n"
        '    paths: ["k8s/**"]\n'
        "    reviewers: {count: 1, teams: [platform]}\n"
        "  workflows:\n"
        '    paths: [".github/workflows/**"]\n'
        "    reviewers: {count: 1, teams: [security]}\n"
        "rationale:\n"
        "  sections: [Why, Risk, Rollback plan]\n"
    ),
    "CODEOWNERS": "/infra/ @acme/platform\n/.github/ @acme/security\n",
}


class SeededRepo:
    """A repository on the simulator, and a few verbs to change it like people do.

    ``admin`` created the org and the repository; ``platform`` (members
    ``pat`` and ``paula``) and ``security`` (member ``sam``) are teams with
    write access; ``dev`` is a collaborator with write access.
    """

    def __init__(
        self,
        simulator: Simulator,
        owner: str = "acme",
        name: str = "infra",
        admin: str = "admin",
    ) -> None:
        self.simulator = simulator
        self.owner, self.name, self.admin = owner, name, admin
        self.full_name = f"{owner}/{name}"
        self.default_branch = "main"

    def client(self, login: str | None = None) -> requests.Session:
        """Return an HTTP session acting as ``login`` (the admin by default)."""
        return self.simulator.client(login or self.admin)

    def api(self, tail: str) -> str:
        """Return the path of a repository endpoint, e.g. ``api("pulls")``."""
        return f"/repos/{self.full_name}/{tail}"

    def call(self, login: str | None, method: str, tail: str, **kwargs: Any) -> Any:
        """Call a repository endpoint and return its JSON; fail the test on >= 400."""
        answer = self.client(login).request(method, self.api(tail), **kwargs)
        assert answer.status_code < 400, (
            f"{method} {tail}: {answer.status_code} {answer.text}"
        )
        return answer.json() if answer.content else None

    def head(self, branch: str | None = None) -> str:
        """Return the commit a branch points at."""
        ref = self.call(None, "GET", f"git/ref/heads/{branch or self.default_branch}")
        return str(ref["object"]["sha"])

    def commit(
        self,
        branch: str,
        files: dict[str, str | None],
        message: str = "change",
        login: str | None = None,
        force_parent: str | None = None,
    ) -> str:
        """Commit ``files`` (None deletes) on ``branch`` through the git data API.

        The branch is created from the default branch when it does not exist.
        With ``force_parent`` the commit sits on that parent and the ref is
        force-moved (a force push).
        """
        exists = self.client(login).get(self.api(f"git/ref/heads/{branch}")).ok
        parent = force_parent or self.head(branch if exists else None)
        base_tree = self.call(login, "GET", f"git/commits/{parent}")["tree"]["sha"]
        tree = self.call(
            login,
            "POST",
            "git/trees",
            json={
                "base_tree": base_tree,
                "tree": [
                    {
                        "path": p,
                        "mode": "100644",
                        "type": "blob",
                        **({"content": c} if c is not None else {"sha": None}),
                    }
                    for p, c in files.items()
                ],
            },
        )["sha"]
        sha = str(
            self.call(
                login,
                "POST",
                "git/commits",
                json={"message": message, "tree": tree, "parents": [parent]},
            )["sha"]
        )
        if exists:
            self.call(
                login,
                "PATCH",
                f"git/refs/heads/{branch}",
                json={"sha": sha, "force": force_parent is not None},
            )
        else:
            self.call(
                login,
                "POST",
                "git/refs",
                json={"ref": f"refs/heads/{branch}", "sha": sha},
            )
        return sha

    def open_pull(
        self,
        branch: str,
        files: dict[str, str | None],
        title: str = "Change",
        body: str = "",
        author: str = "dev",
        draft: bool = False,
    ) -> int:
        """Push ``files`` to a new branch as ``author`` and open a PR on it."""
        self.commit(branch, files, message=title, login=author)
        pull = self.call(
            author,
            "POST",
            "pulls",
            json={
                "title": title,
                "body": body,
                "head": branch,
                "base": self.default_branch,
                "draft": draft,
            },
        )
        return int(pull["number"])

    def review(
        self, number: int, login: str, event: str = "APPROVE", body: str = ""
    ) -> Any:
        """Submit a review as ``login``."""
        return self.call(
            login,
            "POST",
            f"pulls/{number}/reviews",
            json={"event": event, "body": body},
        )

    def merge(
        self, number: int, method: str = "merge", login: str | None = None
    ) -> str:
        """Merge a PR and return the merge commit SHA."""
        return str(
            self.call(
                login, "PUT", f"pulls/{number}/merge", json={"merge_method": method}
            )["sha"]
        )


def put_file(
    session: requests.Session,
    repo: str,
    path: str,
    text: str,
    branch: str | None = None,
    message: str | None = None,
) -> Any:
    """Create or update one file through the contents API (one commit, one push)."""
    current = session.get(
        f"/repos/{repo}/contents/{path}", params={"ref": branch} if branch else None
    )
    body: dict[str, Any] = {
        "message": message or f"Update {path}",
        "content": base64.b64encode(text.encode()).decode(),
        **({"branch": branch} if branch else {}),
        **({"sha": current.json()["sha"]} if current.ok else {}),
    }
    answer = session.put(f"/repos/{repo}/contents/{path}", json=body)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def seed(simulator: Simulator, owner: str = "acme", name: str = "infra") -> SeededRepo:
    """Create the org, teams, collaborators and repository of `SeededRepo`."""
    repo = SeededRepo(simulator, owner, name)
    admin = repo.client()
    _ok(admin.post(f"/orgs/{owner}/repos", json={"name": name, "auto_init": True}))
    repo.commit("main", dict(SEED_FILES), message="Seed the repository")
    for team, members in {"platform": ["pat", "paula"], "security": ["sam"]}.items():
        _ok(admin.post(f"/orgs/{owner}/teams", json={"name": team}))
        for login in members:
            _ok(admin.put(f"/orgs/{owner}/teams/{team}/memberships/{login}", json={}))
        _ok(
            admin.put(
                f"/orgs/{owner}/teams/{team}/repos/{owner}/{name}",
                json={"permission": "push"},
            )
        )
    _ok(
        admin.put(
            f"/repos/{owner}/{name}/collaborators/dev", json={"permission": "push"}
        )
    )
    return repo


def _ok(answer: requests.Response) -> None:
    assert answer.status_code < 400, (
        f"{answer.request.method} {answer.url}: {answer.text}"
    )
