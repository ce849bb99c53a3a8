"""The git data API: blobs, trees, commits and refs, backed by real git.

See: https://docs.github.com/rest/git
"""

from __future__ import annotations

import base64
from typing import Any

from ghsim import shapes
from ghsim.commits import git_commit_shape, person
from ghsim.gitstore import Person
from ghsim.hub import Hub
from ghsim.pushes import move_ref
from ghsim.routing import ApiError, Call, Reply, not_found, route
from ghsim.state import Repo, now, stamp

TREE_MODES = {"100644", "100755", "040000", "160000", "120000"}


def _invalid(resource: str, field: str) -> ApiError:
    return ApiError(
        422,
        "Invalid request.",
        [{"resource": resource, "field": field, "code": "invalid"}],
    )


# --- blobs --------------------------------------------------------------------


@route("POST", "/repos/<owner>/<name>/git/blobs")
def create_blob(call: Call, owner: str, name: str) -> Reply:
    """Store a blob (utf-8 or base64)."""
    repo = call.hub.repo(call, owner, name, need="write")
    content = str(call.need("content"))
    encoding = call.field("encoding", "utf-8")
    if encoding not in ("utf-8", "base64"):
        raise _invalid("Blob", "encoding")
    data = base64.b64decode(content) if encoding == "base64" else content.encode()
    sha = repo.git.write_blob(data)
    return Reply(201, {"sha": sha, "url": _api(call.hub, repo, f"git/blobs/{sha}")})


@route("GET", "/repos/<owner>/<name>/git/blobs/<sha>")
def get_blob(call: Call, owner: str, name: str, sha: str) -> dict[str, Any]:
    """Return a blob in base64."""
    repo = call.hub.repo(call, owner, name)
    if repo.git.object_type(sha) != "blob":
        raise not_found()
    data = repo.git.read_blob(sha)
    return {
        "sha": sha,
        "node_id": shapes.node_id("Blob", int(sha[:7], 16)),
        "url": _api(call.hub, repo, f"git/blobs/{sha}"),
        "size": len(data),
        "content": base64.encodebytes(data).decode(),
        "encoding": "base64",
    }


# --- trees --------------------------------------------------------------------


@route("POST", "/repos/<owner>/<name>/git/trees")
def create_tree(call: Call, owner: str, name: str) -> Reply:
    """Write a tree, on top of `base_tree` when given; a null sha deletes a path."""
    repo = call.hub.repo(call, owner, name, need="write")
    base = call.field("base_tree")
    if base and repo.git.object_type(base) != "tree":
        raise _invalid("Tree", "base_tree")
    entries = _tree_inputs(repo, list(call.need("tree")))
    sha = repo.git.build_tree(base, entries)
    return Reply(201, tree_shape(call.hub, repo, sha, recursive=False))


def _tree_inputs(
    repo: Repo, items: list[dict[str, Any]]
) -> list[tuple[str, str, str | None]]:
    """Check the entries of a new tree and store inline `content` as blobs."""
    inline = [i for i in items if i.get("content") is not None]
    blobs = dict(
        zip(
            map(id, inline),
            repo.git.write_blobs([str(i["content"]).encode() for i in inline]),
            strict=True,
        )
    )
    entries = []
    for item in items:
        path, mode = item.get("path"), item.get("mode", "100644")
        if not path or mode not in TREE_MODES:
            raise _invalid("Tree", "tree")
        sha = blobs.get(id(item), item.get("sha"))
        if (
            id(item) not in blobs
            and sha is not None
            and repo.git.object_type(sha) is None
        ):
            raise ApiError(422, f"tree.sha {sha} is not a valid blob")
        entries.append((str(path), str(mode), sha))
    return entries


@route("GET", "/repos/<owner>/<name>/git/trees/<path:tree>")
def get_tree(call: Call, owner: str, name: str, tree: str) -> dict[str, Any]:
    """Return a tree (every level with `recursive`)."""
    repo = call.hub.repo(call, owner, name)
    try:
        sha = repo.git.text("rev-parse", "--verify", "-q", f"{tree}^{{tree}}")
    except Exception as err:
        raise not_found() from err
    return tree_shape(call.hub, repo, sha, recursive=bool(call.arg("recursive")))


def tree_shape(hub: Hub, repo: Repo, sha: str, recursive: bool) -> dict[str, Any]:
    """Return a git-tree."""
    entries = []
    for entry in repo.git.ls_tree(sha, recursive=recursive):
        kind = "blobs" if entry.type == "blob" else "trees"
        shaped: dict[str, Any] = {
            "path": entry.path,
            "mode": entry.mode,
            "type": entry.type,
            "sha": entry.sha,
            "url": _api(hub, repo, f"git/{kind}/{entry.sha}"),
        }
        if entry.size is not None:
            shaped["size"] = entry.size
        entries.append(shaped)
    return {
        "sha": sha,
        "url": _api(hub, repo, f"git/trees/{sha}"),
        "tree": entries,
        "truncated": False,
    }


# --- commits ------------------------------------------------------------------


@route("POST", "/repos/<owner>/<name>/git/commits")
def create_commit(call: Call, owner: str, name: str) -> Reply:
    """Write a commit object; no ref moves."""
    repo = call.hub.repo(call, owner, name, need="write")
    tree = str(call.need("tree"))
    if repo.git.object_type(tree) != "tree":
        raise _invalid("Commit", "tree")
    parents = [str(p) for p in call.field("parents", [])]
    if any(repo.git.object_type(p) != "commit" for p in parents):
        raise _invalid("Commit", "parents")
    author = _person(call.field("author"), call.login)
    committer = (
        _person(call.field("committer"), call.login)
        if call.field("committer")
        else author
    )
    sha = repo.git.commit_tree(
        tree, parents, str(call.need("message")), author, committer
    )
    return Reply(201, git_commit_shape(call.hub, repo, repo.git.commit(sha)))


def _person(given: dict[str, Any] | None, login: str) -> Person:
    default = person(login)
    if not given:
        return default
    return Person(
        given.get("name", default.name),
        given.get("email", default.email),
        given.get("date") or stamp(now()) or "",
    )


@route("GET", "/repos/<owner>/<name>/git/commits/<sha>")
def get_git_commit(call: Call, owner: str, name: str, sha: str) -> dict[str, Any]:
    """Return a commit object."""
    repo = call.hub.repo(call, owner, name)
    if repo.git.object_type(sha) != "commit":
        raise not_found()
    return git_commit_shape(call.hub, repo, repo.git.commit(sha))


# --- refs ---------------------------------------------------------------------


def ref_shape(hub: Hub, repo: Repo, ref: str, sha: str) -> dict[str, Any]:
    """Return a git-ref."""
    return {
        "ref": ref,
        "node_id": shapes.node_id("Ref", abs(hash(ref)) % 10**9),
        "url": _api(hub, repo, f"git/{ref}"),
        "object": {
            "type": "commit",
            "sha": sha,
            "url": _api(hub, repo, f"git/commits/{sha}"),
        },
    }


@route("GET", "/repos/<owner>/<name>/git/ref/<path:ref>")
def get_ref(call: Call, owner: str, name: str, ref: str) -> dict[str, Any]:
    """Return one ref (`heads/x`); `heads/a%2Fb` and `heads/a/b` both work."""
    repo = call.hub.repo(call, owner, name)
    full = f"refs/{ref}"
    sha = repo.git.refs(full).get(full)
    if sha is None:
        raise not_found()
    return ref_shape(call.hub, repo, full, sha)


@route("GET", "/repos/<owner>/<name>/git/matching-refs/<path:prefix>")
def matching_refs(
    call: Call, owner: str, name: str, prefix: str
) -> list[dict[str, Any]]:
    """List refs whose names start with a prefix."""
    repo = call.hub.repo(call, owner, name)
    found = repo.git.refs("refs/")
    return [
        ref_shape(call.hub, repo, r, s)
        for r, s in sorted(found.items())
        if r.startswith(f"refs/{prefix}")
    ]


@route("GET", "/repos/<owner>/<name>/git/refs/<path:ref>")
def get_ref_legacy(call: Call, owner: str, name: str, ref: str) -> dict[str, Any]:
    """Return one ref through the older `git/refs/{ref}` path."""
    return get_ref(call, owner, name, ref)


@route("POST", "/repos/<owner>/<name>/git/refs")
def create_ref(call: Call, owner: str, name: str) -> Reply:
    """Create a ref; 422 when it exists already."""
    repo = call.hub.repo(call, owner, name, need="write")
    ref, sha = str(call.need("ref")), str(call.need("sha"))
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise ApiError(422, "Reference name is not valid")
    if repo.git.object_type(sha) != "commit":
        raise ApiError(422, "Object does not exist")
    if ref in repo.git.refs(ref):
        raise ApiError(422, "Reference already exists")
    move_ref(call.hub, repo, ref, sha, None, call.login)
    return Reply(201, ref_shape(call.hub, repo, ref, sha))


@route("PATCH", "/repos/<owner>/<name>/git/refs/<path:ref>")
def update_ref(call: Call, owner: str, name: str, ref: str) -> dict[str, Any]:
    """Move a ref; without `force` only a fast-forward is accepted (422 otherwise)."""
    repo = call.hub.repo(call, owner, name, need="write")
    full = f"refs/{ref}"
    old = repo.git.refs(full).get(full)
    if old is None:
        raise ApiError(422, "Reference does not exist")
    sha = str(call.need("sha"))
    if repo.git.object_type(sha) != "commit":
        raise ApiError(422, "Object does not exist")
    move_ref(
        call.hub, repo, full, sha, old, call.login, force=bool(call.field("force"))
    )
    return ref_shape(call.hub, repo, full, sha)


@route("DELETE", "/repos/<owner>/<name>/git/refs/<path:ref>")
def delete_ref(call: Call, owner: str, name: str, ref: str) -> Reply:
    """Delete a ref."""
    repo = call.hub.repo(call, owner, name, need="write")
    full = f"refs/{ref}"
    old = repo.git.refs(full).get(full)
    if old is None:
        raise ApiError(422, "Reference does not exist")
    move_ref(call.hub, repo, full, None, old, call.login)
    return Reply(204)


def _api(hub: Hub, repo: Repo, tail: str) -> str:
    return f"{hub.base_url}/repos/{repo.full_name}/{tail}"
