"""The audit browser's blueprint, and rendering a page with what every page shows."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, url_for

from changebot.index import LogState
from changebot.render import render
from changebot.server.browser import guard

blueprint = Blueprint(
    "browser",
    __name__,
    url_prefix="/audit",
    static_folder="static",
    static_url_path="/static",
)
blueprint.before_request(guard.admit)


def page(
    template: str, *, status: int = 200, reader: guard.Reader | None, **context: Any
) -> Response:
    """Render ``templates/browser/<template>`` with the verification banner."""
    logs = guard.browser().search.logs(reader.visible) if reader else []
    html = render(
        f"browser/{template}",
        reader=reader,
        logs=logs,
        failing=[s for s in logs if _failing(s)],
        url=url_for,
        **context,
    )
    return Response(html, status=status, mimetype="text/html")


def _failing(state: LogState) -> bool:
    return state.verification is not None and not state.verification.ok
