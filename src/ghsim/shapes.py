"""Accounts and repositories as GitHub's REST API and webhooks show them."""

from __future__ import annotations

import base64
from typing import Any

from ghsim.state import Account, Repo, World, stamp


def node_id(kind: str, ident: int) -> str:
    """Return a stable global node id for an object."""
    return base64.b64encode(f"0{len(kind)}:{kind}{ident}".encode()).decode()


def user(base: str, account: Account) -> dict[str, Any]:
    """Return a simple-user."""
    api = f"{base}/users/{account.login}"
    return {
        "login": account.login,
        "id": account.id,
        "node_id": node_id(account.type, account.id),
        "avatar_url": f"{base}/avatars/{account.login}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{base}/{account.login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": account.type,
        "site_admin": False,
    }


def user_of(base: str, world: World, login: str | None) -> dict[str, Any] | None:
    """Return the simple-user for ``login`` (None stays None)."""
    return user(base, world.account(login)) if login else None


def full_user(base: str, account: Account) -> dict[str, Any]:
    """Return a public-user, as `GET /user` and `GET /users/{u}` show it."""
    return user(base, account) | {
        "name": account.login,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": stamp(account.created_at),
        "updated_at": stamp(account.created_at),
    }


def organization(base: str, org: Account, full: bool = False) -> dict[str, Any]:
    """Return an organization-simple (or, with ``full``, a team-organization)."""
    api = f"{base}/orgs/{org.login}"
    shaped: dict[str, Any] = {
        "login": org.login,
        "id": org.id,
        "node_id": node_id("Organization", org.id),
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": f"{base}/avatars/{org.login}",
        "description": None,
    }
    if full:
        shaped |= {
            "html_url": f"{base}/{org.login}",
            "has_organization_projects": False,
            "has_repository_projects": False,
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "type": "Organization",
            "created_at": stamp(org.created_at),
            "updated_at": stamp(org.created_at),
            "archived_at": None,
        }
    return shaped


_REPO_TEMPLATES = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def repository(
    base: str, world: World, repo: Repo, viewer: str | None = None
) -> dict[str, Any]:
    """Return a full-repository, with `permissions` when a viewer is known."""
    api = f"{base}/repos/{repo.full_name}"
    owner = world.account(repo.owner)
    open_count = sum(1 for p in world.snapshot(repo.pulls) if p.state == "open")
    shaped: dict[str, Any] = {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": user(base, owner),
        "html_url": f"{base}/{repo.full_name}",
        "description": repo.description,
        "fork": False,
        "url": api,
        **{key: api + tail for key, tail in _REPO_TEMPLATES.items()},
        "git_url": f"git://sim/{repo.full_name}.git",
        "ssh_url": f"git@sim:{repo.full_name}.git",
        "clone_url": f"{base}/{repo.full_name}.git",
        "svn_url": f"{base}/{repo.full_name}",
        "mirror_url": None,
        "homepage": None,
        "language": None,
        "forks": 0,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "size": 0,
        "default_branch": repo.default_branch,
        "open_issues": open_count,
        "open_issues_count": open_count,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": True,
        "has_wiki": True,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "visibility": "private" if repo.private else "public",
        "pushed_at": stamp(repo.pushed_at or repo.created_at),
        "created_at": stamp(repo.created_at),
        "updated_at": stamp(repo.pushed_at or repo.created_at),
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "license": None,
        "network_count": 0,
        "subscribers_count": 0,
    }
    if viewer:
        shaped["permissions"] = permissions(world.permission(repo, viewer))
    return shaped


def permissions(level: str) -> dict[str, bool]:
    """Return the `permissions` object of a repository for one permission level."""
    order = ["read", "triage", "write", "maintain", "admin"]
    have = order.index(level) if level in order else -1
    names = ["pull", "triage", "push", "maintain", "admin"]
    return {name: have >= i for i, name in enumerate(names)}
