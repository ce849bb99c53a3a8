"""The story `changebot demo` tells, one checked step at a time.

1. Set the stage: simulator, Slack stand-in, signing key; seed the org
   while the App is starting; then point the webhooks at the App.
2. Play each step: people act on GitHub through its API, then the step
   waits (bounded) until GitHub, Slack and the audit branch show what the
   narration promised, and says what it saw.
3. Tell how many steps happened as narrated; the caller decides whether to
   keep the stage running for the audit browser.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from changebot.demo.narration import Narrator
from changebot.demo.seed import REPO, Cast, seed, vpc
from changebot.demo.stage import Stage, open_stage
from changebot.demo.watch import Watch
from changebot.errors import ChangebotError, DemoError

log = logging.getLogger(__name__)

RATIONALE = """\
## Why
Black Friday traffic doubled last year; the web pool must grow to 6 nodes
before the sale starts, as agreed in OPS-1234.

## Risk
Low: new nodes join the existing group, and the pods spread by themselves.

## Rollback plan
Revert this PR and apply again; the extra nodes drain within minutes.
"""
OVERRIDE_REASON = "INC-77: the release is blocked and security signed off in the call"


@dataclass
class Scene:
    """What the steps share: the stage, the people, and what happened so far."""

    stage: Stage
    cast: Cast
    watch: Watch
    narrator: Narrator
    facts: dict[str, Any] = field(default_factory=dict)

    def act(self, step: str, **context: Any) -> None:
        """Narrate what is about to happen in ``step``."""
        self.narrator.step(step, "act", **context)


#: A step acts, waits for what it promised, and returns what it saw.
Step = Callable[[Scene], dict[str, Any]]


@dataclass(frozen=True)
class Result:
    """How the story went."""

    played: tuple[str, ...]
    failed: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Say whether every step happened as narrated."""
        return not self.failed


def play(
    root: Path, narrator: Narrator, port: int | None = None
) -> tuple[Stage, Result]:
    """Set the stage under ``root`` and play every step; the stage keeps running."""
    started = time.monotonic()

    stage = open_stage(root, port)
    try:
        # 1. the org, and the App
        narrator.say("demo/stage.txt", stage=stage, repo=REPO)
        stage.start_app()
        cast = seed(stage.simulator.client)
        stage.wait_for_app()
        stage.listen()
        narrator.say("demo/ready.txt", stage=stage, repo=REPO)

        # 2. the steps
        scene = Scene(stage, cast, Watch(stage, REPO), narrator)
        failed = [name for name, step in STEPS if not _run(scene, name, step)]
    except BaseException:
        # NOTE: the App runs in its own session, out of reach of Ctrl-C.
        stage.stop()
        raise

    # 3. the tally
    result = Result(tuple(name for name, _ in STEPS), tuple(failed))
    narrator.say("demo/result.txt", result=result, seconds=time.monotonic() - started)
    return stage, result


def _run(scene: Scene, name: str, step: Step) -> bool:
    """Play one step; narrate what was seen, or what was not."""
    try:
        seen = step(scene)
    except ChangebotError as err:
        log.info("demo step failed", extra={"step": name, "error": str(err)})
        scene.narrator.say("demo/failed.txt", error=err, app_log=scene.stage.app_log)
        return False
    scene.narrator.step(name, "seen", **seen)
    return True


# --- the steps ----------------------------------------------------------------


def rationale_missing(scene: Scene) -> dict[str, Any]:
    """A PR without a rationale fails its check."""
    files = {
        "infra/main.tf": _scaled(6),
        "k8s/web/deployment.yaml": _replicas(6),
    }
    scene.act("rationale_missing", author="dev", files=sorted(files))
    number = scene.cast.dev.open_pull("scale-web", files, "Scale the web pool to 6")
    scene.facts["pull"] = number
    run = scene.watch.check_is(number, "failure")
    return {"number": number, "run": run}


def rationale_and_approvals(scene: Scene) -> dict[str, Any]:
    """The rationale arrives, then an approval from the owning team: it passes."""
    number = scene.facts["pull"]
    scene.act("rationale_and_approvals", number=number)
    scene.cast.dev.edit_body(number, RATIONALE)
    waiting = scene.watch.check_is(number, None)
    _expect("Waiting for approval" in waiting.title, "the check waits for approval")
    scene.cast.pat.approve(number)
    run = scene.watch.check_is(number, "success")
    return {"number": number, "waiting": waiting, "run": run}


def stale_approval(scene: Scene) -> dict[str, Any]:
    """A push after the approval makes it stale; a fresh one passes again."""
    number = scene.facts["pull"]
    scene.act("stale_approval", number=number)
    scene.cast.dev.push("scale-web", {"infra/main.tf": _scaled(8)}, "Allow 8 nodes")
    stale = scene.watch.check_is(number, None)
    _expect(
        "pat approved" in stale.summary
        and "before the latest changes" in stale.summary,
        "the check says pat's approval predates the push",
    )
    scene.cast.paula.approve(number)
    run = scene.watch.check_is(number, "success")
    return {"number": number, "stale": stale, "run": run}


def merge_recorded(scene: Scene) -> dict[str, Any]:
    """The merge appends a signed entry with who approved what, and why."""
    number = scene.facts["pull"]
    scene.act("merge_recorded", number=number)
    sha = scene.cast.paula.merge(number)
    scene.facts["merged"] = sha
    entry = scene.watch.entry(
        f"the merge of #{number}",
        lambda e: e["kind"] == "change" and e.get("pr", {}).get("number") == number,
    )
    _expect(entry["shas"]["merge"] == sha, f"entry #{entry['index']} names {sha}")
    _expect(bool(entry["approvers"]), f"entry #{entry['index']} lists approvers")
    comment = scene.watch.bot_comment(number, f"entry **#{entry['index']}**")
    scene.facts["checkpoint"] = _checkpoint_in(comment)
    report = _intact(scene)
    return {"number": number, "entry": entry, "comment": comment, "report": report}


def direct_push(scene: Scene) -> dict[str, Any]:
    """A push to main outside any PR is recorded and announced."""
    scene.act("direct_push", pusher="admin")
    files = {"infra/network.tf": vpc("10.1.0.0/16")}
    sha = scene.cast.admin.push("main", files, "Hotfix: widen the VPC")
    entry = scene.watch.entry(
        f"the direct push of {sha[:12]}",
        lambda e: e["kind"] == "direct-push" and e.get("after") == sha,
    )
    scene.watch.slack_message("without a merged pull request", sha[:12])
    return {"sha": sha, "entry": entry}


def override_refused(scene: Scene) -> dict[str, Any]:
    """An override by someone without the role is refused, and recorded."""
    files = {".github/workflows/deploy.yml": _workflow()}
    scene.act("override_refused", files=sorted(files))
    number = scene.cast.dev.open_pull("deploy-tags", files, "Deploy on every tag")
    scene.facts["override_pull"] = number
    scene.watch.check_is(number, "failure")
    scene.cast.dev.comment(number, f"/changebot override {OVERRIDE_REASON}")
    entry = scene.watch.entry(
        "dev's refused override",
        lambda e: e["kind"] == "override" and e.get("actor") == "dev",
    )
    _expect(entry["granted"] is False, f"entry #{entry['index']} is a refusal")
    reply = scene.watch.bot_comment(number, "refused")
    run = scene.watch.check_is(number, "failure")
    return {"number": number, "entry": entry, "reply": reply, "run": run}


def override_granted(scene: Scene) -> dict[str, Any]:
    """An override by an SRE lead passes the check; the merge links it."""
    number = scene.facts["override_pull"]
    scene.act("override_granted", number=number)
    scene.cast.olga.comment(number, f"/changebot override {OVERRIDE_REASON}")
    run = scene.watch.check_is(number, "success")
    entry = scene.watch.entry(
        "olga's override",
        lambda e: e["kind"] == "override" and e.get("actor") == "olga",
    )
    _expect(entry["granted"] is True, f"entry #{entry['index']} is granted")
    scene.cast.olga.merge(number)
    change = scene.watch.entry(
        f"the merge of #{number}",
        lambda e: e["kind"] == "change" and e.get("pr", {}).get("number") == number,
    )
    _expect(
        change.get("override") == entry["index"],
        f"the merge entry #{change['index']} links override #{entry['index']}",
    )
    return {"number": number, "run": run, "entry": entry, "change": change}


def deploy_staging(scene: Scene) -> dict[str, Any]:
    """A deployment to staging is recorded and summarised."""
    reason = "Release 42: the bigger web pool, tried on staging first"
    return _deploy(scene, "deploy_staging", "staging", "deployment", reason)


def deploy_production(scene: Scene) -> dict[str, Any]:
    """A deployment to production is recorded and summarised."""
    reason = "Release 42: the bigger web pool before the sale"
    return _deploy(scene, "deploy_production", "production", "deployment", reason)


def rollback(scene: Scene) -> dict[str, Any]:
    """Production goes back to the first merge: a rollback summary."""
    reason = "INC-78: tag builds deploy twice; back to the pool change alone"
    first = scene.facts.get("merged")
    return _deploy(scene, "rollback", "production", "rollback", reason, sha=first)


def verified(scene: Scene) -> dict[str, Any]:
    """Verification of the whole log reports it intact, and grown since #1."""
    scene.act("verified", git_dir=scene.watch.store().path, key=scene.stage.public_key)
    report = _intact(scene)
    kept = scene.facts["checkpoint"]
    grown = _intact(scene, since=kept)
    return {
        "report": report,
        "grown": grown,
        "kept_size": int(kept.splitlines()[1]),
        "number": scene.facts["pull"],
        "entries": scene.watch.entries(),
    }


def _deploy(
    scene: Scene,
    step: str,
    environment: str,
    kind: str,
    reason: str,
    sha: str | None = None,
) -> dict[str, Any]:
    target = sha or scene.cast.admin.head("main")
    _expect(target is not None, "main has a head to deploy")
    scene.act(step, environment=environment, sha=str(target), reason=reason)
    number = scene.cast.admin.deploy(str(target), environment, reason)
    entry = scene.watch.entry(
        f"the {kind} to {environment}",
        lambda e: e["kind"] == kind and e.get("deployment_id") == number,
    )
    header = "Rollback" if kind == "rollback" else "Deploy"
    slack = scene.watch.slack_message(header, REPO, environment)
    pull = scene.facts["pull"]
    phrase = "Removed from" if kind == "rollback" else "Deployed to"
    # NOTE: a rollback to the first merge takes out the second PR only.
    told = scene.facts["override_pull"] if kind == "rollback" else pull
    comment = scene.watch.bot_comment(told, f"{phrase} {environment}")
    return {"entry": entry, "slack": slack, "comment": comment, "number": told}


def _checkpoint_in(comment: str) -> str:
    """Return the checkpoint a merge comment quotes (origin, size, root, sigs)."""
    blocks = comment.split("```")
    quoted = [b.strip("\n") + "\n" for b in blocks[1::2] if b.count("\n") >= 3]
    _expect(bool(quoted), "the merge comment quotes the checkpoint")
    return quoted[0]


def _intact(scene: Scene, since: str | None = None) -> Any:
    report = scene.watch.verify(since)
    findings = [f.line() for f in report.findings]
    _expect(report.ok, f"the log verifies: {report.error or '; '.join(findings)}")
    return report


def _expect(holds: bool, what: str) -> None:
    if not holds:
        raise DemoError(f"not so: {what}")


def _scaled(size: int) -> str:
    return (
        'resource "aws_eks_node_group" "web" {\n'
        '  cluster_name    = "acme"\n'
        '  node_group_name = "web"\n'
        "  scaling_config {\n"
        "    desired_size = 6\n"
        f"    max_size     = {size}\n"
        "    min_size     = 3\n"
        "  }\n"
        "}\n"
    )


def _replicas(count: int) -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        f"spec:\n  replicas: {count}\n"
    )


def _workflow() -> str:
    return (
        "name: deploy\non:\n  push:\n    branches: [main]\n    tags: ['v*']\n"
        "permissions: {}\njobs: {}\n"
    )


STEPS: list[tuple[str, Step]] = [
    ("rationale_missing", rationale_missing),
    ("rationale_and_approvals", rationale_and_approvals),
    ("stale_approval", stale_approval),
    ("merge_recorded", merge_recorded),
    ("direct_push", direct_push),
    ("override_refused", override_refused),
    ("override_granted", override_granted),
    ("deploy_staging", deploy_staging),
    ("deploy_production", deploy_production),
    ("rollback", rollback),
    ("verified", verified),
]
