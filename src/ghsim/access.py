"""Who may do what: collaborators, organization members and teams.

See: https://docs.github.com/rest/collaborators and https://docs.github.com/rest/teams
"""

from __future__ import annotations

import re
from typing import Any

from ghsim import shapes
from ghsim.hub import Hub
from ghsim.routing import ApiError, Call, Reply, not_found, paginate, route
from ghsim.state import PERMISSIONS, Account, Team, now

ROLE_OF = {
    "pull": "read",
    "push": "write",
    "triage": "triage",
    "maintain": "maintain",
    "admin": "admin",
    "read": "read",
    "write": "write",
}


# --- collaborators ------------------------------------------------------------


@route("PUT", "/repos/<owner>/<name>/collaborators/<login>")
def add_collaborator(call: Call, owner: str, name: str, login: str) -> Reply:
    """Give a user a permission on a repository (no invitation step)."""
    repo = call.hub.repo(call, owner, name, need="admin")
    permission = ROLE_OF.get(call.field("permission", "push"))
    if permission is None:
        raise ApiError(
            422,
            "Validation Failed",
            [{"resource": "Repository", "field": "permission", "code": "invalid"}],
        )
    call.hub.account(login)
    repo.collaborators[login.lower()] = permission
    call.hub.event(
        "member",
        {
            "action": "added",
            "member": call.hub.user_shape(login),
            "changes": {"permission": {"to": permission}},
        },
        repo=repo,
        sender=call.login,
    )
    return Reply(204)


@route("DELETE", "/repos/<owner>/<name>/collaborators/<login>")
def remove_collaborator(call: Call, owner: str, name: str, login: str) -> Reply:
    """Take a user's direct permission away."""
    repo = call.hub.repo(call, owner, name, need="admin")
    if repo.collaborators.pop(login.lower(), None) is not None:
        call.hub.event(
            "member",
            {"action": "removed", "member": call.hub.user_shape(login)},
            repo=repo,
            sender=call.login,
        )
    return Reply(204)


@route("GET", "/repos/<owner>/<name>/collaborators/<login>/permission")
def collaborator_permission(
    call: Call, owner: str, name: str, login: str
) -> dict[str, Any]:
    """Return a user's effective permission on a repository."""
    repo = call.hub.repo(call, owner, name)
    account = call.hub.world.find_account(login)
    if account is None:
        raise not_found()
    permission = call.hub.world.permission(repo, login)
    legacy = {"maintain": "write", "triage": "read"}.get(permission, permission)
    return {
        "permission": legacy,
        "role_name": permission,
        "user": shapes.user(call.hub.base_url, account)
        | {"permissions": shapes.permissions(permission), "role_name": permission},
    }


@route("GET", "/repos/<owner>/<name>/collaborators")
def list_collaborators(call: Call, owner: str, name: str) -> Reply:
    """List a repository's direct collaborators."""
    repo = call.hub.repo(call, owner, name)
    found = [call.hub.world.account(login) for login in sorted(repo.collaborators)]
    return paginate(
        call,
        [
            shapes.user(call.hub.base_url, a)
            | {
                "permissions": shapes.permissions(repo.collaborators[a.login.lower()]),
                "role_name": repo.collaborators[a.login.lower()],
            }
            for a in found
        ],
    )


# --- organizations --------------------------------------------------------------


def _org(call: Call, org: str, admin: bool = False) -> Account:
    account = call.hub.world.find_account(org)
    if account is None or account.type != "Organization":
        raise not_found()
    if admin and account.members.get(call.login.lower()) != "admin":
        raise ApiError(403, "You must be an admin of the organization.")
    return account


@route("PUT", "/orgs/<org>/memberships/<login>")
def set_org_membership(call: Call, org: str, login: str) -> dict[str, Any]:
    """Make a user a member (or admin) of an organization, at once."""
    account = _org(call, org, admin=True)
    role = call.field("role", "member")
    call.hub.account(login)
    account.members[login.lower()] = role
    return _org_membership(call.hub, account, login, role)


@route("GET", "/orgs/<org>/memberships/<login>")
def get_org_membership(call: Call, org: str, login: str) -> dict[str, Any]:
    """Return a user's membership of an organization."""
    account = _org(call, org)
    role = account.members.get(login.lower())
    if role is None:
        raise not_found()
    return _org_membership(call.hub, account, login, role)


def _org_membership(hub: Hub, org: Account, login: str, role: str) -> dict[str, Any]:
    return {
        "url": f"{hub.base_url}/orgs/{org.login}/memberships/{login}",
        "state": "active",
        "role": role,
        "organization_url": f"{hub.base_url}/orgs/{org.login}",
        "organization": shapes.organization(hub.base_url, org),
        "user": hub.user_shape(login),
    }


@route("GET", "/orgs/<org>/members")
def list_org_members(call: Call, org: str) -> Reply:
    """List an organization's members."""
    account = _org(call, org)
    return paginate(call, [call.hub.user_shape(m) for m in sorted(account.members)])


@route("GET", "/orgs/<org>/members/<login>")
def check_org_member(call: Call, org: str, login: str) -> Reply:
    """Answer 204 for a member, 404 otherwise."""
    if login.lower() not in _org(call, org).members:
        raise not_found()
    return Reply(204)


# --- teams ----------------------------------------------------------------------


def team_shape(hub: Hub, team: Team) -> dict[str, Any]:
    """Return a team."""
    api = f"{hub.base_url}/orgs/{team.org}/teams/{team.slug}"
    return {
        "id": team.id,
        "node_id": shapes.node_id("Team", team.id),
        "url": api,
        "html_url": f"{hub.base_url}/orgs/{team.org}/teams/{team.slug}",
        "name": team.name,
        "slug": team.slug,
        "description": team.description,
        "privacy": team.privacy,
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": f"{api}/members{{/member}}",
        "repositories_url": f"{api}/repos",
        "parent": None,
        "type": "organization",
    }


def _team(call: Call, org: str, slug: str) -> Team:
    _org(call, org)
    team = call.hub.world.teams.get((org.lower(), slug.lower()))
    if team is None:
        raise not_found()
    return team


@route("POST", "/orgs/<org>/teams")
def create_team(call: Call, org: str) -> Reply:
    """Create a team; its creator becomes a maintainer, as on GitHub."""
    _org(call, org, admin=True)
    name = str(call.need("name"))
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-")
    key = (org.lower(), slug)
    if key in call.hub.world.teams:
        raise ApiError(
            422,
            "Validation Failed",
            [
                {
                    "resource": "Team",
                    "code": "custom",
                    "field": "name",
                    "message": "Name must be unique for this org",
                }
            ],
        )
    team = Team(
        call.hub.world.new_id(),
        org,
        slug,
        name,
        call.field("description"),
        call.field("privacy", "closed"),
    )
    for login in call.field("maintainers", []) or []:
        team.members[login.lower()] = "maintainer"
    call.hub.world.teams[key] = team
    return Reply(
        201,
        team_shape(call.hub, team)
        | {
            "members_count": len(team.members),
            "repos_count": len(team.repos),
            "created_at": now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updated_at": now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "organization": shapes.organization(
                call.hub.base_url, _org(call, org), full=True
            ),
        },
    )


@route("GET", "/orgs/<org>/teams/<slug>")
def get_team(call: Call, org: str, slug: str) -> dict[str, Any]:
    """Return a team."""
    return team_shape(call.hub, _team(call, org, slug))


@route("GET", "/orgs/<org>/teams")
def list_teams(call: Call, org: str) -> Reply:
    """List an organization's teams."""
    _org(call, org)
    teams = [
        t for (o, _), t in sorted(call.hub.world.teams.items()) if o == org.lower()
    ]
    return paginate(call, [team_shape(call.hub, t) for t in teams])


@route("PUT", "/orgs/<org>/teams/<slug>/memberships/<login>")
def set_team_membership(call: Call, org: str, slug: str, login: str) -> dict[str, Any]:
    """Add a user to a team (member or maintainer)."""
    team = _team(call, org, slug)
    _org(call, org, admin=True)
    role = call.field("role", "member")
    call.hub.account(login)
    team.members[login.lower()] = role
    _org(call, org).members.setdefault(login.lower(), "member")
    return _team_membership(call.hub, team, role)


@route("DELETE", "/orgs/<org>/teams/<slug>/memberships/<login>")
def remove_team_membership(call: Call, org: str, slug: str, login: str) -> Reply:
    """Remove a user from a team."""
    team = _team(call, org, slug)
    _org(call, org, admin=True)
    team.members.pop(login.lower(), None)
    return Reply(204)


@route("GET", "/orgs/<org>/teams/<slug>/memberships/<login>")
def get_team_membership(call: Call, org: str, slug: str, login: str) -> dict[str, Any]:
    """Return a user's team membership, or 404."""
    team = _team(call, org, slug)
    role = team.members.get(login.lower())
    if role is None:
        raise not_found()
    return _team_membership(call.hub, team, role)


def _team_membership(hub: Hub, team: Team, role: str) -> dict[str, Any]:
    url = f"{hub.base_url}/orgs/{team.org}/teams/{team.slug}/memberships"
    return {"url": url, "role": role, "state": "active"}


@route("GET", "/orgs/<org>/teams/<slug>/members")
def list_team_members(call: Call, org: str, slug: str) -> Reply:
    """List a team's members, filtered by `role`."""
    team = _team(call, org, slug)
    role = call.arg("role", "all")
    logins = [m for m, r in sorted(team.members.items()) if role == "all" or r == role]
    return paginate(call, [call.hub.user_shape(m) for m in logins])


@route("PUT", "/orgs/<org>/teams/<slug>/repos/<owner>/<name>")
def set_team_repo(call: Call, org: str, slug: str, owner: str, name: str) -> Reply:
    """Give a team a permission on a repository."""
    team = _team(call, org, slug)
    repo = call.hub.repo(call, owner, name, need="admin")
    permission = ROLE_OF.get(call.field("permission", "push"), "none")
    if permission not in PERMISSIONS:
        raise ApiError(422, "Validation Failed")
    team.repos[repo.full_name.lower()] = permission
    return Reply(204)
