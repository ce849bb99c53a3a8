"""Count the GitHub API calls a deployment summary needs in App mode.

The App answers a `deployment_status` webhook for `main`, which moved by
10, 100 and 1,000 commits since the environment's last recorded deployment.
The calls are counted at the GitHub simulator, with caches cold (a fresh
worker), for two shapes of range:

- ``10 PRs``: ten rebased PRs, each landing a tenth of the commits, so the
  log holds the same entries whatever the number of commits;
- ``1 PR per 10``: one squashed PR per ten commits, so the log grows with the
  range (each entry of a shard not yet full is one blob read through the
  git data API; a full shard is one read of its payloads file).

Three figures for each: the summary alone (`flows.deploy.summarize`: the
live SHA, the range and its attribution); the same summary again in the same
worker ("again": the audit files it read are kept for its next jobs); and
the whole `on_deployment_status` (summary, the `deployment` entry appended,
Slack to the log; PR comments are off, as they cost one listing and one post
per PR, not per commit). The
target is a summary whose cost does not grow with the number of commits.

The commits are written straight into the simulated repository's git
directory and the `change` entries appended to its audit branch with the
App's key, as `record_merge` writes them; only the measured part goes
through the API.

Run: `python -m benchmarks deploy_api`; BENCH_DEPLOY_API_SIZES changes the
range sizes (comma-separated).
"""

from __future__ import annotations

import base64
import os
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = "acme/infra"
SIZES = tuple(
    int(n) for n in os.environ.get("BENCH_DEPLOY_API_SIZES", "10,100,1000").split(",")
)
SECRET = "bench-secret"  # noqa: S105 - a throwaway secret for loopback
SHAPES = {"10 PRs": lambda n: 10, "1 PR per 10": lambda n: max(1, n // 10)}


def main() -> None:
    """Print the API calls of a deployment summary per range size and shape."""
    print("GitHub API calls for one deployment in App mode (cold caches):")
    print(
        f"  {'range':>7}  {'shape':<12} {'summary':>8} {'again':>6} {'whole':>6}"
        "  summary calls"
    )
    for shape, pulls in SHAPES.items():
        for size in SIZES:
            summary, again, whole = _measure(size, pulls(size))
            routes = ", ".join(f"{n} {r}" for r, n in sorted(summary.items()))
            print(
                f"  {size:>7}  {shape:<12} {sum(summary.values()):>8}"
                f" {sum(again.values()):>6} {sum(whole.values()):>6}  {routes}"
            )


def _measure(size: int, pulls: int) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Return the calls of the summary, of it again in the same worker, and of
    the whole flow, by kind of route."""
    from ghsim import Simulator

    with tempfile.TemporaryDirectory() as tmp, Simulator(Path(tmp) / "github") as sim:
        root = Path(tmp)
        key_path = _seed(sim, root)
        app = _App(sim, root, key_path)
        live = _head(sim)
        app.deliver(_deploy(sim, live))
        _land(sim, app, live, size, pulls)
        payload = _deploy(sim, _head(sim))
        summary = _count(sim, app.fresh(), lambda: app.summarize(payload))
        again = _count(sim, app, lambda: app.summarize(payload))
        whole = _count(sim, app.fresh(), lambda: app.deliver(payload))
    return summary, again, whole


# --- the App ------------------------------------------------------------------


class _App:
    """A worker of the App on the simulator, built afresh for cold caches."""

    def __init__(self, sim: Any, root: Path, key_path: Path) -> None:
        from changebot.settings import Settings

        app = sim.app
        self.key_path = key_path
        self.settings = Settings(
            app_id=str(app["id"]),
            private_key=app["private_key"],
            webhook_secret=SECRET,
            signing_key_path=key_path,
            data_dir=root / "data",
            github_url=sim.base_url,
        )
        self.fresh()

    def fresh(self) -> _App:
        """Start over with a new worker: new token, empty caches."""
        from changebot import tasks
        from changebot.compose import build

        self.ctx = tasks.context(build(self.settings))
        # NOTE: the installation token, as a running worker holds one already.
        self.ctx.forge.default_branch(REPO)
        return self

    def summarize(self, payload: dict[str, Any]) -> None:
        """Build the summary of a deployment, as the flow does first."""
        from changebot.deploy.ancestry import ForgeAncestry
        from changebot.flows.deploy import request_from_status, summarize

        request = request_from_status(payload)
        config = self.ctx.lenient_policy(REPO, self.ctx.forge.default_branch(REPO))
        summarize(
            request,
            audit=self.ctx.audit(REPO, config),
            ancestry=ForgeAncestry(self.ctx.forge, REPO),
            forge=self.ctx.forge,
        )

    def deliver(self, payload: dict[str, Any]) -> None:
        """Answer a `deployment_status` webhook as the worker does."""
        from changebot.flows.router import route

        route(self.ctx, "deployment_status", "bench", payload)

    def origin(self) -> str:
        """Return the origin of the App's audit branch."""
        return str(self.ctx.open_store(REPO, "changebot/audit", None).origin)


# --- the repository -----------------------------------------------------------


def _seed(sim: Any, root: Path) -> Path:
    from changebot.audit import SigningKey

    admin = sim.client("admin")
    _ok(admin.post("/orgs/acme/repos", json={"name": "infra", "auto_init": True}))
    # NOTE: no PR comments: the entries name PRs the simulator never saw.
    policy = "deployments:\n  production: {notify_pr: false}\n"
    content = base64.b64encode(policy.encode()).decode()
    _ok(
        admin.put(
            f"/repos/{REPO}/contents/.changebot.yml",
            json={"message": "Policy", "content": content},
        )
    )
    key_path, _, _ = SigningKey.generate().save(root / "signing")
    return Path(key_path)


def _head(sim: Any) -> str:
    ref = _ok(sim.client("admin").get(f"/repos/{REPO}/git/ref/heads/main"))
    return str(ref["object"]["sha"])


def _deploy(sim: Any, sha: str) -> dict[str, Any]:
    """Deploy ``sha`` to production on GitHub; return the status webhook's payload."""
    admin = sim.client("admin")
    deployment = _ok(
        admin.post(
            f"/repos/{REPO}/deployments",
            json={"ref": sha, "environment": "production"},
        )
    )
    _ok(
        admin.post(
            f"/repos/{REPO}/deployments/{deployment['id']}/statuses",
            json={"state": "success"},
        )
    )
    payload: dict[str, Any] = sim.deliveries("deployment_status")[-1].payload
    return payload


def _land(sim: Any, app: _App, live: str, size: int, pulls: int) -> None:
    """Put ``size`` commits on main in ``pulls`` PRs, each recorded in the log."""
    from changebot.adapters.git import GitStore
    from changebot.audit import AuditLog, SigningKey

    git_dir = sim.git_dir(REPO)
    commits = _commits(git_dir, live, size)
    audit = AuditLog(
        GitStore(git_dir, "changebot/audit", origin=app.origin()),
        SigningKey.load(app.key_path),
    )
    per = size // pulls
    method = "rebase" if per > 1 else "squash"
    for number in range(1, pulls + 1):
        landed = commits[(number - 1) * per : number * per]
        fields = _change(number, live, landed, method)
        audit.append("change", REPO, fields, f"change:{REPO}#{number}")


def _commits(git_dir: Path, parent: str, count: int) -> list[str]:
    """Commit ``count`` one-file commits on top of ``parent``; move main there."""
    script = []
    for n in range(count):
        text = f"{n}\n"
        script += [
            f"commit refs/heads/main\nmark :{n + 1}",
            "committer dev <dev@example.com> 1700000000 +0000",
            f"data {len(f'c{n}')}\nc{n}",
            f"from {parent}" if n == 0 else f"from :{n}",
            f"M 100644 inline notes/{n}.txt\ndata {len(text)}\n{text}",
        ]
    script.append("done\n")
    marks = git_dir / "bench.marks"
    subprocess.run(  # noqa: S603 - git with fixed arguments
        ["git", "fast-import", "--quiet", "--force", f"--export-marks={marks}"],  # noqa: S607 - git on PATH
        cwd=git_dir,
        input="\n".join(script).encode(),
        check=True,
    )
    found = dict(line.split() for line in marks.read_text().splitlines())
    return [found[f":{n + 1}"] for n in range(count)]


def _change(number: int, base: str, landed: list[str], method: str) -> dict[str, Any]:
    """Return a `change` entry's fields as record_merge writes them."""
    return {
        "pr": {
            "number": number,
            "title": f"Change {number}",
            "url": None,
            "base_ref": "main",
            "head_ref": f"change-{number}",
        },
        "shas": {"base": base, "head": landed[-1], "merge": landed[-1], "tree": None},
        "merge_method": method,
        "commits": landed,
        "areas": [],
        "paths": [],
        "author": "dev",
        "approvers": [{"login": "pat", "commit": landed[-1]}],
        "merger": "pat",
        "rationale": "## Why\nBecause.\n## Risk\nLow.\n## Rollback plan\nRevert.",
        "tickets": [],
        "verdict": {"conclusion": "success", "failed": []},
        "bypassed": False,
        "override": None,
    }


# --- counting -------------------------------------------------------------------


def _count(sim: Any, app: _App, work: Callable[[], Any]) -> Counter[str]:
    """Run ``work`` on ``app``; return the requests it caused, by kind of route."""
    sim.wsgi.exchanges.clear()
    work()
    return Counter(_kind(e.method, e.path) for e in sim.exchanges())


def _kind(method: str, path: str) -> str:
    tail = path.split(f"/repos/{REPO}/", 1)[-1]
    if tail.startswith("git/"):
        return f"{method} git/{tail.split('/')[1]}"
    return f"{method} {tail.split('/')[0]}"


def _ok(answer: Any) -> Any:
    if answer.status_code >= 400:
        raise RuntimeError(f"{answer.request.method} {answer.url}: {answer.text}")
    return answer.json() if answer.content else None


if __name__ == "__main__":
    main()
