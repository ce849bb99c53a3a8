"""Deployments and their statuses.

See: https://docs.github.com/rest/deployments
"""

from __future__ import annotations

from typing import Any

from ghsim import shapes
from ghsim.commits import resolve
from ghsim.hub import Hub
from ghsim.routing import Call, Reply, invalid, not_found, paginate, route
from ghsim.state import Deployment, DeploymentStatus, Repo, now, stamp

STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
DESCRIPTION_MAX = 140


def deployment_shape(hub: Hub, repo: Repo, deployment: Deployment) -> dict[str, Any]:
    """Return a deployment."""
    api = f"{hub.base_url}/repos/{repo.full_name}/deployments/{deployment.id}"
    return {
        "url": api,
        "id": deployment.id,
        "node_id": shapes.node_id("Deployment", deployment.id),
        "sha": deployment.sha,
        "ref": deployment.ref,
        "task": deployment.task,
        "payload": deployment.payload,
        "original_environment": deployment.environment,
        "environment": deployment.environment,
        "description": deployment.description,
        "creator": hub.user_shape(deployment.creator),
        "created_at": stamp(deployment.created_at),
        "updated_at": stamp(
            deployment.statuses[-1].created_at
            if deployment.statuses
            else deployment.created_at
        ),
        "statuses_url": f"{api}/statuses",
        "repository_url": f"{hub.base_url}/repos/{repo.full_name}",
        "transient_environment": deployment.transient,
        "production_environment": deployment.production,
        "performed_via_github_app": None,
    }


def status_shape(
    hub: Hub, repo: Repo, deployment: Deployment, status: DeploymentStatus
) -> dict[str, Any]:
    """Return a deployment-status."""
    api = f"{hub.base_url}/repos/{repo.full_name}/deployments/{deployment.id}"
    return {
        "url": f"{api}/statuses/{status.id}",
        "id": status.id,
        "node_id": shapes.node_id("DeploymentStatus", status.id),
        "state": status.state,
        "creator": hub.user_shape(status.creator),
        "description": status.description,
        "environment": status.environment,
        "target_url": status.log_url or "",
        "log_url": status.log_url or "",
        "environment_url": status.environment_url or "",
        "created_at": stamp(status.created_at),
        "updated_at": stamp(status.created_at),
        "deployment_url": api,
        "repository_url": f"{hub.base_url}/repos/{repo.full_name}",
        "performed_via_github_app": None,
    }


@route("POST", "/repos/<owner>/<name>/deployments")
def create_deployment(call: Call, owner: str, name: str) -> Reply:
    """Create a deployment of a ref and send `deployment`."""
    repo = call.hub.repo(call, owner, name, need="write")
    ref = str(call.need("ref"))
    deployment = Deployment(
        call.hub.world.new_id(),
        resolve(repo, ref),
        ref,
        call.field("task", "deploy"),
        call.field("environment", "production"),
        call.field("description"),
        call.field("payload", {}),
        call.login,
        now(),
        transient=bool(call.field("transient_environment", False)),
        production=bool(
            call.field(
                "production_environment",
                call.field("environment", "production") == "production",
            )
        ),
    )
    repo.deployments[deployment.id] = deployment
    call.hub.event(
        "deployment",
        {
            "action": "created",
            "deployment": deployment_shape(call.hub, repo, deployment),
            "workflow": None,
            "workflow_run": None,
        },
        repo=repo,
        sender=call.login,
    )
    return Reply(201, deployment_shape(call.hub, repo, deployment))


@route("GET", "/repos/<owner>/<name>/deployments")
def list_deployments(call: Call, owner: str, name: str) -> Reply:
    """List deployments newest first, filtered by sha, ref, task or environment."""
    repo = call.hub.repo(call, owner, name)
    deployments = call.hub.world.snapshot(repo.deployments)
    found = sorted(deployments, key=lambda d: d.id, reverse=True)
    for key in ("sha", "ref", "task", "environment"):
        wanted = call.arg(key)
        if wanted:
            found = [d for d in found if getattr(d, key) == wanted]
    return paginate(call, [deployment_shape(call.hub, repo, d) for d in found])


@route("GET", "/repos/<owner>/<name>/deployments/<int:deployment_id>")
def get_deployment(
    call: Call, owner: str, name: str, deployment_id: int
) -> dict[str, Any]:
    """Return one deployment."""
    repo = call.hub.repo(call, owner, name)
    return deployment_shape(call.hub, repo, _find(repo, deployment_id))


@route("POST", "/repos/<owner>/<name>/deployments/<int:deployment_id>/statuses")
def create_status(call: Call, owner: str, name: str, deployment_id: int) -> Reply:
    """Add a status to a deployment and send `deployment_status`."""
    repo = call.hub.repo(call, owner, name, need="write")
    deployment = _find(repo, deployment_id)
    state, description = _checked_status(call)
    status = DeploymentStatus(
        call.hub.world.new_id(),
        state,
        description,
        call.field("environment") or deployment.environment,
        call.field("log_url") or call.field("target_url"),
        call.field("environment_url"),
        call.login,
        now(),
    )
    deployment.statuses.append(status)
    call.hub.event(
        "deployment_status",
        {
            "action": "created",
            "deployment_status": status_shape(call.hub, repo, deployment, status),
            "deployment": deployment_shape(call.hub, repo, deployment),
            "check_run": None,
            "workflow": None,
            "workflow_run": None,
        },
        repo=repo,
        sender=call.login,
    )
    return Reply(201, status_shape(call.hub, repo, deployment, status))


def _checked_status(call: Call) -> tuple[str, str]:
    """Return the state and description of a new status, or answer 422."""
    state, description = call.need("state"), call.field("description") or ""
    if state not in STATES:
        raise invalid("DeploymentStatus", "state")
    if len(description) > DESCRIPTION_MAX:
        too_long = f"description is too long (maximum is {DESCRIPTION_MAX} characters)"
        raise invalid("DeploymentStatus", "description", "custom", too_long)
    return str(state), str(description)


@route("GET", "/repos/<owner>/<name>/deployments/<int:deployment_id>/statuses")
def list_statuses(call: Call, owner: str, name: str, deployment_id: int) -> Reply:
    """List a deployment's statuses, newest first."""
    repo = call.hub.repo(call, owner, name)
    deployment = _find(repo, deployment_id)
    newest = list(reversed(deployment.statuses))
    return paginate(call, [status_shape(call.hub, repo, deployment, s) for s in newest])


def _find(repo: Repo, deployment_id: int) -> Deployment:
    deployment = repo.deployments.get(deployment_id)
    if deployment is None:
        raise not_found()
    return deployment
