"""Run a simulated GitHub in a thread, and a Python API for tests to drive it."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

# NOTE: importing the endpoint modules registers their routes.
from ghsim import (  # noqa: F401
    access,
    admin,
    apps,
    checks,
    commits,
    deployments,
    gates,
    gitdata,
    issues,
    merges,
    persist,
    protection,
    pulls,
    repos,
    reviews,
)
from ghsim.faults import Fault
from ghsim.http import Application, Exchange
from ghsim.hub import Hub
from ghsim.state import CheckRun, Comment, Gate, Pull, Repo
from ghsim.webhooks import Delivery

log = logging.getLogger(__name__)


class Simulator:
    """A simulated GitHub serving HTTP on a loopback port, state under ``root``.

    With ``persistent``, what git does not hold is saved on `stop` and read
    back by the next simulator on the same ``root``.
    """

    def __init__(
        self,
        root: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        token_ttl: int = 3600,
        synchronous_webhooks: bool = True,
        persistent: bool = False,
    ) -> None:
        self.root = Path(root)
        self.persistent = persistent
        self.hub = Hub(
            self.root, webhook_url, webhook_secret, token_ttl, synchronous_webhooks
        )
        if persistent:
            persist.load(self.hub)
        self.wsgi = Application(self.hub)
        self._server: BaseWSGIServer = make_server(
            host, port, self.wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.host, self.port = host, self._server.server_port
        self.hub.base_url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None
        self._serving = False

    # --- running -------------------------------------------------------------

    def start(self) -> Simulator:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.05,),
            daemon=True,
            name="ghsim",
        )
        self._serving = True
        self._thread.start()
        log.info("simulator listening", extra={"url": self.base_url})
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted."""
        self._serving = True
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and wait for background webhooks."""
        # NOTE: shutdown() waits for a serve loop; one that never ran would hang.
        if self._serving:
            self._server.shutdown()
            self._serving = False
        self._server.server_close()
        self.hub.hooks.wait()
        if self.persistent:
            persist.save(self.hub)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- what clients need ---------------------------------------------------

    @property
    def base_url(self) -> str:
        """Return the API root, e.g. ``http://127.0.0.1:54321``."""
        return self.hub.base_url

    @property
    def app(self) -> dict[str, Any]:
        """Return the App's credentials: DIR/app.json plus `private_key` (PEM text)."""
        return self.hub.app.credentials() | {
            "private_key": self.hub.app.private_pem.decode()
        }

    @property
    def webhook_secret(self) -> str:
        """Return the secret webhooks are signed with."""
        return self.hub.app.webhook_secret

    def client(self, login: str) -> requests.Session:
        """Return an HTTP session acting as user ``login``; paths are relative."""
        return _Session(self.base_url, f"token sim-{login}")

    def installation_id(self, account: str) -> int:
        """Return the id of the App's installation on ``account``."""
        return self.hub.installation_for(account).id

    def installation_token(self, account: str) -> str:
        """Issue an installation token for ``account`` without the JWT dance."""
        return self.hub.app.issue_token(self.installation_id(account)).value

    # --- steering ------------------------------------------------------------

    def fail(
        self,
        path: str,
        kind: str = "500",
        times: int = 1,
        method: str | None = None,
        retry_after: int = 1,
        delay: float = 3.0,
    ) -> None:
        """Make the next ``times`` calls whose path matches glob ``path`` fail."""
        self.hub.faults.add(Fault(kind, path, method, times, retry_after, delay))

    def set_token_ttl(self, seconds: int) -> None:
        """Make installation tokens issued from now on expire after ``seconds``."""
        self.hub.app.token_ttl = seconds

    def drop_webhooks(self, drop: bool = True) -> None:
        """Make deliveries fail (recorded, not received) until told otherwise."""
        self.hub.hooks.drop = drop

    def set_webhook_sink(self, sink: Any) -> None:
        """Deliver webhooks to ``sink(headers, body) -> status`` instead of a URL."""
        self.hub.hooks.sink = sink

    # --- inspecting ----------------------------------------------------------

    def repo(self, full_name: str) -> Repo:
        """Return a repository's state; KeyError when it does not exist."""
        owner, name = full_name.split("/", 1)
        found = self.hub.world.repo(owner, name)
        if found is None:
            raise KeyError(full_name)
        return found

    def pull(self, full_name: str, number: int) -> Pull:
        """Return a PR's state."""
        return self.repo(full_name).pulls[number]

    def check_runs(self, full_name: str, name: str | None = None) -> list[CheckRun]:
        """Return a repository's check runs, oldest first."""
        runs = list(self.repo(full_name).check_runs.values())
        return [r for r in runs if name is None or r.name == name]

    def comments(self, full_name: str, number: int) -> list[Comment]:
        """Return a PR's comments, oldest first."""
        return [c for c in self.repo(full_name).comments.values() if c.number == number]

    def request_gate(
        self, full_name: str, environment: str, ref: str, login: str
    ) -> Gate:
        """Play a deploy job that waits on the App's protection rule; return it.

        The App's answer lands in the returned gate's ``reviews``.
        """
        return gates.request_gate(
            self.hub, self.repo(full_name), environment, ref, login
        )

    def deliveries(self, event: str | None = None) -> list[Delivery]:
        """Return webhook deliveries (of ``event``), oldest first."""
        return self.hub.hooks.events(event)

    def exchanges(self) -> list[Exchange]:
        """Return the recent requests and answers, oldest first (for schema checks)."""
        return list(self.wsgi.exchanges)

    def git_dir(self, full_name: str) -> Path:
        """Return the bare repository behind ``full_name``."""
        return self.repo(full_name).git.path


class _QuietHandler(WSGIRequestHandler):
    """Log requests at debug level instead of printing them."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("request", extra={"line": self.requestline, "code": code})


class _Session(requests.Session):
    """A requests session with a base URL and a fixed Authorization header."""

    def __init__(self, base_url: str, authorization: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.headers.update(
            {"Authorization": authorization, "Accept": "application/vnd.github+json"}
        )

    def request(
        self,
        method: str | bytes,
        url: str | bytes,
        *args: Any,
        **kwargs: Any,
    ) -> requests.Response:
        """Send a request; a path is taken relative to the simulator's root."""
        text = url.decode() if isinstance(url, bytes) else url
        if text.startswith("/"):
            text = self.base_url + text
        kwargs.setdefault("timeout", 30)
        return super().request(method, text, *args, **kwargs)
