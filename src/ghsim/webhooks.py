"""Webhook deliveries: signed as GitHub signs them, recorded, redeliverable.

See: https://docs.github.com/webhooks/webhook-events-and-payloads#delivery-headers
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from ghsim.state import now

log = logging.getLogger(__name__)

HOOK_ID = 4242
USER_AGENT = "GitHub-Hookshot/ghsim"
TIMEOUT = 10.0

#: A Python receiver for tests: (headers, body) -> HTTP status code.
Sink = Callable[[dict[str, str], bytes], int]


@dataclass
class Delivery:
    """One attempt to deliver one event."""

    id: int
    guid: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    body: bytes
    headers: dict[str, str]
    delivered_at: datetime = field(default_factory=now)
    redelivery: bool = False
    status_code: int = 0
    status: str = "pending"
    duration: float = 0.0
    response_body: str = ""

    @property
    def payload(self) -> dict[str, Any]:
        """Return the delivered JSON payload."""
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def ok(self) -> bool:
        """Say whether the receiver answered 2xx."""
        return 200 <= self.status_code < 300


class Webhooks:
    """Sends events to one URL (or a Python sink) and remembers every delivery."""

    def __init__(
        self, secret: str, url: str | None = None, synchronous: bool = True
    ) -> None:
        self.secret = secret
        self.url = url
        self.sink: Sink | None = None
        self.synchronous = synchronous
        #: When True, deliveries fail as if the receiver were unreachable.
        self.drop = False
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._next_id = 1
        self._threads: list[threading.Thread] = []

    def send(self, event: str, payload: dict[str, Any]) -> Delivery:
        """Deliver ``event`` with ``payload`` (now, or in the background)."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        guid = str(uuid.uuid4())
        delivery = self._record(event, payload, body, guid, redelivery=False)
        self._dispatch(delivery)
        return delivery

    def redeliver(self, delivery_id: int) -> Delivery | None:
        """Deliver a recorded event again, with the same GUID, as a new delivery."""
        original = self.find(delivery_id)
        if original is None:
            return None
        delivery = self._record(
            original.event,
            original.payload,
            original.body,
            original.guid,
            redelivery=True,
        )
        self._dispatch(delivery)
        return delivery

    def find(self, delivery_id: int) -> Delivery | None:
        """Return a delivery by id."""
        return next((d for d in self.deliveries if d.id == delivery_id), None)

    def wait(self, timeout: float = 10.0) -> None:
        """Wait for background deliveries to finish."""
        for thread in list(self._threads):
            thread.join(timeout)

    def events(self, event: str | None = None) -> list[Delivery]:
        """Return deliveries of ``event`` (all when None), oldest first."""
        return [d for d in self.deliveries if event is None or d.event == event]

    def _record(
        self,
        event: str,
        payload: dict[str, Any],
        body: bytes,
        guid: str,
        redelivery: bool,
    ) -> Delivery:
        headers = self._headers(event, guid, body)
        installation = payload.get("installation") or {}
        repository = payload.get("repository") or {}
        with self._lock:
            delivery = Delivery(
                self._next_id,
                guid,
                event,
                payload.get("action"),
                installation.get("id"),
                repository.get("id"),
                body,
                headers,
                redelivery=redelivery,
            )
            self._next_id += 1
            self.deliveries.append(delivery)
        return delivery

    def _headers(self, event: str, guid: str, body: bytes) -> dict[str, str]:
        digest = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": guid,
            "X-GitHub-Hook-ID": str(HOOK_ID),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": "1",
            "X-Hub-Signature-256": f"sha256={digest}",
        }

    def _dispatch(self, delivery: Delivery) -> None:
        if self.synchronous:
            self._deliver(delivery)
            return
        thread = threading.Thread(target=self._deliver, args=(delivery,), daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _deliver(self, delivery: Delivery) -> None:
        """Post one delivery and record how the receiver answered."""
        started = time.monotonic()
        if self.drop:
            code, text = 0, "dropped by the simulator"
        elif self.sink is not None:
            code, text = _call_sink(self.sink, delivery)
        elif self.url:
            code, text = _post(self.url, delivery.headers, delivery.body)
        else:
            code, text = 0, "no webhook url configured"
        delivery.duration = round(time.monotonic() - started, 3)
        delivery.status_code = code
        delivery.response_body = text
        delivery.status = "OK" if delivery.ok else (text or f"HTTP {code}")
        log.debug("webhook delivered", extra={"guid": delivery.guid, "code": code})


def _call_sink(sink: Sink, delivery: Delivery) -> tuple[int, str]:
    """Hand a delivery to a Python receiver; its crash is a failed delivery."""
    try:
        return sink(dict(delivery.headers), delivery.body), ""
    except Exception as err:  # noqa: BLE001 - GitHub records any failure
        log.warning("webhook sink failed", extra={"guid": delivery.guid})
        return 0, f"receiver failed: {err!r}"


def _post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    """POST with the header names spelled as GitHub spells them."""
    # NOTE: urllib would rewrite `X-GitHub-Event` as `X-github-event`.
    target = urlsplit(url)
    kind = (
        http.client.HTTPSConnection
        if target.scheme == "https"
        else http.client.HTTPConnection
    )
    connection = kind(target.netloc, timeout=TIMEOUT)
    path = target.path or "/"
    if target.query:
        path = f"{path}?{target.query}"
    try:
        connection.request("POST", path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read(2048).decode(errors="replace")
    except (OSError, http.client.HTTPException) as err:
        return 0, f"could not deliver: {err}"
    finally:
        connection.close()
