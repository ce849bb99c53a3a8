"""The GitHub App wired to the GitHub simulator, as production wires it.

The simulator sends its signed webhooks to the App's `POST /webhook` (Flask's
test client); the intake queues them in a real SQLite huey queue; `work()`
runs the queued jobs as a worker does, through the router, the flows, the
PyGithub adapter (over HTTP, back to the simulator) and an audit log kept on
the simulated repository's `changebot/audit` branch, signed with a real key.

Each test module makes its own `app_host` fixture with `AppHost(simulator,
tmp_path)`, and calls `listen()` once the repositories it needs are seeded:
the seeding's own deliveries are then recorded as failed (no receiver yet).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from changebot.adapters.git import GitStore
from changebot.audit import AuditLog, SigningKey, verify
from changebot.compose import Services, build
from changebot.ports import Notice
from changebot.server import create_app
from changebot.settings import Settings
from ghsim import Simulator

AUDIT_BRANCH = "changebot/audit"
RATIONALE = (
    "## Why\nThe demo resource must be replaced before the quarterly audit.\n\n"
    "## Risk\nLow: nothing reads it, and the plan shows one replacement.\n\n"
    "## Rollback plan\nRevert this PR and apply again."
)


class Recorder:
    """A notifier that keeps every notice it is asked to send, by key."""

    def __init__(self) -> None:
        self.sent: dict[str, Notice] = {}

    def send(self, notice: Notice) -> None:
        self.sent[notice.key] = notice

    def of_kind(self, kind: str) -> list[Notice]:
        """Return the notices of one kind, in the order they were first sent."""
        return [n for n in self.sent.values() if n.kind == kind]


class AppHost:
    """The App (web intake, queue, worker) serving the simulator's webhooks."""

    def __init__(self, simulator: Simulator, data_dir: Path, **options: Any) -> None:
        self.simulator = simulator
        self.key = SigningKey.generate("changebot-test")
        data_dir.mkdir(parents=True, exist_ok=True)
        key_path, _, _ = self.key.save(data_dir / "signing")
        app = simulator.app
        self.settings = Settings(
            app_id=str(app["id"]),
            private_key=app["private_key"],
            webhook_secret=simulator.webhook_secret,
            signing_key_path=key_path,
            data_dir=data_dir / "data",
            github_url=simulator.base_url,
            **{
                "job_retries": 0,
                "job_retry_delay": 0.0,
                "push_settle_seconds": 0.0,
                **options,
            },
        )
        self.services: Services = build(self.settings)
        self.notices = Recorder()
        # NOTE: the one port replaced: notices are kept to be asserted on.
        self.services.notifier = self.notices  # type: ignore[misc]
        self.web = create_app(services=self.services).test_client()
        self.answers: list[tuple[str, int]] = []

    def receive(self, headers: dict[str, str], body: bytes) -> int:
        """Take one delivery from the simulator at `POST /webhook`."""
        answer = self.web.post("/webhook", data=body, headers=headers)
        self.answers.append((headers["X-GitHub-Event"], answer.status_code))
        return answer.status_code

    def listen(self) -> AppHost:
        """Have the simulator deliver its webhooks to this App from now on."""
        self.simulator.set_webhook_sink(self.receive)
        return self

    def work(self) -> int:
        """Run every queued job, as a worker would; fail on a dead letter."""
        done = self.services.queue.drain()
        letters = self.services.queue.dead_letters()
        assert not letters, [(letter.summary, letter.error) for letter in letters]
        return done

    # --- what GitHub ended up with -------------------------------------------

    def check(self, repo: str, number: int) -> Any:
        """Return the `changebot` check run on a PR's current head."""
        head = self.simulator.pull(repo, number).head_sha
        runs = [
            r
            for r in self.simulator.check_runs(repo, "changebot")
            if r.head_sha == head
        ]
        assert len(runs) == 1, f"{len(runs)} changebot check runs on {head}"
        return runs[0]

    def summary_comments(self, repo: str, number: int) -> list[str]:
        """Return the bodies of changebot's summary comments on a PR."""
        return [
            c.body
            for c in self.simulator.comments(repo, number)
            if c.user.endswith("[bot]") and "<!-- changebot:summary -->" in c.body
        ]

    # --- what the audit branch ended up with ---------------------------------

    def store(self, repo: str) -> GitStore:
        """Return the audit branch of ``repo``, read straight from its git dir."""
        return GitStore(self.simulator.git_dir(repo), AUDIT_BRANCH)

    def entries(self, repo: str, kind: str | None = None) -> list[dict[str, Any]]:
        """Return the audit entries of ``repo`` (of one kind), in index order."""
        log = AuditLog(self.store(repo), self.key)
        return [e for e in log.entries() if kind is None or e["kind"] == kind]

    def verified(self, repo: str) -> Any:
        """Verify the audit branch against the App's key; fail on any finding."""
        report = verify(self.store(repo), [self.key.public])
        assert report.ok, [f.line() for f in report.findings] or report.error
        return report
