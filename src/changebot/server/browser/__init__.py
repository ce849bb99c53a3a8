"""The audit browser: pages, JSON API and exports under /audit (Flask).

Readers sign in with GitHub and see only repositories GitHub lets them read.
The data comes from the audit index (`changebot.index`), never from a
request's say-so.
"""

from __future__ import annotations

import logging

from flask import Flask

from changebot.index import Search
from changebot.server.browser import api, export, signin, views  # noqa: F401
from changebot.server.browser.blueprint import blueprint
from changebot.server.browser.config import BrowserConfig
from changebot.server.browser.guard import Browser, secure
from changebot.server.browser.identity import GitHubAccounts
from changebot.server.browser.sessions import Sessions

log = logging.getLogger(__name__)

__all__ = ["BrowserConfig", "register_browser"]


def register_browser(
    app: Flask, config: BrowserConfig, *, accounts: GitHubAccounts | None = None
) -> None:
    """Mount the audit browser under /audit and secure every response of ``app``."""
    app.extensions["changebot.browser"] = Browser(
        config=config,
        search=Search(config.index_path),
        sessions=Sessions(config.sessions_path, config.session_ttl),
        accounts=accounts or GitHubAccounts(config),
    )
    app.register_blueprint(blueprint)
    app.after_request(secure)
    log.info("audit browser mounted", extra={"index": str(config.index_path)})
