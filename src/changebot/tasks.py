"""The queue's jobs: handle one webhook delivery, reconcile the log.

Jobs are idempotent (upserts and audit idempotency keys), retried with
exponential backoff, and end as dead letters (`changebot jobs`) when every
retry failed. Jobs about one pull request hold its lock while they run.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from changebot import metrics
from changebot.adapters.queue import Busy, Job
from changebot.errors import Deferred, RateLimited
from changebot.flows.events import repo_of, subject

if TYPE_CHECKING:
    from changebot.compose import Services
    from changebot.flows.context import Context
    from changebot.flows.reconcile import Reconciled

log = logging.getLogger(__name__)

#: The ledger set of every repository a delivery has named.
REPOS = "repos"
#: The ledger note holding when the last reconcile started.
RECONCILED = "reconciled-at"
FIRST_LOOK_BACK = timedelta(days=7)
RECONCILE_MARGIN = timedelta(minutes=10)
#: A failed delivery is redelivered once; GitHub keeps deliveries for 3 days.
REDELIVERY_TTL = 4 * 24 * 3600


@dataclass(frozen=True)
class Jobs:
    """The kinds of job a changebot queue runs."""

    delivery: Job
    reconcile: Job


def register(services: Services) -> Jobs:
    """Register changebot's jobs on the services' queue."""
    queue = services.queue

    @queue.job("delivery", summarize=_describe_delivery)
    def delivery(event: str, guid: str, payload: str | dict[str, Any]) -> None:
        handle_delivery(services, event, guid, _payload(payload))

    @queue.job("reconcile", summarize=lambda args: "reconcile every installation")
    def reconcile() -> None:
        run_reconcile(services)

    @queue.every(services.settings.reconcile_minutes, "reconcile-periodic")
    def periodic_reconcile() -> None:
        reconcile.enqueue()

    return Jobs(delivery=delivery, reconcile=reconcile)


def handle_delivery(
    services: Services, event: str, guid: str, payload: dict[str, Any]
) -> None:
    """Run the flow a webhook delivery calls for."""
    from changebot.flows.router import route
    from changebot.index.feed import Watch, feed_of

    repo = repo_of(payload)
    fields = {"delivery": guid, "event": event, "repo": repo}
    watch = Watch(feed_of(services))
    with services.queue.exclusive(subject(event, payload)), _timed("delivery", fields):
        for named in _repos_named(event, payload):
            services.queue.ledger.add(REPOS, named)
        route(watch.context(context(services)), event, guid, payload)
    # the audit index: refresh the logs the flow opened (it may have appended)
    watch.refresh()


def _repos_named(event: str, payload: dict[str, Any]) -> list[str]:
    """Return the repositories a delivery names: reconcile looks at each."""
    from changebot.flows.install import installed_repos

    repo = repo_of(payload)
    if event in ("installation", "installation_repositories"):
        return installed_repos(event, payload)
    return [repo] if repo else []


def run_reconcile(services: Services, since: datetime | None = None) -> Reconciled:
    """Rerun lost jobs, record merges the webhooks missed, redeliver failures.

    Looks back to the previous reconcile's start (less a margin for clock
    skew and slow merges), or a week on the first run. A delivery job that a
    worker took and never finished (it was killed) is queued again first:
    a direct push or a merge's PR comment has no other way back.
    """
    from changebot.flows.reconcile import reconcile
    from changebot.index.feed import refresh_app

    ledger = services.queue.ledger
    started = datetime.now(UTC)
    since = since or _last_reconcile(services) - RECONCILE_MARGIN

    def first_time(guid: str) -> bool:
        return ledger.claim(f"redelivered.{guid}", REDELIVERY_TTL)

    with _timed("reconcile", {"since": since.isoformat()}):
        rerun = services.queue.recover()
        done = reconcile(context(services), ledger.members(REPOS), since, first_time)
    done.rerun.extend(rerun)
    ledger.note(RECONCILED, started.isoformat())
    # NOTE: delivery ids are remembered for days; forget them once expired.
    ledger.prune()
    # the audit index: refresh the log of every installed repository
    refresh_app(services)
    return done


def _last_reconcile(services: Services) -> datetime:
    noted = services.queue.ledger.noted(RECONCILED)
    if noted is None:
        return datetime.now(UTC) - FIRST_LOOK_BACK
    return datetime.fromisoformat(noted)


def context(services: Services) -> Context:
    """Return the flows' view of the services: the ports and the options."""
    from changebot.flows.context import Context
    from changebot.flows.notes import Notes

    return Context(
        forge=services.forge,
        notifier=services.notifier,
        open_log=services.audit_log,
        open_store=services.audit_store,
        protected_branches=services.settings.protected_branches,
        public_url=services.settings.public_url,
        notes=Notes(services.queue.ledger),
        ledger=services.queue.ledger,
        settle_seconds=services.settings.push_settle_seconds,
    )


@contextmanager
def _timed(job: str, fields: dict[str, Any]) -> Iterator[None]:
    start = time.monotonic()
    try:
        yield
    except Busy:
        log.debug("job waits for its subject", extra={**fields, "job": job})
        raise
    except Deferred as err:
        log.info("job deferred", extra={**fields, "job": job, "why": str(err)})
        raise Busy(delay=err.delay) from err
    except RateLimited as err:
        # NOTE: waiting for GitHub's limit to reset uses up none of the retries,
        # which would all be spent before a long limit resets.
        log.info("job waits for a rate limit", extra={**fields, "job": job})
        raise Busy(delay=max(1.0, err.retry_at - time.time())) from err
    except Exception as err:
        metrics.job_finished(job, "error", time.monotonic() - start)
        log.warning("job failed", extra={**fields, "job": job, "error": str(err)})
        raise
    metrics.job_finished(job, "ok", time.monotonic() - start)
    log.info("job done", extra={**fields, "job": job})


def _payload(given: str | dict[str, Any]) -> dict[str, Any]:
    """Return a delivery's payload: the intake queues its JSON text."""
    if isinstance(given, dict):
        return given
    payload: dict[str, Any] = json.loads(given)
    return payload


def _describe_delivery(args: list[Any]) -> str:
    event, guid, given = (args + [None, None, {}])[:3]
    try:
        payload = _payload(given)
    except (TypeError, ValueError):
        payload = {}
    action = payload.get("action")
    what = f"{event}.{action}" if action else str(event)
    return f"{what} {subject(str(event), payload)} (delivery {guid})"
