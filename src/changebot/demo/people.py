"""The demo's people, doing on the simulated GitHub what people do on GitHub.

Each call is a real REST call, as that person, to the simulator; GitHub's
answers to it (webhooks) are what the App sees.
"""

from __future__ import annotations

import logging
from typing import Any

import requests

from changebot.errors import DemoError

log = logging.getLogger(__name__)


class Person:
    """Someone with a login on the simulated GitHub, acting on one repository."""

    def __init__(self, session: requests.Session, login: str, repo: str) -> None:
        self.session = session
        self.login = login
        self.repo = repo

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the API as this person; a refusal stops the step."""
        answer = self.session.request(method, path, **kwargs)
        if answer.status_code >= 400:
            raise DemoError(
                f"GitHub refused {method} {path} by {self.login}: "
                f"{answer.status_code} {answer.text[:300]}"
            )
        return answer.json() if answer.content else None

    def api(self, method: str, tail: str, **kwargs: Any) -> Any:
        """Call an endpoint of the repository, e.g. ``api("GET", "pulls/1")``."""
        return self.call(method, f"/repos/{self.repo}/{tail}", **kwargs)

    # --- git ------------------------------------------------------------------

    def head(self, branch: str) -> str | None:
        """Return the commit ``branch`` points at, or None when it does not exist."""
        answer = self.session.get(f"/repos/{self.repo}/git/ref/heads/{branch}")
        return str(answer.json()["object"]["sha"]) if answer.ok else None

    def push(self, branch: str, files: dict[str, str], message: str) -> str:
        """Commit ``files`` on ``branch`` (made from main when new) and push it."""
        current = self.head(branch)
        parent = current or self.head("main")
        tree = self._tree(str(parent), files)
        commit = self.api(
            "POST",
            "git/commits",
            json={"message": message, "tree": tree, "parents": [parent]},
        )
        sha = str(commit["sha"])
        if current is None:
            self.api(
                "POST", "git/refs", json={"ref": f"refs/heads/{branch}", "sha": sha}
            )
        else:
            self.api("PATCH", f"git/refs/heads/{branch}", json={"sha": sha})
        return sha

    def _tree(self, parent: str, files: dict[str, str]) -> str:
        base = self.api("GET", f"git/commits/{parent}")["tree"]["sha"]
        entries = [
            {"path": path, "mode": "100644", "type": "blob", "content": text}
            for path, text in files.items()
        ]
        tree = self.api("POST", "git/trees", json={"base_tree": base, "tree": entries})
        return str(tree["sha"])

    # --- pull requests --------------------------------------------------------

    def open_pull(
        self, branch: str, files: dict[str, str], title: str, body: str = ""
    ) -> int:
        """Push ``files`` to a new branch and open a PR from it."""
        self.push(branch, files, title)
        pull = self.api(
            "POST",
            "pulls",
            json={"title": title, "body": body, "head": branch, "base": "main"},
        )
        return int(pull["number"])

    def edit_body(self, number: int, body: str) -> None:
        """Rewrite a PR's description."""
        self.api("PATCH", f"pulls/{number}", json={"body": body})

    def approve(self, number: int) -> None:
        """Approve a PR as it is now."""
        self.api("POST", f"pulls/{number}/reviews", json={"event": "APPROVE"})

    def comment(self, number: int, body: str) -> int:
        """Comment on a PR; return the comment's id."""
        posted = self.api("POST", f"issues/{number}/comments", json={"body": body})
        return int(posted["id"])

    def merge(self, number: int, method: str = "squash") -> str:
        """Merge a PR; return the commit it made on main."""
        merged = self.api("PUT", f"pulls/{number}/merge", json={"merge_method": method})
        return str(merged["sha"])

    # --- deployments ----------------------------------------------------------

    def deploy(self, sha: str, environment: str, description: str) -> int:
        """Create a deployment of ``sha`` and report it successful; return its id."""
        deployment = self.api(
            "POST",
            "deployments",
            json={
                "ref": sha,
                "environment": environment,
                "description": description,
                "auto_merge": False,
                "required_contexts": [],
            },
        )
        number = int(deployment["id"])
        self.api(
            "POST",
            f"deployments/{number}/statuses",
            json={"state": "success", "environment": environment},
        )
        return number
