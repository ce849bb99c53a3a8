"""The tasks of a step: each runs the App's flow and says what came of it.

A task returns a `Result`: the step's outputs, its job summary sections,
its annotations, and whether the step must fail. The flows do the work;
nothing here judges, records or notifies by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from changebot.action.dispatch import PULL_EVENTS, Task, pull_number
from changebot.action.inputs import missing_input
from changebot.action.services import Step
from changebot.action.workflow import Annotation, Level
from changebot.audit import VerifyReport, verify
from changebot.audit.layout import CHECKPOINT
from changebot.deploy import outputs as deploy_outputs
from changebot.deploy.ancestry import ForgeAncestry
from changebot.errors import ConfigProblem, UsageError
from changebot.flows.commands import on_comment
from changebot.flows.deploy import (
    DeploymentRequest,
    Outcome,
    entry_fields,
    on_deployment_status,
    record_deployment,
    request_from_status,
)
from changebot.flows.merge import record_merge
from changebot.flows.pull import evaluate_pull
from changebot.flows.push import record_push
from changebot.flows.reconcile import record_missing
from changebot.ports import Notice
from changebot.render import render

log = logging.getLogger(__name__)

#: Findings shown as annotations (the runner shows ten per step).
MAX_FINDING_ANNOTATIONS = 10


@dataclass
class Section:
    """A part of the job summary: Markdown, or a list cut to fit."""

    markdown: str
    items: tuple[str, ...] | None = None
    tail: str = ""


@dataclass
class Result:
    """What one task did."""

    outputs: dict[str, str] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    #: The verdict of a PR judged now (it decides the exit status by `fail_on`).
    judged: str | None = None
    #: Why the step fails whatever `fail_on` says, short of `never`.
    failure: str | None = None


Handler = Callable[[Step, str, Mapping[str, Any]], Result]


def run_task(task: Task, step: Step, event: str, payload: Mapping[str, Any]) -> Result:
    """Run one task of the step."""
    log.info("task starts", extra={"task": task, "event": event})
    return _HANDLERS[task](step, event, payload)


# --- pull requests ------------------------------------------------------------


def evaluate(step: Step, event: str, payload: Mapping[str, Any]) -> Result:
    """Judge the PR under its base branch's policy and set its check run."""
    repo = step.inputs.repository
    judgement = evaluate_pull(step.context, repo, pull_number(event, payload))
    verdict = judgement.report.conclusion or "pending"
    summary = render(
        "action/evaluate.md",
        judgement=judgement,
        report=judgement.report,
        verdict=verdict,
    )
    problems = _config_annotations(step, judgement.base_problems, "base")
    proposed = [
        ConfigProblem(p.message, path=p.path, line=p.line)
        for p in judgement.proposed_problems
    ]
    problems += _config_annotations(step, tuple(proposed), "proposed")
    return Result(
        outputs={"verdict": verdict},
        sections=[Section(summary)],
        annotations=problems,
        judged=verdict,
    )


def _config_annotations(
    step: Step,
    problems: tuple[ConfigProblem, ...],
    whose: str,
    level: Level = "error",
) -> list[Annotation]:
    """Pin each problem of the policy file to its line."""
    path = step.inputs.config_path
    title = render("action/config_title.txt", whose=whose, path=path).strip()
    return [
        Annotation(
            level,
            render("action/config_problem.txt", p=problem).strip(),
            title=title,
            file=path,
            line=problem.line,
        )
        for problem in problems
    ]


def record(step: Step, event: str, payload: Mapping[str, Any]) -> Result:
    """Append the audit entry of a merged PR or of a direct push."""
    step.signer  # noqa: B018 -- fail before any work when the key is missing
    if event == "push":
        return _record_push(step, payload)
    if event in PULL_EVENTS:
        return _record_merge(step, pull_number(event, payload))
    raise UsageError(
        f"`mode: record` records a push or a merged pull request, not `{event}`",
        hint="use `mode: reconcile` to record merges that were missed",
    )


def _record_merge(step: Step, number: int) -> Result:
    recorded = record_merge(step.context, step.inputs.repository, number)
    if recorded is None:
        return _skipped("not-merged", "pull_request")
    change = recorded.change
    merged = step.forge.merged_pull(step.inputs.repository, number)
    summary = render(
        "pr/recorded.md",
        change=change,
        config=recorded.config,
        bypassed=recorded.bypassed,
        merged=merged,
    )
    return Result(
        outputs=_entry_outputs(change.index, change.checkpoint),
        sections=[Section(summary)],
        annotations=_lenient_annotations(step),
    )


def _record_push(step: Step, payload: Mapping[str, Any]) -> Result:
    appended = record_push(step.context, payload)
    if appended is None:
        return _skipped("push", "push")
    summary = render("action/direct_push.md", entry=appended, push=payload)
    return Result(
        outputs=_entry_outputs(appended.index, appended.checkpoint),
        sections=[Section(summary)],
        annotations=[
            *_lenient_annotations(step),
            Annotation("warning", render("action/direct_push.txt", entry=appended)),
        ],
    )


def commands(step: Step, event: str, payload: Mapping[str, Any]) -> Result:
    """Answer the `/changebot` commands of a PR comment."""
    answers = on_comment(step.context, payload)
    if not answers:
        return _skipped("no-command", event)
    summary = render("action/commands.md", answers=answers)
    return Result(sections=[Section(summary)])


# --- deployments ---------------------------------------------------------------


def deploy(step: Step, event: str, payload: Mapping[str, Any]) -> Result:
    """Record a deployment and summarize what it brought (or took away)."""
    step.signer  # noqa: B018 -- fail before any work when the key is missing
    if event == "deployment_status":
        request = request_from_status(payload)
        outcome = on_deployment_status(step.context, payload)
    else:
        request = _deploy_request(step)
        outcome = _record_step_deployment(step, request)

    summary = outcome.summary
    fields = entry_fields(summary, request)
    outputs = {
        "classification": summary.classification,
        "previous_sha": summary.previous_sha or "",
        "pulls": ",".join(str(n) for n in fields["pulls"]),
    }
    if outcome.index is not None:
        outputs |= _entry_outputs(outcome.index, _checkpoint(step))
    markdown = deploy_outputs.job_summary(summary)
    return Result(outputs=outputs, sections=[Section(markdown)])


def _deploy_request(step: Step) -> DeploymentRequest:
    inputs = step.inputs
    if not inputs.environment:
        raise missing_input("environment", "a deploy step must say where it deployed")
    sha = inputs.sha or inputs.github_sha
    if not sha:
        raise missing_input("sha", "GITHUB_SHA is not set either")
    return DeploymentRequest(
        repo=inputs.repository,
        environment=inputs.environment,
        sha=sha,
        deployer=inputs.actor,
        reason=inputs.reason,
        # NOTE: a re-run of the same workflow run is the same deployment.
        key=f"deployment:{inputs.repository}:{inputs.environment}:run:{inputs.run_id}"
        if inputs.run_id
        else None,
        log_url=inputs.run_url,
        web_url=inputs.web_url,
    )


def _record_step_deployment(step: Step, request: DeploymentRequest) -> Outcome:
    ctx, repo = step.context, request.repo
    config = ctx.lenient_policy(repo, step.forge.default_branch(repo))
    environment = config.environment(request.environment)
    if environment is not None and not environment.notify_pr:
        request = replace(request, comment_pulls=False)
    return record_deployment(
        request,
        audit=ctx.audit(repo, config),
        ancestry=ForgeAncestry(step.forge, repo),
        notifier=ctx.notifier,
        forge=step.forge,
    )


# --- the log as a whole ----------------------------------------------------------


def reconcile(step: Step, event: str, payload: Mapping[str, Any]) -> Result:
    """Record every PR merged in the look-back window that has no entry yet."""
    step.signer  # noqa: B018 -- fail before any work when the key is missing
    days = step.inputs.lookback_days
    since = datetime.now(UTC) - timedelta(days=days)
    recorded = record_missing(step.context, step.inputs.repository, since)
    items = [
        render("action/reconciled_item.md", pr=number, index=index).strip()
        for _, number, index in recorded
    ]
    head = render("action/reconciled.md", count=len(recorded), days=days)
    outputs = {}
    if recorded:
        outputs = _entry_outputs(recorded[-1][2], _checkpoint(step))
    return Result(outputs=outputs, sections=[Section(head, tuple(items))])


def verify_log(step: Step, event: str, payload: Mapping[str, Any]) -> Result:
    """Verify the whole audit log against the trusted keys; fail on any finding."""
    trusted = step.trusted_keys()
    repo, ctx = step.inputs.repository, step.context
    config = ctx.lenient_policy(repo, step.forge.default_branch(repo))
    store = ctx.open_store(repo, config.audit.branch, config.audit.repository)
    report = verify(store, trusted)
    log.info("audit verified", extra={"repo": repo, "exit": report.exit_code})

    line = report.summary_line()
    head = render("action/verify.md", report=report, line=line)
    findings = tuple(render("action/finding.md", f=f).strip() for f in report.findings)
    checkpoint = store.read(report.head, CHECKPOINT) if report.head else None
    result = Result(
        outputs={"checkpoint": checkpoint.decode()} if checkpoint else {},
        sections=[Section(head, findings)],
        annotations=[
            Annotation("error", f.line(), title=render("action/finding_title.txt"))
            for f in report.findings[:MAX_FINDING_ANNOTATIONS]
        ],
    )
    if not report.ok:
        result.failure = line
        ctx.notifier.send(_verification_notice(repo, store.origin, line, report))
    return result


def _verification_notice(
    repo: str, origin: str, line: str, report: VerifyReport
) -> Notice:
    return Notice(
        kind="verification-failure",
        key=f"verification-failure:{origin}:{report.head}",
        repo=repo,
        title=render("action/verify_notice_title.txt", repo=repo).strip(),
        text=render("action/verify_notice.mrkdwn", line=line, report=report),
    )


# --- shared ------------------------------------------------------------------------


def _entry_outputs(index: int, checkpoint: str | None) -> dict[str, str]:
    outputs = {"entry_index": str(index)}
    if checkpoint:
        outputs["checkpoint"] = checkpoint
    return outputs


def _checkpoint(step: Step) -> str | None:
    return step.logs[-1].checkpoint() if step.logs else None


def _lenient_annotations(step: Step) -> list[Annotation]:
    """Warn about invalid policy files that a recording fell back from."""
    problems = tuple(
        problem
        for err in step.context.invalid
        for problem in (err.problems or [ConfigProblem(str(err))])
    )
    return _config_annotations(step, problems, "recorded", "warning")


def _skipped(why: str, event: str) -> Result:
    text = render("action/skipped.txt", why=why, event=event).strip()
    return Result(sections=[Section(text)])


_HANDLERS: dict[Task, Handler] = {
    "evaluate": evaluate,
    "record": record,
    "commands": commands,
    "deploy": deploy,
    "reconcile": reconcile,
    "verify": verify_log,
}
