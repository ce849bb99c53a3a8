"""Prometheus metrics (the only prometheus_client import).

Web processes and workers count into the same families. When
PROMETHEUS_MULTIPROC_DIR is set (``changebot serve`` sets it under the data
directory), every process writes there and ``/metrics`` sums them all.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST

WEBHOOKS = Counter(
    "changebot_webhooks",
    "Webhook deliveries received, by event and outcome.",
    ["event", "outcome"],
)
JOB_SECONDS = Histogram(
    "changebot_job_seconds",
    "How long a job ran, by job and outcome.",
    ["job", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
GITHUB_CALLS = Counter(
    "changebot_github_calls",
    "Requests made to the GitHub API, by method and status class.",
    ["method", "status"],
)
RATE_LIMIT_REMAINING = Gauge(
    "changebot_github_rate_limit_remaining",
    "Requests left in GitHub's current rate-limit window, as last reported.",
    multiprocess_mode="mostrecent",
)
AUDIT_APPENDS = Counter(
    "changebot_audit_appends",
    "Audit entries appended, by kind (duplicates of an idempotency key excluded).",
    ["kind"],
)
VERIFICATION_FAILURES = Counter(
    "changebot_verification_failures",
    "Audit log verifications that found tampering or could not verify.",
)


def webhook(event: str, outcome: str) -> None:
    """Count one webhook delivery and what became of it."""
    WEBHOOKS.labels(event=event or "unknown", outcome=outcome).inc()


def job_finished(job: str, outcome: str, seconds: float) -> None:
    """Record one job run's duration."""
    JOB_SECONDS.labels(job=job, outcome=outcome).observe(seconds)


def github_call(method: str, status: int, remaining: int | None = None) -> None:
    """Count one GitHub API request; adapters call this for every response."""
    GITHUB_CALLS.labels(method=method.upper(), status=f"{status // 100}xx").inc()
    if remaining is not None:
        RATE_LIMIT_REMAINING.set(remaining)


def audit_appended(kind: str) -> None:
    """Count one new audit entry."""
    AUDIT_APPENDS.labels(kind=kind).inc()


def verification_failed() -> None:
    """Count one verification that did not come out intact."""
    VERIFICATION_FAILURES.inc()


class _QueueDepth(Collector):
    """Reads the queue depth at scrape time, so every scrape is current."""

    def __init__(self, depth: Callable[[], int]) -> None:
        self._depth = depth

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "changebot_queue_depth", "Jobs waiting in the queue, now or to retry."
        )
        # NOTE: a broken queue must not fail the whole scrape.
        try:
            family.add_metric([], self._depth())
        except Exception as err:
            log.warning("queue depth unavailable", extra={"error": str(err)})
            return
        yield family


def exposition(depth: Callable[[], int]) -> bytes:
    """Return every metric in Prometheus' text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)  # type: ignore[no-untyped-call]
    else:
        processes = REGISTRY
    current = CollectorRegistry()
    current.register(_QueueDepth(depth))
    return bytes(generate_latest(processes)) + bytes(generate_latest(current))
