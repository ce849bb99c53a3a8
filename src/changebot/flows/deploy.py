"""record_deployment: classify a deployment, record it, and tell people.

1. Read the environment's deployments from the audit log (the forge's latest
   successful deployment when the log has none) to find the live SHA.
2. Classify the new SHA against it and attribute both sides of the range to
   the log's change and direct-push entries.
3. Append the `deployment` or `rollback` entry (successful states only; an
   in-progress or failed deployment changes nothing live).
4. Then, and only then, tell people: PR comments, the deployment status, and
   a Slack notice. A failure to notify never undoes or blocks the entry.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from changebot.audit import layout
from changebot.deploy import outputs
from changebot.deploy.ancestry import (
    Ancestry,
    ForgeAncestry,
    list_ahead,
    lists_locally,
)
from changebot.deploy.attribution import attribute
from changebot.deploy.classify import (
    Movement,
    classify,
    deployments_of,
    earlier_shas,
    live_sha,
)
from changebot.deploy.gate import GateDecision, GatePolicy, decide
from changebot.deploy.landed import LandedAncestry, with_landed
from changebot.deploy.ledger import Ledger
from changebot.deploy.summary import Summary, build_summary
from changebot.errors import ChangebotError, NotifyError
from changebot.flows.context import Context
from changebot.policy.config import Config
from changebot.ports import (
    DeploymentRecord,
    Forge,
    Notice,
    Notifier,
    RoutingNotifier,
)
from changebot.render import link

log = logging.getLogger(__name__)


class Appended(Protocol):
    """What an append returns (`changebot.audit.Appended`)."""

    @property
    def index(self) -> int: ...
    @property
    def created(self) -> bool: ...


class DeploymentLog(Protocol):
    """The parts of `changebot.audit.AuditLog` a deployment needs."""

    def append(
        self, kind: str, repo: str, fields: Mapping[str, Any], idempotency_key: str
    ) -> Appended: ...
    def find(self, idempotency_key: str) -> int | None: ...
    def entry(self, index: int) -> dict[str, Any]: ...
    def entries(self, start: int = 0) -> Iterator[dict[str, Any]]: ...
    def size(self) -> int: ...


@dataclass(frozen=True)
class DeploymentRequest:
    """A deployment as a trigger (webhook, Action step, CLI) reports it."""

    repo: str
    environment: str
    sha: str
    deployer: str | None = None
    reason: str | None = None
    #: GitHub's deployment id; None for the CLI.
    deployment_id: int | None = None
    state: str = "success"
    #: An explicit idempotency key (say, a CI run id); derived when None.
    key: str | None = None
    log_url: str | None = None
    #: The repository's web address, for compare links (no trailing slash).
    web_url: str | None = None
    #: Comment on each PR added or removed.
    comment_pulls: bool = True
    #: Add a deployment status (the Action); the App must not, or it would
    #: answer its own `deployment_status` webhooks.
    set_status: bool = False


@dataclass(frozen=True)
class Outcome:
    """What record_deployment did."""

    summary: Summary
    key: str
    index: int | None
    created: bool
    notified: bool


def deployment_key(request: DeploymentRequest, previous: str | None) -> str:
    """Return the idempotency key of a deployment's entry.

    A GitHub deployment is keyed by its id and state. Without an id (the CLI),
    the SHA and the SHA it replaced stand in, so that going back to a SHA
    deployed before is a new entry while a retried run is not.
    """
    if request.key:
        return request.key
    repo, environment, state = request.repo, request.environment, request.state
    if request.deployment_id is not None:
        return f"deployment:{repo}:{environment}:{request.deployment_id}:{state}"
    return f"deployment:{repo}:{environment}:{request.sha}:{previous}:{state}"


def record_deployment(
    request: DeploymentRequest,
    *,
    audit: DeploymentLog,
    ancestry: Ancestry,
    notifier: Notifier,
    forge: Forge | None = None,
) -> Outcome:
    """Record a deployment in the audit log, then tell the PRs, GitHub and Slack."""
    # 1-2. the summary, as of the entry if a retry finds one already written
    summary, key, index = summarize(
        request, audit=audit, ancestry=ancestry, forge=forge
    )

    # 3. the entry
    created = False
    if request.state == "success" and index is None:
        kind = "rollback" if summary.is_rollback else "deployment"
        appended = audit.append(kind, request.repo, entry_fields(summary, request), key)
        index, created = appended.index, appended.created
        log.info(
            "deployment recorded",
            extra={
                "repo": request.repo,
                "environment": request.environment,
                "index": index,
            },
        )

    # 4. the people
    if forge is not None:
        _tell_github(forge, summary, request)
    notified = _notify(notifier, summary, request)
    return Outcome(summary, key, index, created, notified)


def summarize(
    request: DeploymentRequest,
    *,
    audit: DeploymentLog,
    ancestry: Ancestry,
    forge: Forge | None = None,
) -> tuple[Summary, str, int | None]:
    """Build a deployment's summary; return it, its key and its entry if written."""
    with _collector_paused():
        return _summarize(request, audit, ancestry, forge)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold the cycle collector off while a summary is built, if it was on.

    NOTE: a summary holds every entry of the log (tens of thousands of dicts
    and lists) while it builds thousands of lines, and the collector walked
    them again and again: 10 to 25 ms of a 150 ms summary of 2,000 PRs in
    bench_deploy. A summary makes no garbage cycles of its own; reference
    counting frees what it drops. The pause is process-wide, so other threads
    of the App go without the collector for as long (their cycles are
    collected once it is back on).
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _summarize(
    request: DeploymentRequest,
    audit: DeploymentLog,
    ancestry: Ancestry,
    forge: Forge | None,
) -> tuple[Summary, str, int | None]:
    # 1. the log, and the range from the live SHA listed meanwhile
    entries, listing = _read_log(audit, request, ancestry)

    # 2. what the log says, while git may still be listing the range
    try:
        live = _live(request, audit, entries, forge)
        ledger = with_landed(Ledger.build(entries, request.repo))
    finally:
        listing()

    # 3. the range, classified and attributed
    movement = classify(live.previous, request.sha, live.earlier, ancestry)
    return _summary(movement, ledger, request, ancestry), live.key, live.index


@dataclass(frozen=True)
class _Live:
    """What was live before a deployment, and the deployment's key and entry."""

    previous: str | None
    earlier: set[str]
    key: str
    index: int | None


def _live(
    request: DeploymentRequest,
    audit: DeploymentLog,
    entries: Sequence[Mapping[str, Any]],
    forge: Forge | None,
) -> _Live:
    """Find the live SHA in the log (or the forge), and whether the entry exists."""
    history = deployments_of(entries, request.repo, request.environment)
    fallback = _forge_deployments(forge, request) if not history else []

    previous = live_sha(history, fallback)
    earlier = earlier_shas(history, fallback)
    key = deployment_key(request, previous)
    index = audit.find(key)
    if index is None and _is_retry(request, history):
        index = int(history[-1]["index"])
    if index is not None:
        # A retry: the entry says what was live before it.
        written = audit.entry(index)
        previous = written.get("previous_sha")
        key = str(written.get("idempotency_key") or key)
        earlier = earlier_shas([e for e in history if int(e["index"]) < index])
    return _Live(previous, earlier, key, index)


def _read_log(
    audit: DeploymentLog, request: DeploymentRequest, ancestry: Ancestry
) -> tuple[list[dict[str, Any]], Callable[[], None]]:
    """Return every entry of the log, and what waits for the range being listed.

    The live SHA is that of the environment's newest deployment entry, nearly
    always in the log's last shard. A local clone reads that shard first and
    lists the range on another thread (git runs on a core of its own) while
    the rest of the log is read; `classify` then finds it listed.
    """
    if not lists_locally(ancestry):
        return list(audit.entries()), _nothing
    split = layout.shard_of(max(audit.size() - 1, 0)) * layout.SHARD_SIZE
    tail = list(audit.entries(split))
    history = deployments_of(tail, request.repo, request.environment)
    live = history[-1].get("sha") if history else None
    listing = (
        list_ahead(ancestry, live, request.sha) if isinstance(live, str) else _nothing
    )
    try:
        head = list(itertools.islice(audit.entries(), split))
        if len(head) != split or (head and head[-1].get("index") != split - 1):
            # NOTE: entries not numbered 0, 1, 2, ... (a damaged branch) are
            # read again in one go, as every reader of the log sees them.
            head, tail = [], list(audit.entries())
    except BaseException:
        listing()  # git is not left listing for a summary that failed
        raise
    return head + tail, listing


def _nothing() -> None:
    """Wait for nothing: no range is being listed."""


def _is_retry(request: DeploymentRequest, history: Sequence[Mapping[str, Any]]) -> bool:
    """Tell a re-run of the CLI from a new deployment of the SHA already live."""
    no_id = request.key is None and request.deployment_id is None
    return no_id and bool(history) and history[-1]["sha"] == request.sha


def _forge_deployments(
    forge: Forge | None, request: DeploymentRequest
) -> list[DeploymentRecord]:
    if forge is None:
        return []
    records = forge.deployments(request.repo, request.environment)
    return [r for r in records if r.id != request.deployment_id]


def _summary(
    movement: Movement, ledger: Ledger, request: DeploymentRequest, ancestry: Ancestry
) -> Summary:
    ancestry = LandedAncestry(ancestry, ledger)
    return build_summary(
        movement,
        attribute(movement.added, ledger, ancestry, movement.parents),
        attribute(movement.removed, ledger, ancestry, movement.parents),
        ledger,
        repo=request.repo,
        environment=request.environment,
        deployer=request.deployer,
        reason=request.reason,
        compare_url=link(_compare_url(request, movement)),
        log_url=link(request.log_url),
        state=request.state,
    )


def _compare_url(request: DeploymentRequest, movement: Movement) -> str | None:
    if not request.web_url or not movement.previous_sha:
        return None
    return f"{request.web_url}/compare/{movement.previous_sha}...{movement.sha}"


def entry_fields(summary: Summary, request: DeploymentRequest) -> dict[str, Any]:
    """Return the fields of a `deployment` or `rollback` entry.

    ``pulls`` are the PRs the deployment is about: added, removed for a
    rollback, both for a hotfix.
    """
    pulls = summary.pulls
    if summary.classification == "hotfix":
        pulls = summary.added.pulls + summary.removed.pulls
    return {
        "environment": summary.environment,
        "sha": summary.sha,
        "previous_sha": summary.previous_sha,
        "classification": summary.classification,
        "pulls": [p.number for p in pulls],
        "unrecorded": list(summary.unrecorded),
        "deployer": summary.deployer,
        "reason": summary.reason,
        "deployment_id": request.deployment_id,
    }


def _tell_github(forge: Forge, summary: Summary, request: DeploymentRequest) -> None:
    try:
        if request.comment_pulls and request.state == "success":
            for comment in outputs.pull_comments(summary):
                forge.upsert_comment(
                    request.repo, comment.number, comment.marker, comment.body
                )
        if request.set_status and request.deployment_id is not None:
            forge.set_deployment_status(
                request.repo,
                request.deployment_id,
                request.state,
                outputs.status_description(summary),
                request.log_url,
            )
    except ChangebotError as err:
        # NOTE: the entry is written; a comment lost to GitHub is not worth a
        # retry that would re-run the whole deployment job.
        log.warning(
            "could not post the deployment to github: %s",
            err,
            extra={"repo": request.repo, "environment": request.environment},
        )


def deployment_notice(summary: Summary, request: DeploymentRequest) -> Notice:
    """Return the Slack notice of a deployment: one message per deployment."""
    text, blocks = outputs.slack_message(summary)
    ref = request.deployment_id if request.deployment_id is not None else request.sha
    return Notice(
        kind="rollback" if summary.is_rollback else "deployment",
        key=f"deployment:{request.repo}:{request.environment}:{ref}",
        repo=request.repo,
        title=text.splitlines()[0] if text else "",
        text=text,
        environment=request.environment,
        areas=tuple(sorted({a for p in summary.pulls for a in p.areas})),
        blocks=tuple(blocks),
    )


def _notify(notifier: Notifier, summary: Summary, request: DeploymentRequest) -> bool:
    try:
        notifier.send(deployment_notice(summary, request))
    except NotifyError as err:
        log.warning(
            "deployment notice not delivered: %s",
            err,
            extra={"repo": request.repo, "environment": request.environment},
        )
        return False
    return True


def judge_deployment(
    request: DeploymentRequest,
    *,
    audit: DeploymentLog,
    ancestry: Ancestry,
    policy: GatePolicy,
    forge: Forge | None = None,
) -> tuple[GateDecision, str]:
    """Decide a `deployment_protection_rule`: approve or reject, and why."""
    pending = replace(request, state="pending")
    summary, _, _ = summarize(pending, audit=audit, ancestry=ancestry, forge=forge)
    decision = decide(summary, policy)
    log.info(
        "deployment gate decided",
        extra={
            "repo": request.repo,
            "environment": request.environment,
            "approved": decision.approved,
        },
    )
    return decision, outputs.gate_reason(summary, decision, policy)


def request_from_status(payload: Mapping[str, Any]) -> DeploymentRequest:
    """Read a `deployment_status` webhook into a deployment request."""
    deployment, status = payload["deployment"], payload["deployment_status"]
    extra = deployment.get("payload")
    reason = extra.get("reason") if isinstance(extra, Mapping) else None
    who = (deployment.get("creator") or {}).get("login")
    return DeploymentRequest(
        repo=str(payload["repository"]["full_name"]),
        environment=str(deployment["environment"]),
        sha=str(deployment["sha"]),
        deployer=who,
        reason=reason or deployment.get("description") or None,
        deployment_id=int(deployment["id"]),
        state=str(status["state"]),
        log_url=status.get("log_url") or status.get("target_url") or None,
        web_url=payload["repository"].get("html_url"),
    )


def on_deployment_status(ctx: Context, payload: Mapping[str, Any]) -> Outcome:
    """Answer a `deployment_status` webhook: record and announce the deployment."""
    request = request_from_status(payload)
    branch = ctx.forge.default_branch(request.repo)
    config = ctx.lenient_policy(request.repo, branch)
    environment = config.environment(request.environment)
    if environment is not None and not environment.notify_pr:
        request = replace(request, comment_pulls=False)
    return record_deployment(
        request,
        audit=ctx.audit(request.repo, config),
        ancestry=ForgeAncestry(ctx.forge, request.repo),
        notifier=repository_notifier(ctx, config),
        forge=ctx.forge,
    )


def repository_notifier(ctx: Context, config: Config) -> Notifier:
    """Return the notifier a repository's config routes to, or the App's own.

    A config that names a variable Slack may not read is logged and the
    App's own notifier used: a notice must not be lost to a policy typo.
    """
    if not isinstance(ctx.notifier, RoutingNotifier):
        return ctx.notifier
    try:
        return ctx.notifier.for_config(config)
    except NotifyError as err:
        log.warning("repository slack settings refused: %s", err)
        return ctx.notifier
