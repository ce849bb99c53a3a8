"""What GitHub (the simulator) and the audit branch really show, awaited.

The App answers webhooks through a queue, so each look waits, with a bound,
until what the story expects is there, and says what it saw when it is not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, verify
from changebot.audit.layout import DEFAULT_BRANCH
from changebot.audit.verify import VerifyReport
from changebot.demo.stage import Stage
from changebot.errors import DemoError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds a step waits for the App to do what the story expects.
WAIT = 30.0
POLL = 0.1
CHECK_NAME = "changebot"


@dataclass(frozen=True)
class CheckSeen:
    """The `changebot` check run as it was when it was looked at."""

    head_sha: str
    status: str
    conclusion: str | None
    title: str
    summary: str


class Watch:
    """Looks at the simulator's state and the audit branch of one repository."""

    def __init__(self, stage: Stage, repo: str, wait: float = WAIT) -> None:
        self.stage = stage
        self.repo = repo
        self.timeout = wait

    # --- waiting --------------------------------------------------------------

    def until(self, what: str, probe: Callable[[], T | None]) -> T:
        """Return ``probe()`` once it is not None; DemoError after the bound."""
        deadline = time.monotonic() + self.timeout
        while True:
            found = probe()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise DemoError(f"not seen within {self.timeout:.0f} s: {what}")
            self.stage.check_app()
            time.sleep(POLL)

    # --- GitHub ---------------------------------------------------------------

    def head(self, number: int) -> str:
        """Return a PR's head commit."""
        return self.stage.simulator.pull(self.repo, number).head_sha

    def check(self, number: int) -> CheckSeen | None:
        """Return the latest `changebot` check run on a PR's head, if any."""
        head = self.head(number)
        runs = [
            run
            for run in self.stage.simulator.check_runs(self.repo, CHECK_NAME)
            if run.head_sha == head
        ]
        if not runs:
            return None
        # NOTE: copied, because the simulator updates its run in place.
        run, output = runs[-1], dict(runs[-1].output or {})
        return CheckSeen(
            head_sha=run.head_sha,
            status=run.status,
            conclusion=run.conclusion,
            title=str(output.get("title") or ""),
            summary=str(output.get("summary") or ""),
        )

    def check_is(self, number: int, conclusion: str | None) -> CheckSeen:
        """Wait for the check on a PR's head to end as ``conclusion``.

        None means "not concluded": queued or in progress, waiting for people.
        """

        def probe() -> CheckSeen | None:
            run = self.check(number)
            if run is None:
                return None
            done = run.status == "completed"
            if conclusion is None:
                return run if not done else None
            return run if done and run.conclusion == conclusion else None

        wanted = conclusion or "in progress"
        return self.until(f"check `changebot` on #{number} is {wanted}", probe)

    def bot_comments(self, number: int) -> list[str]:
        """Return the bodies of the App's comments on a PR, oldest first."""
        return [
            comment.body
            for comment in self.stage.simulator.comments(self.repo, number)
            if comment.user.endswith("[bot]")
        ]

    def bot_comment(self, number: int, needle: str) -> str:
        """Wait for an App comment on a PR that contains ``needle``."""

        def probe() -> str | None:
            return next((b for b in self.bot_comments(number) if needle in b), None)

        return self.until(f"a changebot comment on #{number} with {needle!r}", probe)

    # --- Slack ----------------------------------------------------------------

    def slack_message(self, *needles: str) -> str:
        """Wait for a Slack message that contains every one of ``needles``."""

        def probe() -> str | None:
            texts = self.stage.slack.texts()
            return next((t for t in texts if all(n in t for n in needles)), None)

        return self.until(f"a Slack message with {', '.join(needles)}", probe)

    # --- the audit branch -----------------------------------------------------

    def store(self) -> GitStore:
        """Return the audit branch, read straight from the repository's git dir."""
        return GitStore(self.stage.simulator.git_dir(self.repo), DEFAULT_BRANCH)

    def entries(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Return the entries of the audit branch (of ``kind``), in index order."""
        store = self.store()
        if store.head() is None:
            return []
        found = AuditLog(store, self.stage.key).entries()
        return [e for e in found if kind is None or e["kind"] == kind]

    def entry(self, what: str, test: Callable[[dict[str, Any]], bool]) -> Any:
        """Wait for an audit entry for which ``test`` holds."""

        def probe() -> dict[str, Any] | None:
            return next((e for e in self.entries() if test(e)), None)

        return self.until(f"an audit entry for {what}", probe)

    def verify(self, since: str | None = None) -> VerifyReport:
        """Verify the audit branch against the demo's key (and a kept checkpoint)."""
        return verify(self.store(), [self.stage.key.public], since=since)
