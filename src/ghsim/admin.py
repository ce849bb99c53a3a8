"""Endpoints GitHub does not have, for tests that drive a simulator over HTTP.

Everything here lives under `/_sim/`; the Python API of `Simulator` does the
same things in-process.
"""

from __future__ import annotations

from typing import Any

from ghsim.apps import delivery_shape
from ghsim.faults import Fault
from ghsim.routing import ApiError, Call, Reply, route


@route("POST", "/_sim/faults")
def add_fault(call: Call) -> Reply:
    """Make the next `times` calls matching `path` (a glob) fail as `kind` says."""
    try:
        call.hub.faults.add(
            Fault(
                kind=str(call.need("kind")),
                pattern=str(call.need("path")),
                method=call.field("method"),
                times=int(call.field("times", 1)),
                retry_after=int(call.field("retry_after", 1)),
                delay=float(call.field("delay", 3.0)),
            )
        )
    except ValueError as err:
        raise ApiError(422, str(err)) from err
    return Reply(201, {})


@route("DELETE", "/_sim/faults")
def clear_faults(call: Call) -> Reply:
    """Drop every pending fault."""
    call.hub.faults.clear()
    return Reply(204)


@route("PATCH", "/_sim/settings")
def settings(call: Call) -> dict[str, Any]:
    """Change `token_ttl`, `drop_webhooks` or `webhook_url`."""
    hub = call.hub
    if call.field("token_ttl") is not None:
        hub.app.token_ttl = int(call.field("token_ttl"))
    if call.field("drop_webhooks") is not None:
        hub.hooks.drop = bool(call.field("drop_webhooks"))
    if call.field("webhook_url") is not None:
        hub.hooks.url = call.field("webhook_url") or None
    return {
        "token_ttl": hub.app.token_ttl,
        "drop_webhooks": hub.hooks.drop,
        "webhook_url": hub.hooks.url,
    }


@route("GET", "/_sim/deliveries")
def all_deliveries(call: Call) -> list[dict[str, Any]]:
    """List every delivery with its payload, oldest first."""
    return [delivery_shape(d, full=True) for d in call.hub.hooks.deliveries]


@route("GET", "/_sim/app")
def app_credentials(call: Call) -> dict[str, Any]:
    """Return what DIR/app.json holds, and the private key."""
    return call.hub.app.credentials() | {
        "private_key": call.hub.app.private_pem.decode()
    }
