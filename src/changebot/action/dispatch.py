"""Which tasks a step runs, from its event and its `mode` input.

The table mirrors the App's router (`changebot.flows.router`): the same
event goes to the same flow, whether a webhook or a workflow brought it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from changebot.action.inputs import Mode
from changebot.errors import UsageError
from changebot.render import render

log = logging.getLogger(__name__)

Task = Literal["evaluate", "record", "commands", "deploy", "reconcile", "verify"]

PULL_EVENTS = frozenset({"pull_request", "pull_request_target"})
#: Events a `mode: auto` step knows what to do with.
KNOWN_EVENTS = PULL_EVENTS | {
    "pull_request_review",
    "issue_comment",
    "push",
    "deployment_status",
    "schedule",
    "workflow_dispatch",
}


@dataclass(frozen=True)
class Plan:
    """The tasks of one step, or why there is nothing to do."""

    tasks: tuple[Task, ...] = ()
    skipped: str | None = None


def plan(event: str, payload: Mapping[str, Any], mode: Mode) -> Plan:
    """Return what a step does for ``event``: ``mode`` may force one task."""
    if mode == "auto":
        return _auto(event, payload)
    if mode == "reconcile":
        return Plan(("reconcile",))
    return Plan((mode,))


def _auto(event: str, payload: Mapping[str, Any]) -> Plan:
    if event in PULL_EVENTS:
        return _pull_event(payload)
    if event == "pull_request_review":
        state = (payload.get("pull_request") or {}).get("state", "open")
        return Plan(("evaluate",)) if state == "open" else _skip("closed", event)
    if event == "issue_comment":
        return Plan(("commands",))
    if event == "push":
        return Plan(("record",))
    if event == "deployment_status":
        return Plan(("deploy",))
    if event in ("schedule", "workflow_dispatch"):
        return Plan(("reconcile", "verify"))
    raise UsageError(
        f"changebot does not know what to do on `{event}` events",
        hint="trigger it on the events docs/action.md lists, or set `mode:`",
    )


def _pull_event(payload: Mapping[str, Any]) -> Plan:
    if payload.get("action") != "closed":
        return Plan(("evaluate",))
    if (payload.get("pull_request") or {}).get("merged"):
        return Plan(("record",))
    return _skip("closed-unmerged", "pull_request")


def _skip(why: str, event: str) -> Plan:
    return Plan(skipped=render("action/skipped.txt", why=why, event=event).strip())


def pull_number(event: str, payload: Mapping[str, Any]) -> int:
    """Return the number of the PR an event is about; UsageError if none."""
    pull = payload.get("pull_request") or {}
    issue = payload.get("issue") or {}
    if "number" in pull:
        return int(pull["number"])
    if issue.get("pull_request") and "number" in issue:
        return int(issue["number"])
    raise UsageError(
        f"a `{event}` event is about no pull request, so there is nothing to judge",
        hint="run `mode: evaluate` on pull_request_target or pull_request_review",
    )
