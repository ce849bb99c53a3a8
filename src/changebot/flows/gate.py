"""on_deployment_protection_rule: let a deployment through, or stop it, by policy.

1. Read the waiting deployment (environment, SHA) and the run to answer.
2. Read the policy from the default branch. A policy that cannot be read
   refuses the deployment: GitHub asks changebot only for environments whose
   protection rules name it, so the gate fails closed.
3. Judge the range the deployment would bring (`judge_deployment`).
4. Post the answer and its reason back to GitHub.

See: https://docs.github.com/actions/deployment/protecting-deployments/creating-custom-deployment-protection-rules
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from changebot.deploy.ancestry import ForgeAncestry
from changebot.deploy.gate import GatePolicy
from changebot.errors import ConfigError, NotifyError, WebhookError
from changebot.flows.context import Context
from changebot.flows.deploy import (
    DeploymentRequest,
    judge_deployment,
    repository_notifier,
)
from changebot.policy.config import Config
from changebot.ports import Notice, Notifier
from changebot.render import render

log = logging.getLogger(__name__)

_RUN = re.compile(r"/actions/runs/(\d+)/deployment_protection_rule/?$")


@dataclass(frozen=True)
class GateAnswer:
    """What changebot answered a deployment protection rule."""

    run_id: int
    environment: str
    approved: bool
    reason: str


def on_deployment_protection_rule(
    ctx: Context, payload: Mapping[str, Any]
) -> GateAnswer:
    """Approve or reject a deployment waiting on changebot, and say why."""
    # 1. the deployment and the run that waits for it
    request, run_id = gate_request(payload)

    # 2-3. the policy of the default branch, and the verdict on the range
    branch = ctx.forge.default_branch(request.repo)
    config: Config | None = None
    try:
        config = ctx.policy(request.repo, branch)
    except ConfigError as err:
        approved = False
        reason = render(
            "deploy/gate_config.md", request=request, branch=branch, error=err
        )
    else:
        approved, reason = _judge(ctx, request, config)

    # 4. the answer, and a notice when the deployment is stopped
    answer = GateAnswer(run_id, request.environment, approved, reason.strip())
    ctx.forge.review_deployment_gate(
        request.repo, run_id, request.environment, approved, answer.reason
    )
    log.info(
        "deployment gate answered",
        extra={
            "repo": request.repo,
            "environment": request.environment,
            "run": run_id,
            "approved": approved,
        },
    )
    if not approved:
        notifier = repository_notifier(ctx, config) if config else ctx.notifier
        _notify_refusal(notifier, request, answer)
    return answer


def _judge(
    ctx: Context, request: DeploymentRequest, config: Config
) -> tuple[bool, str]:
    """Judge the range by the environment's gate policy; return the verdict and why."""
    decision, reason = judge_deployment(
        request,
        audit=ctx.audit(request.repo, config),
        ancestry=ForgeAncestry(ctx.forge, request.repo),
        policy=GatePolicy.for_environment(config.environment(request.environment)),
        forge=ctx.forge,
    )
    return decision.approved, reason


def _notify_refusal(
    notifier: Notifier, request: DeploymentRequest, answer: GateAnswer
) -> None:
    """Tell people a deployment was stopped; a lost notice never undoes the answer."""
    notice = Notice(
        kind="refusal",
        key=f"gate:{request.repo}:{request.environment}:{answer.run_id}",
        repo=request.repo,
        title=render("deploy/gate_notice_title.txt", request=request).strip(),
        text=answer.reason,
        environment=request.environment,
    )
    try:
        notifier.send(notice)
    except NotifyError as err:
        log.warning(
            "deployment refusal notice not delivered: %s",
            err,
            extra={"repo": request.repo, "environment": request.environment},
        )


def gate_request(payload: Mapping[str, Any]) -> tuple[DeploymentRequest, int]:
    """Read a `deployment_protection_rule` webhook: the deployment and its run id."""
    deployment = payload.get("deployment")
    callback = str(payload.get("deployment_callback_url") or "")
    found = _RUN.search(callback)
    if not isinstance(deployment, Mapping) or found is None:
        raise WebhookError(
            "deployment_protection_rule without a deployment or a callback URL",
            hint="nothing to answer; GitHub times the rule out after 30 days",
        )
    repository = payload["repository"]
    request = DeploymentRequest(
        repo=str(repository["full_name"]),
        environment=str(payload.get("environment") or deployment["environment"]),
        sha=str(deployment["sha"]),
        deployer=(payload.get("sender") or {}).get("login"),
        deployment_id=int(deployment["id"]),
        state="pending",
        web_url=repository.get("html_url"),
        comment_pulls=False,
    )
    return request, int(found.group(1))


def on_gate_event(
    ctx: Context, event: str, guid: str, payload: Mapping[str, Any]
) -> None:
    """Answer a `deployment_protection_rule` delivery (the router's handler)."""
    on_deployment_protection_rule(ctx, payload)
