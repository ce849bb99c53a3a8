"""Feed the audit index from the App's audit branches on GitHub.

In App mode the logs live on GitHub and the index under CHANGEBOT_DATA_DIR is
the browser's local copy of them, read through the same `AuditStore` port the
flows append through. The index is refreshed:

- after each job, for every audit branch the job opened (one ref read when
  the job appended nothing);
- from the worker's periodic task, for the log of every installed repository;
- on demand, with `changebot audit reindex --app`.

A log is named after the repository its branch lives in (the central audit
repository, when the policy names one). A failed refresh is logged and never
fails the job: the branch stays the source of truth and the next refresh
catches up.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from changebot.audit.signing import PublicKey, load_trusted
from changebot.errors import ChangebotError
from changebot.index.build import Indexer, Verification
from changebot.index.refresh import refresh
from changebot.ports import AuditStore

if TYPE_CHECKING:
    from changebot.compose import Services
    from changebot.flows.context import Context

log = logging.getLogger(__name__)

INDEX_FILE = "audit-index.sqlite3"
TRUSTED_KEYS_ENV = "CHANGEBOT_AUDIT_TRUSTED_KEYS"
VERIFY_HOURS_ENV = "CHANGEBOT_AUDIT_VERIFY_HOURS"
DEFAULT_VERIFY_HOURS = 24.0

#: (repo, branch, central repository or None) -> that audit branch.
OpenStore = Callable[[str, str, str | None], AuditStore]

#: Seconds a repository's log location is trusted by the periodic refresh.
LOCATED_TTL = 3600.0
#: The ledger note (per repository) of where its log was found.
LOCATED = "audit-log-of."

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Feed:
    """Refreshes logs in the index, verified against keys trusted out of band."""

    indexer: Indexer
    trusted: tuple[PublicKey, ...]
    #: How old a full verification may grow; in between only new entries
    #: are checked (None: every move of a branch is verified in full).
    full_every: timedelta | None = timedelta(hours=DEFAULT_VERIFY_HOURS)

    def refresh(
        self, name: str, store: AuditStore, *, rebuild: bool = False
    ) -> Verification | None:
        """Refresh one log; return its verification, or None if it failed."""
        try:
            with _lock(name):
                return refresh(
                    self.indexer,
                    name,
                    store,
                    self.trusted,
                    rebuild=rebuild,
                    full_every=None if rebuild else self.full_every,
                )
        except (ChangebotError, sqlite3.Error, OSError) as err:
            log.warning(
                "audit index not refreshed", extra={"log": name, "error": str(err)}
            )
            return None


@dataclass
class Watch:
    """Remembers the audit branches a job opens, to refresh them after it."""

    feed: Feed | None
    opened: dict[tuple[str, str], tuple[str, AuditStore]] = field(default_factory=dict)

    def context(self, ctx: Context) -> Context:
        """Return ``ctx`` with an `open_store` that remembers what it opens."""
        open_store = ctx.open_store

        def watched(repo: str, branch: str, repository: str | None) -> AuditStore:
            store = open_store(repo, branch, repository)
            name = repository or repo
            self.opened[(name, branch)] = (name, store)
            return store

        return replace(ctx, open_store=watched)

    def refresh(self) -> None:
        """Refresh every log the job opened."""
        if self.feed is None:
            return
        for name, store in self.opened.values():
            self.feed.refresh(name, store)


def feed_of(
    services: Services, environ: Mapping[str, str] | None = None
) -> Feed | None:
    """Return the feed of the App's index, or None when no key can verify it.

    Trusted keys: the public half of the App's signing key, plus the keys
    named by CHANGEBOT_AUDIT_TRUSTED_KEYS (those of earlier rotations).
    """
    env = os.environ if environ is None else environ
    try:
        trusted = [services.signer.public, *load_trusted(_paths(env))]
        hours = float(env.get(VERIFY_HOURS_ENV, "") or DEFAULT_VERIFY_HOURS)
    except (ChangebotError, ValueError) as err:
        log.warning("audit index not fed", extra={"error": str(err)})
        return None
    index = Indexer(services.settings.data_dir / INDEX_FILE)
    return Feed(index, tuple(trusted), timedelta(hours=hours))


def installed_logs(
    ctx: Context, repos: Iterable[str], *, fresh: bool = False
) -> dict[str, AuditStore]:
    """Return the audit log of each repository, by log name (each log once).

    Where a repository's log lives (its policy's `audit` section) is noted
    in the ledger for an hour, so that a periodic refresh costs one ref read
    a log rather than two more calls a repository; ``fresh`` asks again.
    """
    found: dict[tuple[str, str], tuple[str, AuditStore]] = {}
    for repo in sorted(set(repos)):
        where = _where(ctx, repo, fresh)
        if where is None:
            continue
        branch, repository = where
        name = repository or repo
        if (name, branch) not in found:
            found[(name, branch)] = (name, ctx.open_store(repo, branch, repository))
    return dict(found.values())


def _where(ctx: Context, repo: str, fresh: bool) -> tuple[str, str | None] | None:
    """Return (branch, central repository or None) of a repository's log."""
    remembered = _remembered(ctx, repo)
    if remembered is not None and not fresh:
        return remembered
    try:
        config = ctx.lenient_policy(repo, ctx.forge.default_branch(repo))
    except ChangebotError as err:
        log.warning("audit log not located", extra={"repo": repo, "error": str(err)})
        return None
    where = (config.audit.branch, config.audit.repository)
    if ctx.ledger is not None:
        noted = {"at": time.time(), "branch": where[0], "repository": where[1]}
        ctx.ledger.note(LOCATED + repo, json.dumps(noted))
    return where


def _remembered(ctx: Context, repo: str) -> tuple[str, str | None] | None:
    """Return where a repository's log was found within the last hour."""
    text = ctx.ledger.noted(LOCATED + repo) if ctx.ledger is not None else None
    try:
        noted = json.loads(text) if text else None
        if noted is None or time.time() - float(noted["at"]) >= LOCATED_TTL:
            return None
        return str(noted["branch"]), noted["repository"]
    except (ValueError, KeyError, TypeError):
        return None


def refresh_installed(
    feed: Feed, ctx: Context, repos: Iterable[str], *, rebuild: bool = False
) -> dict[str, Verification | None]:
    """Refresh the log of every repository; return each log's verification."""
    return {
        name: feed.refresh(name, store, rebuild=rebuild)
        for name, store in installed_logs(ctx, repos, fresh=rebuild).items()
    }


def _paths(env: Mapping[str, str]) -> list[Path]:
    value = env.get(TRUSTED_KEYS_ENV, "")
    return [Path(p.strip()).expanduser() for p in value.split(",") if p.strip()]


def _lock(name: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(name, threading.Lock())


def refresh_app(
    services: Services, *, rebuild: bool = False
) -> dict[str, Verification | None]:
    """Refresh the log of every repository the App is installed on."""
    from changebot.tasks import REPOS, context

    feed = feed_of(services)
    if feed is None:
        return {}
    repos = set(services.queue.ledger.members(REPOS))
    try:
        repos.update(services.forge.installed_repos())
    except ChangebotError as err:
        log.warning("installations not listed", extra={"error": str(err)})
    return refresh_installed(feed, context(services), repos, rebuild=rebuild)
