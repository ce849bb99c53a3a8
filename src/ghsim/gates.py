"""Custom deployment protection rules: a deploy job waits for the App's answer.

A workflow job that targets an environment guarded by the App creates a
deployment and sends `deployment_protection_rule` (action ``requested``); the
App answers at the ``deployment_callback_url`` the payload names. The
simulator has no workflows: `request_gate` plays the job that starts waiting.

See: https://docs.github.com/actions/deployment/protecting-deployments/creating-custom-deployment-protection-rules
See: https://docs.github.com/rest/actions/workflow-runs#review-custom-deployment-protection-rules-for-a-workflow-run
"""

from __future__ import annotations

from ghsim.commits import resolve
from ghsim.deployments import deployment_shape
from ghsim.hub import Hub
from ghsim.routing import ApiError, Call, Reply, invalid, not_found, route
from ghsim.state import Deployment, Gate, GateReview, Repo, now

STATES = ("approved", "rejected")


def request_gate(
    hub: Hub, repo: Repo, environment: str, ref: str, login: str, event: str = "push"
) -> Gate:
    """Start a deploy job that waits on the App, and send the webhook."""
    with hub.world.lock:
        deployment = Deployment(
            hub.world.new_id(),
            resolve(repo, ref),
            ref,
            "deploy",
            environment,
            None,
            {},
            login,
            now(),
            production=environment == "production",
        )
        repo.deployments[deployment.id] = deployment
        gate = Gate(hub.world.new_id(), environment, deployment.id)
        repo.gates[gate.run_id] = gate
    callback = (
        f"{hub.base_url}/repos/{repo.full_name}/actions/runs/{gate.run_id}"
        "/deployment_protection_rule"
    )
    hub.event(
        "deployment_protection_rule",
        {
            "action": "requested",
            "environment": environment,
            "event": event,
            "deployment_callback_url": callback,
            "deployment": deployment_shape(hub, repo, deployment),
            "pull_requests": [],
        },
        repo=repo,
        sender=login,
    )
    return gate


@route(
    "POST", "/repos/<owner>/<name>/actions/runs/<int:run_id>/deployment_protection_rule"
)
def review_gate(call: Call, owner: str, name: str, run_id: int) -> Reply:
    """Take a GitHub App's approval or rejection of a waiting deployment."""
    repo = call.hub.repo(call, owner, name, need="write")
    if call.actor.kind != "installation":
        raise ApiError(403, "Only a GitHub App can review a custom protection rule")
    gate = repo.gates.get(run_id)
    if gate is None:
        raise not_found()
    environment, state, comment = _checked_review(call)
    if environment != gate.environment:
        raise invalid("DeploymentProtectionRule", "environment_name")
    gate.reviews.append(
        GateReview(environment, state, comment, f"{call.hub.app.slug}[bot]", now())
    )
    return Reply(204)


def _checked_review(call: Call) -> tuple[str, str | None, str | None]:
    """Return the environment, state and comment of a review, or answer 422."""
    environment = str(call.need("environment_name"))
    state, comment = call.field("state"), call.field("comment")
    if state is None and comment is None:
        raise invalid("DeploymentProtectionRule", "comment", "missing_field")
    if state is not None and state not in STATES:
        raise invalid("DeploymentProtectionRule", "state")
    return environment, state, comment
