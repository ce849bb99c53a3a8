"""The Flask application factory (Flask is imported only in this package)."""

from __future__ import annotations

import logging

from flask import Flask

from changebot.compose import Services, build
from changebot.server import operations, setup, webhook
from changebot.settings import Settings

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, services: Services | None = None
) -> Flask:
    """Build the App's web application from settings (the environment by default)."""
    if services is None:
        services = build(settings or Settings.from_env())
    if setup.wanted(services.settings):
        return setup.create_setup_app(services)
    services.settings.require("webhook_secret")

    app = Flask("changebot")
    app.config["MAX_CONTENT_LENGTH"] = webhook.MAX_BODY
    app.extensions["changebot"] = services
    app.register_blueprint(webhook.blueprint)
    app.register_blueprint(operations.blueprint)
    _mount_browser(app, services.settings)
    log.info("web app ready", extra={"queue": services.queue.backend})
    return app


def _mount_browser(app: Flask, settings: Settings) -> None:
    """Mount the audit browser at /audit when an OAuth client is configured."""
    from changebot.server.browser import BrowserConfig, register_browser

    config = BrowserConfig.from_settings(settings)
    if config is None:
        log.info("audit browser off: CHANGEBOT_OAUTH_CLIENT_ID/SECRET are unset")
        return
    register_browser(app, config)
