"""Check runs: create, update, list for a ref; only an App may write them.

See: https://docs.github.com/rest/checks/runs
"""

from __future__ import annotations

from typing import Any

from ghsim import shapes
from ghsim.commits import resolve
from ghsim.hub import Hub
from ghsim.routing import ApiError, Call, Reply, not_found, paginate, route
from ghsim.state import CheckRun, Repo, now, stamp

STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
)
TEXT_MAX = 65535
ANNOTATIONS_MAX = 50


def run_shape(hub: Hub, repo: Repo, run: CheckRun) -> dict[str, Any]:
    """Return a check-run."""
    api = f"{hub.base_url}/repos/{repo.full_name}"
    return {
        "id": run.id,
        "node_id": shapes.node_id("CheckRun", run.id),
        "head_sha": run.head_sha,
        "external_id": run.external_id,
        "url": f"{api}/check-runs/{run.id}",
        "html_url": f"{hub.base_url}/{repo.full_name}/runs/{run.id}",
        "details_url": run.details_url,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": stamp(run.started_at),
        "completed_at": stamp(run.completed_at),
        "output": {
            "title": run.output.get("title"),
            "summary": run.output.get("summary"),
            "text": run.output.get("text"),
            "annotations_count": len(run.annotations),
            "annotations_url": f"{api}/check-runs/{run.id}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.id},
        "app": hub.app_shape(),
        "pull_requests": [],
    }


def _apply(call: Call, run: CheckRun) -> None:
    """Set the fields a create or update call carries, checking GitHub's limits."""
    status = call.field("status")
    conclusion = call.field("conclusion")
    if status is not None and status not in STATUSES:
        raise _invalid("status")
    if conclusion is not None and conclusion not in CONCLUSIONS:
        raise _invalid("conclusion")
    if conclusion is not None:
        status = "completed"
    if status == "completed" and (conclusion or run.conclusion) is None:
        raise ApiError(
            422, "Invalid request.", ["conclusion is required when status is completed"]
        )
    run.status = status or run.status
    run.conclusion = conclusion or run.conclusion
    run.completed_at = now() if run.status == "completed" else None
    for key in ("details_url", "external_id", "name"):
        if call.field(key) is not None:
            setattr(run, key, call.field(key))
    _apply_output(call, run)


def _apply_output(call: Call, run: CheckRun) -> None:
    output = call.field("output")
    if not output:
        return
    for key in ("summary", "text"):
        if len(output.get(key) or "") > TEXT_MAX:
            raise ApiError(
                422,
                "Invalid request.",
                [
                    f"Only {TEXT_MAX} characters are allowed;"
                    f" {len(output[key])} were supplied."
                ],
            )
    annotations = output.get("annotations") or []
    if len(annotations) > ANNOTATIONS_MAX:
        raise ApiError(
            422,
            "Invalid request.",
            [f"Only {ANNOTATIONS_MAX} annotations are allowed per request"],
        )
    run.annotations.extend(annotations)
    run.output = {k: output.get(k) for k in ("title", "summary", "text")}


def _invalid(field: str) -> ApiError:
    return ApiError(
        422,
        "Invalid request.",
        [{"resource": "CheckRun", "field": field, "code": "invalid"}],
    )


def _require_app(call: Call) -> None:
    if call.actor.kind != "installation":
        raise ApiError(403, "You must authenticate via a GitHub App.")


@route("POST", "/repos/<owner>/<name>/check-runs")
def create_run(call: Call, owner: str, name: str) -> Reply:
    """Create a check run on a commit."""
    _require_app(call)
    repo = call.hub.repo(call, owner, name, need="write")
    sha = resolve(repo, str(call.need("head_sha")))
    run = CheckRun(
        call.hub.world.new_id(),
        str(call.need("name")),
        sha,
        "queued",
        None,
        now(),
        None,
        {},
        None,
        None,
        call.hub.app.slug,
    )
    _apply(call, run)
    repo.check_runs[run.id] = run
    return Reply(201, run_shape(call.hub, repo, run))


@route("PATCH", "/repos/<owner>/<name>/check-runs/<int:run_id>")
def update_run(call: Call, owner: str, name: str, run_id: int) -> dict[str, Any]:
    """Update a check run."""
    _require_app(call)
    repo = call.hub.repo(call, owner, name, need="write")
    run = _find(repo, run_id)
    _apply(call, run)
    return run_shape(call.hub, repo, run)


@route("GET", "/repos/<owner>/<name>/check-runs/<int:run_id>")
def get_run(call: Call, owner: str, name: str, run_id: int) -> dict[str, Any]:
    """Return one check run."""
    repo = call.hub.repo(call, owner, name)
    return run_shape(call.hub, repo, _find(repo, run_id))


@route("GET", "/repos/<owner>/<name>/commits/<path:ref>/check-runs")
def list_runs(call: Call, owner: str, name: str, ref: str) -> Reply:
    """List the check runs of a commit, newest first, filtered by `check_name`."""
    repo = call.hub.repo(call, owner, name)
    sha = resolve(repo, ref)
    runs = call.hub.world.snapshot(repo.check_runs)[::-1]
    runs = [r for r in runs if r.head_sha == sha]
    if call.arg("check_name"):
        runs = [r for r in runs if r.name == call.arg("check_name")]
    if call.arg("status"):
        runs = [r for r in runs if r.status == call.arg("status")]
    page = paginate(call, runs)
    page.body = {
        "total_count": len(runs),
        "check_runs": [run_shape(call.hub, repo, r) for r in page.body],
    }
    return page


def _find(repo: Repo, run_id: int) -> CheckRun:
    run = repo.check_runs.get(run_id)
    if run is None:
        raise not_found()
    return run
