"""What every flow is given: the ports, and where the audit log of a repo is.

The App builds a Context from its services (`changebot.tasks.context`); the
Action builds one from its inputs. Flows see nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from changebot.audit.log import AuditLog
from changebot.errors import ConfigError
from changebot.flows.notes import KeyValue, Notes
from changebot.policy.config import CONFIG_PATH, Config, load_config
from changebot.ports import AuditStore, Forge, Notifier

log = logging.getLogger(__name__)

#: (repo, branch, central repository or None) -> the store of that audit branch.
OpenStore = Callable[[str, str, str | None], AuditStore]
OpenLog = Callable[[AuditStore], AuditLog]


@dataclass(frozen=True)
class Context:
    """The ports a flow works through, and the App's options."""

    forge: Forge
    notifier: Notifier
    open_store: OpenStore
    open_log: OpenLog
    protected_branches: tuple[str, ...] = ()
    public_url: str | None = None
    #: Rationales and overrides given by `/changebot` commands (None: not kept).
    notes: Notes | None = None
    #: Small facts flows remember across workers, e.g. which PRs have a
    #: comment to keep current (None: nothing is remembered).
    ledger: KeyValue | None = None
    #: Seconds a push that seems to bypass PRs waits before it is recorded:
    #: GitHub links a merge's commits to its PR a moment after the push.
    settle_seconds: float = 0.0

    def policy(self, repo: str, ref: str) -> Config:
        """Return the `.changebot.yml` policy at ``ref``; ConfigError if invalid."""
        text = self.forge.file_at(repo, ref, CONFIG_PATH)
        return load_config(text, source=f"{CONFIG_PATH}@{ref}")

    def lenient_policy(self, repo: str, ref: str) -> Config:
        """Return the policy at ``ref``, or the default one when it is invalid.

        For recording what happened: an audit entry must be written even when
        someone broke the policy file.
        """
        try:
            return self.policy(repo, ref)
        except ConfigError as err:
            log.warning(
                "policy invalid, recording with defaults",
                extra={"repo": repo, "error": str(err)},
            )
            return load_config(None)

    def audit(self, repo: str, config: Config) -> AuditLog:
        """Return the audit log where ``repo``'s entries go."""
        store = self.open_store(repo, config.audit.branch, config.audit.repository)
        return self.open_log(store)
