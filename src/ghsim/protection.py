"""Branch protection: enough to set it, read it, and send `branch_protection_rule`.

See: https://docs.github.com/rest/branches/branch-protection
"""

from __future__ import annotations

from typing import Any

from ghsim import shapes
from ghsim.hub import Hub
from ghsim.routing import Call, Reply, not_found, route
from ghsim.state import Repo, now, stamp


def rule_shape(
    hub: Hub, repo: Repo, branch: str, body: dict[str, Any], ident: int
) -> dict[str, Any]:
    """Return a branch protection rule as the webhook shows it."""
    reviews = body.get("required_pull_request_reviews") or {}
    checks = body.get("required_status_checks") or {}
    level = "non_admins" if body.get("enforce_admins") is False else "everyone"
    when = stamp(now())
    return {
        "id": ident,
        "repository_id": repo.id,
        "name": branch,
        "created_at": when,
        "updated_at": when,
        "pull_request_reviews_enforcement_level": level if reviews else "off",
        "required_approving_review_count": int(
            reviews.get("required_approving_review_count", 0)
        ),
        "dismiss_stale_reviews_on_push": bool(
            reviews.get("dismiss_stale_reviews", False)
        ),
        "require_code_owner_review": bool(
            reviews.get("require_code_owner_reviews", False)
        ),
        "authorized_dismissal_actors_only": False,
        "ignore_approvals_from_contributors": False,
        "require_last_push_approval": bool(
            reviews.get("require_last_push_approval", False)
        ),
        "required_status_checks": list(checks.get("contexts") or []),
        "required_status_checks_enforcement_level": level if checks else "off",
        "strict_required_status_checks_policy": bool(checks.get("strict", False)),
        "signature_requirement_enforcement_level": "off",
        "linear_history_requirement_enforcement_level": "everyone"
        if body.get("required_linear_history")
        else "off",
        "admin_enforced": bool(body.get("enforce_admins", False)),
        "allow_force_pushes_enforcement_level": "off"
        if not body.get("allow_force_pushes")
        else "everyone",
        "allow_deletions_enforcement_level": "off"
        if not body.get("allow_deletions")
        else "everyone",
        "merge_queue_enforcement_level": "off",
        "required_deployments_enforcement_level": "off",
        "required_conversation_resolution_level": "off",
        "authorized_actors_only": False,
        "authorized_actor_names": [],
        "lock_branch_enforcement_level": "off",
        "lock_allows_fork_sync": False,
        "create_protected": False,
    }


@route("PUT", "/repos/<owner>/<name>/branches/<path:branch>/protection")
def protect(call: Call, owner: str, name: str, branch: str) -> dict[str, Any]:
    """Protect a branch and send `branch_protection_rule` created or edited."""
    repo = call.hub.repo(call, owner, name, need="admin")
    if repo.git.resolve(f"refs/heads/{branch}") is None:
        raise not_found()
    action = "edited" if branch in repo.protections else "created"
    ident = repo.protections.get(branch, {}).get("id") or call.hub.world.new_id()
    rule = rule_shape(call.hub, repo, branch, dict(call.body or {}), ident)
    repo.protections[branch] = rule
    call.hub.event(
        "branch_protection_rule",
        {"action": action, "rule": rule},
        repo=repo,
        sender=call.login,
    )
    api = f"{call.hub.base_url}/repos/{repo.full_name}"
    return {
        "url": f"{api}/branches/{branch}/protection",
        "enabled": True,
        "node_id": shapes.node_id("BranchProtectionRule", ident),
    }


@route("DELETE", "/repos/<owner>/<name>/branches/<path:branch>/protection")
def unprotect(call: Call, owner: str, name: str, branch: str) -> Reply:
    """Remove a branch's protection and send `branch_protection_rule` deleted."""
    repo = call.hub.repo(call, owner, name, need="admin")
    rule = repo.protections.pop(branch, None)
    if rule is None:
        raise not_found()
    call.hub.event(
        "branch_protection_rule",
        {"action": "deleted", "rule": rule},
        repo=repo,
        sender=call.login,
    )
    return Reply(204)
