"""Which webhook events changebot acts on, and what a delivery is about.

Pure functions over the payload: the intake asks `wanted` before queueing,
the worker asks `subject` for the lock that keeps one PR's jobs in order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Event -> the actions changebot handles (None: every action).
HANDLED: dict[str, frozenset[str] | None] = {
    "pull_request": frozenset(
        {
            "opened",
            "synchronize",
            "edited",
            "reopened",
            "ready_for_review",
            "labeled",
            "unlabeled",
            "closed",
        }
    ),
    "pull_request_review": frozenset({"submitted", "dismissed", "edited"}),
    "issue_comment": frozenset({"created"}),
    "push": None,
    "deployment_status": frozenset({"created"}),
    "deployment_protection_rule": frozenset({"requested"}),
    "branch_protection_rule": None,
    "member": None,
    "installation": frozenset({"created", "new_permissions_accepted"}),
    "installation_repositories": frozenset({"added"}),
}


def handled_event(event: str) -> bool:
    """Tell whether changebot handles some action of ``event``."""
    return event in HANDLED


def wanted(event: str, payload: Mapping[str, Any]) -> bool:
    """Tell whether a delivery of ``event`` with ``payload`` is worth a job."""
    actions = HANDLED.get(event, frozenset())
    if not _names_its_subject(event, payload):
        return False
    if actions is None:
        return True
    return str(payload.get("action", "")) in actions


#: Event -> the objects a delivery must carry for its flow to run at all.
REQUIRED = {
    "pull_request": ("repository", "pull_request"),
    "pull_request_review": ("repository", "pull_request"),
    "issue_comment": ("repository", "issue", "comment"),
    "push": ("repository",),
    "deployment_protection_rule": ("repository", "deployment"),
}


def _names_its_subject(event: str, payload: Mapping[str, Any]) -> bool:
    # NOTE: a signed but truncated payload would only fail every retry.
    needs = REQUIRED.get(event, ())
    if any(not isinstance(payload.get(k), Mapping) for k in needs):
        return False
    if needs and repo_of(payload) is None:
        return False
    if event.startswith("pull_request") and "number" not in payload["pull_request"]:
        return False
    return event != "push" or isinstance(payload.get("ref"), str)


def repo_of(payload: Mapping[str, Any]) -> str | None:
    """Return the `owner/name` a delivery concerns, when it names one."""
    repository = payload.get("repository")
    if isinstance(repository, Mapping):
        name = repository.get("full_name")
        return str(name) if name else None
    return None


def subject(event: str, payload: Mapping[str, Any]) -> str:
    """Return what a delivery is about: jobs with one subject run one at a time."""
    repo = repo_of(payload) or "-"
    number = _pull_number(event, payload)
    if number is not None:
        return f"{repo}#{number}"
    return repo


def _pull_number(event: str, payload: Mapping[str, Any]) -> int | None:
    if event in ("pull_request", "pull_request_review"):
        pull = payload.get("pull_request") or {}
        return int(pull["number"]) if "number" in pull else None
    if event == "issue_comment":
        issue = payload.get("issue") or {}
        if issue.get("pull_request") and "number" in issue:
            return int(issue["number"])
    return None
