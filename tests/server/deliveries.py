"""Webhook deliveries as GitHub signs them, for the server's tests."""

from __future__ import annotations

import hashlib
import hmac

SECRET = "It's a Secret to Everybody"


def sign(body: bytes, secret: str = SECRET) -> str:
    """Sign ``body`` the way GitHub does (computed here, not by changebot)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(event: str, guid: str, body: bytes, secret: str = SECRET) -> dict[str, str]:
    """Return the headers GitHub sends with a delivery signed by ``secret``."""
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": guid,
        "X-Hub-Signature-256": sign(body, secret),
        "Content-Type": "application/json",
    }
