"""`POST /webhook`: verify, deduplicate, queue, answer, in milliseconds.

1. Refuse a body over 25 MB (GitHub never sends one).
2. Verify `X-Hub-Signature-256` over the raw bytes, before parsing anything.
3. Answer `ping`; drop events and actions changebot does not handle.
4. Parse the JSON (or the form GitHub sends with `payload=`).
5. Claim the delivery id, so a repeat is acknowledged and not run twice.
6. Persist the job, then answer 202.

See: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from changebot import jsondoc, metrics
from changebot.compose import Services
from changebot.errors import QueueError
from changebot.flows.events import handled_event, repo_of, wanted

log = logging.getLogger(__name__)

#: GitHub caps webhook payloads at 25 MB.
MAX_BODY = 25 * 1024 * 1024

blueprint = Blueprint("webhook", __name__)


def signature_of(secret: str, body: bytes) -> str:
    """Return the `X-Hub-Signature-256` value GitHub sends for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed(secret: str, body: bytes, header: str | None) -> bool:
    """Tell whether ``header`` is the right signature of ``body``, in constant time."""
    if not header:
        return False
    return hmac.compare_digest(signature_of(secret, body).encode(), header.encode())


@blueprint.post("/webhook")
def receive() -> tuple[Response, int]:
    """Take one webhook delivery from GitHub."""
    services: Services = current_app.extensions["changebot"]
    event = request.headers.get("X-GitHub-Event", "")
    guid = request.headers.get("X-GitHub-Delivery", "")

    body = _read_body()
    if body is None:
        return _answer(event, "too-large", 413, "payload exceeds 25 MB")

    secret = services.settings.webhook_secret or ""
    if not signed(secret, body, request.headers.get("X-Hub-Signature-256")):
        log.warning("webhook signature refused", extra={"delivery": guid})
        return _answer(event, "unsigned", 401, "signature missing or wrong")

    return _accept(services, event, guid, body)


def _accept(
    services: Services, event: str, guid: str, body: bytes
) -> tuple[Response, int]:
    if not event or not guid:
        return _answer(
            event, "malformed", 400, "X-GitHub-Event and X-GitHub-Delivery are required"
        )
    if event == "ping":
        return _answer(event, "pong", 200, "pong")
    if not handled_event(event):
        return _answer(event, "ignored", 202, f"{event} events are not handled")

    parsed = _parse(body)
    if parsed is None:
        return _answer(event, "malformed", 400, "body is not a JSON object")
    payload, text = parsed
    if not wanted(event, payload):
        action = payload.get("action")
        return _answer(event, "ignored", 202, f"{event}.{action} is not handled")

    return _enqueue(services, event, guid, payload, text)


def _enqueue(
    services: Services, event: str, guid: str, payload: dict[str, Any], text: str
) -> tuple[Response, int]:
    fields = {"delivery": guid, "event": event, "repo": repo_of(payload)}
    job = services.jobs.delivery
    try:
        # NOTE: the job carries the JSON text: storing it costs a copy, where
        # the parsed payload would cost a pickling as long as the parse.
        queued = services.queue.enqueue_delivery(guid, job, event, guid, text)
    except QueueError as err:
        log.error("webhook not queued", extra={**fields, "error": str(err)})
        return _answer(event, "unavailable", 503, "queue unavailable, redeliver later")
    if not queued:
        log.info("duplicate delivery acknowledged", extra=fields)
        return _answer(event, "duplicate", 200, "already received")
    log.info("webhook queued", extra=fields)
    return _answer(event, "queued", 202, "queued")


def _read_body() -> bytes | None:
    length = request.content_length
    if length is not None and length > MAX_BODY:
        return None
    try:
        body = request.stream.read(MAX_BODY + 1)
    except RequestEntityTooLarge:
        return None
    return body if len(body) <= MAX_BODY else None


def _parse(body: bytes) -> tuple[dict[str, Any], str] | None:
    """Return the payload, and the JSON text it was read from."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return None
    if request.mimetype == "application/x-www-form-urlencoded":
        text = parse_qs(text).get("payload", [""])[0]
    try:
        # NOTE: orjson reads a payload about four times faster than json,
        # and reading it is the largest part of an acknowledgement.
        payload = jsondoc.loads(text)
    except ValueError:
        return None
    return (payload, text) if isinstance(payload, dict) else None


def _answer(
    event: str, outcome: str, status: int, message: str
) -> tuple[Response, int]:
    # NOTE: the event name is the sender's, signed or not: keep the label set small.
    known = event == "ping" or handled_event(event)
    metrics.webhook(event if known else "other", outcome)
    key = "error" if status >= 400 else "status"
    return jsonify({key: message, "outcome": outcome}), status
