"""A stand-in for Slack's incoming webhooks that keeps what it is sent."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)


class SlackRoom:
    """An incoming-webhook endpoint on loopback; every message posted is kept."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, 0), _handler(self))
        self.url = f"http://{host}:{self._server.server_port}/services/demo"
        self._thread = threading.Thread(
            target=self._server.serve_forever, daemon=True, name="slackroom"
        )

    def start(self) -> SlackRoom:
        """Take messages in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop taking messages."""
        self._server.shutdown()
        self._server.server_close()

    def keep(self, message: dict[str, Any]) -> None:
        """Keep one posted message."""
        with self._lock:
            self.messages.append(message)

    def kept(self) -> list[dict[str, Any]]:
        """Return the messages posted so far, oldest first."""
        with self._lock:
            return list(self.messages)

    def texts(self) -> list[str]:
        """Return each message as one searchable string (text and blocks)."""
        return [json.dumps(m, ensure_ascii=False) for m in self.kept()]


def _handler(room: SlackRoom) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """Answer a webhook post as Slack does: `ok`, or 400 for bad JSON."""

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                room.keep(json.loads(self.rfile.read(length) or b"{}"))
            except ValueError:
                self._answer(400, b"invalid_payload")
                return
            self._answer(200, b"ok")

        def do_GET(self) -> None:
            """Show what was posted so far, as a JSON list, oldest first."""
            body = json.dumps(room.kept(), indent=2, ensure_ascii=False)
            self._answer(200, body.encode(), "application/json; charset=utf-8")

        def _answer(self, status: int, body: bytes, kind: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("slack stand-in: " + format, *args)

    return Handler
