"""The stage: a simulated GitHub, a Slack stand-in and the App, on loopback.

The simulator and the Slack stand-in run in this process, so the story can
look at what they hold; the App runs as `changebot serve` (gunicorn and an
embedded worker) in its own processes, exactly as an operator starts it.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from changebot.adapters.git import GitStore
from changebot.audit import SigningKey
from changebot.audit.layout import DEFAULT_BRANCH
from changebot.demo.slackroom import SlackRoom
from changebot.errors import DemoError
from ghsim import Simulator

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
#: Seconds the App gets to answer /healthz after it was started.
START_TIMEOUT = 60.0
_ENTRY = "from changebot.cli import main; main(prog_name='changebot')"
#: Settings of the operator's shell that must not leak into the demo's App.
_FOREIGN = ("CHANGEBOT_", "PROMETHEUS_MULTIPROC_DIR")


@dataclass
class Stage:
    """Everything the demo runs, and where it keeps its files."""

    root: Path
    simulator: Simulator
    slack: SlackRoom
    key: SigningKey
    public_key: Path
    app_url: str
    app_log: Path
    server: subprocess.Popen[bytes] | None = None

    @property
    def github_dir(self) -> Path:
        """Return where the simulator keeps its repositories and the App's key."""
        return self.root / "github"

    def start_app(self) -> None:
        """Start `changebot serve` for the simulator's App (returns at once)."""
        out = self.app_log.open("ab")
        argv = [sys.executable, "-c", _ENTRY, "-v", "serve", *self._serve_args()]
        self.server = subprocess.Popen(  # noqa: S603 - our own interpreter and argv
            argv,
            env=self._app_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        out.close()
        log.info("app starting", extra={"pid": self.server.pid, "url": self.app_url})

    def wait_for_app(self) -> None:
        """Wait until the App answers /healthz; stop with its log if it cannot."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self.check_app()
            if _healthy(self.app_url):
                return
            time.sleep(0.2)
        raise DemoError(
            f"the App did not answer {self.app_url}/healthz in {START_TIMEOUT:.0f} s:\n"
            f"{self.log_tail()}"
        )

    def check_app(self) -> None:
        """Stop the step at once when the App's server has died."""
        if self.server is not None and self.server.poll() is not None:
            raise DemoError(f"the App stopped:\n{self.log_tail()}")

    def listen(self) -> None:
        """Have the simulator send its webhooks to the App from now on."""
        self.simulator.hub.hooks.url = f"{self.app_url}/webhook"

    def index_for_browser(self, repo: str) -> None:
        """Index the audit branch of ``repo`` for the audit browser (and verify it)."""
        from changebot.index import Indexer
        from changebot.index.refresh import refresh

        store = GitStore(self.simulator.git_dir(repo), DEFAULT_BRANCH)
        index = Indexer(self.root / "app" / "audit-index.sqlite3")
        refresh(index, repo, store, [self.key.public])

    def log_tail(self, lines: int = 30) -> str:
        """Return the end of the App's log."""
        try:
            text = self.app_log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the App, the Slack stand-in and the simulator."""
        _stop(self.server)
        self.slack.stop()
        self.simulator.stop()

    def _serve_args(self) -> list[str]:
        port = self.app_url.rsplit(":", 1)[1]
        return ["--host", HOST, "--port", port, "--workers", "1", "--threads", "4"]

    def _app_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
        app = self.simulator.app
        return env | {
            "CHANGEBOT_APP_ID": str(app["id"]),
            "CHANGEBOT_PRIVATE_KEY_PATH": str(self.github_dir / "app-private-key.pem"),
            "CHANGEBOT_WEBHOOK_SECRET": self.simulator.webhook_secret,
            "CHANGEBOT_SIGNING_KEY_PATH": str(self.root / "keys" / "audit.key"),
            "CHANGEBOT_DATA_DIR": str(self.root / "app"),
            "CHANGEBOT_GITHUB_URL": self.simulator.base_url,
            "CHANGEBOT_GITHUB_WEB_URL": self.simulator.base_url,
            "CHANGEBOT_OAUTH_CLIENT_ID": str(app["client_id"]),
            "CHANGEBOT_OAUTH_CLIENT_SECRET": str(app["client_secret"]),
            "CHANGEBOT_SLACK_WEBHOOK": self.slack.url,
            "CHANGEBOT_PUBLIC_URL": self.app_url,
            "CHANGEBOT_JOB_RETRIES": "3",
            "CHANGEBOT_JOB_RETRY_DELAY": "0.5",
            # NOTE: off, so that no reconcile redelivers the seeding's
            # (unheard) webhooks in the middle of the story.
            "CHANGEBOT_RECONCILE_MINUTES": "0",
            "PYTHONUNBUFFERED": "1",
        }


def open_stage(root: Path, port: int | None = None) -> Stage:
    """Start the simulator and the Slack stand-in, and make the signing key."""
    root.mkdir(parents=True, exist_ok=True)
    simulator = Simulator(root / "github", host=HOST, synchronous_webhooks=False)
    simulator.start()
    slack = SlackRoom(HOST).start()
    key = SigningKey.generate("demo.changebot")
    (root / "keys").mkdir(exist_ok=True)
    _, public, _ = key.save(root / "keys" / "audit")
    return Stage(
        root=root,
        simulator=simulator,
        slack=slack,
        key=key,
        public_key=public,
        app_url=f"http://{HOST}:{port or free_port()}",
        app_log=root / "app.log",
    )


def free_port() -> int:
    """Return a loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _stop(server: subprocess.Popen[bytes] | None) -> None:
    """Stop gunicorn (which stops its worker), then anything it left behind."""
    if server is None:
        return
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            log.warning("app did not stop in time", extra={"pid": server.pid})
    # NOTE: the session holds gunicorn's workers and the embedded job worker.
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
