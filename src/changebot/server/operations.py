"""`GET /healthz` and `GET /metrics`: what the platform team watches."""

from __future__ import annotations

import logging
import tempfile

from flask import Blueprint, Response, current_app, jsonify

from changebot import metrics
from changebot.compose import Services
from changebot.errors import ChangebotError

log = logging.getLogger(__name__)

blueprint = Blueprint("operations", __name__)


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Report whether the queue and the data directory can be used."""
    services: Services = current_app.extensions["changebot"]
    checks = {
        "queue": _check(lambda: services.queue.ping()),
        "data_dir": _check(lambda: _writable(services)),
    }
    healthy = all(result == "ok" for result in checks.values())
    body = {
        "status": "ok" if healthy else "failing",
        "queue": services.queue.backend,
        "checks": checks,
    }
    return jsonify(body), 200 if healthy else 503


@blueprint.get("/metrics")
def prometheus() -> Response:
    """Expose the Prometheus metrics of every changebot process on this host."""
    services: Services = current_app.extensions["changebot"]
    text = metrics.exposition(services.queue.depth)
    return Response(text, mimetype=metrics.CONTENT_TYPE)


def _check(probe: object) -> str:
    try:
        probe()  # type: ignore[operator]
    except (ChangebotError, OSError) as err:
        log.warning("health check failed", extra={"error": str(err)})
        return f"failing: {err}"
    return "ok"


def _writable(services: Services) -> None:
    directory = services.settings.data_dir
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=directory):
        pass
