"""reconcile: make sure no lost webhook leaves a hole in the log.

1. Every PR merged since ``since`` whose `change` entry is missing gets one
   (the idempotency key makes a race with the webhook harmless).
2. Webhook deliveries that failed since ``since`` are redelivered through
   GitHub's deliveries API, once each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from changebot.audit.log import AuditLog
from changebot.flows.context import Context
from changebot.flows.merge import change_key, record_merge

log = logging.getLogger(__name__)

#: Called with a delivery guid; True the first time (so each is redelivered once).
FirstTime = Callable[[str], bool]


@dataclass
class Reconciled:
    """What a reconcile did."""

    recorded: list[tuple[str, int, int]] = field(default_factory=list)
    redelivered: list[str] = field(default_factory=list)
    #: Ids of the jobs queued again because the worker running them was lost.
    rerun: list[str] = field(default_factory=list)


def reconcile(
    ctx: Context, repos: Iterable[str], since: datetime, first_time: FirstTime
) -> Reconciled:
    """Record missed merges in ``repos`` and redeliver failed webhooks."""
    done = Reconciled()

    # 1. merges without an entry
    for repo in sorted(set(repos)):
        done.recorded.extend(record_missing(ctx, repo, since))

    # 2. failed deliveries
    for delivery in ctx.forge.failed_deliveries(since):
        if first_time(delivery.guid):
            ctx.forge.redeliver(delivery.id)
            done.redelivered.append(delivery.guid)
    log.info(
        "reconciled",
        extra={"recorded": len(done.recorded), "redelivered": len(done.redelivered)},
    )
    return done


def record_missing(
    ctx: Context, repo: str, since: datetime
) -> list[tuple[str, int, int]]:
    """Record each PR of ``repo`` merged since ``since`` that has no entry yet."""
    recorded = []
    audit_by_base: dict[str, AuditLog] = {}
    for merged in ctx.forge.merged_pulls(repo, since):
        audit = audit_by_base.get(merged.base_ref)
        if audit is None:
            audit = ctx.audit(repo, ctx.lenient_policy(repo, merged.base_ref))
            audit_by_base[merged.base_ref] = audit
        if audit.find(change_key(repo, merged.number)) is not None:
            continue
        outcome = record_merge(ctx, repo, merged.number)
        if outcome is not None:
            log.warning(
                "missed merge recorded", extra={"repo": repo, "pr": merged.number}
            )
            recorded.append((repo, merged.number, outcome.change.index))
    return recorded
