"""Route a webhook delivery to the flow that handles it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from changebot.flows.access import record_access
from changebot.flows.context import Context
from changebot.flows.gate import on_gate_event
from changebot.flows.install import bootstrap, installed_repos
from changebot.flows.merge import record_merge
from changebot.flows.pull import evaluate_pull
from changebot.flows.push import record_push

log = logging.getLogger(__name__)


def route(ctx: Context, event: str, guid: str, payload: Mapping[str, Any]) -> None:
    """Run the flow for ``event``; deliveries no flow wants are logged and dropped."""
    handler = _HANDLERS.get(event)
    if handler is None:
        log.info("no flow for event", extra={"event": event, "delivery": guid})
        return
    handler(ctx, event, guid, payload)


def on_pull_request(
    ctx: Context, event: str, guid: str, payload: Mapping[str, Any]
) -> None:
    """Evaluate a PR that changed, or record one that was merged."""
    repo, number = _pull(payload)
    if payload.get("action") != "closed":
        evaluate_pull(ctx, repo, number)
    elif payload["pull_request"].get("merged"):
        record_merge(ctx, repo, number)


def on_review(ctx: Context, event: str, guid: str, payload: Mapping[str, Any]) -> None:
    """Evaluate a PR again after a review was submitted or dismissed."""
    repo, number = _pull(payload)
    if payload["pull_request"].get("state", "open") == "open":
        evaluate_pull(ctx, repo, number)


def on_push(ctx: Context, event: str, guid: str, payload: Mapping[str, Any]) -> None:
    """Record commits that reached a guarded branch outside a merged PR."""
    record_push(ctx, payload)


def on_access(ctx: Context, event: str, guid: str, payload: Mapping[str, Any]) -> None:
    """Record a change of branch protection or membership."""
    record_access(ctx, event, guid, payload)


def on_installation(
    ctx: Context, event: str, guid: str, payload: Mapping[str, Any]
) -> None:
    """Create the audit branch of each newly covered repository."""
    bootstrap(ctx, installed_repos(event, payload))


def on_comment(ctx: Context, event: str, guid: str, payload: Mapping[str, Any]) -> None:
    """Answer a `/changebot` command (flows.commands)."""
    from changebot.flows.commands import on_comment as answer

    answer(ctx, payload)


def on_deployment(
    ctx: Context, event: str, guid: str, payload: Mapping[str, Any]
) -> None:
    """Record and announce a deployment (flows.deploy)."""
    from changebot.flows.deploy import on_deployment_status

    on_deployment_status(ctx, payload)


def _pull(payload: Mapping[str, Any]) -> tuple[str, int]:
    return str(payload["repository"]["full_name"]), int(
        payload["pull_request"]["number"]
    )


_HANDLERS = {
    "pull_request": on_pull_request,
    "pull_request_review": on_review,
    "push": on_push,
    "branch_protection_rule": on_access,
    "member": on_access,
    "installation": on_installation,
    "installation_repositories": on_installation,
    "issue_comment": on_comment,
    "deployment_status": on_deployment,
    "deployment_protection_rule": on_gate_event,
}
