"""Serve the App with gunicorn (the only gunicorn import)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

log = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """Gunicorn, configured in code, loading the app in each worker."""

    def __init__(self, factory: Callable[[], Any], options: dict[str, Any]) -> None:
        self._factory = factory
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._factory()


def serve(
    factory: Callable[[], Any],
    *,
    host: str,
    port: int,
    workers: int,
    threads: int = 4,
) -> None:
    """Run ``factory()``'s WSGI app under gunicorn until a signal stops it."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # NOTE: GitHub gives up on a webhook after 10 s; never hold one longer.
        "timeout": 30,
        "graceful_timeout": 10,
        "accesslog": None,
        "errorlog": "-",
    }
    log.info("gunicorn starting", extra={"bind": options["bind"], "workers": workers})
    _Gunicorn(factory, options).run()
