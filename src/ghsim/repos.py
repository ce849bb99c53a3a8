"""Accounts, repositories and the contents API."""

from __future__ import annotations

import base64
import re
from typing import Any

from ghsim import shapes
from ghsim.commits import git_commit_shape, person
from ghsim.hub import Hub
from ghsim.pushes import move_ref
from ghsim.routing import ApiError, Call, Reply, not_found, route
from ghsim.state import Repo

_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


# --- accounts -----------------------------------------------------------------


@route("GET", "/user")
def authenticated_user(call: Call) -> dict[str, Any]:
    """Return the user a user token acts as."""
    if call.actor.kind != "user":
        raise ApiError(403, "Resource not accessible by integration")
    return shapes.full_user(call.hub.base_url, call.hub.account(call.login))


@route("GET", "/users/<login>")
def get_user(call: Call, login: str) -> dict[str, Any]:
    """Return a user or organization account."""
    account = call.hub.world.find_account(login)
    if account is None:
        raise not_found()
    return shapes.full_user(call.hub.base_url, account)


@route("GET", "/orgs/<org>")
def get_org(call: Call, org: str) -> dict[str, Any]:
    """Return an organization."""
    account = call.hub.world.find_account(org)
    if account is None or account.type != "Organization":
        raise not_found()
    return shapes.organization(call.hub.base_url, account)


def ensure_org(hub: Hub, org: str, login: str) -> None:
    """Bring an org into being with ``login`` as admin, or check membership."""
    with hub.world.lock:
        known = hub.world.find_account(org)
        if known is not None and known.type != "Organization":
            raise not_found()
    account = hub.account(org, "Organization")
    if known is None:
        account.members[login.lower()] = "admin"
    elif login.lower() not in account.members:
        raise ApiError(
            403, "You need admin access to the organization to create repositories."
        )


# --- repositories -------------------------------------------------------------


@route("POST", "/user/repos")
def create_user_repo(call: Call) -> Reply:
    """Create a repository for the authenticated user."""
    if call.actor.kind != "user":
        raise ApiError(403, "Resource not accessible by integration")
    call.hub.install(call.hub.account(call.login))
    return Reply(201, call.hub.repo_shape(_create_repo(call, call.login), call.actor))


@route("POST", "/orgs/<org>/repos")
def create_org_repo(call: Call, org: str) -> Reply:
    """Create a repository in an organization (which comes into being if new)."""
    if call.actor.kind != "user":
        raise ApiError(403, "Resource not accessible by integration")
    call.hub.account(call.login)
    ensure_org(call.hub, org, call.login)
    return Reply(201, call.hub.repo_shape(_create_repo(call, org), call.actor))


def _create_repo(call: Call, owner: str) -> Repo:
    name = str(call.need("name"))
    if not _NAME.match(name):
        raise ApiError(
            422,
            "Repository creation failed.",
            [{"resource": "Repository", "field": "name", "code": "invalid"}],
        )
    with call.hub.world.lock:
        if call.hub.world.repo(owner, name) is not None:
            raise ApiError(
                422,
                "Repository creation failed.",
                [
                    {
                        "resource": "Repository",
                        "code": "custom",
                        "field": "name",
                        "message": "name already exists on this account",
                    }
                ],
            )
        repo = call.hub.world.add_repo(
            owner,
            name,
            bool(call.field("private", False)),
            call.field("description"),
            "main",
        )
    _announce(call.hub, repo, call.login)
    if call.field("auto_init", False):
        readme = f"# {name}\n".encode()
        commit_files(
            call.hub,
            repo,
            repo.default_branch,
            {"README.md": readme},
            "Initial commit",
            call.login,
        )
    return repo


def _announce(hub: Hub, repo: Repo, sender: str) -> None:
    """Tell the App that the installation now covers one more repository."""
    installation = hub.installation_for(repo.owner)
    added = {
        "id": repo.id,
        "node_id": shapes.node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
    }
    hub.event(
        "installation_repositories",
        {
            "action": "added",
            "installation": hub.installation_shape(installation),
            "repository_selection": "all",
            "repositories_added": [added],
            "repositories_removed": [],
            "requester": None,
            "sender": hub.user_shape(sender),
        },
    )


@route("GET", "/repos/<owner>/<name>")
def get_repo(call: Call, owner: str, name: str) -> dict[str, Any]:
    """Return a repository with the caller's permissions and its organization."""
    repo = call.hub.repo(call, owner, name)
    shaped = call.hub.repo_shape(repo, call.actor)
    account = call.hub.world.account(repo.owner)
    if account.type == "Organization":
        shaped["organization"] = shapes.user(call.hub.base_url, account)
    return shaped


@route("PATCH", "/repos/<owner>/<name>")
def update_repo(call: Call, owner: str, name: str) -> dict[str, Any]:
    """Change a repository's description, visibility or default branch."""
    repo = call.hub.repo(call, owner, name, need="admin")
    branch = call.field("default_branch")
    if branch:
        if repo.git.resolve(f"refs/heads/{branch}") is None:
            raise ApiError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "Repository",
                        "field": "default_branch",
                        "code": "invalid",
                    }
                ],
            )
        repo.git.set_head_branch(branch)
        repo.default_branch = branch
    repo.description = call.field("description", repo.description)
    repo.private = bool(call.field("private", repo.private))
    return call.hub.repo_shape(repo, call.actor)


# --- contents -----------------------------------------------------------------


def commit_files(
    hub: Hub,
    repo: Repo,
    branch: str,
    files: dict[str, bytes | None],
    message: str,
    login: str,
) -> str:
    """Commit ``files`` (None deletes) on top of ``branch`` and push it.

    The first commit of a repository (or of its default branch, when only
    orphan branches exist) starts the branch, as GitHub does.
    """
    ref = f"refs/heads/{branch}"
    parent = repo.git.resolve(ref)
    first = branch == repo.default_branch or not repo.git.refs("refs/heads/")
    if parent is None and not first:
        raise ApiError(404, f"Branch {branch} not found")
    base_tree = repo.git.commit(parent).tree if parent else None
    entries = [
        (path, "100644", repo.git.write_blob(data) if data is not None else None)
        for path, data in files.items()
    ]
    tree = repo.git.build_tree(base_tree, entries)
    sha = repo.git.commit_tree(tree, [parent] if parent else [], message, person(login))
    move_ref(hub, repo, ref, sha, parent, login)
    return sha


@route("GET", "/repos/<owner>/<name>/contents/")
@route("GET", "/repos/<owner>/<name>/contents/<path:path>")
def get_contents(call: Call, owner: str, name: str, path: str = "") -> Any:
    """Return a file (base64) or a directory listing at `ref`."""
    repo = call.hub.repo(call, owner, name)
    ref = call.arg("ref") or repo.default_branch
    commit = repo.git.resolve(ref)
    if commit is None:
        raise ApiError(404, f"No commit found for the ref {ref}")
    if path.strip("/") == "":
        return [
            _entry_shape(call.hub, repo, e.path, e.sha, e.type, e.size, ref)
            for e in repo.git.ls_tree(commit)
        ]
    entry = repo.git.entry_at(commit, path)
    if entry is None:
        raise not_found()
    if entry.type == "tree":
        return [
            _entry_shape(call.hub, repo, e.path, e.sha, e.type, e.size, ref)
            for e in repo.git.ls_tree(f"{commit}:{path.strip('/')}")
        ]
    return file_shape(call.hub, repo, path, entry.sha, ref)


def file_shape(hub: Hub, repo: Repo, path: str, sha: str, ref: str) -> dict[str, Any]:
    """Return a content-file, with its bytes in base64."""
    data = repo.git.read_blob(sha)
    shaped = _entry_shape(hub, repo, path, sha, "blob", len(data), ref)
    shaped["content"] = base64.encodebytes(data).decode()
    shaped["encoding"] = "base64"
    return shaped


def _entry_shape(
    hub: Hub, repo: Repo, path: str, sha: str, kind: str, size: int | None, ref: str
) -> dict[str, Any]:
    api = f"{hub.base_url}/repos/{repo.full_name}"
    git_url = f"{api}/git/{'trees' if kind == 'tree' else 'blobs'}/{sha}"
    url = f"{api}/contents/{path}?ref={ref}"
    html = f"{hub.base_url}/{repo.full_name}/blob/{ref}/{path}"
    return {
        "type": "dir" if kind == "tree" else "file",
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "size": size or 0,
        "url": url,
        "git_url": git_url,
        "html_url": html,
        "download_url": None
        if kind == "tree"
        else f"{hub.base_url}/{repo.full_name}/raw/{ref}/{path}",
        "_links": {"self": url, "git": git_url, "html": html},
    }


@route("PUT", "/repos/<owner>/<name>/contents/<path:path>")
def put_contents(call: Call, owner: str, name: str, path: str) -> Reply:
    """Create or update a file on a branch: one commit, one push."""
    repo = call.hub.repo(call, owner, name, need="write")
    branch = call.field("branch") or repo.default_branch
    try:
        data = base64.b64decode(str(call.need("content")), validate=False)
    except ValueError as err:
        raise ApiError(422, "content is not valid Base64") from err
    existing = _existing_blob(repo, branch, path)
    if existing and call.field("sha") != existing:
        raise ApiError(409, f"{path} does not match {call.field('sha') or 'nothing'}")
    sha = commit_files(
        call.hub, repo, branch, {path: data}, str(call.need("message")), call.login
    )
    entry = repo.git.entry_at(sha, path)
    assert entry is not None  # noqa: S101 - we just wrote it
    return Reply(
        200 if existing else 201,
        {
            "content": file_shape(call.hub, repo, path, entry.sha, branch),
            "commit": git_commit_shape(call.hub, repo, repo.git.commit(sha)),
        },
    )


def _existing_blob(repo: Repo, branch: str, path: str) -> str | None:
    tip = repo.git.resolve(f"refs/heads/{branch}")
    entry = repo.git.entry_at(tip, path) if tip else None
    return entry.sha if entry else None
