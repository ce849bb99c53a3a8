"""A Slack stand-in on loopback: incoming webhooks that can answer 429 and 5xx.

NOTE: slack_sdk posts through urllib, so Slack is played by a real HTTP
server; nothing here imports changebot.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class SlackRoom:
    """Record every message posted; answer from a script, then 200 ok."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.refused: list[int] = []
        self._script: list[tuple[int, dict[str, str]]] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{port}/services/T0ACME/B0DEPLOY/xoxsecretpath"

    def fail(self, status: int, times: int = 1, **headers: str) -> None:
        """Answer the next ``times`` posts with ``status`` (and ``headers``)."""
        with self._lock:
            self._script.extend([(status, headers)] * times)

    def texts(self) -> list[str]:
        """Return each accepted message as the JSON text Slack received."""
        return [json.dumps(m, ensure_ascii=False) for m in self.messages]

    def _answer(self, body: dict[str, Any]) -> tuple[int, dict[str, str]]:
        with self._lock:
            status, headers = self._script.pop(0) if self._script else (200, {})
            if status == 200:
                self.messages.append(body)
            else:
                self.refused.append(status)
        return status, headers

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        room = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                size = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(size) or b"{}")
                status, headers = room._answer(body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"slow down")

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@contextmanager
def slack_room() -> Iterator[SlackRoom]:
    """Serve a `SlackRoom` for the duration of the block."""
    room = SlackRoom()
    thread = threading.Thread(
        target=room.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield room
    finally:
        room.server.shutdown()
        room.server.server_close()
