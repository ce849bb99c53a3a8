"""The composition root: builds every adapter from settings, once.

The server, the worker, the Action and the CLI all start here, so no entry
point wires PyGithub, GitPython, Slack or huey by itself. Adapters that need
credentials are built on first use: a web process only ever queues, and so
never needs the App's private key or the signing key.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from changebot import metrics
from changebot.adapters.queue import JobQueue
from changebot.settings import Settings

if TYPE_CHECKING:
    from changebot.adapters.github import GitHubForge
    from changebot.adapters.githubcache import ShaCache
    from changebot.audit.log import AuditLog
    from changebot.audit.signing import SigningKey
    from changebot.ports import AuditStore, Notifier
    from changebot.tasks import Jobs

log = logging.getLogger(__name__)

#: How many audit files (entries of about 2 KB, idempotency files) a process
#: keeps between jobs: the open shard of several logs, in a few tens of MB.
AUDIT_BLOBS_KEPT = 16_384


@dataclass
class Services:
    """The adapters of one process, built from its settings."""

    settings: Settings
    queue: JobQueue
    jobs: Jobs = field(init=False)

    @cached_property
    def forge(self) -> GitHubForge:
        """Return GitHub as the App installation sees it."""
        from changebot.adapters.github import GitHubForge

        self.settings.require("app_id", "private_key")
        return GitHubForge.for_app(
            app_id=str(self.settings.app_id),
            private_key=str(self.settings.private_key),
            base_url=self.settings.github_url,
            on_response=_count_github_call,
        )

    @cached_property
    def notifier(self) -> Notifier:
        """Return Slack as the settings, or a repository's config, route notices."""
        from changebot.adapters.slack import AppNotifier

        return AppNotifier(
            os.environ,
            data_dir=self.settings.data_dir,
            webhook_url=self.settings.slack_webhook,
            shelf=self.queue.ledger,
        )

    @cached_property
    def signer(self) -> SigningKey:
        """Return the key that signs audit entries."""
        from changebot.audit.signing import SigningKey

        self.settings.require("signing_key_path")
        return SigningKey.load(str(self.settings.signing_key_path))

    def audit_store(self, repo: str, branch: str, repository: str | None) -> AuditStore:
        """Return the audit branch of ``repo`` (or of a central repository)."""
        from changebot.adapters.githubstore import GitDataStore

        return GitDataStore(
            self.forge, repository or repo, branch, blobs=self.audit_blobs
        )

    @cached_property
    def audit_blobs(self) -> ShaCache[bytes]:
        """Return the audit files this process has read, kept for its next jobs.

        A deployment summary reads every entry of the log's open shard: a
        worker reads each of them from GitHub once, not once a deployment.
        """
        from changebot.adapters.githubcache import ShaCache

        return ShaCache(AUDIT_BLOBS_KEPT)

    def audit_log(self, store: AuditStore) -> AuditLog:
        """Return the audit log kept on ``store``, signed with this App's key."""
        from changebot.audit.log import AuditLog

        return AuditLog(store, self.signer)


def _count_github_call(method: str, route: str, status: int, left: int | None) -> None:
    metrics.github_call(method, status, left)


def build(settings: Settings) -> Services:
    """Build the services of a process from ``settings``."""
    from changebot import tasks

    queue = JobQueue(
        settings.data_dir,
        settings.redis_url,
        retries=settings.job_retries,
        retry_delay=settings.job_retry_delay,
    )
    services = Services(settings=settings, queue=queue)
    services.jobs = tasks.register(services)
    log.debug("services built", extra={"queue": queue.backend})
    return services
